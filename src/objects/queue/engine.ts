import type { DeleteResult, OutgoingMessage, PeekedMessage, QueueAttributes, QueueInfo, ReceivedMessage, SentMessage } from "../../schema/queue";
import { QueueExpiry, newMessageDeadline } from "./deadlines";
import { counted, outcome, type Effects, type Outcome } from "./effects";
import { QueueMessages } from "./messages";
import { QueueMetadata, type QueueMeta } from "./metadata";
import { QueueMoves, type MoveBatch, type TransferredMessage } from "./moves";
import { migrateSchema } from "./storage";

export type { QueueMeta } from "./metadata";
export { IdempotencyWindowMs, MoveRetryDelayMs, type MoveBatch, type TransferredMessage } from "./moves";

/**
 * The queue's state machine over its SQLite tables, composed of its parts: metadata, the message
 * lifecycle, moves between queues, and expiry. Operations answer their value with their effects
 * (wake waiting receivers, deadlines that arose), which the object applies in one place. Every
 * method is synchronous and takes `nowMs`.
 */
export class QueueEngine {
  readonly metadata: QueueMetadata;
  readonly messages: QueueMessages;
  readonly moves: QueueMoves;
  private readonly expiry: QueueExpiry;

  constructor(
    private readonly sql: SqlStorage,
    storage: DurableObjectStorage,
  ) {
    this.migrate();
    this.metadata = new QueueMetadata(sql);
    this.messages = new QueueMessages(sql, storage, this.metadata);
    this.moves = new QueueMoves(sql, storage, this.metadata, this.messages);
    this.expiry = new QueueExpiry(sql);
  }

  /** Creates the tables; after `deleteAll()` dropped them, also starts the counts afresh. */
  migrate(): void {
    migrateSchema(this.sql);
    // Undefined only during construction, before the parts exist.
    (this.messages as QueueMessages | undefined)?.recount();
  }

  get meta(): QueueMeta | null {
    return this.metadata.meta;
  }

  requireMeta(): QueueMeta {
    return this.metadata.require();
  }

  create(name: string, objectKeyPrefix: string, attributes: QueueAttributes, nowMs: number): { created: boolean } {
    return this.metadata.create(name, objectKeyPrefix, attributes, nowMs);
  }

  updateAttributes(attributes: QueueAttributes, nowMs: number): Outcome<void> {
    this.metadata.update(attributes, nowMs);
    // Retention, rewind and dead-letter rules may all have moved.
    return outcome(undefined, { rescan: true });
  }

  /** The tables are about to be dropped; the object clears the alarm. */
  destroy(): void {
    this.metadata.forget();
  }

  info(nowMs: number): QueueInfo {
    const meta = this.metadata.require();
    const { counts, oldestMessageAt } = this.messages.counts(nowMs);
    return { name: meta.name, ...meta.attributes, createdAt: meta.createdAt, modifiedAt: meta.modifiedAt, counts, oldestMessageAt };
  }

  send(messages: readonly OutgoingMessage[], nowMs: number, senderId: string | null = null): Outcome<{ ids: string[]; messages: SentMessage[] }> {
    const { ids, messages: sent, stored, visibleNow, visibleAt } = this.messages.send(messages, nowMs, senderId);
    return outcome(
      { ids, messages: sent },
      { wake: visibleNow, deadlines: [newMessageDeadline(this.metadata.require().attributes, nowMs)], visibleAt, counted: counted({ sent: stored }) },
    );
  }

  accept(messages: readonly TransferredMessage[], nowMs: number): Outcome<{ stored: number }> {
    const { stored, visibleNow, visibleAt } = this.moves.accept(messages, nowMs);
    if (stored === 0) return outcome({ stored });
    return outcome(
      { stored },
      { wake: visibleNow, deadlines: [newMessageDeadline(this.metadata.require().attributes, nowMs, true)], visibleAt, counted: counted({ sent: stored }) },
    );
  }

  claim(max: number, visibilityTimeoutSeconds: number | undefined, nowMs: number): Outcome<ReceivedMessage[]> {
    const claimed = this.messages.claim(max, visibilityTimeoutSeconds, nowMs);
    return outcome(claimed, { ...this.visibilityEffects(claimed.map((message) => message.nextVisibleAt)), counted: counted({ received: claimed.length }) });
  }

  /**
   * A new visibility deadline matters to the alarm for dead-letter moves (a message at its last
   * receive is due when its visibility ends) and, while receivers wait, as a moment messages appear.
   */
  private visibilityEffects(deadlines: readonly number[]): Partial<Effects> {
    if (deadlines.length === 0) return {};
    const earliest = Math.min(...deadlines);
    return { deadlines: this.metadata.meta?.attributes.deadLetter ? [earliest] : [], visibleAt: [earliest] };
  }

  hasClaimable(nowMs: number): boolean {
    return this.messages.hasClaimable(nowMs);
  }

  claimableSummary(limit: number, nowMs: number): { count: number; firstVisibleAt: number | null; oldestEnqueuedAt: number | null } {
    return this.messages.claimableSummary(limit, nowMs);
  }

  deleteMessages(handles: readonly string[], nowMs: number): Outcome<DeleteResult[]> {
    const results = this.messages.deleteMessages(handles, nowMs);
    // A message kept for rewind expires at enqueue + rewindSeconds, usually before any armed deadline.
    const deleted = results.some((r) => r.deleted);
    const keptForRewind = (this.metadata.meta?.attributes.rewindSeconds ?? 0) > 0 && deleted;
    // On a FIFO queue a delete can unblock a group: its next message is for the waiting receivers.
    const unblocks = (this.metadata.meta?.attributes.fifo ?? false) && deleted;
    return outcome(results, { rescan: keptForRewind, wake: unblocks, counted: counted({ deleted: results.filter((r) => r.deleted).length }) });
  }

  changeVisibility(handle: string, visibilityTimeoutSeconds: number, nowMs: number): Outcome<{ nextVisibleAt: number }> {
    const result = this.messages.changeVisibility(handle, visibilityTimeoutSeconds, nowMs);
    // Also at 0: a message at its last receive is not claimable, it is due for its dead-letter move now.
    return outcome(result, { wake: visibilityTimeoutSeconds === 0, ...this.visibilityEffects([result.nextVisibleAt]) });
  }

  peek(limit: number, afterSeq: number, nowMs: number): { messages: PeekedMessage[]; nextCursor: string | null } {
    return this.messages.peek(limit, afterSeq, nowMs);
  }

  purge(): Outcome<{ purged: number }> {
    return outcome(this.messages.purge());
  }

  rewind(sinceMs: number, nowMs: number): Outcome<{ rewound: number }> {
    return outcome(this.messages.rewind(sinceMs, nowMs), { wake: true, rescan: true });
  }

  /** Effects of a receiver starting to wait: the next message to become visible is now a deadline. */
  waitEffects(nowMs: number): Effects {
    const next = this.messages.nextVisibleAfter(nowMs);
    return outcome(undefined, { visibleAt: next === null ? [] : [next] }).effects;
  }

  /** Removes what retention and the rewind window no longer keep, and expired idempotency keys. */
  purgeExpired(nowMs: number): number {
    const meta = this.metadata.meta;
    if (!meta) return 0;
    const expired = this.expiry.purgeExpired(meta.attributes, nowMs);
    this.moves.purgeExpiredKeys(nowMs);
    this.messages.groups.purgeExpiredKeys(nowMs);
    if (expired > 0) {
      this.messages.recount();
      if (meta.attributes.fifo) this.messages.groups.recomputeHeads();
    }
    return expired;
  }

  takeDueMoves(nowMs: number): MoveBatch[] {
    return this.moves.takeDueMoves(nowMs);
  }

  moveMessages(batch: MoveBatch): TransferredMessage[] {
    return this.moves.moveMessages(batch);
  }

  /** The earliest deadline of the messages' own lifecycle and of their moves. */
  nextDeadline(nowMs: number): number | null {
    const meta = this.metadata.meta;
    if (!meta) return null;
    const candidates = [this.expiry.nextDeadline(meta.attributes), this.moves.nextDeadline(nowMs), this.messages.groups.nextKeyExpiry()].filter(
      (value): value is number => value !== null,
    );
    return candidates.length > 0 ? Math.min(...candidates) : null;
  }

  /** When the next message that is not visible now becomes visible: what waiting receivers wait for. */
  nextVisibleAfter(nowMs: number): number | null {
    return this.messages.nextVisibleAfter(nowMs);
  }
}
