import { exports } from "cloudflare:workers";

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
