export interface SqsTestService {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** A key of the default account with every right, created through the REST API. */
  key: { secretId: string; secretKey: string };
  stop(): Promise<void>;
}

export function startSqsService(): Promise<SqsTestService>;
