import { ErrorCode, ServiceError } from "../errors";
import { constantTimeEqual, hmacSha256, sha256Hex, toHex } from "./crypto";

/**
 * TC3-HMAC-SHA256, the request signature of Tencent Cloud API 3.0:
 * CanonicalRequest = method \n path \n query \n canonical headers \n signed headers \n hex(SHA256(body));
 * StringToSign = "TC3-HMAC-SHA256" \n timestamp \n <date>/<service>/tc3_request \n hex(SHA256(CanonicalRequest));
 * the signing key chains HMAC-SHA256 from "TC3" + secret over date, service and "tc3_request".
 */
export const Tc3Algorithm = "TC3-HMAC-SHA256";
/** Requests signed more than this far from the server's clock are refused (API 3.0: 5 minutes). */
export const Tc3WindowSeconds = 300;

export interface Tc3Authorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export function parseTc3Authorization(header: string): Tc3Authorization | null {
  const match =
    /^TC3-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s,]+)\/tc3_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})\s*$/.exec(
      header,
    );
  if (!match) return null;
  return {
    secretId: match[1]!,
    date: match[2]!,
    service: match[3]!,
    signedHeaders: match[4]!.split(";"),
    signature: match[5]!,
  };
}

interface SignableRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

async function canonicalRequest(request: SignableRequest, signedHeaders: readonly string[], host: string): Promise<string> {
  const url = new URL(request.url);
  const headers = signedHeaders
    .map((name) => `${name}:${(name === "host" ? host : (request.headers.get(name) ?? "")).trim().toLowerCase()}\n`)
    .join("");
  return [
    request.method.toUpperCase(),
    url.pathname,
    url.search.slice(1),
    headers,
    signedHeaders.join(";"),
    await sha256Hex(request.body),
  ].join("\n");
}

async function signature(secretKey: string, date: string, service: string, stringToSign: string): Promise<string> {
  const dateKey = await hmacSha256(`TC3${secretKey}`, date);
  const serviceKey = await hmacSha256(dateKey, service);
  const signingKey = await hmacSha256(serviceKey, "tc3_request");
  return toHex(await hmacSha256(signingKey, stringToSign));
}

async function expectedSignature(
  request: SignableRequest,
  auth: Tc3Authorization,
  timestamp: string,
  secretKey: string,
  host: string,
): Promise<string> {
  const canonical = await canonicalRequest(request, auth.signedHeaders, host);
  const scope = `${auth.date}/${auth.service}/tc3_request`;
  const stringToSign = `${Tc3Algorithm}\n${timestamp}\n${scope}\n${await sha256Hex(canonical)}`;
  return signature(secretKey, auth.date, auth.service, stringToSign);
}

const utcDate = (seconds: number): string => new Date(seconds * 1000).toISOString().slice(0, 10);

/** Checks the parts of a TC3 request that need no secret: headers signed, timestamp in the window. */
export function checkTc3Envelope(request: SignableRequest, auth: Tc3Authorization, nowMs: number): string {
  const timestamp = request.headers.get("x-tc-timestamp") ?? "";
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new ServiceError(ErrorCode.Unauthenticated, "signed request needs an X-TC-Timestamp header (Unix seconds)");
  }
  const seconds = Number(timestamp);
  if (Math.abs(nowMs / 1000 - seconds) > Tc3WindowSeconds) {
    throw new ServiceError(ErrorCode.Unauthenticated, `signature expired: X-TC-Timestamp is more than ${Tc3WindowSeconds} s from now`, {
      reason: "signatureExpired",
    });
  }
  if (auth.date !== utcDate(seconds)) {
    throw new ServiceError(ErrorCode.Unauthenticated, "credential date is not the UTC date of X-TC-Timestamp");
  }
  if (!auth.signedHeaders.includes("host")) {
    throw new ServiceError(ErrorCode.Unauthenticated, "SignedHeaders must include host");
  }
  return timestamp;
}

/**
 * Verifies the signature in constant time, over what the request's own Authorization names: the
 * credential scope's service as given (tencentcloud-sdk-nodejs puts the endpoint's first dot-label
 * there, port included: `localhost:8787/tc3_request`) and the headers it lists as signed. The host
 * is taken as sent and, failing that, without its port: the SDKs sign `URL.hostname` although they
 * send `Host: localhost:8787`.
 */
export async function verifyTc3(request: SignableRequest, auth: Tc3Authorization, timestamp: string, secretKey: string): Promise<boolean> {
  const host = request.headers.get("host") ?? new URL(request.url).host;
  const hosts = host.includes(":") ? [host, host.replace(/:\d+$/, "")] : [host];
  let valid = false;
  for (const candidate of hosts) {
    const expected = await expectedSignature(request, auth, timestamp, secretKey, candidate);
    if (await constantTimeEqual(auth.signature, expected)) valid = true;
  }
  return valid;
}

/** Signs a request the way a TC3 client does (used by the typed client and the tests). */
export async function signTc3(
  request: SignableRequest,
  secretId: string,
  secretKey: string,
  timestampSeconds: number,
  service = "cmq",
  signedHeaders: string[] = ["content-type", "host"],
): Promise<{ authorization: string; timestamp: string }> {
  const date = utcDate(timestampSeconds);
  const host = request.headers.get("host") ?? new URL(request.url).host;
  const auth: Tc3Authorization = { secretId, date, service, signedHeaders, signature: "" };
  const timestamp = String(timestampSeconds);
  const sig = await expectedSignature(request, auth, timestamp, secretKey, host);
  return {
    authorization: `${Tc3Algorithm} Credential=${secretId}/${date}/${service}/tc3_request, SignedHeaders=${signedHeaders.join(";")}, Signature=${sig}`,
    timestamp,
  };
}
