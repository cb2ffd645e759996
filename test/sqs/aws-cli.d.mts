export function hasAwsCli(): boolean;
export function awsCliFor(options: { endpoint: string; secretId: string; secretKey: string }): (
  ...args: string[]
) => Promise<{ status: number; json: any; stderr: string }>;
