import { ErrorCode, ServiceError } from "../errors";
import { requireConfigured, signedRequestPrincipal, tokenPrincipal, registry, type Principal } from "./authenticate";
import { constantTimeEqual } from "./crypto";

/**
 * CMQ's request signature (Tencent Cloud API 2.0, "HMAC v1"), as every CMQ SDK computes it:
 * every parameter but `Signature`, keys sorted by code point (`_` in a key read as `.`), joined as
 * `key=value` with the raw (decoded) values; then `METHOD + host + path + "?" + joined`, signed
 * with HMAC-SHA256 when `SignatureMethod=HmacSHA256` and HMAC-SHA1 otherwise, in Base64.
 * Source: https://cloud.tencent.com/document/api/406/5906 (CMQ signature method). The form-encoded
 * variant of Tencent Cloud API 3.0 signs the same way.
 */
export type CmqSignatureMethod = "HmacSHA1" | "HmacSHA256";

/** Requests signed more than this far from the server's clock are refused (as API 3.0's 5 minutes). */
export const CmqWindowSeconds = 300;

/** One request parameter, decoded, with its key as signed (`_` read as `.`). */
export type CmqParam = readonly [key: string, value: string];

/** What the signature covers besides the parameters. */
export interface CmqSignedTarget {
  method: string;
  /** The host the client addressed, with the port when it sent one. */
  host: string;
  path: string;
}

const textEncoder = new TextEncoder();

/** The key as signed: PHP reads `.` in a form key as `_`, so CMQ's servers sign `_` as `.`. */
export const signedKey = (key: string): string => key.replaceAll("_", ".");

const byCodePoint = (a: CmqParam, b: CmqParam) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** `METHOD + host + path + "?" + k=v&...` over every parameter but `Signature`. */
export function cmqStringToSign(target: CmqSignedTarget, params: readonly CmqParam[]): string {
  const joined = params
    .filter(([key]) => key !== "Signature")
    .map(([key, value]) => [signedKey(key), value] as const)
    .sort(byCodePoint)
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
  return `${target.method.toUpperCase()}${target.host}${target.path}?${joined}`;
}

/** `SignatureMethod=HmacSHA256` selects SHA-256; absent or anything else is HmacSHA1 (CMQ's rule). */
export const signatureMethodOf = (value: string | undefined): CmqSignatureMethod => (value === "HmacSHA256" ? "HmacSHA256" : "HmacSHA1");

/** Base64 of the HMAC of `stringToSign` under `secretKey`. */
export async function cmqSign(secretKey: string, stringToSign: string, method: CmqSignatureMethod): Promise<string> {
  const hash = method === "HmacSHA256" ? "SHA-256" : "SHA-1";
  const key = await crypto.subtle.importKey("raw", textEncoder.encode(secretKey), { name: "HMAC", hash }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, textEncoder.encode(stringToSign)));
  let binary = "";
  for (const byte of mac) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Whether `signature` is the request's signature under `secretKey`, compared in constant time.
 * The CMQ Python SDK leaves parameters whose value starts with `@` out of a POST's signature (an
 * old file-upload convention of its HTTP layer), so such a POST is also checked without them.
 */
export async function verifyCmqSignature(
  target: CmqSignedTarget,
  params: readonly CmqParam[],
  signature: string,
  secretKey: string,
): Promise<boolean> {
  const method = signatureMethodOf(params.find(([key]) => key === "SignatureMethod")?.[1]);
  const candidates = [params];
  if (target.method.toUpperCase() === "POST" && params.some(([, value]) => value.startsWith("@"))) {
    candidates.push(params.filter(([, value]) => !value.startsWith("@")));
  }
  let valid = false;
  for (const candidate of candidates) {
    const expected = await cmqSign(secretKey, cmqStringToSign(target, candidate), method);
    if (await constantTimeEqual(signature, expected)) valid = true;
  }
  return valid;
}

const unauthenticated = (message: string) => new ServiceError(ErrorCode.Unauthenticated, message);

/** The credentials a CMQ request names, once their form is right and the timestamp is in the window. */
interface CmqEnvelope {
  secretId: string;
  signature: string;
  nonce: string;
  timestampSeconds: number;
  token: string | undefined;
}

function envelopeOf(params: readonly CmqParam[], nowMs: number): CmqEnvelope {
  const value = (key: string) => params.find(([name]) => name === key)?.[1];
  const secretId = value("SecretId");
  const signature = value("Signature");
  const nonce = value("Nonce");
  const timestamp = value("Timestamp");
  if (!secretId || !signature) throw unauthenticated("missing credentials: sign the request with SecretId, Timestamp, Nonce and Signature");
  // Nonce is a positive integer; the Python SDK draws it up to 2^63 - 1, so it is kept as text.
  if (!nonce || !/^\d{1,20}$/.test(nonce)) throw unauthenticated("Nonce must be a positive integer");
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) throw unauthenticated("Timestamp must be Unix seconds");
  const timestampSeconds = Number(timestamp);
  if (Math.abs(nowMs / 1000 - timestampSeconds) > CmqWindowSeconds) {
    // The reason lets a protocol name the refusal its own way (API 3.0: AuthFailure.SignatureExpire).
    throw new ServiceError(ErrorCode.Unauthenticated, `signature expired: Timestamp is more than ${CmqWindowSeconds} s from now`, {
      reason: "signatureExpired",
    });
  }
  return { secretId, signature, nonce, timestampSeconds, token: value("Token") };
}

/**
 * Authenticates a CMQ action request: `SecretId` names a key of this service (or the root
 * credentials), whose secret key signed the request. With `Token` (a browser token of this
 * service), the token is the credential: it is the secret the request is signed with, and
 * `SecretId` names the key that minted it (the root SecretId for a token minted by root).
 * A `Nonce` already used by the same SecretId with the same `Timestamp` is refused while that
 * timestamp is in the window, so a captured request cannot be sent again.
 */
export async function authenticateCmq(
  env: Env,
  target: CmqSignedTarget,
  params: readonly CmqParam[],
  nowMs: number,
): Promise<Principal> {
  const root = requireConfigured(env);
  const envelope = envelopeOf(params, nowMs);
  const verify = (secretKey: string) => verifyCmqSignature(target, params, envelope.signature, secretKey);
  let principal: Principal;
  if (envelope.token !== undefined) {
    principal = await tokenPrincipal(envelope.token, env, nowMs);
    const minter = principal.secretId ?? root.secretId;
    const signedByToken = await verify(envelope.token);
    if (!signedByToken || !(await constantTimeEqual(envelope.secretId, minter))) {
      throw unauthenticated("invalid credentials: sign with the token as the secret key and the SecretId of the key that minted it");
    }
  } else {
    principal = await signedRequestPrincipal(env, envelope.secretId, nowMs, verify);
  }
  // CMQ: "Nonce and Timestamp prevent replay". A replay carries the same (signed) Timestamp, so
  // the pair is what is remembered; a nonce alone would refuse good requests of SDKs that draw it
  // from a small range (the npm cmq-sdk: 0 to 9,999).
  const expiresAtMs = (envelope.timestampSeconds + CmqWindowSeconds) * 1000;
  const seen = `${envelope.timestampSeconds}.${envelope.nonce}`;
  if (!(await registry(env).claimNonce(envelope.secretId, seen, expiresAtMs))) {
    throw unauthenticated("Nonce already used with this Timestamp: each request needs a new Nonce");
  }
  return principal;
}
