import { env, exports } from "cloudflare:workers";
import { RootSecretKey } from "./http";

/**
 * A CMQ action API client written from CMQ's published signature method
 * (https://cloud.tencent.com/document/api/406/5906), independent of the service's verifier: every
 * parameter but Signature, keys sorted, `key=value` with raw values joined by `&`, then
 * `METHOD + host + path + "?" + that`, HMAC-SHA1 (or HMAC-SHA256 with SignatureMethod=HmacSHA256),
 * Base64; the request then carries every value form-encoded, as the SDKs send it.
 */
export type SignatureMethod = "HmacSHA1" | "HmacSHA256";

export interface CmqCredentials {
  secretId: string;
  secretKey: string;
  /** A browser token of the service, sent as `Token`. */
  token?: string;
}

export const rootCredentials = (): CmqCredentials => ({ secretId: env.ROOT_SECRET_ID!, secretKey: RootSecretKey });

const textEncoder = new TextEncoder();

/** The string to sign, exactly as the documentation builds it (an `_` in a key is signed as `.`). */
export function stringToSign(method: string, host: string, path: string, params: Record<string, string>): string {
  const pairs = Object.entries(params)
    .filter(([key]) => key !== "Signature")
    .map(([key, value]) => [key.replace(/_/g, "."), value] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${method}${host}${path}?${pairs.map(([key, value]) => `${key}=${value}`).join("&")}`;
}

export async function sign(secretKey: string, source: string, method: SignatureMethod): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    textEncoder.encode(secretKey),
    { name: "HMAC", hash: method === "HmacSHA256" ? "SHA-256" : "SHA-1" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, textEncoder.encode(source)));
  return btoa(String.fromCharCode(...mac));
}

/** `application/x-www-form-urlencoded` as Python's urlencode writes it: a space is `+`. */
export const formEncode = (params: Record<string, string>): string =>
  Object.entries(params)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value).replace(/%20/g, "+")}`)
    .join("&");

/** `name.1`, `name.2`, ... (Python, Java, C++ SDKs) or from `name.0` (Go and Node SDKs). */
export function listParams(name: string, values: readonly string[], base: 0 | 1 = 1): Record<string, string> {
  return Object.fromEntries(values.map((value, index) => [`${name}.${index + base}`, value]));
}

export interface CmqRequestOptions {
  method?: "GET" | "POST";
  path?: string;
  host?: string;
  /** The POST's Content-Type; null sends none (the Python SDK). */
  contentType?: string | null;
  /** Absent leaves SignatureMethod out: CMQ then signs with HmacSHA1. */
  signatureMethod?: SignatureMethod;
  credentials?: CmqCredentials;
  timestampSeconds?: number;
  nonce?: string;
  /** Changes the signature after signing (a tampered request). */
  tamper?: (signature: string) => string;
  /** Extra headers (an Origin, or another protocol's header). */
  headers?: Record<string, string>;
}

export interface CmqAnswer {
  status: number;
  body: Record<string, any> & { code: number; message: string; requestId: string };
  headers: Headers;
}

/** A random positive integer of up to 19 digits (the Python SDK draws up to 2^63 - 1). */
const newNonce = () => {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return `${high! + 1}${String(low).padStart(10, "0")}`;
};

/** The signed parameters of a request, ready to send. */
export async function signedParams(
  action: string,
  params: Record<string, string | number>,
  options: CmqRequestOptions = {},
): Promise<Record<string, string>> {
  const method = options.method ?? "POST";
  const credentials = options.credentials ?? rootCredentials();
  const all: Record<string, string> = {
    Action: action,
    Nonce: options.nonce ?? newNonce(),
    RequestClient: "SDK_TEST_1.0",
    SecretId: credentials.secretId,
    Timestamp: String(options.timestampSeconds ?? Math.floor(Date.now() / 1000)),
    ...(options.signatureMethod ? { SignatureMethod: options.signatureMethod } : {}),
    ...(credentials.token ? { Token: credentials.token } : {}),
    ...Object.fromEntries(Object.entries(params).map(([key, value]) => [key, String(value)])),
  };
  const source = stringToSign(method, options.host ?? "cmq.test", options.path ?? "/v2/index.php", all);
  const signature = await sign(credentials.secretKey, source, options.signatureMethod ?? "HmacSHA1");
  all.Signature = options.tamper ? options.tamper(signature) : signature;
  return all;
}

/** Sends already signed parameters (a replay sends the same ones twice). */
export async function sendParams(params: Record<string, string>, options: CmqRequestOptions = {}): Promise<CmqAnswer> {
  const method = options.method ?? "POST";
  const base = `http://${options.host ?? "cmq.test"}${options.path ?? "/v2/index.php"}`;
  const headers = new Headers(options.headers);
  let request: Request;
  if (method === "GET") {
    request = new Request(`${base}?${formEncode(params)}`, { method, headers });
  } else {
    const contentType = options.contentType === undefined ? "application/x-www-form-urlencoded" : options.contentType;
    if (contentType !== null) headers.set("content-type", contentType);
    // Bytes, not a string: a string body would get a text/plain Content-Type of its own.
    request = new Request(base, { method, headers, body: textEncoder.encode(formEncode(params)) });
  }
  return sendRequest(request);
}

export async function sendRequest(request: Request): Promise<CmqAnswer> {
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(request);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), headers: response.headers };
}

/** Signs and sends one action. */
export async function cmq(action: string, params: Record<string, string | number> = {}, options: CmqRequestOptions = {}): Promise<CmqAnswer> {
  return sendParams(await signedParams(action, params, options), options);
}

/** Sends an action and returns its answer, failing the test unless CMQ's code is 0. */
export async function cmqOk(action: string, params: Record<string, string | number> = {}, options: CmqRequestOptions = {}) {
  const answer = await cmq(action, params, options);
  if (answer.body.code !== 0) throw new Error(`${action}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export const uniqueName = (prefix: string): string => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
