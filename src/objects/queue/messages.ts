import { ErrorCode, ServiceError } from "../../errors";
import {
  QueueLimits,
  type DeleteResult,
  type OutgoingMessage,
  type PeekedMessage,
  type QueueAttributes,
  type QueueCounts,
  type ReceivedMessage,
} from "../../schema/queue";
import { attributeBytes, encodeAttributes, type MessageAttributes } from "../../schema/message-attributes";
import type { QueueMetadata } from "./metadata";
import {
  MessageRowState as S,
  ReceivedColumns,
  RowIs,
  encodeTags,
  newReceiptToken,
  parseReceiptHandle,
  toPeekedMessage,
  toReceivedMessage,
  type MessageRow,
  type ReceivedRow,
} from "./storage";
import { delaySecondsOf } from "./attributes";

const textEncoder = new TextEncoder();

/**
 * The life of a message in the queue: send, claim, delete, visibility changes, peek, purge and
 * rewind over the `messages` table. Every method is synchronous and takes `nowMs`, so a call runs
 * without interleaving and a test reaches any moment by passing it in.
 */
export class QueueMessages {
  /** Rows in the waiting or received state, kept in memory for the heap limit. */
  private storedCount: number;

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly metadata: QueueMetadata,
  ) {
    this.storedCount = this.countStored();
  }

  private countStored(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM messages WHERE ${RowIs.stored}`).one().n;
  }

  /** Recounts after rows entered or left the stored states outside this module. */
  recount(): void {
    this.storedCount = this.countStored();
  }

  /** Rows left the stored states (moved away) or entered them (handed over), by `delta`. */
  adjustStored(delta: number): void {
    this.storedCount += delta;
  }

  counts(nowMs: number): { counts: QueueCounts; oldestMessageAt: number | null } {
    const row = this.sql
      .exec<{ active: number; inactive: number; delayed: number; rewindable: number; oldest: number | null }>(
        `SELECT
           COALESCE(SUM(${RowIs.stored} AND visible_at <= ?1), 0) AS active,
           COALESCE(SUM((${RowIs.received} AND visible_at > ?1) OR ${RowIs.moving}), 0) AS inactive,
           COALESCE(SUM(${RowIs.waiting} AND visible_at > ?1), 0) AS delayed,
           COALESCE(SUM(${RowIs.deleted}), 0) AS rewindable,
           MIN(CASE WHEN ${RowIs.notDeleted} THEN enqueued_at END) AS oldest
         FROM messages`,
        nowMs,
      )
      .one();
    return {
      counts: {
        active: row.active,
        inactive: row.inactive,
        delayed: row.delayed,
        total: row.active + row.inactive + row.delayed,
        rewindable: row.rewindable,
      },
      oldestMessageAt: row.oldest,
    };
  }

  /**
   * Stores a batch, all or nothing, as sent by `senderId`. Answers the ids, whether one is visible
   * now, and when delayed ones become visible. A message's size is its body's bytes plus its
   * attributes' (names, types and values), as SQS counts them.
   */
  send(messages: readonly OutgoingMessage[], nowMs: number, senderId: string | null): { ids: string[]; visibleNow: boolean; visibleAt: number[] } {
    const { attributes } = this.metadata.require();
    let batchBytes = 0;
    messages.forEach((message, index) => {
      const bytes = textEncoder.encode(message.body).byteLength + attributeBytes(message.attributes);
      batchBytes += bytes;
      if (bytes > attributes.maxMsgSize) {
        throw new ServiceError(
          ErrorCode.MessageTooLarge,
          `message ${index} is ${bytes} bytes (body and attributes); this queue's maxMsgSize is ${attributes.maxMsgSize}`,
        );
      }
      const delaySeconds = delaySecondsOf(message, attributes);
      if (delaySeconds > attributes.msgRetentionSeconds - QueueLimits.receivableAfterDelayMinSeconds) {
        throw new ServiceError(
          ErrorCode.InvalidParameter,
          `delaySeconds ${delaySeconds} exceeds this queue's msgRetentionSeconds (${attributes.msgRetentionSeconds}) minus ${QueueLimits.receivableAfterDelayMinSeconds}`,
        );
      }
    });
    if (messages.length > 1 && batchBytes > QueueLimits.batchBodyMaxBytes) {
      throw new ServiceError(
        ErrorCode.BatchTooLarge,
        `a batch's messages (bodies and attributes) total ${batchBytes} bytes; the most is ${QueueLimits.batchBodyMaxBytes}`,
      );
    }
    if (this.storedCount + messages.length > attributes.maxMsgHeapNum) {
      throw new ServiceError(
        ErrorCode.QueueFull,
        `the queue holds ${this.storedCount} messages; its maxMsgHeapNum is ${attributes.maxMsgHeapNum}`,
      );
    }
    const ids: string[] = [];
    const visibleAt: number[] = [];
    let visibleNow = false;
    const insertAll = () => {
      for (const message of messages) {
        const id = crypto.randomUUID();
        const visibleAtMs = nowMs + delaySecondsOf(message, attributes) * 1000;
        if (visibleAtMs <= nowMs) visibleNow = true;
        else visibleAt.push(visibleAtMs);
        this.sql.exec(
          `INSERT INTO messages (id, body, tags, attributes, sender_id, trace_header, enqueued_at, visible_at, state)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${S.waiting})`,
          id,
          message.body,
          encodeTags(message.tags),
          encodeAttributes(message.attributes),
          senderId,
          message.traceHeader ?? null,
          nowMs,
          visibleAtMs,
        );
        ids.push(id);
      }
    };
    // One INSERT is atomic by itself; a batch is all or nothing.
    if (messages.length === 1) insertAll();
    else this.storage.transactionSync(insertAll);
    this.storedCount += messages.length;
    return { ids, visibleNow, visibleAt };
  }

  /** Stores one message handed over by another object, visible at `visibleAtMs`; the caller counts it. */
  insertHandedOver(
    message: {
      id: string;
      body: string;
      tags: readonly string[];
      sourceQueue: string | null;
      attributes?: MessageAttributes;
      senderId?: string | null;
      traceHeader?: string | null;
    },
    nowMs: number,
    visibleAtMs: number,
  ): void {
    this.sql.exec(
      `INSERT INTO messages (id, body, tags, attributes, sender_id, trace_header, enqueued_at, visible_at, state, source_queue)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${S.waiting}, ?)`,
      message.id,
      message.body,
      encodeTags(message.tags),
      encodeAttributes(message.attributes),
      message.senderId ?? null,
      message.traceHeader ?? null,
      nowMs,
      visibleAtMs,
      message.sourceQueue,
    );
  }

  /**
   * Claims up to `max` visible messages for one receiver. The select and the update run with no
   * await between them, so parallel receivers never claim the same message.
   */
  claim(max: number, visibilityTimeoutSeconds: number | undefined, nowMs: number): ReceivedMessage[] {
    const { attributes } = this.metadata.require();
    const deadline = nowMs + (visibilityTimeoutSeconds ?? attributes.visibilityTimeout) * 1000;
    const receipt = newReceiptToken();
    const { clause, values } = this.claimableFilter(attributes, nowMs);
    const rows = this.sql
      .exec<ReceivedRow>(
        `UPDATE messages
           SET state = ${S.received}, receive_count = receive_count + 1,
               first_received_at = COALESCE(first_received_at, ?), visible_at = ?, receipt = ?
         WHERE seq IN (
           SELECT seq FROM messages
           WHERE ${RowIs.stored} AND visible_at <= ? ${clause}
           ORDER BY visible_at, seq LIMIT ?)
         RETURNING ${ReceivedColumns}`,
        nowMs,
        deadline,
        receipt,
        nowMs,
        ...values,
        max,
      )
      .toArray();
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map(toReceivedMessage);
  }

  /** Messages that are due for a dead-letter move are not handed to receivers. */
  private claimableFilter(attributes: QueueAttributes, nowMs: number): { clause: string; values: number[] } {
    const deadLetter = attributes.deadLetter;
    if (!deadLetter) return { clause: "", values: [] };
    if ("maxReceiveCount" in deadLetter) return { clause: "AND receive_count < ?", values: [deadLetter.maxReceiveCount] };
    return { clause: "AND enqueued_at > ?", values: [nowMs - deadLetter.maxTimeToLive * 1000] };
  }

  hasClaimable(nowMs: number): boolean {
    const { attributes } = this.metadata.require();
    const { clause, values } = this.claimableFilter(attributes, nowMs);
    return (
      this.sql.exec(`SELECT 1 FROM messages WHERE ${RowIs.stored} AND visible_at <= ? ${clause} LIMIT 1`, nowMs, ...values).toArray()
        .length > 0
    );
  }

  /**
   * The first `limit` claimable messages in claim order: how many, when the earliest became
   * visible, and when the oldest was enqueued (what a pushing consumer batches and lags by).
   */
  claimableSummary(limit: number, nowMs: number): { count: number; firstVisibleAt: number | null; oldestEnqueuedAt: number | null } {
    const { attributes } = this.metadata.require();
    const { clause, values } = this.claimableFilter(attributes, nowMs);
    const row = this.sql
      .exec<{ n: number; v: number | null; e: number | null }>(
        `SELECT COUNT(*) AS n, MIN(visible_at) AS v, MIN(enqueued_at) AS e FROM (
           SELECT visible_at, enqueued_at FROM messages
           WHERE ${RowIs.stored} AND visible_at <= ? ${clause}
           ORDER BY visible_at, seq LIMIT ?)`,
        nowMs,
        ...values,
        limit,
      )
      .one();
    return { count: row.n, firstVisibleAt: row.v, oldestEnqueuedAt: row.e };
  }

  /** Finds the received row a handle names, if the handle is still the latest and in time. */
  private findReceived(handle: string, nowMs: number): { seq: number } {
    const parsed = parseReceiptHandle(handle);
    if (!parsed) throw new ServiceError(ErrorCode.ReceiptHandleInvalid, "malformed receipt handle");
    const row = this.sql
      .exec<{ seq: number; state: number; receipt: string | null; visible_at: number }>(
        "SELECT seq, state, receipt, visible_at FROM messages WHERE seq = ?",
        parsed.seq,
      )
      .toArray()[0];
    if (!row || row.state !== S.received || row.receipt !== parsed.receipt) {
      throw new ServiceError(
        ErrorCode.ReceiptHandleInvalid,
        "receipt handle is not the latest for a message in flight (deleted, received again, or unknown)",
      );
    }
    if (row.visible_at <= nowMs) {
      throw new ServiceError(ErrorCode.ReceiptHandleInvalid, "receipt handle expired: the message's visibility timeout ended");
    }
    return row;
  }

  /** The row a receipt handle still holds (the latest handle, in time), or null. */
  heldSeq(handle: string, nowMs: number): number | null {
    try {
      return this.findReceived(handle, nowMs).seq;
    } catch (error) {
      if (error instanceof ServiceError) return null;
      throw error;
    }
  }

  deleteMessages(handles: readonly string[], nowMs: number): DeleteResult[] {
    const { attributes } = this.metadata.require();
    const results: DeleteResult[] = [];
    this.storage.transactionSync(() => {
      for (const receiptHandle of handles) {
        try {
          if (!this.retireReceived(receiptHandle, attributes, nowMs)) {
            this.findReceived(receiptHandle, nowMs); // throws the reason the handle does not delete
            throw new ServiceError(ErrorCode.ReceiptHandleInvalid, "receipt handle does not name a message in flight");
          }
          results.push({ receiptHandle, deleted: true });
        } catch (error) {
          if (!(error instanceof ServiceError)) throw error;
          results.push({ receiptHandle, deleted: false, error: { code: error.code, message: error.message } });
        }
      }
    });
    return results;
  }

  /**
   * The message a handle names leaves the queue, in one statement, when the handle is the latest
   * and in time: kept as rewindable while the rewind window is on, else removed. False when it is
   * not (or is malformed), leaving the reason to `findReceived`.
   */
  private retireReceived(handle: string, attributes: QueueAttributes, nowMs: number): boolean {
    const parsed = parseReceiptHandle(handle);
    if (!parsed) return false;
    const where = `WHERE seq = ? AND ${RowIs.received} AND receipt = ? AND visible_at > ? RETURNING seq`;
    const retired =
      attributes.rewindSeconds > 0
        ? this.sql.exec(
            `UPDATE messages SET state = ${S.deleted}, receipt = NULL, move_kind = NULL, move_to = NULL, move_key = NULL ${where}`,
            parsed.seq,
            parsed.receipt,
            nowMs,
          )
        : this.sql.exec(`DELETE FROM messages ${where}`, parsed.seq, parsed.receipt, nowMs);
    if (retired.toArray().length === 0) return false;
    this.storedCount--;
    return true;
  }

  changeVisibility(handle: string, visibilityTimeoutSeconds: number, nowMs: number): { nextVisibleAt: number } {
    this.metadata.require();
    const row = this.findReceived(handle, nowMs);
    const nextVisibleAt = nowMs + visibilityTimeoutSeconds * 1000;
    this.sql.exec("UPDATE messages SET visible_at = ? WHERE seq = ?", nextVisibleAt, row.seq);
    return { nextVisibleAt };
  }

  peek(limit: number, afterSeq: number, nowMs: number): { messages: PeekedMessage[]; nextCursor: string | null } {
    this.metadata.require();
    const rows = this.sql
      .exec<MessageRow>(`SELECT * FROM messages WHERE ${RowIs.notDeleted} AND seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit + 1)
      .toArray();
    const page = rows.slice(0, limit);
    return {
      messages: page.map((row) => toPeekedMessage(row, nowMs)),
      nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null,
    };
  }

  /** Removes every message except those being handed over (their destination may have them already). */
  purge(): { purged: number } {
    this.metadata.require();
    const purged = this.storedCount;
    this.sql.exec(`DELETE FROM messages WHERE ${RowIs.notMoving}`);
    this.recount();
    return { purged };
  }

  /** Makes every message enqueued since `sinceMs` receivable again (CMQ RewindQueue). */
  rewind(sinceMs: number, nowMs: number): { rewound: number } {
    const { attributes } = this.metadata.require();
    if (attributes.rewindSeconds === 0) {
      throw new ServiceError(ErrorCode.RewindNotEnabled, "rewind is off for this queue (rewindSeconds is 0)");
    }
    const windowStart = nowMs - attributes.rewindSeconds * 1000;
    if (sinceMs < windowStart || sinceMs > nowMs) {
      throw new ServiceError(
        ErrorCode.InvalidRewindTime,
        `since must be between ${windowStart} and ${nowMs} (the last ${attributes.rewindSeconds} s)`,
      );
    }
    // Rows returned, not rowsWritten: that also counts the index entries each update rewrites.
    const rewound = this.sql
      .exec(
        `UPDATE messages SET state = ${S.waiting}, visible_at = ?, receive_count = 0, first_received_at = NULL, receipt = NULL
         WHERE ${RowIs.deleted} AND enqueued_at >= ? RETURNING seq`,
        nowMs,
        sinceMs,
      )
      .toArray().length;
    this.recount();
    return { rewound };
  }

  /** When the next message that is not visible now becomes visible: what waiting receivers wait for. */
  nextVisibleAfter(nowMs: number): number | null {
    return this.sql.exec<{ m: number | null }>(`SELECT MIN(visible_at) AS m FROM messages WHERE ${RowIs.stored} AND visible_at > ?`, nowMs).one().m;
  }
}
