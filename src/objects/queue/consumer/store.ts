import { ErrorCode, ServiceError } from "../../../errors";
import type { ConsumerSettings } from "../../../schema/queue-consumer";

/** The consumer's settings as stored, with whether delivery is paused. */
export interface ConsumerConfig extends ConsumerSettings {
  paused: boolean;
  createdAt: number;
  modifiedAt: number;
}

/** A queue's consumer as its home object passes it to the other partitions. */
export interface MirroredConsumer {
  settings: ConsumerSettings;
  paused: boolean;
}

/** The counters kept in SQLite, so that they survive an eviction. */
export interface StoredConsumerStats {
  delivered: number;
  acked: number;
  retried: number;
  failed: number;
  lastError: string | null;
  lastErrorAt: number | null;
}

/** Counter increments of one settled batch. */
export type StatsDelta = Partial<Pick<StoredConsumerStats, "delivered" | "acked" | "retried" | "failed">>;

const ConsumerTable = `CREATE TABLE IF NOT EXISTS queue_consumer (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  settings TEXT NOT NULL,
  paused INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0,
  acked INTEGER NOT NULL DEFAULT 0,
  retried INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  last_error_at INTEGER
)`;

interface ConsumerRow {
  settings: string;
  paused: number;
  created_at: number;
  modified_at: number;
  delivered: number;
  acked: number;
  retried: number;
  failed: number;
  last_error: string | null;
  last_error_at: number | null;
  [key: string]: SqlStorageValue;
}

/** Longest last error kept: enough for a thrown message, bounded against a consumer that throws megabytes. */
const LastErrorMaxLength = 1_000;

/** The `queue_consumer` table (one row, or none) with a copy of the settings in memory. */
export class ConsumerStore {
  config: ConsumerConfig | null = null;

  constructor(private readonly sql: SqlStorage) {
    this.migrate();
  }

  /** Creates the table and loads the settings; again after `deleteAll()` dropped it. */
  migrate(): void {
    this.sql.exec(ConsumerTable);
    this.config = this.load();
  }

  private row(): ConsumerRow | undefined {
    return this.sql.exec<ConsumerRow>("SELECT * FROM queue_consumer WHERE id = 1").toArray()[0];
  }

  private load(): ConsumerConfig | null {
    const row = this.row();
    if (!row) return null;
    return { ...(JSON.parse(row.settings) as ConsumerSettings), paused: row.paused === 1, createdAt: row.created_at, modifiedAt: row.modified_at };
  }

  require(): ConsumerConfig {
    if (!this.config) throw new ServiceError(ErrorCode.ConsumerNotFound, "this queue has no consumer");
    return this.config;
  }

  /** Sets the consumer; replacing one keeps its counters and its paused state. Answers whether it is new. */
  set(settings: ConsumerSettings, nowMs: number): { created: boolean } {
    const created = this.config === null;
    this.sql.exec(
      `INSERT INTO queue_consumer (id, settings, paused, created_at, modified_at) VALUES (1, ?, 0, ?, ?)
       ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, modified_at = excluded.modified_at`,
      JSON.stringify(settings),
      nowMs,
      nowMs,
    );
    this.config = this.load();
    return { created };
  }

  setPaused(paused: boolean, nowMs: number): ConsumerConfig {
    const config = this.require();
    if (config.paused === paused) return config;
    this.sql.exec("UPDATE queue_consumer SET paused = ?, modified_at = ? WHERE id = 1", paused ? 1 : 0, nowMs);
    this.config = { ...config, paused, modifiedAt: nowMs };
    return this.config;
  }

  /**
   * Makes this partition's consumer the queue's (see `QueueObject.mirrorConsumer`): the same
   * settings and paused state, or none. Writes only what differs, so mirroring again changes nothing.
   */
  mirror(queue: MirroredConsumer | null, nowMs: number): void {
    if (queue === null) {
      if (this.config) this.delete();
      return;
    }
    const current = this.config;
    const keys = Object.keys(queue.settings) as Array<keyof ConsumerSettings>;
    if (!current || keys.some((key) => current[key] !== queue.settings[key])) this.set(queue.settings, nowMs);
    if (this.config!.paused !== queue.paused) this.setPaused(queue.paused, nowMs);
  }

  delete(): { existed: boolean } {
    const existed = this.config !== null;
    this.sql.exec("DELETE FROM queue_consumer");
    this.config = null;
    return { existed };
  }

  stats(): StoredConsumerStats {
    const row = this.row();
    return {
      delivered: row?.delivered ?? 0,
      acked: row?.acked ?? 0,
      retried: row?.retried ?? 0,
      failed: row?.failed ?? 0,
      lastError: row?.last_error ?? null,
      lastErrorAt: row?.last_error_at ?? null,
    };
  }

  /** Adds to the counters, and records an error when there is one; one statement. */
  record(delta: StatsDelta, error: string | null, nowMs: number): void {
    if (!this.config) return;
    this.sql.exec(
      `UPDATE queue_consumer SET delivered = delivered + ?, acked = acked + ?, retried = retried + ?, failed = failed + ?,
         last_error = COALESCE(?, last_error), last_error_at = CASE WHEN ? IS NULL THEN last_error_at ELSE ? END
       WHERE id = 1`,
      delta.delivered ?? 0,
      delta.acked ?? 0,
      delta.retried ?? 0,
      delta.failed ?? 0,
      error === null ? null : error.slice(0, LastErrorMaxLength),
      error,
      nowMs,
    );
  }
}
