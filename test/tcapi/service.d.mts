export interface TcapiKey {
  secretId: string;
  secretKey: string;
}

export interface TcapiTestService {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, the SDK's `httpProfile.endpoint`. */
  endpoint: string;
  /** A key of the default account with every right, created through the REST API. */
  key: TcapiKey;
  /** A REST call with the root credentials. */
  rest(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }>;
  createKey(statements: Array<{ actions: string[]; resources: string[] }>, account?: string): Promise<TcapiKey>;
  stop(): Promise<void>;
}

export function startTcapiService(): Promise<TcapiTestService>;
