import { systemClock, type Clock } from "../clock";
import { DurableObject } from "cloudflare:workers";
import { ErrorCode, ServiceError, toResult, type Result } from "../errors";
import { AccountLimits, type AccountInfo, type KeyInfo, type Policy } from "../schema/account";

/** A key as authentication needs it: its sealed secret is opened only by the Worker. */
export interface StoredKey extends KeyInfo {
  sealedSecret: string;
  /** Counts rotations: a token carries the generation it was minted under and ends with it. */
  generation: number;
}

interface KeyRow {
  secret_id: string;
  account_id: string;
  sealed_secret: string;
  policy: string;
  disabled: number;
  created_at: number;
  rotated_at: number | null;
  generation: number;
  [key: string]: SqlStorageValue;
}

const toStoredKey = (row: KeyRow): StoredKey => ({
  secretId: row.secret_id,
  accountId: row.account_id,
  policy: JSON.parse(row.policy) as Policy,
  disabled: row.disabled === 1,
  createdAt: row.created_at,
  rotatedAt: row.rotated_at,
  sealedSecret: row.sealed_secret,
  generation: row.generation,
});

/** The account the root credentials act in. */
export const DefaultAccountId = "default";

/**
 * The registry of accounts and their keys (one object for the deployment). Secrets arrive sealed
 * (AES-GCM, by the Worker) and are found by the SHA-256 of the secret for bearer use, or by id for
 * signed requests.
 */
export class AccountObject extends DurableObject<Env> {
  /** Replaced by tests through runInDurableObject. */
  clock: Clock = systemClock;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS accounts (
      id TEXT PRIMARY KEY, name_key TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
      created_at INTEGER NOT NULL, allowed_origins TEXT
    )`);
    sql.exec(`CREATE TABLE IF NOT EXISTS keys (
      secret_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE,
      sealed_secret TEXT NOT NULL, policy TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL, rotated_at INTEGER
    )`);
    sql.exec("CREATE INDEX IF NOT EXISTS keys_by_account ON keys (account_id)");
    // Registries created before key generations existed get the column; their keys start at 0.
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(keys)").toArray();
    if (!columns.some((column) => column.name === "generation")) {
      sql.exec("ALTER TABLE keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 0");
    }
    // Nonces of signed CMQ requests, each kept until its request's timestamp leaves the window.
    sql.exec(`CREATE TABLE IF NOT EXISTS nonces (
      secret_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (secret_id, nonce)
    ) WITHOUT ROWID`);
    sql.exec("CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces (expires_at)");
    sql.exec(
      "INSERT OR IGNORE INTO accounts (id, name_key, name, created_at) VALUES (?, 'default', 'default', ?)",
      DefaultAccountId,
      this.clock.nowMs(),
    );
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  private account(id: string): AccountInfo | null {
    const row = this.sql
      .exec<{ id: string; name: string; created_at: number; allowed_origins: string | null }>(
        "SELECT id, name, created_at, allowed_origins FROM accounts WHERE id = ?",
        id,
      )
      .toArray()[0];
    return row
      ? {
          id: row.id,
          name: row.name,
          createdAt: row.created_at,
          allowedOrigins: row.allowed_origins ? (JSON.parse(row.allowed_origins) as string[]) : null,
        }
      : null;
  }

  private requireAccount(id: string): AccountInfo {
    const account = this.account(id);
    if (!account) throw new ServiceError(ErrorCode.AccountNotFound, `account ${id} does not exist`);
    return account;
  }

  async createAccount(id: string, name: string): Promise<Result<AccountInfo>> {
    return toResult(() => {
      const taken = this.sql.exec("SELECT 1 FROM accounts WHERE name_key = ?", name.toLowerCase()).toArray().length;
      if (taken) throw new ServiceError(ErrorCode.AccountAlreadyExists, `an account named ${name} already exists`);
      this.sql.exec("INSERT INTO accounts (id, name_key, name, created_at) VALUES (?, ?, ?, ?)", id, name.toLowerCase(), name, this.clock.nowMs());
      return this.requireAccount(id);
    });
  }

  async listAccounts(): Promise<AccountInfo[]> {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM accounts ORDER BY created_at, id")
      .toArray()
      .map((row) => this.account(row.id)!);
  }

  async getAccount(id: string): Promise<Result<AccountInfo>> {
    return toResult(() => this.requireAccount(id));
  }

  async setAllowedOrigins(id: string, origins: string[] | null): Promise<Result<AccountInfo>> {
    return toResult(() => {
      this.requireAccount(id);
      this.sql.exec("UPDATE accounts SET allowed_origins = ? WHERE id = ?", origins ? JSON.stringify(origins) : null, id);
      return this.requireAccount(id);
    });
  }

  async createKey(accountId: string, secretId: string, secretHash: string, sealedSecret: string, policy: Policy): Promise<Result<KeyInfo>> {
    return toResult(() => {
      this.requireAccount(accountId);
      const count = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM keys WHERE account_id = ?", accountId).one().n;
      if (count >= AccountLimits.keysPerAccount) {
        throw new ServiceError(ErrorCode.QuotaExceeded, `an account has at most ${AccountLimits.keysPerAccount} keys`);
      }
      this.sql.exec(
        "INSERT INTO keys (secret_id, account_id, secret_hash, sealed_secret, policy, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        secretId,
        accountId,
        secretHash,
        sealedSecret,
        JSON.stringify(policy),
        this.clock.nowMs(),
      );
      return this.keyInfo(this.requireKey(accountId, secretId));
    });
  }

  private keyRow(secretId: string): KeyRow | undefined {
    return this.sql.exec<KeyRow>("SELECT * FROM keys WHERE secret_id = ?", secretId).toArray()[0];
  }

  private requireKey(accountId: string, secretId: string): KeyRow {
    const row = this.keyRow(secretId);
    // Another account's key looks exactly like a missing one.
    if (!row || row.account_id !== accountId) throw new ServiceError(ErrorCode.KeyNotFound, `key ${secretId} does not exist`);
    return row;
  }

  private keyInfo(row: KeyRow): KeyInfo {
    const { sealedSecret: _sealed, generation: _generation, ...info } = toStoredKey(row);
    return info;
  }

  async listKeys(accountId: string): Promise<Result<KeyInfo[]>> {
    return toResult(() => {
      this.requireAccount(accountId);
      return this.sql
        .exec<KeyRow>("SELECT * FROM keys WHERE account_id = ? ORDER BY created_at, secret_id", accountId)
        .toArray()
        .map((row) => this.keyInfo(row));
    });
  }

  async updateKey(accountId: string, secretId: string, change: { disabled?: boolean; policy?: Policy }): Promise<Result<KeyInfo>> {
    return toResult(() => {
      this.requireKey(accountId, secretId);
      if (change.disabled !== undefined) {
        this.sql.exec("UPDATE keys SET disabled = ? WHERE secret_id = ?", change.disabled ? 1 : 0, secretId);
      }
      if (change.policy !== undefined) {
        this.sql.exec("UPDATE keys SET policy = ? WHERE secret_id = ?", JSON.stringify(change.policy), secretId);
      }
      return this.keyInfo(this.requireKey(accountId, secretId));
    });
  }

  /** Replaces a key's secret; the old one, and the tokens minted under it, stop working at once. */
  async rotateKey(accountId: string, secretId: string, secretHash: string, sealedSecret: string): Promise<Result<KeyInfo>> {
    return toResult(() => {
      this.requireKey(accountId, secretId);
      this.sql.exec(
        "UPDATE keys SET secret_hash = ?, sealed_secret = ?, rotated_at = ?, generation = generation + 1 WHERE secret_id = ?",
        secretHash,
        sealedSecret,
        this.clock.nowMs(),
        secretId,
      );
      return this.keyInfo(this.requireKey(accountId, secretId));
    });
  }

  async deleteKey(accountId: string, secretId: string): Promise<Result<void>> {
    return toResult(() => {
      this.requireKey(accountId, secretId);
      this.sql.exec("DELETE FROM keys WHERE secret_id = ?", secretId);
    });
  }

  /** The key with this secret (by its SHA-256), with its account's allowed origins. */
  async findBySecretHash(secretHash: string): Promise<{ key: StoredKey; account: AccountInfo } | null> {
    const row = this.sql.exec<KeyRow>("SELECT * FROM keys WHERE secret_hash = ?", secretHash).toArray()[0];
    return row ? { key: toStoredKey(row), account: this.account(row.account_id)! } : null;
  }

  /**
   * Records a request's nonce for its SecretId until `expiresAtMs`; false when it is already
   * recorded (a replay). Expired nonces are dropped on the way, so the table holds one window.
   */
  async claimNonce(secretId: string, nonce: string, expiresAtMs: number): Promise<boolean> {
    this.sql.exec("DELETE FROM nonces WHERE expires_at <= ?", this.clock.nowMs());
    const seen = this.sql.exec("SELECT 1 FROM nonces WHERE secret_id = ? AND nonce = ?", secretId, nonce).toArray().length > 0;
    if (seen) return false;
    this.sql.exec("INSERT INTO nonces (secret_id, nonce, expires_at) VALUES (?, ?, ?)", secretId, nonce, expiresAtMs);
    return true;
  }

  async findById(secretId: string): Promise<{ key: StoredKey; account: AccountInfo } | null> {
    const row = this.keyRow(secretId);
    return row ? { key: toStoredKey(row), account: this.account(row.account_id)! } : null;
  }
}
