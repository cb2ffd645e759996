import type { QueueAttributes } from "../../schema/queue";
import { IdempotencyWindowMs } from "./moves";
import { RowIs } from "./storage";

/**
 * The deadlines time alone brings to stored messages: the end of retention (whatever the state)
 * and of the rewind window (deleted rows kept for a rewind).
 */
export class QueueExpiry {
  constructor(private readonly sql: SqlStorage) {}

  /** Removes what retention and the rewind window no longer keep. Answers how many rows. */
  purgeExpired(attributes: QueueAttributes, nowMs: number): number {
    const { msgRetentionSeconds, rewindSeconds } = attributes;
    return this.sql
      .exec(
        `DELETE FROM messages WHERE (${RowIs.stored} AND enqueued_at <= ?) OR (${RowIs.deleted} AND enqueued_at <= ?) RETURNING seq`,
        nowMs - msgRetentionSeconds * 1000,
        nowMs - rewindSeconds * 1000,
      )
      .toArray().length;
  }

  /** The next end of retention or of the rewind window, if any row has one. */
  nextDeadline(attributes: QueueAttributes): number | null {
    const oldest = (predicate: string) =>
      this.sql.exec<{ m: number | null }>(`SELECT MIN(enqueued_at) AS m FROM messages WHERE ${predicate}`).one().m;
    // One state per query: each is a single step of the (state, enqueued_at) index.
    const retentionMs = attributes.msgRetentionSeconds * 1000;
    const candidates = [
      [oldest(RowIs.waiting), retentionMs],
      [oldest(RowIs.received), retentionMs],
      [oldest(RowIs.deleted), attributes.rewindSeconds * 1000],
    ]
      .filter((pair): pair is [number, number] => pair[0] !== null)
      .map(([enqueuedAt, keptMs]) => enqueuedAt + keptMs);
    return candidates.length > 0 ? Math.min(...candidates) : null;
  }
}

/**
 * The earliest deadline a message stored at `nowMs` brings: the end of its retention or, on a
 * queue that dead-letters by age, of its time to live; for a hand-over, also its key's expiry.
 */
export function newMessageDeadline(attributes: QueueAttributes, nowMs: number, handedOver = false): number {
  const { msgRetentionSeconds, deadLetter } = attributes;
  const lifeSeconds = deadLetter && "maxTimeToLive" in deadLetter ? Math.min(msgRetentionSeconds, deadLetter.maxTimeToLive) : msgRetentionSeconds;
  return nowMs + Math.min(lifeSeconds * 1000, handedOver ? IdempotencyWindowMs : Number.POSITIVE_INFINITY);
}
