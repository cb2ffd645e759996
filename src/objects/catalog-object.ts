import { DurableObject } from "cloudflare:workers";
import type { QueueAttributes } from "../schema/queue";

/** A queue as the catalog indexes it: enough to list queues and to check dead-letter relations. */
export interface CatalogQueue {
  name: string;
  createdAt: number;
  modifiedAt: number;
  attributes: QueueAttributes;
}

interface CatalogQueueRow {
  name: string;
  created_at: number;
  modified_at: number;
  attributes: string;
  [key: string]: SqlStorageValue;
}

const toCatalogQueue = (row: CatalogQueueRow): CatalogQueue => ({
  name: row.name,
  createdAt: row.created_at,
  modifiedAt: row.modified_at,
  attributes: JSON.parse(row.attributes) as QueueAttributes,
});

/**
 * One per account: the index of its queues per region, for listing, name lookup and dead-letter
 * relations. Queue objects stay the source of truth for their own existence and attributes; the
 * service keeps this index in step on create, change and delete.
 */
export class CatalogObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS queues (
      region TEXT NOT NULL,
      name_key TEXT NOT NULL,
      name TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      modified_at INTEGER NOT NULL,
      attributes TEXT NOT NULL,
      dead_letter_key TEXT,
      PRIMARY KEY (region, name_key)
    )`);
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS queues_by_dead_letter ON queues (region, dead_letter_key)");
  }

  async putQueue(region: string, queue: CatalogQueue): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO queues (region, name_key, name, created_at, modified_at, attributes, dead_letter_key)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (region, name_key) DO UPDATE SET
         name = excluded.name, created_at = excluded.created_at, modified_at = excluded.modified_at,
         attributes = excluded.attributes, dead_letter_key = excluded.dead_letter_key`,
      region,
      queue.name.toLowerCase(),
      queue.name,
      queue.createdAt,
      queue.modifiedAt,
      JSON.stringify(queue.attributes),
      queue.attributes.deadLetter?.queue.toLowerCase() ?? null,
    );
  }

  async removeQueue(region: string, name: string): Promise<boolean> {
    return (
      this.ctx.storage.sql.exec("DELETE FROM queues WHERE region = ? AND name_key = ?", region, name.toLowerCase())
        .rowsWritten > 0
    );
  }

  async getQueue(region: string, name: string): Promise<CatalogQueue | null> {
    const row = this.ctx.storage.sql
      .exec<CatalogQueueRow>(
        "SELECT name, created_at, modified_at, attributes FROM queues WHERE region = ? AND name_key = ?",
        region,
        name.toLowerCase(),
      )
      .toArray()[0];
    return row ? toCatalogQueue(row) : null;
  }

  /** Names of the queues whose dead-letter queue is `name`. */
  async deadLetterSources(region: string, name: string): Promise<string[]> {
    return this.ctx.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM queues WHERE region = ? AND dead_letter_key = ? ORDER BY name_key",
        region,
        name.toLowerCase(),
      )
      .toArray()
      .map((row) => row.name);
  }

  /** A page of queues in name order; `after` is the last name of the previous page. */
  async listQueues(
    region: string,
    prefix: string,
    limit: number,
    after: string | null,
  ): Promise<{ queues: CatalogQueue[]; last: string | null }> {
    const prefixKey = prefix.toLowerCase();
    const rows = this.ctx.storage.sql
      .exec<CatalogQueueRow & { name_key: string }>(
        `SELECT name_key, name, created_at, modified_at, attributes FROM queues
         WHERE region = ? AND substr(name_key, 1, ?) = ? AND name_key > ?
         ORDER BY name_key LIMIT ?`,
        region,
        prefixKey.length,
        prefixKey,
        after?.toLowerCase() ?? "",
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    return {
      queues: page.map(toCatalogQueue),
      last: rows.length > limit ? page[page.length - 1]!.name_key : null,
    };
  }
}
