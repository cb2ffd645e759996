import { systemClock } from "../clock";
import { ErrorCode, ServiceError } from "../errors";
import { urlOf } from "../request-url";
import { DefaultAccountId, type StoredKey } from "../objects/account-object";
import type { AccountInfo, Action, Policy } from "../schema/account";
import { constantTimeEqual, openSecret, randomString, sealSecret, serviceKeys, sha256Hex } from "./crypto";
import { policyAllows, type ResourceName } from "./policy";
import { checkSigV4Envelope, parseSigV4Authorization, SigV4Algorithm, verifySigV4 } from "./sigv4";
import { checkTc3Envelope, parseTc3Authorization, verifyTc3 } from "./tc3";
import { rootKeyTag, TokenPrefix, verifyToken, type TokenClaims } from "./tokens";

/** Who is calling, in which account, with which rights. */
export interface Principal {
  kind: "root" | "key" | "token";
  account: string;
  /** The key used, or that minted the token; null for the root credentials. */
  secretId: string | null;
  /** The key's generation (see `TokenClaims.keyGeneration`); absent for root. */
  keyGeneration?: number;
  /** The key's policy; null for root, which may do everything. */
  policy: Policy | null;
  /** A token's own scope, on top of its key's policy. */
  token: Pick<TokenClaims, "actions" | "resources" | "expiresAt"> | null;
  /** Origins whose pages may read this account's responses; null when any may. */
  allowedOrigins: string[] | null;
}

export const RootPrincipal = (): Principal => ({
  kind: "root",
  account: DefaultAccountId,
  secretId: null,
  policy: null,
  token: null,
  allowedOrigins: null,
});

/** Refuses everything until both root credentials are set: an unconfigured service never opens up. */
export function requireConfigured(env: Env): { secretId: string; secretKey: string } {
  if (!env.ROOT_SECRET_ID || !env.ROOT_SECRET_KEY) {
    throw new ServiceError(ErrorCode.NotConfigured, "service not configured: set the ROOT_SECRET_ID and ROOT_SECRET_KEY variables");
  }
  return { secretId: env.ROOT_SECRET_ID, secretKey: env.ROOT_SECRET_KEY };
}

/** The keys that seal stored secrets and sign tokens, from SECRET_ENCRYPTION_KEY or else the root key. */
export function keysOf(env: Env) {
  const { secretKey } = requireConfigured(env);
  return serviceKeys(env.SECRET_ENCRYPTION_KEY || secretKey);
}

export function registry(env: Env) {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName("registry"));
}

const unauthenticated = (message: string) => new ServiceError(ErrorCode.Unauthenticated, message);

type FoundKey = { key: StoredKey; account: AccountInfo };

/**
 * Keys found in the registry, kept briefly in this isolate so that a busy key does not send every
 * request through the one registry object. A change to a key (disable, policy, rotate, delete)
 * clears it here at once; other isolates see it within `KeyCacheMs`. Misses are not kept.
 */
export const KeyCacheMs = 5_000;
const KeyCacheSize = 1_000;
const keyCache = new Map<string, { found: FoundKey; expiresAtMs: number }>();

/**
 * Misses are kept as long, apart so that a flood of unknown ids cannot push known keys out: an
 * unknown SecretId then costs what a known, cached one does, and timing does not tell them apart.
 */
const missCache = new Map<string, number>();

async function findKey(env: Env, lookup: "hash" | "id", value: string, nowMs: number): Promise<FoundKey | null> {
  const cacheKey = `${lookup}:${value}`;
  const cached = keyCache.get(cacheKey);
  if (cached && cached.expiresAtMs > nowMs) return cached.found;
  if ((missCache.get(cacheKey) ?? 0) > nowMs) return null;
  const found = lookup === "hash" ? await registry(env).findBySecretHash(value) : await registry(env).findById(value);
  if (!found) {
    keyCache.delete(cacheKey);
    if (missCache.size >= KeyCacheSize) missCache.delete(missCache.keys().next().value!);
    missCache.set(cacheKey, nowMs + KeyCacheMs);
    return null;
  }
  missCache.delete(cacheKey);
  if (keyCache.size >= KeyCacheSize) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(cacheKey, { found, expiresAtMs: nowMs + KeyCacheMs });
  return found;
}

/** Accounts as root-credential requests need them (allowed origins), kept like keys. */
const accountCache = new Map<string, { account: AccountInfo; expiresAtMs: number }>();

async function findAccount(env: Env, accountId: string, nowMs: number): Promise<AccountInfo | null> {
  const cached = accountCache.get(accountId);
  if (cached && cached.expiresAtMs > nowMs) return cached.account;
  const found = await registry(env).getAccount(accountId);
  if (!found.ok) return null;
  if (accountCache.size >= KeyCacheSize) accountCache.delete(accountCache.keys().next().value!);
  accountCache.set(accountId, { account: found.value, expiresAtMs: nowMs + KeyCacheMs });
  return found.value;
}

/**
 * Root acts in the default account, so that account's `allowedOrigins` bound which pages may read
 * root's answers and those of the tokens root mints, as any account's do for its keys.
 */
async function rootPrincipal(env: Env, nowMs: number, accountId = DefaultAccountId): Promise<Principal> {
  const account = await findAccount(env, accountId, nowMs);
  return { ...RootPrincipal(), account: accountId, allowedOrigins: account?.allowedOrigins ?? null };
}

/** Drops an account's keys from this isolate's cache after the account changed. */
export function forgetAccount(accountId: string): void {
  accountCache.delete(accountId);
  for (const [cacheKey, entry] of keyCache) {
    if (entry.found.account.id === accountId) keyCache.delete(cacheKey);
  }
}

/** Drops a key from this isolate's cache after it changed (or was created: no remembered miss). */
export function forgetKey(secretId: string, secretHash?: string): void {
  missCache.delete(`id:${secretId}`);
  if (secretHash) missCache.delete(`hash:${secretHash}`);
  for (const [cacheKey, entry] of keyCache) {
    if (entry.found.key.secretId === secretId) keyCache.delete(cacheKey);
  }
}

function keyPrincipal(key: StoredKey, account: AccountInfo): Principal {
  // The reason lets a protocol name the refusal its own way (API 3.0: AuthFailure.SecretIdNotFound).
  if (key.disabled) throw new ServiceError(ErrorCode.Unauthenticated, "invalid credentials: key is disabled", { reason: "keyDisabled" });
  return {
    kind: "key",
    account: account.id,
    secretId: key.secretId,
    keyGeneration: key.generation,
    policy: key.policy,
    token: null,
    allowedOrigins: account.allowedOrigins,
  };
}

/** Whether a request carries credentials of any scheme (all of them use `Authorization`). */
export function presentsCredentials(request: Request): boolean {
  return request.headers.has("authorization");
}

/** One answer for an unknown SecretId and a wrong signature: neither tells whether the id exists. */
const SignatureRefused = "invalid credentials: the SecretId is unknown or the signature does not match";

const decoys = new WeakMap<CryptoKey, Promise<{ sealedSecret: string; secretId: string }>>();

/** A sealed random secret standing in for an unknown key's, so that refusing one costs the same work. */
function decoySecret(secrets: CryptoKey): Promise<{ sealedSecret: string; secretId: string }> {
  let decoy = decoys.get(secrets);
  if (!decoy) {
    const secretId = `AKID${randomString(32)}`;
    decoy = sealSecret(secrets, randomString(40), secretId).then((sealedSecret) => ({ sealedSecret, secretId }));
    decoys.set(secrets, decoy);
  }
  return decoy;
}

/**
 * The principal of a signed request whose SecretId is `secretId`, once `verify` accepts the
 * signature under that id's secret key. An unknown id goes through the same decryption and HMAC as
 * a known one and gets the same answer, so neither the message nor a shortcut tells whether a
 * SecretId exists.
 */
async function signedPrincipal(
  env: Env,
  root: { secretId: string; secretKey: string },
  secretId: string,
  nowMs: number,
  verify: (secretKey: string) => Promise<boolean>,
): Promise<Principal> {
  if (secretId === root.secretId) {
    if (!(await verify(root.secretKey))) throw unauthenticated(SignatureRefused);
    return rootPrincipal(env, nowMs);
  }
  const found = await findKey(env, "id", secretId, nowMs);
  const secrets = (await keysOf(env)).secrets;
  const sealed = found ? { sealedSecret: found.key.sealedSecret, secretId: found.key.secretId } : await decoySecret(secrets);
  const secretKey = await openSecret(secrets, sealed.sealedSecret, sealed.secretId);
  if (!(await verify(secretKey)) || !found) throw unauthenticated(SignatureRefused);
  return keyPrincipal(found.key, found.account);
}

/**
 * The principal of a request signed by a scheme that carries its SecretId elsewhere than in
 * `Authorization` (CMQ's HMAC v1 parameters), with the same uniform refusal as TC3 and SigV4.
 */
export function signedRequestPrincipal(
  env: Env,
  secretId: string,
  nowMs: number,
  verify: (secretKey: string) => Promise<boolean>,
): Promise<Principal> {
  return signedPrincipal(env, requireConfigured(env), secretId, nowMs, verify);
}

/**
 * Authenticates a request by `Authorization: Bearer <secret key or token>`, or a TC3-HMAC-SHA256 or
 * AWS4-HMAC-SHA256 (SigV4) signature over method, path, query, signed headers and body. Every failure is 401
 * Unauthenticated, with a message that says what was wrong but never whether a key exists.
 */
export async function authenticate(request: Request, body: string, env: Env, nowMs = systemClock.nowMs()): Promise<Principal> {
  const root = requireConfigured(env);
  const header = request.headers.get("authorization");
  if (!header) throw unauthenticated("missing credentials: send Authorization: Bearer <secret key or token>, or a TC3-HMAC-SHA256 signature");

  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) {
    const secret = bearer[1]!;
    if (secret.startsWith(TokenPrefix)) return tokenPrincipal(secret, env, nowMs);
    if (await constantTimeEqual(secret, root.secretKey)) return rootPrincipal(env, nowMs);
    const found = await findKey(env, "hash", await sha256Hex(secret), nowMs);
    if (!found) throw unauthenticated("invalid credentials");
    return keyPrincipal(found.key, found.account);
  }

  if (header.startsWith("TC3-HMAC-SHA256")) {
    const auth = parseTc3Authorization(header);
    if (!auth) throw unauthenticated("malformed TC3-HMAC-SHA256 credentials");
    const signable = { method: request.method, url: request.url, headers: request.headers, body };
    const timestamp = checkTc3Envelope(signable, auth, nowMs);
    return signedPrincipal(env, root, auth.secretId, nowMs, (secretKey) => verifyTc3(signable, auth, timestamp, secretKey));
  }

  if (header.startsWith(SigV4Algorithm)) {
    const auth = parseSigV4Authorization(header);
    if (!auth) throw unauthenticated("malformed AWS4-HMAC-SHA256 credentials");
    const signable = { method: request.method, url: urlOf(request), headers: request.headers, body };
    const envelope = await checkSigV4Envelope(signable, auth, nowMs);
    return signedPrincipal(env, root, auth.accessKeyId, nowMs, (secretKey) => verifySigV4(signable, auth, envelope, secretKey));
  }

  throw unauthenticated("unsupported authorization scheme: send credentials as Bearer, TC3-HMAC-SHA256 or AWS4-HMAC-SHA256");
}

/** The principal of a browser token (`cmqt.…`), while the token and its key are valid. */
export async function tokenPrincipal(token: string, env: Env, nowMs: number): Promise<Principal> {
  const check = await verifyToken((await keysOf(env)).tokens, token, nowMs);
  if (!check.ok) throw unauthenticated(`invalid token: ${check.reason}`);
  const { claims } = check;
  const scope = { actions: claims.actions, resources: claims.resources, expiresAt: claims.expiresAt };
  if (claims.secretId === null) {
    // A root token lives no longer than the root secret key it was minted under.
    const tag = await rootKeyTag((await keysOf(env)).tokens, requireConfigured(env).secretKey);
    if (!(await constantTimeEqual(claims.rootKeyTag ?? "", tag))) throw unauthenticated("invalid token: the root key was changed since");
    return { ...(await rootPrincipal(env, nowMs, claims.account)), kind: "token", token: scope };
  }
  // A token lives no longer than the key that minted it: disabled, deleted or rotated, the token stops.
  const found = await findKey(env, "id", claims.secretId, nowMs);
  if (!found || found.key.accountId !== claims.account) throw unauthenticated("invalid token: its key no longer exists");
  if ((claims.keyGeneration ?? 0) !== found.key.generation) throw unauthenticated("invalid token: its key was rotated since");
  return { ...keyPrincipal(found.key, found.account), kind: "token", token: scope };
}

/** Whether the principal may do `action` on `resource`: its key's policy and, for a token, its scope. */
export function can(principal: Principal, action: Action, resource: ResourceName): boolean {
  if (principal.policy && !policyAllows(principal.policy, action, resource)) return false;
  if (principal.token) {
    return policyAllows({ statements: [{ actions: principal.token.actions, resources: principal.token.resources }] }, action, resource);
  }
  return true;
}

/** Throws 403 Forbidden unless the principal may do `action` on `resource`. */
export function authorize(principal: Principal, action: Action, resource: ResourceName): void {
  if (!can(principal, action, resource)) {
    throw new ServiceError(ErrorCode.Forbidden, `not allowed: ${action} on ${resource}`);
  }
}
