import * as v from "valibot";
import { serviceBinding } from "../../../delivery/service-binding";
import { ServiceError } from "../../../errors";
import type { ReceivedMessage } from "../../../schema/queue";
import { ConsumerAnswer, type ConsumerBatch, type ConsumerInfo, type ConsumerMessage, type ConsumerSettings } from "../../../schema/queue-consumer";
import type { Effects } from "../effects";
import type { QueueEngine } from "../engine";
import { MoveKind } from "../storage";
import { ConsumerStore, type StatsDelta } from "./store";

/** What the consumer needs from its queue object. */
export interface ConsumerHost {
  readonly engine: QueueEngine;
  readonly env: Env;
  nowMs(): number;
  /** Applies the effects of an engine operation the consumer ran (claims, deletes, visibility). */
  apply(changes: Effects, nowMs: number): void;
  /** Brings the alarm forward to `deadlineMs`. */
  arm(deadlineMs: number): void;
}

/** A batch handed to the consumer Worker whose answer has not come back. */
interface InFlightBatch {
  id: number;
  /** The claim's visibility deadline: past it the call is abandoned and its messages are visible again. */
  deadlineMs: number;
  messages: ReceivedMessage[];
  settings: ConsumerSettings;
  abandoned: boolean;
  done?: Promise<void>;
}

/** How a call ended: an answer to check, or a throw. */
type CallOutcome = { answer: unknown } | { thrown: unknown };

/**
 * Pushes the queue's messages to a Worker through a service binding, in batches (Cloudflare
 * Queues' consumer Workers, SQS's Lambda triggers). Batches are claimed with the engine's own claim
 * for the queue's visibility timeout, so a consumer that hangs or a process that dies gives its
 * messages back by time alone. Deliveries start when messages arrive or become visible (the
 * object calls `onChange`) and from the alarm: nothing polls.
 */
export class QueueConsumer {
  readonly store: ConsumerStore;
  private readonly inFlight = new Map<number, InFlightBatch>();
  /** Abandoned calls that have not answered yet; their answers change nothing. */
  private readonly abandoned = new Set<Promise<void>>();
  private nextBatchId = 1;
  /** Set while claiming, so that the effects of a claim do not start a second pump inside the first. */
  private pumping = false;

  constructor(
    sql: SqlStorage,
    private readonly host: ConsumerHost,
  ) {
    this.store = new ConsumerStore(sql);
  }

  /** The consumer's settings, state and counters at `nowMs`. */
  info(nowMs: number): ConsumerInfo {
    const { paused, createdAt, modifiedAt, ...settings } = this.store.require();
    const { lastError, lastErrorAt, ...counters } = this.store.stats();
    const backlog = this.host.engine.claimableSummary(Number.MAX_SAFE_INTEGER, nowMs);
    const live = [...this.inFlight.values()];
    return {
      ...settings,
      paused,
      createdAt,
      modifiedAt,
      stats: {
        ...counters,
        inFlightBatches: live.length,
        inFlightMessages: live.reduce((sum, batch) => sum + batch.messages.length, 0),
        backlog: backlog.count,
        lagMs: backlog.oldestEnqueuedAt === null ? 0 : Math.max(0, nowMs - backlog.oldestEnqueuedAt),
        lastError,
        lastErrorAt,
      },
    };
  }

  /** Messages may have become deliverable, or the settings changed: deliver what is due, arm the rest. */
  onChange(nowMs: number): void {
    if (!this.store.config || this.pumping) return;
    this.pump(nowMs);
    const next = this.nextDeadline(nowMs);
    if (next !== null) this.host.arm(next);
  }

  /**
   * When delivery next has something to do: now for a full batch, the end of `maxWaitMs` for a
   * partial one, the next message to become visible otherwise; while every slot is busy, the
   * earliest in-flight call's deadline (past it, the call is abandoned).
   */
  nextDeadline(nowMs: number): number | null {
    const config = this.store.config;
    if (!config || config.paused || !this.host.engine.meta) return null;
    if (this.inFlight.size >= config.maxConcurrency) {
      return Math.min(...[...this.inFlight.values()].map((batch) => batch.deadlineMs));
    }
    const ready = this.host.engine.claimableSummary(config.batchSize, nowMs);
    if (ready.count >= config.batchSize) return nowMs;
    if (ready.count > 0) return ready.firstVisibleAt! + config.maxWaitMs;
    return this.host.engine.nextVisibleAfter(nowMs);
  }

  /** Claims and hands over batches while slots are free and a batch is full or has waited `maxWaitMs`. */
  private pump(nowMs: number): void {
    const config = this.store.config;
    const meta = this.host.engine.meta;
    if (!config || config.paused || !meta) return;
    this.pumping = true;
    try {
      this.abandonOverdue(nowMs);
      while (this.inFlight.size < config.maxConcurrency) {
        const ready = this.host.engine.claimableSummary(config.batchSize, nowMs);
        if (ready.count === 0) break;
        if (ready.count < config.batchSize && nowMs < ready.firstVisibleAt! + config.maxWaitMs) break;
        const claimed = this.host.engine.claim(config.batchSize, undefined, nowMs);
        this.host.apply(claimed.effects, nowMs);
        if (claimed.value.length === 0) break;
        this.start(claimed.value, config, meta.name, nowMs);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A call past its visibility deadline frees its slot; its messages are visible again, and its late answer is ignored. */
  private abandonOverdue(nowMs: number): void {
    for (const batch of this.inFlight.values()) {
      if (batch.deadlineMs > nowMs) continue;
      this.abandon(batch);
      this.store.record({}, `the consumer did not answer a batch of ${batch.messages.length} within the queue's visibility timeout; its messages are visible again`, nowMs);
    }
  }

  private abandon(batch: InFlightBatch): void {
    batch.abandoned = true;
    this.inFlight.delete(batch.id);
    const late = batch.done?.finally(() => this.abandoned.delete(late!));
    if (late) this.abandoned.add(late);
  }

  private start(claimed: ReceivedMessage[], settings: ConsumerSettings, queue: string, nowMs: number): void {
    // A message whose earlier delivery was abandoned or lost may come back past its last attempt.
    const exhausted = claimed.filter((message) => message.receiveCount > settings.maxRetries + 1);
    if (exhausted.length > 0) this.store.record({ failed: this.fail(exhausted, nowMs) }, null, nowMs);
    const messages = claimed.filter((message) => message.receiveCount <= settings.maxRetries + 1);
    if (messages.length === 0) return;
    const batch: InFlightBatch = {
      id: this.nextBatchId++,
      deadlineMs: Math.min(...messages.map((message) => message.nextVisibleAt)),
      messages,
      settings,
      abandoned: false,
    };
    this.inFlight.set(batch.id, batch);
    this.store.record({ delivered: messages.length }, null, nowMs);
    // After an eviction, this alarm is what finds the batch's messages again.
    this.host.arm(batch.deadlineMs);
    const payload: ConsumerBatch = { queue, messages: messages.map(toConsumerMessage) };
    batch.done = this.call(settings.binding, payload).then((outcome) => this.settle(batch, outcome));
  }

  private async call(binding: string, payload: ConsumerBatch): Promise<CallOutcome> {
    try {
      const target = serviceBinding(this.host.env, binding) as unknown as { consume?: (batch: ConsumerBatch) => Promise<unknown> } | null;
      if (!target) throw new Error(`no service binding named ${binding} is configured on this Worker`);
      return { answer: await target.consume!(payload) };
    } catch (thrown) {
      return { thrown };
    }
  }

  /** Applies the consumer's answer: acks delete, retries hide again or, past maxRetries, dead-letter. */
  private settle(batch: InFlightBatch, outcome: CallOutcome): void {
    if (batch.abandoned || !this.host.engine.meta) return;
    this.inFlight.delete(batch.id);
    const nowMs = this.host.nowMs();
    // The batch's outcome is applied whole before the next batch is claimed, so retries made visible
    // now travel together instead of one by one.
    this.pumping = true;
    try {
      this.applyOutcome(batch, outcome, nowMs);
    } finally {
      this.pumping = false;
    }
    this.onChange(nowMs);
  }

  private applyOutcome(batch: InFlightBatch, outcome: CallOutcome, nowMs: number): void {
    const { retries, error } = this.retriesOf(batch, outcome);
    const acks = batch.messages.filter((message) => !retries.has(message.id));
    const delta: StatsDelta = { acked: 0, retried: 0, failed: 0 };

    if (acks.length > 0) {
      const deleted = this.host.engine.deleteMessages(acks.map((message) => message.receiptHandle), nowMs);
      this.host.apply(deleted.effects, nowMs);
      delta.acked = deleted.value.filter((result) => result.deleted).length;
    }
    const exhausted: ReceivedMessage[] = [];
    for (const message of batch.messages) {
      const delaySeconds = retries.get(message.id);
      if (delaySeconds === undefined) continue;
      if (message.receiveCount >= batch.settings.maxRetries + 1) {
        exhausted.push(message);
        continue;
      }
      try {
        const changed = this.host.engine.changeVisibility(message.receiptHandle, delaySeconds, nowMs);
        this.host.apply(changed.effects, nowMs);
        delta.retried!++;
      } catch (thrown) {
        // The handle expired or was superseded: the message is already visible again.
        if (!(thrown instanceof ServiceError)) throw thrown;
      }
    }
    delta.failed = this.fail(exhausted, nowMs);
    this.store.record(delta, error, nowMs);
  }

  /** Which messages the consumer retries, after how long, and the error to record. */
  private retriesOf(batch: InFlightBatch, outcome: CallOutcome): { retries: Map<string, number>; error: string | null } {
    const defaultDelay = batch.settings.retryDelaySeconds;
    const all = () => new Map(batch.messages.map((message) => [message.id, defaultDelay]));
    if ("thrown" in outcome) {
      const reason = outcome.thrown instanceof Error ? outcome.thrown.message : String(outcome.thrown);
      return { retries: all(), error: `the consumer threw: ${reason}` };
    }
    const parsed = v.safeParse(ConsumerAnswer, outcome.answer);
    if (!parsed.success) {
      return { retries: all(), error: `the consumer answered neither nothing nor {acks, retries}: ${parsed.issues[0].message}` };
    }
    const retries = new Map<string, number>();
    const ids = new Set(batch.messages.map((message) => message.id));
    for (const retry of parsed.output?.retries ?? []) {
      const { id, delaySeconds } = typeof retry === "string" ? { id: retry, delaySeconds: undefined } : retry;
      if (ids.has(id)) retries.set(id, delaySeconds ?? defaultDelay);
    }
    return { retries, error: null };
  }

  /**
   * Messages retried past maxRetries leave the queue: handed to the dead-letter queue by the
   * engine's own move (marked moving now, handed over by the due work), or dropped when the
   * queue has none, as Cloudflare Queues does. Only messages still held by their handle count.
   */
  private fail(messages: readonly ReceivedMessage[], nowMs: number): number {
    if (messages.length === 0) return 0;
    const engine = this.host.engine;
    const deadLetter = engine.meta?.attributes.deadLetter ?? null;
    if (!deadLetter) {
      const dropped = engine.deleteMessages(messages.map((message) => message.receiptHandle), nowMs);
      this.host.apply(dropped.effects, nowMs);
      return dropped.value.filter((result) => result.deleted).length;
    }
    const held = messages
      .map((message) => engine.messages.heldSeq(message.receiptHandle, nowMs))
      .filter((seq): seq is number => seq !== null);
    // Due now, not when the claim's visibility would have ended.
    engine.moves.markMoving(held, MoveKind.deadLetter, deadLetter.queue, nowMs);
    if (held.length > 0) this.host.arm(nowMs);
    return held.length;
  }

  /** Resolves once no delivery is in flight and, with `withAbandoned`, once abandoned calls answered too. */
  async settled(withAbandoned = false): Promise<void> {
    while (this.inFlight.size > 0 || (withAbandoned && this.abandoned.size > 0)) {
      await Promise.all([...this.inFlight.values()].map((batch) => batch.done).concat(withAbandoned ? [...this.abandoned] : []));
    }
  }

  /** The queue is being deleted: calls in flight are forgotten, the table is dropped with the others. */
  forget(): void {
    for (const batch of [...this.inFlight.values()]) this.abandon(batch);
  }
}

function toConsumerMessage(message: ReceivedMessage): ConsumerMessage {
  const consumed: ConsumerMessage = {
    id: message.id,
    body: message.body,
    tags: message.tags,
    attributes: message.attributes,
    attempts: message.receiveCount,
    enqueuedAt: message.enqueuedAt,
    senderId: message.senderId,
  };
  if (message.sourceQueue) consumed.sourceQueue = message.sourceQueue;
  if (message.traceHeader) consumed.traceHeader = message.traceHeader;
  return consumed;
}
