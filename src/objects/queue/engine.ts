import { ErrorCode, ServiceError } from "../../errors";
import {
  QueueLimits,
  type DeleteResult,
  type OutgoingMessage,
  type PeekedMessage,
  type QueueAttributes,
  type QueueCounts,
  type QueueInfo,
  type ReceivedMessage,
} from "../../schema/queue";
import { splitByBytes } from "../hand-over";
import { sameAttributes } from "./attributes";
import {
  MessageRowState as S,
  MoveKind,
  encodeTags,
  newReceiptToken,
  parseReceiptHandle,
  schemaStatements,
  toPeekedMessage,
  toReceivedMessage,
  type ReceivedRow,
  type MessageRow,
} from "./storage";

export interface QueueMeta {
  name: string;
  objectKeyPrefix: string;
  attributes: QueueAttributes;
  createdAt: number;
  modifiedAt: number;
}

/** A message handed over from another queue (dead-letter move, redrive) or a topic delivery. */
export interface TransferredMessage {
  idempotencyKey: string;
  id: string;
  body: string;
  tags: string[];
  sourceQueue: string | null;
}

/** Rows marked for a move to one destination, handed to that queue in one call. */
export interface MoveBatch {
  kind: MoveKind;
  destination: string;
  seqs: number[];
}

/** How long a queue remembers an idempotency key: longer than any delivery retry runs. */
export const IdempotencyWindowMs = 86_400_000;
/** Wait before retrying a move whose destination refused or could not be reached. */
export const MoveRetryDelayMs = 30_000;
export const RedriveTickMs = 1_000;

const textEncoder = new TextEncoder();

/**
 * The queue's state machine over its SQLite tables. Every method is synchronous and takes `nowMs`,
 * so a call runs without interleaving and tests reach any moment by passing it in.
 */
export class QueueEngine {
  meta: QueueMeta | null;
  /** Rows in the waiting or received state, kept in memory for the heap limit. */
  private storedCount = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
  ) {
    this.migrate();
    this.meta = this.loadMeta();
    this.storedCount = this.countStored();
  }

  migrate(): void {
    for (const statement of schemaStatements) this.sql.exec(statement);
  }

  private loadMeta(): QueueMeta | null {
    const row = this.sql
      .exec<{ name: string; object_key_prefix: string; attributes: string; created_at: number; modified_at: number }>(
        "SELECT name, object_key_prefix, attributes, created_at, modified_at FROM queue_meta WHERE id = 1",
      )
      .toArray()[0];
    if (!row) return null;
    return {
      name: row.name,
      objectKeyPrefix: row.object_key_prefix,
      attributes: JSON.parse(row.attributes) as QueueAttributes,
      createdAt: row.created_at,
      modifiedAt: row.modified_at,
    };
  }

  private countStored(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE state < 2").one().n;
  }

  requireMeta(): QueueMeta {
    if (!this.meta) throw new ServiceError(ErrorCode.QueueNotFound, "queue does not exist");
    return this.meta;
  }

  /** Creates the queue, or confirms an identical one; a different one is a conflict. */
  create(name: string, objectKeyPrefix: string, attributes: QueueAttributes, nowMs: number): { created: boolean } {
    if (this.meta) {
      if (this.meta.name === name && sameAttributes(this.meta.attributes, attributes)) return { created: false };
      throw new ServiceError(
        ErrorCode.QueueAlreadyExists,
        `queue ${this.meta.name} already exists with different attributes`,
      );
    }
    this.sql.exec(
      "INSERT INTO queue_meta (id, name, object_key_prefix, attributes, created_at, modified_at) VALUES (1, ?, ?, ?, ?, ?)",
      name,
      objectKeyPrefix,
      JSON.stringify(attributes),
      nowMs,
      nowMs,
    );
    this.meta = { name, objectKeyPrefix, attributes, createdAt: nowMs, modifiedAt: nowMs };
    return { created: true };
  }

  updateAttributes(attributes: QueueAttributes, nowMs: number): void {
    const meta = this.requireMeta();
    this.sql.exec(
      "UPDATE queue_meta SET attributes = ?, modified_at = ? WHERE id = 1",
      JSON.stringify(attributes),
      nowMs,
    );
    this.meta = { ...meta, attributes, modifiedAt: nowMs };
  }

  /** Drops every table; the caller clears the alarm. */
  destroy(): void {
    this.meta = null;
    this.storedCount = 0;
  }

  info(nowMs: number): QueueInfo {
    const meta = this.requireMeta();
    const row = this.sql
      .exec<{ active: number; inactive: number; delayed: number; rewindable: number; oldest: number | null }>(
        `SELECT
           COALESCE(SUM(state < 2 AND visible_at <= ?1), 0) AS active,
           COALESCE(SUM((state = 1 AND visible_at > ?1) OR state = 3), 0) AS inactive,
           COALESCE(SUM(state = 0 AND visible_at > ?1), 0) AS delayed,
           COALESCE(SUM(state = 2), 0) AS rewindable,
           MIN(CASE WHEN state <> 2 THEN enqueued_at END) AS oldest
         FROM messages`,
        nowMs,
      )
      .one();
    const counts: QueueCounts = {
      active: row.active,
      inactive: row.inactive,
      delayed: row.delayed,
      total: row.active + row.inactive + row.delayed,
      rewindable: row.rewindable,
    };
    return {
      name: meta.name,
      ...meta.attributes,
      createdAt: meta.createdAt,
      modifiedAt: meta.modifiedAt,
      counts,
      oldestMessageAt: row.oldest,
    };
  }

  send(messages: readonly OutgoingMessage[], nowMs: number): { ids: string[]; visibleNow: boolean } {
    const { attributes } = this.requireMeta();
    let batchBytes = 0;
    messages.forEach((message, index) => {
      const bytes = textEncoder.encode(message.body).byteLength;
      batchBytes += bytes;
      if (bytes > attributes.maxMsgSize) {
        throw new ServiceError(
          ErrorCode.MessageTooLarge,
          `message ${index} is ${bytes} bytes; this queue's maxMsgSize is ${attributes.maxMsgSize}`,
        );
      }
      const delaySeconds = message.delaySeconds ?? 0;
      if (delaySeconds > attributes.msgRetentionSeconds) {
        throw new ServiceError(
          ErrorCode.InvalidParameter,
          `delaySeconds ${delaySeconds} exceeds this queue's msgRetentionSeconds (${attributes.msgRetentionSeconds})`,
        );
      }
    });
    if (messages.length > 1 && batchBytes > QueueLimits.batchBodyMaxBytes) {
      throw new ServiceError(
        ErrorCode.BatchTooLarge,
        `a batch's bodies total ${batchBytes} bytes; the most is ${QueueLimits.batchBodyMaxBytes}`,
      );
    }
    if (this.storedCount + messages.length > attributes.maxMsgHeapNum) {
      throw new ServiceError(
        ErrorCode.QueueFull,
        `the queue holds ${this.storedCount} messages; its maxMsgHeapNum is ${attributes.maxMsgHeapNum}`,
      );
    }
    const ids: string[] = [];
    let visibleNow = false;
    const insertAll = () => {
      for (const message of messages) {
        const id = crypto.randomUUID();
        const visibleAt = nowMs + (message.delaySeconds ?? 0) * 1000;
        if (visibleAt <= nowMs) visibleNow = true;
        this.sql.exec(
          "INSERT INTO messages (id, body, tags, enqueued_at, visible_at, state) VALUES (?, ?, ?, ?, ?, 0)",
          id,
          message.body,
          encodeTags(message.tags),
          nowMs,
          visibleAt,
        );
        ids.push(id);
      }
    };
    // One INSERT is atomic by itself; a batch is all or nothing.
    if (messages.length === 1) insertAll();
    else this.storage.transactionSync(insertAll);
    this.storedCount += messages.length;
    return { ids, visibleNow };
  }

  /**
   * Stores messages handed over by another queue or a topic, once per idempotency key: a retried
   * hand-over finds its key and stores nothing again. Limits of size and heap do not apply, so that
   * a message already acknowledged elsewhere is never refused here.
   */
  accept(messages: readonly TransferredMessage[], nowMs: number): { stored: number } {
    this.requireMeta();
    let stored = 0;
    this.storage.transactionSync(() => {
      for (const message of messages) {
        const isNew = this.sql.exec(
          "INSERT INTO idempotency_keys (key, message_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
          message.idempotencyKey,
          message.id,
          nowMs + IdempotencyWindowMs,
        ).rowsWritten;
        if (isNew === 0) continue;
        this.sql.exec(
          "INSERT INTO messages (id, body, tags, enqueued_at, visible_at, state, source_queue) VALUES (?, ?, ?, ?, ?, 0, ?)",
          message.id,
          message.body,
          encodeTags(message.tags),
          nowMs,
          nowMs,
          message.sourceQueue,
        );
        stored++;
      }
    });
    this.storedCount += stored;
    return { stored };
  }

  /**
   * Claims up to `max` visible messages for one receiver. The select and the update run with no
   * await between them, so parallel receivers never claim the same message.
   */
  claim(max: number, visibilityTimeoutSeconds: number | undefined, nowMs: number): ReceivedMessage[] {
    const { attributes } = this.requireMeta();
    const deadline = nowMs + (visibilityTimeoutSeconds ?? attributes.visibilityTimeout) * 1000;
    const receipt = newReceiptToken();
    const { clause, values } = this.claimableFilter(attributes, nowMs);
    const rows = this.sql
      .exec<ReceivedRow>(
        `UPDATE messages
           SET state = 1, receive_count = receive_count + 1,
               first_received_at = COALESCE(first_received_at, ?), visible_at = ?, receipt = ?
         WHERE seq IN (
           SELECT seq FROM messages
           WHERE state < 2 AND visible_at <= ? ${clause}
           ORDER BY visible_at, seq LIMIT ?)
         RETURNING seq, id, body, tags, enqueued_at, visible_at, receive_count, first_received_at, receipt, source_queue`,
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
    if ("maxReceiveCount" in deadLetter) {
      return { clause: "AND receive_count < ?", values: [deadLetter.maxReceiveCount] };
    }
    return { clause: "AND enqueued_at > ?", values: [nowMs - deadLetter.maxTimeToLive * 1000] };
  }

  hasClaimable(nowMs: number): boolean {
    const { attributes } = this.requireMeta();
    const { clause, values } = this.claimableFilter(attributes, nowMs);
    return (
      this.sql
        .exec(`SELECT 1 FROM messages WHERE state < 2 AND visible_at <= ? ${clause} LIMIT 1`, nowMs, ...values)
        .toArray().length > 0
    );
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
      throw new ServiceError(
        ErrorCode.ReceiptHandleInvalid,
        "receipt handle expired: the message's visibility timeout ended",
      );
    }
    return row;
  }

  deleteMessages(handles: readonly string[], nowMs: number): DeleteResult[] {
    const { attributes } = this.requireMeta();
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
    const where = `WHERE seq = ? AND state = ${S.received} AND receipt = ? AND visible_at > ? RETURNING seq`;
    const retired =
      attributes.rewindSeconds > 0
        ? this.sql.exec(`UPDATE messages SET state = ${S.deleted}, receipt = NULL, move_kind = NULL, move_to = NULL, move_key = NULL ${where}`, parsed.seq, parsed.receipt, nowMs)
        : this.sql.exec(`DELETE FROM messages ${where}`, parsed.seq, parsed.receipt, nowMs);
    if (retired.toArray().length === 0) return false;
    this.storedCount--;
    return true;
  }

  changeVisibility(handle: string, visibilityTimeoutSeconds: number, nowMs: number): { nextVisibleAt: number } {
    this.requireMeta();
    const row = this.findReceived(handle, nowMs);
    const nextVisibleAt = nowMs + visibilityTimeoutSeconds * 1000;
    this.sql.exec("UPDATE messages SET visible_at = ? WHERE seq = ?", nextVisibleAt, row.seq);
    return { nextVisibleAt };
  }

  peek(limit: number, afterSeq: number, nowMs: number): { messages: PeekedMessage[]; nextCursor: string | null } {
    this.requireMeta();
    const rows = this.sql
      .exec<MessageRow>(
        "SELECT * FROM messages WHERE state <> 2 AND seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    return {
      messages: page.map((row) => toPeekedMessage(row, nowMs)),
      nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null,
    };
  }

  purge(): { purged: number } {
    this.requireMeta();
    const purged = this.storedCount;
    this.sql.exec("DELETE FROM messages WHERE state <> 3");
    this.storedCount = this.countStored();
    return { purged };
  }

  /** Makes every message enqueued since `sinceMs` receivable again (CMQ RewindQueue). */
  rewind(sinceMs: number, nowMs: number): { rewound: number } {
    const { attributes } = this.requireMeta();
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
    const rewound = this.sql.exec(
      `UPDATE messages SET state = 0, visible_at = ?, receive_count = 0, first_received_at = NULL, receipt = NULL
       WHERE state = 2 AND enqueued_at >= ? RETURNING seq`,
      nowMs,
      sinceMs,
    ).toArray().length;
    this.storedCount = this.countStored();
    return { rewound };
  }

  /** Removes what retention and the rewind window no longer keep, and expired idempotency keys. */
  purgeExpired(nowMs: number): number {
    const meta = this.meta;
    if (!meta) return 0;
    const { msgRetentionSeconds, rewindSeconds } = meta.attributes;
    const expired = this.sql.exec(
      "DELETE FROM messages WHERE (state < 2 AND enqueued_at <= ?) OR (state = 2 AND enqueued_at <= ?) RETURNING seq",
      nowMs - msgRetentionSeconds * 1000,
      nowMs - rewindSeconds * 1000,
    ).toArray().length;
    this.sql.exec("DELETE FROM idempotency_keys WHERE expires_at <= ?", nowMs);
    if (expired > 0) this.storedCount = this.countStored();
    return expired;
  }

  /**
   * Marks the messages due for a dead-letter move as moving, synchronously, so no receiver gets
   * them while the hand-over is awaited; also returns moves left over from a crash or a failure.
   */
  takeDueMoves(nowMs: number): MoveBatch[] {
    const meta = this.meta;
    if (!meta) return [];
    const deadLetter = meta.attributes.deadLetter;
    if (deadLetter) {
      const due =
        "maxReceiveCount" in deadLetter
          ? this.sql
              .exec<{ seq: number }>(
                "SELECT seq FROM messages WHERE state = 1 AND visible_at <= ? AND receive_count >= ? LIMIT 500",
                nowMs,
                deadLetter.maxReceiveCount,
              )
              .toArray()
          : this.sql
              .exec<{ seq: number }>(
                "SELECT seq FROM messages WHERE state < 2 AND visible_at <= ? AND enqueued_at <= ? LIMIT 500",
                nowMs,
                nowMs - deadLetter.maxTimeToLive * 1000,
              )
              .toArray();
      this.markMoving(
        due.map((row) => row.seq),
        MoveKind.deadLetter,
        deadLetter.queue,
      );
    }
    return this.pendingMoves(nowMs);
  }

  markMoving(seqs: readonly number[], kind: MoveKind, destination: string): void {
    if (seqs.length === 0) return;
    this.storage.transactionSync(() => {
      for (const seq of seqs) {
        this.sql.exec(
          "UPDATE messages SET state = 3, receipt = NULL, move_kind = ?, move_to = ?, move_key = ? WHERE seq = ?",
          kind,
          destination,
          `${kind}:${crypto.randomUUID()}`,
          seq,
        );
      }
    });
    this.storedCount -= seqs.length;
  }

  /**
   * Moving rows whose hand-over is due, grouped by destination and split by bytes as well as
   * count. Bodies are not read here: `moveMessages` reads one batch's just before its call.
   */
  pendingMoves(nowMs: number): MoveBatch[] {
    this.requireMeta();
    const rows = this.sql
      .exec<{ seq: number; move_kind: string; move_to: string; bytes: number }>(
        `SELECT seq, move_kind, move_to, length(CAST(body AS BLOB)) + COALESCE(length(tags), 0) AS bytes
         FROM messages WHERE state = ${S.moving} AND visible_at <= ? ORDER BY seq LIMIT 500`,
        nowMs,
      )
      .toArray();
    const groups = new Map<string, { kind: MoveKind; destination: string; rows: typeof rows }>();
    for (const row of rows) {
      const groupKey = `${row.move_kind}\u0000${row.move_to}`;
      const group = groups.get(groupKey) ?? { kind: row.move_kind as MoveKind, destination: row.move_to, rows: [] };
      group.rows.push(row);
      groups.set(groupKey, group);
    }
    return [...groups.values()].flatMap(({ kind, destination, rows: groupRows }) =>
      splitByBytes(groupRows, (row) => row.bytes).map((batch) => ({ kind, destination, seqs: batch.map((row) => row.seq) })),
    );
  }

  /** The messages of one move batch as the destination stores them; rows no longer moving are left out. */
  moveMessages(batch: MoveBatch): TransferredMessage[] {
    const meta = this.requireMeta();
    const messages: TransferredMessage[] = [];
    for (const seq of batch.seqs) {
      const row = this.sql
        .exec<MessageRow>(`SELECT * FROM messages WHERE seq = ? AND state = ${S.moving}`, seq)
        .toArray()[0];
      if (!row) continue;
      messages.push({
        idempotencyKey: `${meta.objectKeyPrefix}${meta.name}:${row.move_key}`,
        id: row.id,
        body: row.body,
        tags: row.tags ? (JSON.parse(row.tags) as string[]) : [],
        // A dead letter remembers where it came from; a redriven message is home again.
        sourceQueue: batch.kind === MoveKind.deadLetter ? meta.name : null,
      });
    }
    return messages;
  }

  moveSucceeded(seqs: readonly number[]): void {
    const meta = this.meta;
    if (!meta) return;
    this.storage.transactionSync(() => {
      for (const seq of seqs) {
        if (meta.attributes.rewindSeconds > 0) {
          this.sql.exec(
            "UPDATE messages SET state = 2, move_kind = NULL, move_to = NULL, move_key = NULL WHERE seq = ? AND state = 3",
            seq,
          );
        } else {
          this.sql.exec("DELETE FROM messages WHERE seq = ? AND state = 3", seq);
        }
      }
    });
  }

  /** A dead-letter move that failed is retried later; a redrive that failed returns its messages. */
  moveFailed(batch: MoveBatch, nowMs: number): void {
    this.storage.transactionSync(() => {
      for (const seq of batch.seqs) {
        if (batch.kind === MoveKind.deadLetter) {
          this.sql.exec("UPDATE messages SET visible_at = ? WHERE seq = ? AND state = 3", nowMs + MoveRetryDelayMs, seq);
        } else {
          this.sql.exec(
            "UPDATE messages SET state = 0, visible_at = ?, move_kind = NULL, move_to = NULL, move_key = NULL WHERE seq = ? AND state = 3",
            nowMs,
            seq,
          );
        }
      }
    });
    if (batch.kind === MoveKind.redrive) this.storedCount = this.countStored();
  }

  /** Visible messages a redrive may take now, oldest first. */
  takeRedrivable(limit: number, destination: string | null, nowMs: number): number {
    if (limit <= 0) return 0;
    // Without a destination, only messages that name their source can move: skip the others here, or
    // they would fill every step's share at the head of the queue and the redrive would never advance.
    const rows = this.sql
      .exec<{ seq: number; source_queue: string | null }>(
        `SELECT seq, source_queue FROM messages WHERE state < 2 AND visible_at <= ? ${destination ? "" : "AND source_queue IS NOT NULL"}
         ORDER BY visible_at, seq LIMIT ?`,
        nowMs,
        limit,
      )
      .toArray();
    const byDestination = new Map<string, number[]>();
    let orphaned = 0;
    for (const row of rows) {
      const target = destination ?? row.source_queue;
      if (!target) {
        orphaned++;
        continue;
      }
      const seqs = byDestination.get(target) ?? [];
      seqs.push(row.seq);
      byDestination.set(target, seqs);
    }
    for (const [target, seqs] of byDestination) this.markMoving(seqs, MoveKind.redrive, target);
    return rows.length - orphaned;
  }

  countRedrivable(destination: string | null, nowMs: number): number {
    return this.sql
      .exec<{ n: number }>(
        `SELECT COUNT(*) AS n FROM messages WHERE state < 2 AND visible_at <= ? ${destination ? "" : "AND source_queue IS NOT NULL"}`,
        nowMs,
      )
      .one().n;
  }

  /**
   * The earliest deadline a message stored at `nowMs` brings: the end of its retention or, on a
   * queue that dead-letters by age, of its time to live; for a hand-over, also its key's expiry.
   */
  newMessageDeadline(nowMs: number, handedOver = false): number {
    const { msgRetentionSeconds, deadLetter } = this.requireMeta().attributes;
    const lifeSeconds = deadLetter && "maxTimeToLive" in deadLetter ? Math.min(msgRetentionSeconds, deadLetter.maxTimeToLive) : msgRetentionSeconds;
    return nowMs + Math.min(lifeSeconds * 1000, handedOver ? IdempotencyWindowMs : Number.POSITIVE_INFINITY);
  }

  /** When the next message that is not visible now becomes visible: what parked receivers wait for. */
  nextVisibleAfter(nowMs: number): number | null {
    return this.sql.exec<{ m: number | null }>("SELECT MIN(visible_at) AS m FROM messages WHERE state < 2 AND visible_at > ?", nowMs).one().m;
  }

  /**
   * The earliest moment something is due: retention and rewind expiry, dead-letter moves, pending
   * hand-overs, idempotency-key expiry, and, while receivers are parked, the next message to become
   * visible. Visibility ends need no write, so without parked receivers they need no alarm.
   */
  nextDeadline(nowMs: number, hasParkedReceivers: boolean): number | null {
    const meta = this.meta;
    if (!meta) return null;
    const { msgRetentionSeconds, rewindSeconds, deadLetter } = meta.attributes;
    const candidates: number[] = [];
    const min = (query: string, ...values: SqlStorageValue[]): number | null =>
      this.sql.exec<{ m: number | null }>(query, ...values).one().m;
    const push = (value: number | null, offsetMs = 0) => {
      if (value !== null) candidates.push(value + offsetMs);
    };

    push(min("SELECT MIN(enqueued_at) AS m FROM messages WHERE state = 0"), msgRetentionSeconds * 1000);
    push(min("SELECT MIN(enqueued_at) AS m FROM messages WHERE state = 1"), msgRetentionSeconds * 1000);
    push(min("SELECT MIN(enqueued_at) AS m FROM messages WHERE state = 2"), rewindSeconds * 1000);
    push(min("SELECT MIN(visible_at) AS m FROM messages WHERE state = 3"));
    push(min("SELECT MIN(expires_at) AS m FROM idempotency_keys"));
    if (deadLetter && "maxReceiveCount" in deadLetter) {
      push(
        min("SELECT MIN(visible_at) AS m FROM messages WHERE state = 1 AND receive_count >= ?", deadLetter.maxReceiveCount),
      );
    } else if (deadLetter) {
      const ttlMs = deadLetter.maxTimeToLive * 1000;
      // Expired by age but in flight: due when its visibility ends.
      push(min("SELECT MIN(visible_at) AS m FROM messages WHERE state < 2 AND enqueued_at <= ?", nowMs - ttlMs));
      push(min("SELECT MIN(enqueued_at) AS m FROM messages WHERE state < 2 AND enqueued_at > ?", nowMs - ttlMs), ttlMs);
    }
    if (hasParkedReceivers) push(this.nextVisibleAfter(nowMs));
    const redrive = this.sql
      .exec<{ next_run_at: number | null }>("SELECT next_run_at FROM redrive WHERE id = 1 AND status = 'running'")
      .toArray()[0];
    if (redrive) push(redrive.next_run_at);
    return candidates.length > 0 ? Math.min(...candidates) : null;
  }
}
