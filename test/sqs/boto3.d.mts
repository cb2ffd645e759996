/** Whether Debian's /usr/bin/python3 has boto3 (python3-boto3). */
export function hasBoto3(): boolean;
export function md5Hex(text: string): string;
/** Runs test/sqs/boto3-client.py against the service; its outcome, one JSON document. */
export function runBoto3Client(options: { endpoint: string; secretId: string; secretKey: string; queueName: string }): Promise<Record<string, any>>;
