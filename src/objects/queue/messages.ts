import { ErrorCode, ServiceError } from "../../errors";
import {
  QueueLimits,
  type DeleteResult,
  type OutgoingMessage,
  type PeekedMessage,
  type QueueAttributes,
  type QueueCounts,
  type ReceivedMessage,
  type SentMessage,
} from "../../schema/queue";
import { attributeBytes, encodeAttributes, type MessageAttributes } from "../../schema/message-attributes";
import type { QueueMetadata } from "./metadata";
import {
  MessageRowState as S,
  RowIs,
  encodeTags,
  parseReceiptHandle,
  toPeekedMessage,
  formatSequenceNumber,
  type MessageRow,
} from "./storage";
import { delaySecondsOf } from "./attributes";
import { QueueClaims, type ClaimableSummary } from "./claims";
import { checkGroupFields, DefaultFifoGroupId, FifoGroups } from "./fifo";

const textEncoder = new TextEncoder();

/**
 * The life of a message in the queue: send, claim, delete, visibility changes, peek, purge and
 * rewind over the `messages` table. Every method is synchronous and takes `nowMs`, so a call runs
 * without interleaving and a test reaches any moment by passing it in.
 */
export class QueueMessages {
  /** Rows in the waiting or received state, kept in memory for the heap limit. */
  private storedCount: number;
  readonly groups: FifoGroups;
  /** Which messages a receive takes now, and in what order. */
  readonly claims: QueueClaims;

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly metadata: QueueMetadata,
  ) {
    this.storedCount = this.countStored();
    this.groups = new FifoGroups(sql);
    this.claims = new QueueClaims(sql, metadata, this.groups);
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
  send(
    messages: readonly OutgoingMessage[],
    nowMs: number,
    senderId: string | null,
  ): { ids: string[]; messages: SentMessage[]; stored: number; visibleNow: boolean; visibleAt: number[] } {
    const { attributes } = this.metadata.require();
    let batchBytes = 0;
    messages.forEach((message, index) => {
      checkGroupFields(message, index, attributes);
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
    // A FIFO queue's duplicates within the window are answered with the first message, stored once.
    const dedupKeys = messages.map((message) =>
      attributes.fifo ? this.groups.dedupKey(attributes, message.groupId!, message.deduplicationId!) : null,
    );
    const duplicates = dedupKeys.map((key) => (key === null ? null : this.groups.findDuplicate(key, nowMs)));
    const fresh = duplicates.filter((duplicate) => duplicate === null).length;
    if (this.storedCount + fresh > attributes.maxMsgHeapNum) {
      throw new ServiceError(
        ErrorCode.QueueFull,
        `the queue holds ${this.storedCount} messages; its maxMsgHeapNum is ${attributes.maxMsgHeapNum}`,
      );
    }
    const sent: SentMessage[] = [];
    const visibleAt: number[] = [];
    let visibleNow = false;
    let stored = 0;
    const insertAll = () => {
      messages.forEach((message, index) => {
        const key = dedupKeys[index] ?? null;
        // An earlier message of this batch may have the same key.
        const duplicate = key === null ? null : (duplicates[index] ?? this.groups.findDuplicate(key, nowMs));
        if (duplicate) {
          sent.push({ id: duplicate.id, sequenceNumber: formatSequenceNumber(duplicate.seq) });
          return;
        }
        const id = crypto.randomUUID();
        const visibleAtMs = nowMs + delaySecondsOf(message, attributes) * 1000;
        if (visibleAtMs <= nowMs) visibleNow = true;
        else visibleAt.push(visibleAtMs);
        const groupId = message.groupId ?? null;
        const seq = this.sql
          .exec<{ seq: number }>(
            `INSERT INTO messages (id, body, tags, attributes, sender_id, trace_header, enqueued_at, visible_at, state, group_id, dedup_id, head)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${S.waiting}, ?, ?, ?) RETURNING seq`,
            id,
            message.body,
            encodeTags(message.tags),
            encodeAttributes(message.attributes),
            senderId,
            message.traceHeader ?? null,
            nowMs,
            visibleAtMs,
            groupId,
            attributes.fifo ? message.deduplicationId! : null,
            attributes.fifo ? this.groups.headFlagFor(groupId!) : null,
          )
          .one().seq;
        stored++;
        if (key === null) {
          sent.push({ id });
          return;
        }
        this.groups.remember(key, id, seq, nowMs);
        sent.push({ id, sequenceNumber: formatSequenceNumber(seq) });
      });
    };
    // One INSERT is atomic by itself; a batch, or a FIFO send (message and key), is all or nothing.
    if (messages.length === 1 && !attributes.fifo) insertAll();
    else this.storage.transactionSync(insertAll);
    this.storedCount += stored;
    return { ids: sent.map((message) => message.id), messages: sent, stored, visibleNow, visibleAt };
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
      groupId?: string | null;
      deduplicationId?: string | null;
    },
    nowMs: number,
    visibleAtMs: number,
  ): number {
    const { attributes } = this.metadata.require();
    const groupId = attributes.fifo ? (message.groupId ?? DefaultFifoGroupId) : (message.groupId ?? null);
    return this.sql.exec<{ seq: number }>(
      `INSERT INTO messages (id, body, tags, attributes, sender_id, trace_header, enqueued_at, visible_at, state, source_queue, group_id, dedup_id, head)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${S.waiting}, ?, ?, ?, ?) RETURNING seq`,
      message.id,
      message.body,
      encodeTags(message.tags),
      encodeAttributes(message.attributes),
      message.senderId ?? null,
      message.traceHeader ?? null,
      nowMs,
      visibleAtMs,
      message.sourceQueue,
      groupId,
      attributes.fifo ? (message.deduplicationId ?? null) : null,
      attributes.fifo ? this.groups.headFlagFor(groupId!) : null,
    ).one().seq;
  }

  /** See `QueueClaims.claim`. */
  claim(max: number, visibilityTimeoutSeconds: number | undefined, nowMs: number): ReceivedMessage[] {
    return this.claims.claim(max, visibilityTimeoutSeconds, nowMs);
  }

  hasClaimable(nowMs: number): boolean {
    return this.claims.hasClaimable(nowMs);
  }

  claimableSummary(limit: number, nowMs: number): ClaimableSummary {
    return this.claims.summary(limit, nowMs);
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
    const where = `WHERE seq = ? AND ${RowIs.received} AND receipt = ? AND visible_at > ? RETURNING seq, group_id`;
    const retired =
      attributes.rewindSeconds > 0
        ? this.sql.exec(
            `UPDATE messages SET state = ${S.deleted}, receipt = NULL, move_kind = NULL, move_to = NULL, move_key = NULL ${where}`,
            parsed.seq,
            parsed.receipt,
            nowMs,
          )
        : this.sql.exec(`DELETE FROM messages ${where}`, parsed.seq, parsed.receipt, nowMs);
    const rows = retired.toArray() as Array<{ group_id: string | null }>;
    if (rows.length === 0) return false;
    this.storedCount--;
    if (attributes.fifo) this.groups.promote(rows.map((row) => row.group_id));
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
    this.groups.recomputeHeads();
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
    if (attributes.fifo) this.groups.recomputeHeads();
    return { rewound };
  }

  nextVisibleAfter(nowMs: number): number | null {
    return this.claims.nextVisibleAfter(nowMs);
  }
}
