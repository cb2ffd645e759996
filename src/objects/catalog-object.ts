import { DurableObject } from "cloudflare:workers";
import type { QueueAttributes } from "../schema/queue";
import type { TopicAttributes } from "../schema/topic";

export type CatalogKind = "queue" | "topic";

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

/**
 * One per account: the index of its queues and topics per region, for listing, name lookup and
 * dead-letter relations. Queue and topic objects stay the source of truth for their own existence
 * and attributes; the service keeps this index in step on create, change and delete.
 */
export class CatalogObject extends DurableObject<Env> {
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
         attributes = excluded.attributes, dead_letter_key = excluded.dead_letter_key`,
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
        "SELECT * FROM resources WHERE kind = ? AND region = ? AND name_key = ?",
        kind,
        region,
        name.toLowerCase(),
      )
      .toArray()[0];
    return row ? toEntry(row) : null;
  }

  async count(kind: CatalogKind, region: string): Promise<number> {
    return this.ctx.storage.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM resources WHERE kind = ? AND region = ?", kind, region)
      .one().n;
  }

  /** Names of the queues whose dead-letter queue is `name`. */
  async deadLetterSources(region: string, name: string): Promise<string[]> {
    return this.ctx.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM resources WHERE kind = 'queue' AND region = ? AND dead_letter_key = ? ORDER BY name_key",
        region,
        name.toLowerCase(),
      )
      .toArray()
      .map((row) => row.name);
  }

  /** A page in name order; `after` is the last name of the previous page. */
  async list(
    kind: CatalogKind,
    region: string,
    prefix: string,
    limit: number,
    after: string | null,
  ): Promise<{ entries: CatalogEntry[]; last: string | null }> {
    const prefixKey = prefix.toLowerCase();
    const rows = this.ctx.storage.sql
      .exec<CatalogRow>(
        `SELECT * FROM resources
         WHERE kind = ? AND region = ? AND substr(name_key, 1, ?) = ? AND name_key > ?
         ORDER BY name_key LIMIT ?`,
        kind,
        region,
        prefixKey.length,
        prefixKey,
        after?.toLowerCase() ?? "",
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    return {
      entries: page.map(toEntry),
      last: rows.length > limit ? page[page.length - 1]!.name_key : null,
    };
  }
}
