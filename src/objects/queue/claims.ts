import type { QueueAttributes, ReceivedMessage } from "../../schema/queue";
import { noisyTenants } from "./fairness";
import type { ClaimableFilter, FifoGroups } from "./fifo";
import type { QueueMetadata } from "./metadata";
import { MessageRowState as S, ReceivedColumns, RowIs, newReceiptToken, toReceivedMessage, type ReceivedRow } from "./storage";

/** The first claimable messages in claim order: how many, when the earliest became visible, when the oldest was enqueued. */
export interface ClaimableSummary {
  count: number;
  firstVisibleAt: number | null;
  oldestEnqueuedAt: number | null;
}

/**
 * Which messages a receive takes now and in what order: visible ones not due for a dead-letter
 * move, by group on a FIFO queue, quiet tenants first on a fair one. Long polls, live sockets and
 * consumer Workers all claim through here, so they share one rule.
 */
export class QueueClaims {
  constructor(
    private readonly sql: SqlStorage,
    private readonly metadata: QueueMetadata,
    private readonly groups: FifoGroups,
  ) {}

  /**
   * Claims up to `max` visible messages for one receiver. The select and the update run with no
   * await between them, so parallel receivers never claim the same message.
   */
  claim(max: number, visibilityTimeoutSeconds: number | undefined, nowMs: number): ReceivedMessage[] {
    const { attributes } = this.metadata.require();
    const deadline = nowMs + (visibilityTimeoutSeconds ?? attributes.visibilityTimeout) * 1000;
    const receipt = newReceiptToken();
    const filter = this.claimableFilter(attributes, nowMs);
    const mark = (selection: string, ...values: SqlStorageValue[]) =>
      this.sql
        .exec<ReceivedRow>(
          `UPDATE messages
             SET state = ${S.received}, receive_count = receive_count + 1,
                 first_received_at = COALESCE(first_received_at, ?), visible_at = ?, receipt = ?
           WHERE seq IN (${selection})
           RETURNING ${ReceivedColumns}`,
          nowMs,
          deadline,
          receipt,
          ...values,
        )
        .toArray();
    if (attributes.fifo) {
      // Handed out group by group, each group's in send order.
      const order = this.groups.select(max, nowMs, filter);
      if (order.length === 0) return [];
      const place = new Map(order.map((seq, index) => [seq, index]));
      const rows = mark(order.map(() => "?").join(", "), ...order);
      rows.sort((a, b) => place.get(a.seq)! - place.get(b.seq)!);
      return rows.map(toReceivedMessage);
    }
    const visible = `SELECT seq FROM messages WHERE ${RowIs.stored} AND visible_at <= ? ${filter.clause}`;
    const noisy = noisyTenants(this.sql, nowMs);
    let rows: ReceivedRow[];
    if (noisy.length === 0) {
      rows = mark(`${visible} ORDER BY visible_at, seq LIMIT ?`, nowMs, ...filter.values, max);
    } else {
      // Fair delivery: the quiet tenants' messages first, the noisy ones' only to fill the rest.
      const noisyList = noisy.map(() => "?").join(", ");
      rows = mark(
        `${visible} AND (group_id IS NULL OR group_id NOT IN (${noisyList})) ORDER BY visible_at, seq LIMIT ?`,
        nowMs,
        ...filter.values,
        ...noisy,
        max,
      );
      if (rows.length < max) {
        rows.push(...mark(`${visible} AND group_id IN (${noisyList}) ORDER BY visible_at, seq LIMIT ?`, nowMs, ...filter.values, ...noisy, max - rows.length));
      }
    }
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map(toReceivedMessage);
  }

  /** Messages that are due for a dead-letter move are not handed to receivers. */
  private claimableFilter(attributes: QueueAttributes, nowMs: number): ClaimableFilter {
    const deadLetter = attributes.deadLetter;
    if (!deadLetter) return { clause: "", values: [], admits: () => true };
    if ("maxReceiveCount" in deadLetter) {
      const limit = deadLetter.maxReceiveCount;
      return { clause: "AND receive_count < ?", values: [limit], admits: (row) => row.receive_count < limit };
    }
    const bornAfterMs = nowMs - deadLetter.maxTimeToLive * 1000;
    return { clause: "AND enqueued_at > ?", values: [bornAfterMs], admits: (row) => row.enqueued_at > bornAfterMs };
  }

  hasClaimable(nowMs: number): boolean {
    const { attributes } = this.metadata.require();
    const filter = this.claimableFilter(attributes, nowMs);
    if (attributes.fifo) return this.groups.select(1, nowMs, filter).length > 0;
    return (
      this.sql
        .exec(`SELECT 1 FROM messages WHERE ${RowIs.stored} AND visible_at <= ? ${filter.clause} LIMIT 1`, nowMs, ...filter.values)
        .toArray().length > 0
    );
  }

  /**
   * The first `limit` claimable messages in claim order: how many, when the earliest became
   * visible, and when the oldest was enqueued (what a pushing consumer batches and lags by).
   */
  summary(limit: number, nowMs: number): ClaimableSummary {
    const { attributes } = this.metadata.require();
    const filter = this.claimableFilter(attributes, nowMs);
    // On a FIFO queue, a visible message of a group in flight is not claimable: count what claim would take.
    const row = attributes.fifo
      ? this.sql
          .exec<{ n: number; v: number | null; e: number | null }>(
            "SELECT COUNT(*) AS n, MIN(visible_at) AS v, MIN(enqueued_at) AS e FROM messages WHERE seq IN (SELECT value FROM json_each(?))",
            JSON.stringify(this.groups.select(limit, nowMs, filter)),
          )
          .one()
      : this.sql
          .exec<{ n: number; v: number | null; e: number | null }>(
            `SELECT COUNT(*) AS n, MIN(visible_at) AS v, MIN(enqueued_at) AS e FROM (
               SELECT visible_at, enqueued_at FROM messages
               WHERE ${RowIs.stored} AND visible_at <= ? ${filter.clause}
               ORDER BY visible_at, seq LIMIT ?)`,
            nowMs,
            ...filter.values,
            limit,
          )
          .one();
    return { count: row.n, firstVisibleAt: row.v, oldestEnqueuedAt: row.e };
  }

  /** When the next message that is not visible now becomes visible: what waiting receivers wait for. */
  nextVisibleAfter(nowMs: number): number | null {
    return this.sql.exec<{ m: number | null }>(`SELECT MIN(visible_at) AS m FROM messages WHERE ${RowIs.stored} AND visible_at > ?`, nowMs).one().m;
  }
}
