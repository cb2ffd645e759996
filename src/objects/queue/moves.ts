import { decodeAttributes, type MessageAttributes } from "../../schema/message-attributes";
import { splitByBytes } from "../hand-over";
import type { QueueMessages } from "./messages";
import type { QueueMetadata } from "./metadata";
import { DefaultFifoGroupId } from "./fifo";
import { MessageRowState as S, MoveKind, RowIs, type MessageRow } from "./storage";

/** A message handed over from another queue (dead-letter move, redrive) or a topic delivery. */
export interface TransferredMessage {
  idempotencyKey: string;
  id: string;
  body: string;
  tags: string[];
  sourceQueue: string | null;
  /** Absent from hand-overs made by a release before attributes existed. */
  attributes?: MessageAttributes;
  senderId?: string | null;
  traceHeader?: string | null;
  /** Its group (FIFO queue) or tenant; a FIFO queue puts a message without one in `DefaultFifoGroupId`. */
  groupId?: string | null;
  /** A topic's delivery to a FIFO queue is deduplicated by it, as a send is; a move keeps it as it is. */
  deduplicationId?: string | null;
  /**
   * A topic's delivery: held back by the queue's `delaySeconds`, as a send that names no delay is.
   * Moves between queues (dead letters, redrive) are not delayed again.
   */
  delayed?: boolean;
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
/** Rows taken for moves in one run of the due work. */
const MoveRowsPerRun = 500;

/**
 * Hand-overs between queues: rows leaving (dead letters, redrive) are marked moving before the
 * hand-over is awaited; rows arriving are stored once per idempotency key (the
 * `idempotency_keys` table, which this part owns).
 */
export class QueueMoves {
  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly metadata: QueueMetadata,
    private readonly messages: QueueMessages,
  ) {}

  /**
   * Stores messages handed over by another queue or a topic, once per idempotency key: a retried
   * hand-over finds its key and stores nothing again. Limits of size and heap do not apply, so that
   * a message already acknowledged elsewhere is never refused here.
   */
  accept(messages: readonly TransferredMessage[], nowMs: number): { stored: number; visibleNow: boolean; visibleAt: number[] } {
    const { attributes } = this.metadata.require();
    let stored = 0;
    let visibleNow = false;
    const visibleAt: number[] = [];
    this.storage.transactionSync(() => {
      for (const message of messages) {
        const isNew = this.sql.exec(
          "INSERT INTO idempotency_keys (key, message_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
          message.idempotencyKey,
          message.id,
          nowMs + IdempotencyWindowMs,
        ).rowsWritten;
        if (isNew === 0) continue;
        // A topic's delivery is a send: a FIFO queue stores a duplicate inside the window once.
        const dedupKey =
          attributes.fifo && message.delayed && message.deduplicationId
            ? this.messages.groups.dedupKey(attributes, message.groupId ?? DefaultFifoGroupId, message.deduplicationId)
            : null;
        if (dedupKey !== null && this.messages.groups.findDuplicate(dedupKey, nowMs)) continue;
        const visibleAtMs = message.delayed ? nowMs + attributes.delaySeconds * 1000 : nowMs;
        const seq = this.messages.insertHandedOver(message, nowMs, visibleAtMs);
        if (dedupKey !== null) this.messages.groups.remember(dedupKey, message.id, seq, nowMs);
        if (visibleAtMs <= nowMs) visibleNow = true;
        else visibleAt.push(visibleAtMs);
        stored++;
      }
    });
    this.messages.adjustStored(stored);
    return { stored, visibleNow, visibleAt };
  }

  /**
   * Marks the messages due for a dead-letter move as moving, synchronously, so no receiver gets
   * them while the hand-over is awaited; also returns moves left over from a crash or a failure.
   */
  takeDueMoves(nowMs: number): MoveBatch[] {
    const meta = this.metadata.meta;
    if (!meta) return [];
    const deadLetter = meta.attributes.deadLetter;
    if (deadLetter) {
      const due =
        "maxReceiveCount" in deadLetter
          ? this.sql
              .exec<{ seq: number }>(
                `SELECT seq FROM messages WHERE ${RowIs.received} AND visible_at <= ? AND receive_count >= ? LIMIT ${MoveRowsPerRun}`,
                nowMs,
                deadLetter.maxReceiveCount,
              )
              .toArray()
          : this.sql
              .exec<{ seq: number }>(
                `SELECT seq FROM messages WHERE ${RowIs.stored} AND visible_at <= ? AND enqueued_at <= ? LIMIT ${MoveRowsPerRun}`,
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

  /** Marks rows moving to `destination`; with `dueAtMs`, the hand-over is due then rather than at the row's `visible_at`. */
  markMoving(seqs: readonly number[], kind: MoveKind, destination: string, dueAtMs: number | null = null): void {
    if (seqs.length === 0) return;
    this.storage.transactionSync(() => {
      for (const seq of seqs) {
        this.sql.exec(
          `UPDATE messages SET state = ${S.moving}, receipt = NULL, move_kind = ?, move_to = ?, move_key = ?, move_partition = NULL, visible_at = COALESCE(?, visible_at) WHERE seq = ?`,
          kind,
          destination,
          `${kind}:${crypto.randomUUID()}`,
          dueAtMs,
          seq,
        );
      }
    });
    this.messages.adjustStored(-seqs.length);
  }

  /**
   * Moving rows whose hand-over is due, grouped by destination and split by bytes as well as
   * count. Bodies are not read here: `moveMessages` reads one batch's just before its call.
   */
  pendingMoves(nowMs: number): MoveBatch[] {
    this.metadata.require();
    const rows = this.sql
      .exec<{ seq: number; move_kind: string; move_to: string; bytes: number }>(
        `SELECT seq, move_kind, move_to, length(CAST(body AS BLOB)) + COALESCE(length(tags), 0) + COALESCE(length(CAST(attributes AS BLOB)), 0) AS bytes
         FROM messages WHERE ${RowIs.moving} AND visible_at <= ? ORDER BY seq LIMIT ${MoveRowsPerRun}`,
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
    return this.moveItems(batch).map((item) => item.message);
  }

  /** A move batch's messages with their rows and the destination partition an earlier attempt chose (null before the first). */
  moveItems(batch: MoveBatch): Array<{ key: number; message: TransferredMessage; partition: number | null }> {
    const meta = this.metadata.require();
    const items: Array<{ key: number; message: TransferredMessage; partition: number | null }> = [];
    for (const seq of batch.seqs) {
      const row = this.sql.exec<MessageRow>(`SELECT * FROM messages WHERE seq = ? AND ${RowIs.moving}`, seq).toArray()[0];
      if (!row) continue;
      const message: TransferredMessage = {
        idempotencyKey: `${meta.objectKeyPrefix}${meta.name}:${row.move_key}`,
        id: row.id,
        body: row.body,
        tags: row.tags ? (JSON.parse(row.tags) as string[]) : [],
        // A dead letter remembers where it came from; a redriven message is home again.
        sourceQueue: batch.kind === MoveKind.deadLetter ? meta.name : null,
        attributes: decodeAttributes(row.attributes),
        senderId: row.sender_id,
        traceHeader: row.trace_header,
        groupId: row.group_id,
        deduplicationId: row.dedup_id,
      };
      items.push({ key: seq, message, partition: row.move_partition });
    }
    return items;
  }

  /** Keeps the destination partition chosen for moving rows, so that their retries go to it. */
  recordMovePartition(seqs: readonly number[], partition: number): void {
    this.storage.transactionSync(() => {
      for (const seq of seqs) this.sql.exec(`UPDATE messages SET move_partition = ? WHERE seq = ? AND ${RowIs.moving}`, partition, seq);
    });
  }

  moveSucceeded(seqs: readonly number[]): void {
    const meta = this.metadata.meta;
    if (!meta) return;
    const groups: Array<string | null> = [];
    this.storage.transactionSync(() => {
      for (const seq of seqs) {
        const left =
          meta.attributes.rewindSeconds > 0
            ? this.sql.exec<{ group_id: string | null }>(
                `UPDATE messages SET state = ${S.deleted}, move_kind = NULL, move_to = NULL, move_key = NULL, move_partition = NULL
                 WHERE seq = ? AND ${RowIs.moving} RETURNING group_id`,
                seq,
              )
            : this.sql.exec<{ group_id: string | null }>(`DELETE FROM messages WHERE seq = ? AND ${RowIs.moving} RETURNING group_id`, seq);
        for (const row of left) groups.push(row.group_id);
      }
      // A message moved out of its FIFO group unblocks the group.
      if (meta.attributes.fifo) this.messages.groups.promote(groups);
    });
  }

  /** A dead-letter move that failed is retried later; a redrive that failed returns its messages. */
  moveFailed(batch: MoveBatch, nowMs: number): void {
    this.storage.transactionSync(() => {
      for (const seq of batch.seqs) {
        if (batch.kind === MoveKind.deadLetter) {
          this.sql.exec(`UPDATE messages SET visible_at = ? WHERE seq = ? AND ${RowIs.moving}`, nowMs + MoveRetryDelayMs, seq);
        } else {
          this.sql.exec(
            `UPDATE messages SET state = ${S.waiting}, visible_at = ?, move_kind = NULL, move_to = NULL, move_key = NULL, move_partition = NULL
             WHERE seq = ? AND ${RowIs.moving}`,
            nowMs,
            seq,
          );
        }
      }
    });
    if (batch.kind === MoveKind.redrive) {
      this.messages.recount();
      if (this.metadata.meta?.attributes.fifo) this.messages.groups.recomputeHeads();
    }
  }

  /** Visible messages a redrive may take now, oldest first, marked moving. Answers how many. */
  takeRedrivable(limit: number, destination: string | null, nowMs: number): number {
    if (limit <= 0) return 0;
    const rows = this.metadata.require().attributes.fifo
      ? this.fifoRedrivable(limit, destination, nowMs)
      : this.standardRedrivable(limit, destination, nowMs);
    const byDestination = new Map<string, number[]>();
    for (const row of rows) {
      const target = destination ?? row.source_queue!;
      const seqs = byDestination.get(target) ?? [];
      seqs.push(row.seq);
      byDestination.set(target, seqs);
    }
    for (const [target, seqs] of byDestination) this.markMoving(seqs, MoveKind.redrive, target);
    return rows.length;
  }

  private standardRedrivable(limit: number, destination: string | null, nowMs: number): Array<{ seq: number; source_queue: string | null }> {
    // Without a destination, only messages that name their source can move: skip the others here, or
    // they would fill every step's share at the head of the queue and the redrive would never advance.
    return this.sql
      .exec<{ seq: number; source_queue: string | null }>(
        `SELECT seq, source_queue FROM messages WHERE ${RowIs.stored} AND visible_at <= ? ${destination ? "" : "AND source_queue IS NOT NULL"}
         ORDER BY visible_at, seq LIMIT ?`,
        nowMs,
        limit,
      )
      .toArray();
  }

  /**
   * A FIFO queue's redrive keeps each group's order: it takes what a receive would hand out (a
   * group's messages from its first on, none of a group with a message in flight), and without a
   * destination stops a group at its first message that names no source.
   */
  private fifoRedrivable(limit: number, destination: string | null, nowMs: number): Array<{ seq: number; source_queue: string | null }> {
    const seqs = this.messages.groups.select(limit, nowMs, { clause: "", values: [], admits: () => true });
    const taken: Array<{ seq: number; source_queue: string | null }> = [];
    const stopped = new Set<string>();
    for (const seq of seqs) {
      const row = this.sql.exec<{ seq: number; source_queue: string | null; group_id: string }>("SELECT seq, source_queue, group_id FROM messages WHERE seq = ?", seq).one();
      if (stopped.has(row.group_id)) continue;
      if (destination === null && row.source_queue === null) {
        stopped.add(row.group_id);
        continue;
      }
      taken.push(row);
    }
    return taken;
  }

  countRedrivable(destination: string | null, nowMs: number): number {
    return this.sql
      .exec<{ n: number }>(
        `SELECT COUNT(*) AS n FROM messages WHERE ${RowIs.stored} AND visible_at <= ? ${destination ? "" : "AND source_queue IS NOT NULL"}`,
        nowMs,
      )
      .one().n;
  }

  /** The distinct queues stored messages came from, received ones included. */
  sourceQueues(): string[] {
    return this.sql
      .exec<{ source_queue: string }>(
        `SELECT DISTINCT source_queue FROM messages WHERE ${RowIs.stored} AND source_queue IS NOT NULL ORDER BY source_queue`,
      )
      .toArray()
      .map((row) => row.source_queue);
  }

  /** Rows of `kind` still being handed over. */
  countMoving(kind: MoveKind): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM messages WHERE ${RowIs.moving} AND move_kind = ?`, kind).one().n;
  }

  purgeExpiredKeys(nowMs: number): void {
    this.sql.exec("DELETE FROM idempotency_keys WHERE expires_at <= ?", nowMs);
  }

  /** The earliest of: a pending hand-over's retry, a remembered key's expiry, a dead-letter move coming due. */
  nextDeadline(nowMs: number): number | null {
    const meta = this.metadata.meta;
    if (!meta) return null;
    const min = (query: string, ...values: SqlStorageValue[]): number | null =>
      this.sql.exec<{ m: number | null }>(query, ...values).one().m;
    const candidates = [
      min(`SELECT MIN(visible_at) AS m FROM messages WHERE ${RowIs.moving}`),
      min("SELECT MIN(expires_at) AS m FROM idempotency_keys"),
    ];
    const deadLetter = meta.attributes.deadLetter;
    if (deadLetter && "maxReceiveCount" in deadLetter) {
      candidates.push(
        min(`SELECT MIN(visible_at) AS m FROM messages WHERE ${RowIs.received} AND receive_count >= ?`, deadLetter.maxReceiveCount),
      );
    } else if (deadLetter) {
      const ttlMs = deadLetter.maxTimeToLive * 1000;
      // Expired by age but in flight: due when its visibility ends.
      candidates.push(min(`SELECT MIN(visible_at) AS m FROM messages WHERE ${RowIs.stored} AND enqueued_at <= ?`, nowMs - ttlMs));
      const youngest = min(`SELECT MIN(enqueued_at) AS m FROM messages WHERE ${RowIs.stored} AND enqueued_at > ?`, nowMs - ttlMs);
      candidates.push(youngest === null ? null : youngest + ttlMs);
    }
    const present = candidates.filter((value): value is number => value !== null);
    return present.length > 0 ? Math.min(...present) : null;
  }
}
