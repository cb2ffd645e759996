import { exports } from "cloudflare:workers";
import { sigV4Headers } from "./sigv4";
import { rootCredentials, type SqsCredentials } from "./sqs";

export interface SqsQueryAnswer {
  status: number;
  text: string;
  headers: Headers;
}

export const FormContentType = "application/x-www-form-urlencoded";

/** A form body from parameters in the order given (`Action` and `Version` first unless the caller passes a string). */
export const formOf = (parameters: Record<string, string>): string => new URLSearchParams(parameters).toString();

/** Sends a query-protocol request with exactly the headers given (signed or not by the caller). */
export async function sqsQueryWithHeaders(body: string, headers: Record<string, string>, url = "http://cmq.test/"): Promise<SqsQueryAnswer> {
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(new Request(url, { method: "POST", headers, body }));
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** The SigV4-signed headers of a query request. */
export const sqsQueryHeaders = (body: string, credentials: SqsCredentials, url = "http://cmq.test/", extra: Record<string, string> = {}) =>
  sigV4Headers("POST", url, body, { "content-type": FormContentType, ...extra }, { accessKeyId: credentials.secretId, secretAccessKey: credentials.secretKey });

/** Calls an SQS action over the query protocol, signed with SigV4 (root credentials unless told otherwise). */
export async function sqsQuery(
  action: string,
  parameters: Record<string, string> = {},
  { credentials = rootCredentials(), url = "http://cmq.test/" }: { credentials?: SqsCredentials; url?: string } = {},
): Promise<SqsQueryAnswer> {
  const body = formOf({ Action: action, Version: "2012-11-05", ...parameters });
  return sqsQueryWithHeaders(body, await sqsQueryHeaders(body, credentials, url), url);
}

/** The text of every `<tag>` element, entities decoded (the answers nest no element inside these). */
export function xmlTexts(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((match) =>
    match[1]!.replace(/&#xD;/g, "\r").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&"),
  );
}

/** The code of a query error answer, and its fault. */
export function queryError(answer: SqsQueryAnswer): { status: number; type: string | undefined; code: string | undefined } {
  return { status: answer.status, type: xmlTexts(answer.text, "Type")[0], code: xmlTexts(answer.text, "Code")[0] };
}
