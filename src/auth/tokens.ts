import type { Action } from "../schema/account";
import { fromBase64Url, toBase64Url } from "./crypto";

/** What a browser token grants: `actions` on `resources` of one account, until `expiresAt`. */
export interface TokenClaims {
  /** Account the token acts in. */
  account: string;
  /** The key that minted it; the token stops working when that key is disabled or deleted. */
  secretId: string | null;
  /**
   * The minting key's generation (its rotations) when minted: a rotation ends the tokens minted
   * before it. Absent in tokens minted before generations existed, which count as generation 0.
   */
  keyGeneration?: number;
  /**
   * For a token minted with the root credentials: a tag of the root secret key it was minted
   * under (`rootKeyTag`), so that changing ROOT_SECRET_KEY ends root's tokens as a key's rotation
   * ends its own, even when SECRET_ENCRYPTION_KEY (which signs tokens) stays.
   */
  rootKeyTag?: string;
  actions: Action[];
  resources: string[];
  /** Unix ms. */
  expiresAt: number;
}

export const TokenPrefix = "cmqt.";
const textEncoder = new TextEncoder();

/**
 * The tag of the root secret key that root's tokens carry: an HMAC under the token-signing key, so
 * the token reveals nothing that helps guess the root key offline.
 */
export async function rootKeyTag(key: CryptoKey, rootSecretKey: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, textEncoder.encode(`root key:${rootSecretKey}`));
  return toBase64Url(mac).slice(0, 22);
}

/** `cmqt.<base64url claims JSON>.<base64url HMAC-SHA256 of the claims part>`. */
export async function mintToken(key: CryptoKey, claims: TokenClaims): Promise<string> {
  const payload = toBase64Url(textEncoder.encode(JSON.stringify(claims)));
  const mac = await crypto.subtle.sign("HMAC", key, textEncoder.encode(payload));
  return `${TokenPrefix}${payload}.${toBase64Url(mac)}`;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

/** Verifies a token's MAC (Web Crypto verify compares in constant time) and its expiry. */
export async function verifyToken(key: CryptoKey, token: string, nowMs: number): Promise<TokenCheck> {
  const [payload, mac, extra] = token.slice(TokenPrefix.length).split(".");
  const macBytes = fromBase64Url(mac ?? "");
  if (!payload || !macBytes || extra !== undefined) return { ok: false, reason: "malformed token" };
  const valid = await crypto.subtle.verify("HMAC", key, macBytes, textEncoder.encode(payload));
  if (!valid) return { ok: false, reason: "token signature does not verify" };
  const payloadBytes = fromBase64Url(payload);
  if (!payloadBytes) return { ok: false, reason: "malformed token" };
  const claims = JSON.parse(new TextDecoder().decode(payloadBytes)) as TokenClaims;
  if (!(claims.expiresAt > nowMs)) return { ok: false, reason: "token expired" };
  return { ok: true, claims };
}
