import type * as v from "valibot";
import type { QueueRatesResult } from "../../schema/results";

/** Counters are kept in buckets of this many seconds... */
export const RateBucketSeconds = 10;
/** ...over this window: 90 buckets, 15 minutes. Older buckets are dropped. */
export const RateWindowSeconds = 900;

const bucketMs = RateBucketSeconds * 1000;
const windowMs = RateWindowSeconds * 1000;

const RateCounters = ["sent", "received", "deleted"] as const;
export type RateCounter = (typeof RateCounters)[number];

/** Every bucket of the window, oldest first, the current (partial) one last; quiet ones hold zeros. */
export type QueueRates = v.InferOutput<typeof QueueRatesResult>;
type RateBucket = QueueRates["buckets"][number];

/** Each counter is its own statement, so that the column name is never built from a value. */
const Upserts: Record<RateCounter, string> = {
  sent: "INSERT INTO queue_rates (start_at, sent) VALUES (?, ?) ON CONFLICT (start_at) DO UPDATE SET sent = sent + excluded.sent",
  received:
    "INSERT INTO queue_rates (start_at, received) VALUES (?, ?) ON CONFLICT (start_at) DO UPDATE SET received = received + excluded.received",
  deleted:
    "INSERT INTO queue_rates (start_at, deleted) VALUES (?, ?) ON CONFLICT (start_at) DO UPDATE SET deleted = deleted + excluded.deleted",
};

/**
 * Messages stored (sent, or arriving from a topic, a dead-letter move or a redrive), handed out by
 * receives, and deleted by receipt handle, per 10-second bucket over the last 15 minutes: a bounded ring
 * in SQLite. Each count is one upsert written in the same output-gated batch as the operation it
 * counts (one statement per operation, not per message), so the figures survive eviction and a
 * restart without a write of their own; at most 90 rows are ever kept.
 */
export class QueueRateCounters {
  /** The bucket last written; when a newer one starts, buckets past the window are dropped. */
  private currentBucketMs = -1;

  constructor(private readonly sql: SqlStorage) {
    this.migrate();
  }

  /** Creates the table; again after `deleteAll()` has dropped it. */
  migrate(): void {
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS queue_rates (start_at INTEGER PRIMARY KEY, sent INTEGER NOT NULL DEFAULT 0, received INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0)",
    );
    this.currentBucketMs = -1;
  }

  /** Adds `count` to a counter of the bucket holding `nowMs`. */
  count(counter: RateCounter, count: number, nowMs: number): void {
    if (count <= 0) return;
    const startAt = nowMs - (nowMs % bucketMs);
    if (startAt !== this.currentBucketMs) {
      this.currentBucketMs = startAt;
      this.sql.exec("DELETE FROM queue_rates WHERE start_at <= ?", startAt - windowMs);
    }
    this.sql.exec(Upserts[counter], startAt, count);
  }

  /** Adds an operation's counts, each to its counter. */
  countAll(counts: Record<RateCounter, number>, nowMs: number): void {
    for (const counter of RateCounters) this.count(counter, counts[counter], nowMs);
  }

  /** The window ending with the bucket that holds `nowMs`. */
  read(nowMs: number): QueueRates {
    const lastStart = nowMs - (nowMs % bucketMs);
    const firstStart = lastStart - windowMs + bucketMs;
    const stored = new Map<number, RateBucket>();
    const rows = this.sql.exec<{ start_at: number; sent: number; received: number; deleted: number }>(
      "SELECT start_at, sent, received, deleted FROM queue_rates WHERE start_at >= ? AND start_at <= ?",
      firstStart,
      lastStart,
    );
    for (const row of rows) stored.set(row.start_at, { startAt: row.start_at, sent: row.sent, received: row.received, deleted: row.deleted });
    const buckets: RateBucket[] = [];
    for (let startAt = firstStart; startAt <= lastStart; startAt += bucketMs) {
      buckets.push(stored.get(startAt) ?? { startAt, sent: 0, received: 0, deleted: 0 });
    }
    return { bucketSeconds: RateBucketSeconds, windowSeconds: RateWindowSeconds, buckets };
  }
}
