import { systemClock, type Clock } from "../clock";
import { authorize, forgetAccount, forgetKey, keysOf, registry, requireConfigured, type Principal } from "../auth/authenticate";
import { randomString, sealSecret, sha256Hex } from "../auth/crypto";
import { policyCovers, policyWithin } from "../auth/policy";
import { mintToken, rootKeyTag } from "../auth/tokens";
import { ErrorCode, ServiceError, unwrap } from "../errors";
import { AccountLimits, type AccountInfo, type Action, type CreateTokenBody, type KeyInfo, type Policy } from "../schema/account";
import { matchesFilter, pageOf, type ListQuery, type Page } from "./listing";

export interface NewKey extends KeyInfo {
  /** Shown once, when the key is created or rotated; stored only sealed. */
  secretKey: string;
}

export interface WhoAmI {
  kind: Principal["kind"];
  account: string;
  secretId: string | null;
  policy: Policy | null;
  token: { actions: Action[]; resources: string[]; expiresAt: number } | null;
  allowedOrigins: string[] | null;
}

/** Orders by a name compared without regard to case, as listing cursors compare. */
const byLowerCase =
  <T>(nameOf: (item: T) => string) =>
  (a: T, b: T): number => {
    const [left, right] = [nameOf(a).toLowerCase(), nameOf(b).toLowerCase()];
    return left < right ? -1 : left > right ? 1 : 0;
  };

/** Accounts, their keys and browser tokens. */
export class AccountOperations {
  constructor(
    private readonly env: Env,
    private readonly principal: Principal,
    private readonly clock: Clock = systemClock,
  ) {}

  private requireRoot(): void {
    if (this.principal.kind !== "root") {
      throw new ServiceError(ErrorCode.Forbidden, "only the root credentials may administer accounts");
    }
  }

  /**
   * Keys of an account are administered by root, or by a key of that account allowed `manage` on
   * `*`. Another account looks exactly like a missing one.
   */
  private requireKeyAdmin(accountId: string): void {
    if (this.principal.kind === "root") return;
    if (this.principal.account !== accountId) {
      throw new ServiceError(ErrorCode.AccountNotFound, `account ${accountId} does not exist`);
    }
    authorize(this.principal, "manage", "*");
  }

  /**
   * Changes to credentials and account settings last beyond any token, so a token may make none:
   * a browser token must never outlive itself through a key it created, rotated or widened (nor
   * lock the account's people out by deleting or disabling their keys). Only root and keys may.
   */
  private requireCredentialAdmin(accountId: string): void {
    this.requireKeyAdmin(accountId);
    if (this.principal.kind === "token") {
      throw new ServiceError(ErrorCode.Forbidden, "a token cannot create, change, rotate or delete keys, nor change the account");
    }
  }

  /** A key grants only rights it holds (to a new key, to itself, to another key); root is unbounded. */
  private requireHolds(policy: Policy, what: string): void {
    if (this.principal.policy !== null && !policyWithin(policy, this.principal.policy)) {
      throw new ServiceError(ErrorCode.Forbidden, `${what}: a key may grant only rights it holds itself`);
    }
  }

  /**
   * A key administers only keys whose rights it holds: rotating a wider key would hand the caller
   * that key's secret, and disabling or deleting it would lock out whoever holds more rights.
   */
  private async requireHoldsKey(accountId: string, secretId: string): Promise<void> {
    if (this.principal.policy === null) return;
    const target = unwrap(await registry(this.env).listKeys(accountId)).find((key) => key.secretId === secretId);
    if (target) this.requireHolds(target.policy, `key ${secretId} has rights the caller does not hold`);
  }

  async createAccount(name: string): Promise<AccountInfo> {
    this.requireRoot();
    return unwrap(await registry(this.env).createAccount(`a${randomString(15, "0123456789abcdefghijklmnopqrstuvwxyz")}`, name));
  }

  /** Accounts by name (unique regardless of case), so that a cursor is the last name shown. */
  async listAccounts(query: ListQuery): Promise<Page<AccountInfo>> {
    this.requireRoot();
    const accounts = (await registry(this.env).listAccounts()).filter((account) => matchesFilter(account.name, query));
    return pageOf(accounts.sort(byLowerCase((account) => account.name)), (account) => account.name, query);
  }

  async getAccount(accountId: string): Promise<AccountInfo> {
    this.requireKeyAdmin(accountId);
    return unwrap(await registry(this.env).getAccount(accountId));
  }

  async setAllowedOrigins(accountId: string, origins: string[] | null): Promise<AccountInfo> {
    this.requireCredentialAdmin(accountId);
    const account = unwrap(await registry(this.env).setAllowedOrigins(accountId, origins));
    forgetAccount(accountId);
    return account;
  }

  private async newSecret(secretId: string): Promise<{ secretKey: string; secretHash: string; sealed: string }> {
    const secretKey = randomString(40);
    const sealed = await sealSecret((await keysOf(this.env)).secrets, secretKey, secretId);
    return { secretKey, secretHash: await sha256Hex(secretKey), sealed };
  }

  async createKey(accountId: string, policy: Policy): Promise<NewKey> {
    this.requireCredentialAdmin(accountId);
    this.requireHolds(policy, "the new key's policy is wider than the caller's");
    // CMQ SecretIds begin with AKID (CMQ error 10450).
    const secretId = `AKID${randomString(32)}`;
    const { secretKey, secretHash, sealed } = await this.newSecret(secretId);
    const key = unwrap(await registry(this.env).createKey(accountId, secretId, secretHash, sealed, policy));
    forgetKey(secretId, secretHash);
    return { ...key, secretKey };
  }

  /** An account's keys by SecretId, so that a cursor is the last SecretId shown. */
  async listKeys(accountId: string, query: ListQuery): Promise<Page<KeyInfo>> {
    this.requireKeyAdmin(accountId);
    const keys = unwrap(await registry(this.env).listKeys(accountId)).filter((key) => matchesFilter(key.secretId, query));
    return pageOf(keys.sort(byLowerCase((key) => key.secretId)), (key) => key.secretId, query);
  }

  /** The caller as the service sees it: what a console needs to offer only what it may do. */
  async whoami(): Promise<WhoAmI> {
    const { kind, account, secretId, policy, token, allowedOrigins } = this.principal;
    return {
      kind,
      account,
      secretId,
      policy,
      token: token && { actions: token.actions, resources: token.resources, expiresAt: token.expiresAt },
      allowedOrigins,
    };
  }

  async updateKey(accountId: string, secretId: string, change: { disabled?: boolean; policy?: Policy }): Promise<KeyInfo> {
    this.requireCredentialAdmin(accountId);
    await this.requireHoldsKey(accountId, secretId);
    if (change.policy) this.requireHolds(change.policy, "the key's new policy is wider than the caller's");
    const key = unwrap(await registry(this.env).updateKey(accountId, secretId, change));
    forgetKey(secretId);
    return key;
  }

  async rotateKey(accountId: string, secretId: string): Promise<NewKey> {
    this.requireCredentialAdmin(accountId);
    await this.requireHoldsKey(accountId, secretId);
    const { secretKey, secretHash, sealed } = await this.newSecret(secretId);
    const key = unwrap(await registry(this.env).rotateKey(accountId, secretId, secretHash, sealed));
    forgetKey(secretId, secretHash);
    return { ...key, secretKey };
  }

  async deleteKey(accountId: string, secretId: string): Promise<void> {
    this.requireCredentialAdmin(accountId);
    await this.requireHoldsKey(accountId, secretId);
    unwrap(await registry(this.env).deleteKey(accountId, secretId));
    forgetKey(secretId);
  }

  /** Mints a browser token with at most the caller's own rights, for at most 24 hours. */
  async mintToken(request: CreateTokenBody, nowMs = this.clock.nowMs()): Promise<{ token: string; expiresAt: number }> {
    const principal = this.principal;
    const scope = { statements: [{ actions: request.actions, resources: request.resources }] };
    const withinPolicy = principal.policy === null || policyCovers(principal.policy, request.actions, request.resources);
    const withinToken =
      principal.token === null ||
      policyCovers({ statements: [{ actions: principal.token.actions, resources: principal.token.resources }] }, request.actions, request.resources);
    if (!withinPolicy || !withinToken) {
      throw new ServiceError(ErrorCode.Forbidden, "a token may grant only rights its caller has");
    }
    const ttlMs = (request.ttlSeconds ?? AccountLimits.tokenTtlSeconds.default) * 1000;
    // A token minted with a token ends no later than that token.
    const expiresAt = Math.min(nowMs + ttlMs, principal.token?.expiresAt ?? Infinity);
    const tokenKey = (await keysOf(this.env)).tokens;
    const rootTag = principal.secretId === null ? { rootKeyTag: await rootKeyTag(tokenKey, requireConfigured(this.env).secretKey) } : {};
    const token = await mintToken(tokenKey, {
      ...rootTag,
      account: principal.account,
      secretId: principal.secretId,
      ...(principal.keyGeneration === undefined ? {} : { keyGeneration: principal.keyGeneration }),
      actions: scope.statements[0]!.actions,
      resources: scope.statements[0]!.resources,
      expiresAt,
    });
    return { token, expiresAt };
  }
}
