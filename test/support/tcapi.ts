import { exports } from "cloudflare:workers";
import { formEncode, signedParams, type SignatureMethod } from "./cmq";

/**
 * A Tencent Cloud API 3.0 caller written from the TC3-HMAC-SHA256 documentation
 * (https://www.tencentcloud.com/document/api/1110/44085), independent of the server's verifier, and
 * signing as tencentcloud-sdk-nodejs does at a custom endpoint: the credential scope's service is
 * the endpoint's first dot-label, port included, and the canonical host is the host name alone.
 */
export const TcEndpoint = "http://localhost:18787/";

export interface TcKey {
  secretId: string;
  secretKey: string;
}

export interface TcAnswer {
  status: number;
  body: any;
  headers: Headers;
}

const encoder = new TextEncoder();
const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
const sha256Hex = async (text: string) => hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));

async function hmac(key: ArrayBuffer | string, text: string): Promise<ArrayBuffer> {
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const imported = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", imported, encoder.encode(text));
}

export interface TcSigning {
  method?: "POST" | "GET";
  url?: string;
  timestampSeconds?: number;
  contentType?: string;
  /** The scope's service; by default what the SDK derives from the URL's host. */
  service?: string;
}

/** The headers of a signed API 3.0 request, `X-TC-*` included. */
export async function tcHeaders(action: string, body: string, key: TcKey, signing: TcSigning = {}): Promise<Record<string, string>> {
  const method = signing.method ?? "POST";
  const url = new URL(signing.url ?? TcEndpoint);
  const contentType = signing.contentType ?? (method === "GET" ? "application/x-www-form-urlencoded" : "application/json");
  const timestamp = signing.timestampSeconds ?? Math.floor(Date.now() / 1000);
  const service = signing.service ?? url.host.split(".")[0]!;
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const canonicalRequest = [method, url.pathname, url.search.slice(1), `content-type:${contentType}\nhost:${url.hostname}\n`, "content-type;host", await sha256Hex(body)].join("\n");
  const scope = `${date}/${service}/tc3_request`;
  const stringToSign = `TC3-HMAC-SHA256\n${timestamp}\n${scope}\n${await sha256Hex(canonicalRequest)}`;
  const signingKey = await hmac(await hmac(await hmac(`TC3${key.secretKey}`, date), service), "tc3_request");
  const signature = hex(await hmac(signingKey, stringToSign));
  return {
    authorization: `TC3-HMAC-SHA256 Credential=${key.secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`,
    "content-type": contentType,
    "x-tc-action": action,
    "x-tc-version": "2020-02-17",
    "x-tc-timestamp": String(timestamp),
    "x-tc-region": "ap-guangzhou",
  };
}

/** Sends an API 3.0 request with exactly the headers and body given. */
export async function tcSend(body: string | undefined, headers: Record<string, string>, method = "POST", url = TcEndpoint): Promise<TcAnswer> {
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(new Request(url, { method, headers, body }));
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** Calls an API 3.0 action signed by `key`; `input` a string is sent as the body as it is. */
export async function tc(action: string, input: unknown, key: TcKey, signing: TcSigning = {}): Promise<TcAnswer> {
  const body = typeof input === "string" ? input : JSON.stringify(input);
  return tcSend(body, await tcHeaders(action, body, key, signing), "POST", signing.url);
}

/** The API 3.0 error code of an answer, or "ok". */
export const tcCode = (answer: TcAnswer): string => answer.body?.Response?.Error?.Code ?? "ok";

/**
 * API 3.0's form variant (tencentcloud-sdk-nodejs with `profile.signMethod` HmacSHA256 or
 * HmacSHA1): the input flattened as the SDK's `mergeData` flattens it (`QueueNameList.0`,
 * `Tags.0.TagKey`), beside `Version` and `Region`, signed by the CMQ signer of test/support/cmq.ts
 * over the endpoint's host and port and `/`.
 */
export interface TcFormSigning {
  signatureMethod?: SignatureMethod;
  method?: "POST" | "GET";
  timestampSeconds?: number;
  nonce?: string;
  version?: string;
}

const TcFormTarget = { host: new URL(TcEndpoint).host, path: "/" };

/** `{A: [{B: 1}]}` as `{"A.0.B": "1"}`; null and undefined are left out, as the SDK leaves them. */
export function flattenTcInput(input: unknown, prefix = ""): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    if (typeof value === "object") Object.assign(flat, flattenTcInput(value, `${prefix}${key}.`));
    else flat[`${prefix}${key}`] = String(value);
  }
  return flat;
}

/** The signed parameters of a form request, ready to send (a replay sends them twice); a key's `token` is sent as `Token`. */
export async function tcFormParams(action: string, input: unknown, key: TcKey & { token?: string }, signing: TcFormSigning = {}): Promise<Record<string, string>> {
  const params = { Version: signing.version ?? "2020-02-17", Region: "ap-guangzhou", ...flattenTcInput(input) };
  return signedParams(action, params, {
    ...TcFormTarget,
    method: signing.method ?? "POST",
    signatureMethod: signing.signatureMethod ?? "HmacSHA256",
    credentials: key,
    timestampSeconds: signing.timestampSeconds,
    nonce: signing.nonce,
  });
}

/** Sends form parameters (POST body or GET query) with `headers`; `raw` is appended to the encoded form as it is. */
export async function tcFormSend(params: Record<string, string>, method: "POST" | "GET" = "POST", raw = "", headers: Record<string, string> = {}): Promise<TcAnswer> {
  const form = formEncode(params) + raw;
  const request =
    method === "GET"
      ? new Request(`${TcEndpoint}?${form}`, { headers })
      : new Request(TcEndpoint, { method, headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: encoder.encode(form) });
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(request);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** Calls an API 3.0 action as a signed form. */
export async function tcForm(action: string, input: unknown, key: TcKey & { token?: string }, signing: TcFormSigning = {}): Promise<TcAnswer> {
  return tcFormSend(await tcFormParams(action, input, key, signing), signing.method);
}
