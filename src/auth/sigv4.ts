import { ErrorCode, ServiceError } from "../errors";
import { fromHex, hmacSha256, sha256Hex } from "./crypto";

/**
 * AWS Signature Version 4 in the `Authorization` header, as AWS defines it
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
 * CanonicalRequest = method \n URI-encoded path \n sorted query \n canonical headers \n signed headers \n hex(SHA256(payload));
 * StringToSign = "AWS4-HMAC-SHA256" \n X-Amz-Date \n <date>/<region>/sqs/aws4_request \n hex(SHA256(CanonicalRequest));
 * the signing key chains HMAC-SHA256 from "AWS4" + secret over date, region, service and "aws4_request".
 * The access key id is this service's SecretId, the secret its SecretKey; any region is accepted.
 */
export const SigV4Algorithm = "AWS4-HMAC-SHA256";
/** Requests signed more than this far from the server's clock are refused (AWS: 15 minutes). */
export const SigV4WindowSeconds = 900;
/** The only service a scope may name. */
export const SigV4Service = "sqs";

export interface SigV4Authorization {
  accessKeyId: string;
  /** YYYYMMDD, the UTC date of `X-Amz-Date`. */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

const refused = (message: string) => new ServiceError(ErrorCode.Unauthenticated, message);

export function parseSigV4Authorization(header: string): SigV4Authorization | null {
  const match =
    /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([a-z0-9-]{1,64})\/([a-z0-9-]{1,64})\/aws4_request\s*,\s*SignedHeaders=([a-z0-9;._-]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/.exec(
      header,
    );
  if (!match) return null;
  return {
    accessKeyId: match[1]!,
    date: match[2]!,
    region: match[3]!,
    service: match[4]!,
    signedHeaders: match[5]!.split(";"),
    signature: match[6]!,
  };
}

/** RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 requires. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/**
 * The path as sent, each segment encoded once more: AWS signs the path URI-encoded twice for every
 * service but S3, and the URL parser has already removed `.` and `..` segments.
 */
function canonicalUri(pathname: string): string {
  if (pathname === "") return "/";
  return pathname
    .split("/")
    .map((segment) => uriEncode(segment))
    .join("/");
}

/** Names and values decoded, then encoded the RFC 3986 way and sorted by name, then value. */
function canonicalQuery(search: string): string {
  if (search.length <= 1) return "";
  return search
    .slice(1)
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const equals = pair.indexOf("=");
      const name = equals < 0 ? pair : pair.slice(0, equals);
      const value = equals < 0 ? "" : pair.slice(equals + 1);
      return [uriEncode(decodeComponent(name)), uriEncode(decodeComponent(value))] as const;
    })
    .sort(([nameA, valueA], [nameB, valueB]) => (nameA < nameB ? -1 : nameA > nameB ? 1 : valueA < valueB ? -1 : valueA > valueB ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

/** Header values trimmed, inner runs of spaces collapsed to one (AWS: "Trimall"). */
const trimAll = (value: string): string => value.trim().replace(/\s+/g, " ");

function canonicalRequest(request: SignableRequest, auth: SigV4Authorization, host: string, payloadHash: string): string {
  const { url } = request;
  const headers = auth.signedHeaders
    .map((name) => `${name}:${trimAll(name === "host" ? host : (request.headers.get(name) ?? ""))}\n`)
    .join("");
  return [request.method.toUpperCase(), canonicalUri(url.pathname), canonicalQuery(url.search), headers, auth.signedHeaders.join(";"), payloadHash].join(
    "\n",
  );
}

const textEncoder = new TextEncoder();

/**
 * Whether `auth.signature` is the HMAC of the string to sign under the derived signing key; Web
 * Crypto's `verify` compares in constant time.
 */
async function signatureMatches(request: SignableRequest, auth: SigV4Authorization, amzDate: string, secretKey: string, host: string, payloadHash: string) {
  const canonical = canonicalRequest(request, auth, host, payloadHash);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = `${SigV4Algorithm}\n${amzDate}\n${scope}\n${await sha256Hex(canonical)}`;
  const signingKey = await signingKeyOf(secretKey, auth);
  // The header's syntax allows only 64 hex digits.
  const signature = fromHex(auth.signature)!;
  return crypto.subtle.verify("HMAC", signingKey, signature, textEncoder.encode(stringToSign));
}

/**
 * Signing keys derived per secret, day, region and service, as the AWS SDKs keep them: the four
 * chained HMACs are done once a day per key instead of on every request. Bounded; a rotated or
 * deleted secret is never looked up again and leaves with the next clearing.
 */
const SigningKeyCacheSize = 1_000;
const signingKeys = new Map<string, Promise<CryptoKey>>();

function signingKeyOf(secretKey: string, auth: SigV4Authorization): Promise<CryptoKey> {
  const cacheKey = `${auth.date}\n${auth.region}\n${auth.service}\n${secretKey}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    if (signingKeys.size >= SigningKeyCacheSize) signingKeys.clear();
    key = (async () => {
      const dateKey = await hmacSha256(`AWS4${secretKey}`, auth.date);
      const regionKey = await hmacSha256(dateKey, auth.region);
      const serviceKey = await hmacSha256(regionKey, auth.service);
      const raw = await hmacSha256(serviceKey, "aws4_request");
      return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    })();
    signingKeys.set(cacheKey, key);
    // A failure is not kept.
    key.catch(() => signingKeys.delete(cacheKey));
  }
  return key;
}

/** `YYYYMMDDTHHMMSSZ` to Unix milliseconds, or null when it is not one. */
function amzDateMs(amzDate: string): number | null {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const ms = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  return Number.isFinite(ms) ? ms : null;
}

export interface SigV4Envelope {
  amzDate: string;
  payloadHash: string;
}

/**
 * Checks the parts of a SigV4 request that need no secret: the scope names `sqs`, `host` and
 * `x-amz-date` are signed, `X-Amz-Date` is within the window and matches the scope's date, no
 * session token, and a declared payload hash is the body's.
 */
export async function checkSigV4Envelope(request: SignableRequest, auth: SigV4Authorization, nowMs: number): Promise<SigV4Envelope> {
  if (request.headers.has("x-amz-security-token")) {
    throw refused("temporary credentials (X-Amz-Security-Token) are not supported: sign with a SecretId and its SecretKey");
  }
  if (auth.service !== SigV4Service) throw refused(`credential scope must name the service "${SigV4Service}", not "${auth.service}"`);
  const sorted = [...auth.signedHeaders].sort();
  if (sorted.some((name, index) => name === "" || name !== auth.signedHeaders[index] || name === sorted[index - 1])) {
    throw refused("SignedHeaders must be lowercase header names, sorted, each once");
  }
  if (!auth.signedHeaders.includes("host") || !auth.signedHeaders.includes("x-amz-date")) {
    throw refused("SignedHeaders must include host and x-amz-date");
  }
  const amzDate = request.headers.get("x-amz-date") ?? "";
  const signedAtMs = amzDateMs(amzDate);
  if (signedAtMs === null) throw refused("signed request needs an X-Amz-Date header (YYYYMMDDTHHMMSSZ)");
  if (Math.abs(nowMs - signedAtMs) > SigV4WindowSeconds * 1000) {
    throw refused(`signature expired: X-Amz-Date is more than ${SigV4WindowSeconds} s from now`);
  }
  if (auth.date !== amzDate.slice(0, 8)) throw refused("credential date is not the date of X-Amz-Date");
  const payloadHash = await sha256Hex(request.body);
  const declared = request.headers.get("x-amz-content-sha256");
  if (declared !== null && declared.toLowerCase() !== payloadHash) {
    throw refused("x-amz-content-sha256 is not the SHA-256 of the body");
  }
  return { amzDate, payloadHash };
}

/** Verifies the signature in constant time against `secretKey`. */
export async function verifySigV4(request: SignableRequest, auth: SigV4Authorization, envelope: SigV4Envelope, secretKey: string): Promise<boolean> {
  const host = request.headers.get("host") ?? request.url.host;
  return signatureMatches(request, auth, envelope.amzDate, secretKey, host, envelope.payloadHash);
}
