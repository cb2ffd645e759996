import { ErrorCode, ServiceError } from "../../errors";
import { FifoLimits, type OutgoingMessage, type QueueAttributes } from "../../schema/queue";
import { MessageRowState as S, RowIs } from "./storage";

/** A message handed to a FIFO queue without a group id (a topic publish that named none) joins this group. */
export const DefaultFifoGroupId = "default";

/** Group heads read per query while selecting; a selection of any size pages through them. */
const MaxHeadsPerPage = 1_000;

/**
 * A FIFO queue's message names its group and has a deduplication id (its own, or its body's
 * SHA-256 when the queue deduplicates by content) and no delay of its own; a standard queue's may
 * name a tenant as its group, and has no deduplication id.
 */
export function checkGroupFields(message: OutgoingMessage, index: number, attributes: QueueAttributes): void {
  if (!attributes.fifo) {
    if (message.deduplicationId !== undefined) {
      throw new ServiceError(ErrorCode.InvalidParameter, `message ${index}: deduplicationId applies to FIFO queues only`);
    }
    return;
  }
  if (message.groupId === undefined) {
    throw new ServiceError(ErrorCode.MissingParameter, `message ${index}: a FIFO queue's message needs a groupId`);
  }
  if (message.delaySeconds !== undefined) {
    throw new ServiceError(
      ErrorCode.InvalidParameter,
      `message ${index}: a FIFO queue's messages have no delay of their own (the queue's delaySeconds applies)`,
    );
  }
  if (message.deduplicationId === undefined) {
    throw new ServiceError(
      ErrorCode.InvalidParameter,
      `message ${index}: this FIFO queue needs a deduplicationId, or contentBasedDeduplication turned on`,
    );
  }
}

/** A filter that keeps back messages due for a dead-letter move, as SQL and as a test of one row. */
export interface ClaimableFilter {
  clause: string;
  values: number[];
  admits(row: { receive_count: number; enqueued_at: number }): boolean;
}

/**
 * FIFO queues: message groups and deduplication. A group's first message not deleted is its head
 * (`head = 1`, the rows after it `head = 0`); a receive starts only from heads, so it walks one row
 * per group whatever the backlog, and skips a group while any of its messages is in flight or
 * moving. Deduplication ids are remembered in the `dedup` table for the deduplication window.
 */
export class FifoGroups {
  constructor(private readonly sql: SqlStorage) {}

  /** The `head` flag of a message joining `groupId` now: 1 when the group has no message yet. */
  headFlagFor(groupId: string): number {
    const occupied = this.sql
      .exec(`SELECT 1 FROM messages WHERE group_id = ? AND ${RowIs.grouped} AND ${RowIs.notDeleted} LIMIT 1`, groupId)
      .toArray().length;
    return occupied > 0 ? 0 : 1;
  }

  /**
   * Up to `max` messages a receive may take now, in the order to hand them out: for each group
   * whose head is visible and which has nothing in flight, its head and the visible messages right
   * after it, in send order.
   */
  select(max: number, nowMs: number, filter: ClaimableFilter): number[] {
    const chosen: number[] = [];
    const pageSize = Math.min(Math.max(max * 2, 16), MaxHeadsPerPage);
    let after: { visibleAt: number; seq: number } | null = null;
    while (chosen.length < max) {
      const heads: Array<{ seq: number; group_id: string; visible_at: number }> = this.sql
        .exec<{ seq: number; group_id: string; visible_at: number }>(
          `SELECT seq, group_id, visible_at FROM messages
           WHERE ${RowIs.stored} AND ${RowIs.groupHead} AND visible_at <= ? ${filter.clause}
             ${after ? "AND (visible_at, seq) > (?, ?)" : ""}
           ORDER BY visible_at, seq LIMIT ?`,
          nowMs,
          ...filter.values,
          ...(after ? [after.visibleAt, after.seq] : []),
          pageSize,
        )
        .toArray();
      for (const head of heads) {
        if (chosen.length >= max) break;
        if (this.busy(head.group_id, nowMs)) continue;
        chosen.push(head.seq, ...this.followers(head.group_id, head.seq, max - chosen.length - 1, nowMs, filter));
      }
      if (heads.length < pageSize) break;
      const last = heads[heads.length - 1]!;
      after = { visibleAt: last.visible_at, seq: last.seq };
    }
    return chosen;
  }

  /** Whether a message of the group is in flight or being moved. */
  private busy(groupId: string, nowMs: number): boolean {
    return (
      this.sql
        .exec(
          `SELECT 1 FROM messages WHERE group_id = ? AND ${RowIs.grouped} AND ${RowIs.busy}
             AND (${RowIs.moving} OR visible_at > ?) LIMIT 1`,
          groupId,
          nowMs,
        )
        .toArray().length > 0
    );
  }

  /** The visible messages right after `headSeq` in its group, up to the first that is not. */
  private followers(groupId: string, headSeq: number, max: number, nowMs: number, filter: ClaimableFilter): number[] {
    if (max <= 0) return [];
    const rows = this.sql
      .exec<{ seq: number; state: number; visible_at: number; receive_count: number; enqueued_at: number }>(
        `SELECT seq, state, visible_at, receive_count, enqueued_at FROM messages
         WHERE group_id = ? AND ${RowIs.grouped} AND ${RowIs.notDeleted} AND seq > ? ORDER BY seq LIMIT ?`,
        groupId,
        headSeq,
        max,
      )
      .toArray();
    const taken: number[] = [];
    for (const row of rows) {
      if (row.state >= S.deleted || row.visible_at > nowMs || !filter.admits(row)) break;
      taken.push(row.seq);
    }
    return taken;
  }

  /** After messages of these groups left them: each group's first message left becomes its head. */
  promote(groupIds: Iterable<string | null>): void {
    for (const groupId of new Set(groupIds)) {
      if (groupId === null) continue;
      this.sql.exec(
        `UPDATE messages SET head = 1 WHERE head = 0 AND seq = (
           SELECT seq FROM messages WHERE group_id = ? AND ${RowIs.grouped} AND ${RowIs.notDeleted} ORDER BY seq LIMIT 1)`,
        groupId,
      );
    }
  }

  /** Sets every group's head afresh, after many rows changed at once (purge, rewind, expiry). */
  recomputeHeads(): void {
    this.sql.exec(
      `UPDATE messages SET head = (seq = (
         SELECT MIN(m.seq) FROM messages AS m WHERE m.group_id = messages.group_id AND m.group_id IS NOT NULL AND m.${RowIs.notDeleted}))
       WHERE head IS NOT NULL AND ${RowIs.notDeleted}`,
    );
  }

  /** The key a deduplication id is remembered by: per queue, or per group (SQS DeduplicationScope). */
  dedupKey(attributes: QueueAttributes, groupId: string, deduplicationId: string): string {
    return attributes.deduplicationScope === "messageGroup" ? `${groupId}\u0000${deduplicationId}` : deduplicationId;
  }

  /** The message first sent with this key inside the window, if any. */
  findDuplicate(key: string, nowMs: number): { id: string; seq: number } | null {
    const row = this.sql
      .exec<{ message_id: string; seq: number }>("SELECT message_id, seq FROM dedup WHERE key = ? AND expires_at > ?", key, nowMs)
      .toArray()[0];
    return row ? { id: row.message_id, seq: row.seq } : null;
  }

  remember(key: string, id: string, seq: number, nowMs: number): void {
    this.sql.exec(
      `INSERT INTO dedup (key, message_id, seq, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET message_id = excluded.message_id, seq = excluded.seq, expires_at = excluded.expires_at`,
      key,
      id,
      seq,
      nowMs + FifoLimits.deduplicationWindowMs,
    );
  }

  purgeExpiredKeys(nowMs: number): void {
    this.sql.exec("DELETE FROM dedup WHERE expires_at <= ?", nowMs);
  }

  nextKeyExpiry(): number | null {
    return this.sql.exec<{ m: number | null }>("SELECT MIN(expires_at) AS m FROM dedup").one().m;
  }
}
