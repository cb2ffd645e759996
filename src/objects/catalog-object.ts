import { systemClock, type Clock } from "../clock";
import { DurableObject } from "cloudflare:workers";
import { ErrorCode, ServiceError, fail, ok, type Result } from "../errors";
import { QueueLimits } from "../schema/queue";
import type { QueueAttributes, RedriveAllowPolicy } from "../schema/queue";
import type { TopicAttributes } from "../schema/topic";

export type CatalogKind = "queue" | "topic";

/** Which names a listing selects: a name prefix, a substring anywhere in the name, or the queues using a dead-letter queue. */
export interface CatalogFilter {
  prefix?: string;
  search?: string;
  deadLetterOf?: string;
}

/** How long a quota reservation counts without its create finishing: far longer than a create takes. */
export const ReservationTtlMs = 60_000;

/** A queue or topic as the catalog indexes it: enough to list it and check relations between queues. */
export interface CatalogEntry<TAttributes = QueueAttributes | TopicAttributes> {
  name: string;
  createdAt: number;
  modifiedAt: number;
  attributes: TAttributes;
  /** For a queue with a dead-letter policy: the dead-letter queue's name. */
  deadLetterQueue?: string | null;
}

interface CatalogRow {
  name_key: string;
  name: string;
  created_at: number;
  modified_at: number;
  attributes: string;
  [key: string]: SqlStorageValue;
}

const toEntry = (row: CatalogRow): CatalogEntry => ({
  name: row.name,
  createdAt: row.created_at,
  modifiedAt: row.modified_at,
  attributes: JSON.parse(row.attributes) as QueueAttributes | TopicAttributes,
});

/** Whether a dead-letter queue's redriveAllow (SQS RedriveAllowPolicy) admits a source; none set admits all. */
function allowsDeadLetterSource(policy: RedriveAllowPolicy | undefined, sourceKey: string): boolean {
  if (!policy || policy.permission === "allowAll") return true;
  if (policy.permission === "denyAll") return false;
  return policy.sourceQueues.some((queue) => queue.toLowerCase() === sourceKey);
}

/**
 * One per account: the index of its queues and topics per region, for listing, name lookup and
 * dead-letter relations. Queue and topic objects stay the source of truth for their own existence
 * and attributes; the service keeps this index in step on create, change and delete.
 */
export class CatalogObject extends DurableObject<Env> {
  /** Replaced by tests through runInDurableObject. */
  clock: Clock = systemClock;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS resources (
      kind TEXT NOT NULL,
      region TEXT NOT NULL,
      name_key TEXT NOT NULL,
      name TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      modified_at INTEGER NOT NULL,
      attributes TEXT NOT NULL,
      dead_letter_key TEXT,
      provisional INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (kind, region, name_key)
    )`);
    ctx.storage.sql.exec(
      "CREATE INDEX IF NOT EXISTS resources_by_dead_letter ON resources (region, dead_letter_key) WHERE dead_letter_key IS NOT NULL",
    );
  }

  async put(kind: CatalogKind, region: string, entry: CatalogEntry): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO resources (kind, region, name_key, name, created_at, modified_at, attributes, dead_letter_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, region, name_key) DO UPDATE SET
         name = excluded.name, created_at = excluded.created_at, modified_at = excluded.modified_at,
         attributes = excluded.attributes, dead_letter_key = excluded.dead_letter_key, provisional = 0`,
      kind,
      region,
      entry.name.toLowerCase(),
      entry.name,
      entry.createdAt,
      entry.modifiedAt,
      JSON.stringify(entry.attributes),
      entry.deadLetterQueue?.toLowerCase() ?? null,
    );
  }

  async remove(kind: CatalogKind, region: string, name: string): Promise<boolean> {
    return (
      this.ctx.storage.sql.exec(
        "DELETE FROM resources WHERE kind = ? AND region = ? AND name_key = ?",
        kind,
        region,
        name.toLowerCase(),
      ).rowsWritten > 0
    );
  }

  async get(kind: CatalogKind, region: string, name: string): Promise<CatalogEntry | null> {
    const row = this.ctx.storage.sql
      .exec<CatalogRow>(
        "SELECT * FROM resources WHERE kind = ? AND region = ? AND name_key = ? AND provisional = 0",
        kind,
        region,
        name.toLowerCase(),
      )
      .toArray()[0];
    return row ? toEntry(row) : null;
  }

  async count(kind: CatalogKind, region: string): Promise<number> {
    return this.ctx.storage.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM resources WHERE kind = ? AND region = ? AND provisional = 0", kind, region)
      .one().n;
  }

  /**
   * Reserves a new name against the account's quota: counts and claims the slot in one step, so
   * concurrent creates cannot pass the limit together. The reservation is a provisional row that
   * `put` makes permanent and `release` drops; one left by a create that never finished (a crash)
   * stops counting after `ReservationTtlMs`. An indexed name, or one a concurrent create of the same
   * name holds, needs no new slot (`reserved: false`): confirming an existing resource is always allowed.
   */
  async reserve(kind: CatalogKind, region: string, name: string, limit: number): Promise<Result<{ reserved: boolean }>> {
    const sql = this.ctx.storage.sql;
    const nowMs = this.clock.nowMs();
    const key = name.toLowerCase();
    const freshAfter = nowMs - ReservationTtlMs;
    const row = sql
      .exec<{ provisional: number; modified_at: number }>(
        "SELECT provisional, modified_at FROM resources WHERE kind = ? AND region = ? AND name_key = ?",
        kind,
        region,
        key,
      )
      .toArray()[0];
    if (row && (row.provisional === 0 || row.modified_at > freshAfter)) return ok({ reserved: false });
    const held = sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM resources WHERE kind = ? AND region = ? AND (provisional = 0 OR modified_at > ?)",
        kind,
        region,
        freshAfter,
      )
      .one().n;
    if (held >= limit) return fail(ErrorCode.QuotaExceeded, `an account holds at most ${limit} ${kind}s`);
    if (row) {
      sql.exec("UPDATE resources SET modified_at = ? WHERE kind = ? AND region = ? AND name_key = ?", nowMs, kind, region, key);
    } else {
      sql.exec(
        `INSERT INTO resources (kind, region, name_key, name, created_at, modified_at, attributes, provisional)
         VALUES (?, ?, ?, ?, 0, ?, '{}', 1)`,
        kind,
        region,
        key,
        name,
        nowMs,
      );
    }
    return ok({ reserved: true });
  }

  /** Gives back a reservation whose create failed; an indexed resource stays. */
  async release(kind: CatalogKind, region: string, name: string): Promise<void> {
    this.ctx.storage.sql.exec(
      "DELETE FROM resources WHERE kind = ? AND region = ? AND name_key = ? AND provisional = 1",
      kind,
      region,
      name.toLowerCase(),
    );
  }

  private deadLetterSourceKeys(region: string, nameKey: string): string[] {
    return this.ctx.storage.sql
      .exec<{ name_key: string }>(
        "SELECT name_key FROM resources WHERE kind = 'queue' AND region = ? AND dead_letter_key = ?",
        region,
        nameKey,
      )
      .toArray()
      .map((row) => row.name_key);
  }

  /**
   * Points `source` at dead-letter queue `target` (or at none), checking the rules and recording
   * the link in one step, so that concurrent changes cannot break them (CMQ CreateQueue 10730,
   * 10740, 10780): the target exists, its redriveAllow admits the source (SQS RedriveAllowPolicy),
   * it has no dead-letter queue of its own, serves at most 6 queues, and the source is not itself a
   * dead-letter queue. A source not indexed yet gets a provisional
   * row, which counts for these rules but is not listed until the queue is indexed.
   */
  async linkDeadLetter(
    region: string,
    source: string,
    target: string | null,
  ): Promise<Result<{ previous: string | null; provisional: boolean }>> {
    const sql = this.ctx.storage.sql;
    const sourceKey = source.toLowerCase();
    try {
      if (target !== null) {
        const targetKey = target.toLowerCase();
        const targetRow = sql
          .exec<{ name: string; dead_letter_key: string | null; attributes: string }>(
            "SELECT name, dead_letter_key, attributes FROM resources WHERE kind = 'queue' AND region = ? AND name_key = ? AND provisional = 0",
            region,
            targetKey,
          )
          .toArray()[0];
        if (!targetRow) throw new ServiceError(ErrorCode.InvalidDeadLetterQueue, `dead-letter queue ${target} does not exist`);
        if (targetRow.dead_letter_key !== null) {
          throw new ServiceError(
            ErrorCode.InvalidDeadLetterQueue,
            `queue ${targetRow.name} has a dead-letter queue of its own; dead-letter queues do not nest`,
          );
        }
        const allowed = allowsDeadLetterSource((JSON.parse(targetRow.attributes) as Partial<QueueAttributes>).redriveAllow, sourceKey);
        if (!allowed) {
          throw new ServiceError(
            ErrorCode.DeadLetterSourceNotAllowed,
            `queue ${targetRow.name}'s redriveAllow does not let queue ${source} use it as its dead-letter queue`,
          );
        }
        const ownSources = this.deadLetterSourceKeys(region, sourceKey);
        if (ownSources.length > 0) {
          throw new ServiceError(
            ErrorCode.InvalidDeadLetterQueue,
            `queue ${source} is the dead-letter queue of ${ownSources.join(", ")}; dead-letter queues do not nest`,
          );
        }
        const others = this.deadLetterSourceKeys(region, targetKey).filter((key) => key !== sourceKey);
        if (others.length >= QueueLimits.deadLetterSourcesMax) {
          throw new ServiceError(
            ErrorCode.InvalidDeadLetterQueue,
            `queue ${targetRow.name} already serves ${others.length} source queues, the most a dead-letter queue may`,
          );
        }
      }
      const row = sql
        .exec<{ dead_letter_key: string | null; provisional: number }>(
          "SELECT dead_letter_key, provisional FROM resources WHERE kind = 'queue' AND region = ? AND name_key = ?",
          region,
          sourceKey,
        )
        .toArray()[0];
      const targetKey = target?.toLowerCase() ?? null;
      if (row) {
        sql.exec(
          "UPDATE resources SET dead_letter_key = ? WHERE kind = 'queue' AND region = ? AND name_key = ?",
          targetKey,
          region,
          sourceKey,
        );
        return ok({ previous: row.dead_letter_key, provisional: row.provisional === 1 });
      }
      sql.exec(
        `INSERT INTO resources (kind, region, name_key, name, created_at, modified_at, attributes, dead_letter_key, provisional)
         VALUES ('queue', ?, ?, ?, 0, 0, '{}', ?, 1)`,
        region,
        sourceKey,
        source,
        targetKey,
      );
      return ok({ previous: null, provisional: true });
    } catch (error) {
      if (error instanceof ServiceError) return fail(error.code, error.message);
      throw error;
    }
  }

  /** Undoes a link whose queue change failed: a provisional row goes, an indexed one gets its old link back. */
  async unlinkDeadLetter(region: string, source: string, previous: string | null): Promise<void> {
    const sql = this.ctx.storage.sql;
    const key = source.toLowerCase();
    sql.exec("DELETE FROM resources WHERE kind = 'queue' AND region = ? AND name_key = ? AND provisional = 1", region, key);
    sql.exec(
      "UPDATE resources SET dead_letter_key = ? WHERE kind = 'queue' AND region = ? AND name_key = ?",
      previous,
      region,
      key,
    );
  }

  /**
   * Removes a queue from the index unless it is another queue's dead-letter queue (CMQ 10750), in
   * one step, so that no source can link to it meanwhile.
   */
  async removeQueue(region: string, name: string): Promise<Result<{ removed: boolean }>> {
    const key = name.toLowerCase();
    const sources = this.deadLetterSourceKeys(region, key).filter((source) => source !== key);
    if (sources.length > 0) {
      const names = this.ctx.storage.sql
        .exec<{ name: string }>(
          `SELECT name FROM resources WHERE kind = 'queue' AND region = ? AND dead_letter_key = ? AND name_key <> ? ORDER BY name_key`,
          region,
          key,
          key,
        )
        .toArray()
        .map((row) => row.name);
      return fail(
        ErrorCode.QueueInUse,
        `queue ${name} is the dead-letter queue of ${names.join(", ")}; change their dead-letter policy first`,
      );
    }
    const removed = this.ctx.storage.sql.exec(
      "DELETE FROM resources WHERE kind = 'queue' AND region = ? AND name_key = ?",
      region,
      key,
    ).rowsWritten;
    return ok({ removed: removed > 0 });
  }

  /**
   * Every indexed name of `kind` that matches the filter, in name order: an account holds at most
   * its quota of each kind, so the caller can apply rights, offsets and totals to the whole list.
   */
  async names(kind: CatalogKind, region: string, filter: CatalogFilter = {}): Promise<string[]> {
    const prefixKey = (filter.prefix ?? "").toLowerCase();
    const searchKey = (filter.search ?? "").toLowerCase();
    const deadLetterKey = filter.deadLetterOf?.toLowerCase() ?? null;
    return this.ctx.storage.sql
      .exec<{ name: string }>(
        `SELECT name FROM resources
         WHERE kind = ? AND region = ? AND provisional = 0 AND substr(name_key, 1, ?) = ? AND instr(name_key, ?) > 0
           AND (? IS NULL OR dead_letter_key = ?)
         ORDER BY name_key`,
        kind,
        region,
        prefixKey.length,
        prefixKey,
        searchKey,
        deadLetterKey,
        deadLetterKey,
      )
      .toArray()
      .map((row) => row.name);
  }

  /** The entries of these names, in name order; names not indexed are left out. */
  async entries(kind: CatalogKind, region: string, names: string[]): Promise<CatalogEntry[]> {
    if (names.length === 0) return [];
    return this.ctx.storage.sql
      .exec<CatalogRow>(
        `SELECT * FROM resources
         WHERE kind = ? AND region = ? AND provisional = 0 AND name_key IN (SELECT value FROM json_each(?))
         ORDER BY name_key`,
        kind,
        region,
        JSON.stringify(names.map((name) => name.toLowerCase())),
      )
      .toArray()
      .map(toEntry);
  }
}
