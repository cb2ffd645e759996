/** Web Crypto helpers for secrets at rest, token signing and request signatures. */

const textEncoder = new TextEncoder();

/** Each byte's two hex digits, looked up: digests are hexed on every signed request. */
const hexOfByte = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let hex = "";
  for (let i = 0; i < view.length; i++) hex += hexOfByte[view[i]!];
  return hex;
}

/** Lowercase or uppercase hex to bytes, or null when it is not an even run of hex digits. */
export function fromHex(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

export function toBase64Url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", typeof data === "string" ? textEncoder.encode(data) : data));
}

export async function hmacSha256(key: ArrayBuffer | Uint8Array | string, data: string): Promise<ArrayBuffer> {
  const raw = typeof key === "string" ? textEncoder.encode(key) : key;
  const cryptoKey = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", cryptoKey, textEncoder.encode(data));
}

/** Constant-time comparison of two strings: both are hashed first, so lengths leak nothing either. */
export async function constantTimeEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", textEncoder.encode(given)),
    crypto.subtle.digest("SHA-256", textEncoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Random text from an alphabet, without modulo bias. */
export function randomString(length: number, alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 256 - (256 % alphabet.length)) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

interface ServiceKeys {
  /** AES-256-GCM key for key secrets at rest. */
  secrets: CryptoKey;
  /** HMAC-SHA256 key for browser tokens. */
  tokens: CryptoKey;
}

const derivedKeys = new Map<string, Promise<ServiceKeys>>();

/**
 * Keys derived (HKDF-SHA256) from the Worker secret SECRET_ENCRYPTION_KEY, or from ROOT_SECRET_KEY
 * when that is not set. Changing the source makes stored key secrets and issued tokens unreadable.
 */
export function serviceKeys(source: string): Promise<ServiceKeys> {
  let keys = derivedKeys.get(source);
  if (!keys) {
    keys = (async () => {
      const master = await crypto.subtle.importKey("raw", textEncoder.encode(source), "HKDF", false, ["deriveKey"]);
      const derive = (info: string, algorithm: SubtleCryptoDeriveKeyAlgorithm | { name: string; length?: number; hash?: string }, usages: string[]) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: textEncoder.encode("edge-cmq"), info: textEncoder.encode(info) },
          master,
          algorithm,
          false,
          usages,
        );
      return {
        secrets: await derive("key secrets v1", { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]),
        tokens: await derive("tokens v1", { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign", "verify"]),
      };
    })();
    derivedKeys.set(source, keys);
  }
  return keys;
}

/** Encrypts a secret as `<iv>.<ciphertext>` (base64url); the secret id is bound as associated data. */
export async function sealSecret(key: CryptoKey, secret: string, boundTo: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: textEncoder.encode(boundTo) },
    key,
    textEncoder.encode(secret),
  );
  return `${toBase64Url(iv)}.${toBase64Url(sealed)}`;
}

export async function openSecret(key: CryptoKey, sealed: string, boundTo: string): Promise<string> {
  const [ivText, dataText] = sealed.split(".");
  const iv = fromBase64Url(ivText ?? "");
  const data = fromBase64Url(dataText ?? "");
  if (!iv || !data) throw new Error("sealed secret is malformed");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv, additionalData: textEncoder.encode(boundTo) },
    key,
    data,
  );
  return new TextDecoder().decode(plain);
}
