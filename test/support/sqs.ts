import { env, exports } from "cloudflare:workers";
import { RootSecretKey } from "./http";
import { sigV4Headers } from "./sigv4";

export interface SqsAnswer {
  status: number;
  body: any;
  headers: Headers;
}

export interface SqsCredentials {
  secretId: string;
  secretKey: string;
}

export const rootCredentials = (): SqsCredentials => ({ secretId: env.ROOT_SECRET_ID!, secretKey: RootSecretKey });

/** The headers of an SQS JSON 1.0 request for `action`, before any credentials. */
export const sqsWireHeaders = (action: string): Record<string, string> => ({
  "content-type": "application/x-amz-json-1.0",
  "x-amz-target": `AmazonSQS.${action}`,
});

/** Sends an SQS request with exactly the headers given (signed or not by the caller). */
export async function sqsWithHeaders(body: string, headers: Record<string, string>, url = "http://cmq.test/"): Promise<SqsAnswer> {
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(new Request(url, { method: "POST", headers, body }));
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** Calls an SQS action over the AWS JSON 1.0 protocol, signed with SigV4 (root credentials unless told otherwise). */
export async function sqs(action: string, input: unknown, credentials: SqsCredentials | null = rootCredentials(), url = "http://cmq.test/"): Promise<SqsAnswer> {
  const body = typeof input === "string" ? input : JSON.stringify(input);
  const wireHeaders = sqsWireHeaders(action);
  const headers = credentials
    ? await sigV4Headers("POST", url, body, wireHeaders, { accessKeyId: credentials.secretId, secretAccessKey: credentials.secretKey })
    : wireHeaders;
  return sqsWithHeaders(body, headers, url);
}

/** The queue URL the adapter gives a queue of the default account. */
export const queueUrl = (name: string) => `http://cmq.test/default/${name}`;
