import { systemClock, type Clock } from "../clock";
import { DurableObject } from "cloudflare:workers";
import { ErrorCode, fail, ok, toResult, type Result } from "../errors";
import type {
  DeleteResult,
  OutgoingMessage,
  PeekedMessage,
  QueueAttributes,
  QueueInfo,
  ReceivedMessage,
  RedriveStatus,
  UpdateQueueBody,
} from "../schema/queue";
import { mergeQueueAttributes, sameAttributes } from "./queue/attributes";
import { QueueEngine, type MoveBatch, type TransferredMessage } from "./queue/engine";
import { RedriveTasks, type RedriveRequest } from "./queue/redrive";
import { MoveKind } from "./queue/storage";
import { LongPoll, Waiters } from "./queue/waiters";
import { queueObject } from "./keys";

export interface ReceiveRequest {
  max: number;
  waitSeconds: number | undefined;
  visibilityTimeout: number | undefined;
  /** Names a long poll so that `cancelReceive` can end it when its client goes away. */
  receiveId?: string;
}

/** Cancellations kept for receives that have not arrived yet (calls may cross); the oldest go first. */
const CancelledReceivesKept = 1_000;

/**
 * One queue: its attributes and messages in SQLite, its long-polling receivers in memory, and one
 * alarm set to the earliest deadline that needs work. Methods return results, not exceptions,
 * because errors thrown over Durable Object RPC lose their code.
 */
export class QueueObject extends DurableObject<Env> {
  /** Where every method reads its `nowMs`; tests replace it through runInDurableObject. */
  clock: Clock = systemClock;
  readonly engine: QueueEngine;
  readonly redrives: RedriveTasks;
  private readonly waiters = new Waiters();
  private readonly longPolls = new Map<string, LongPoll>();
  private readonly cancelledReceives = new Set<string>();
  /** The alarm currently set, reloaded at start because memory does not survive eviction. */
  private alarmAtMs: number | null = null;
  /** The latest run of due work; the next one starts after it. */
  private dueRun: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.engine = new QueueEngine(ctx.storage.sql, ctx.storage);
    this.redrives = new RedriveTasks(ctx.storage.sql, this.engine);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAtMs = await ctx.storage.getAlarm();
    });
  }

  async create(name: string, objectKeyPrefix: string, attributes: QueueAttributes): Promise<Result<{ created: boolean; queue: QueueInfo }>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => {
      const { created } = this.engine.create(name, objectKeyPrefix, attributes, nowMs);
      return { created, queue: this.engine.info(nowMs) };
    });
  }

  async getInfo(): Promise<Result<QueueInfo>> {
    return toResult(() => this.engine.info(this.clock.nowMs()));
  }

  async updateAttributes(patch: UpdateQueueBody): Promise<Result<QueueInfo>> {
    const nowMs = this.clock.nowMs();
    const result = toResult(() => {
      const current = this.engine.requireMeta().attributes;
      const merged = mergeQueueAttributes(current, patch);
      // A change that changes nothing leaves modifiedAt alone.
      if (!sameAttributes(current, merged)) this.engine.updateAttributes(merged, nowMs);
      return this.engine.info(nowMs);
    });
    if (result.ok) this.reschedule(nowMs);
    return result;
  }

  /** Deletes the queue and frees its storage. */
  async destroy(): Promise<Result<{ existed: boolean }>> {
    const existed = this.engine.meta !== null;
    this.waiters.endAll(fail(ErrorCode.QueueNotFound, "queue was deleted"));
    this.engine.destroy();
    await this.ctx.storage.deleteAlarm();
    // deleteAll() also drops the tables of a SQLite-backed object: recreate them.
    await this.ctx.storage.deleteAll();
    this.alarmAtMs = null;
    this.engine.migrate();
    return ok({ existed });
  }

  async send(messages: OutgoingMessage[]): Promise<Result<{ ids: string[] }>> {
    const nowMs = this.clock.nowMs();
    const result = toResult(() => this.engine.send(messages, nowMs));
    if (!result.ok) return result;
    this.scheduleAt(this.engine.newMessageDeadline(nowMs));
    if (this.waiters.size > 0) {
      if (result.value.visibleNow) this.wake(nowMs);
      else this.reschedule(nowMs);
    }
    return ok({ ids: result.value.ids });
  }

  /** Stores messages handed over by a queue or a topic, once per idempotency key. */
  async accept(messages: TransferredMessage[]): Promise<Result<{ stored: number }>> {
    const nowMs = this.clock.nowMs();
    const result = toResult(() => this.engine.accept(messages, nowMs));
    if (result.ok && result.value.stored > 0) {
      this.scheduleAt(this.engine.newMessageDeadline(nowMs, true));
      this.wake(nowMs);
    }
    return result;
  }

  async receive(request: ReceiveRequest): Promise<Result<ReceivedMessage[]>> {
    const nowMs = this.clock.nowMs();
    const { receiveId } = request;
    if (receiveId !== undefined && this.cancelledReceives.delete(receiveId)) return ok([]);
    const result = toResult(() => this.engine.claim(request.max, request.visibilityTimeout, nowMs));
    if (!result.ok) return result;
    const waitSeconds = request.waitSeconds ?? this.engine.meta!.attributes.pollingWaitSeconds;
    if (result.value.length > 0 || waitSeconds === 0) {
      this.afterClaim(result.value);
      return result;
    }
    return new Promise((resolve) => {
      const poll: LongPoll = new LongPoll(receiveId, request.max, request.visibilityTimeout, (outcome) => {
        this.waiters.remove(poll);
        if (receiveId !== undefined) this.longPolls.delete(receiveId);
        resolve(outcome);
      });
      this.waiters.add(poll);
      if (receiveId !== undefined) this.longPolls.set(receiveId, poll);
      poll.startTimer(waitSeconds * 1000, () => {
        // A last look, in case a message became visible by time alone since the last wake.
        const last = toResult(() => this.engine.claim(poll.max, poll.visibilityTimeoutSeconds, this.clock.nowMs()));
        if (last.ok) this.afterClaim(last.value);
        return last;
      });
      // Every other deadline is armed when it arises; a parked receiver adds only the next message
      // to become visible.
      const nextVisibleAt = this.engine.nextVisibleAfter(nowMs);
      if (nextVisibleAt !== null) this.scheduleAt(nextVisibleAt);
    });
  }

  /**
   * Ends a long poll whose client went away, before anything is claimed for it; a cancellation
   * that arrives before its receive is kept, and that receive then answers at once with nothing.
   */
  async cancelReceive(receiveId: string): Promise<Result<{ cancelled: boolean }>> {
    const poll = this.longPolls.get(receiveId);
    if (poll) {
      poll.cancel();
      return ok({ cancelled: true });
    }
    this.cancelledReceives.add(receiveId);
    if (this.cancelledReceives.size > CancelledReceivesKept) {
      this.cancelledReceives.delete(this.cancelledReceives.values().next().value!);
    }
    return ok({ cancelled: false });
  }

  /** Answers live waiting receivers, oldest first, while there are messages to give. */
  private wake(nowMs: number): void {
    if (!this.engine.meta) return;
    const handed = this.waiters.wake((waiter) => this.engine.claim(waiter.max, waiter.visibilityTimeoutSeconds, nowMs));
    this.afterClaim(handed);
  }

  /** A new visibility deadline matters to the alarm only for dead-letter moves and parked receivers. */
  private afterClaim(messages: readonly ReceivedMessage[]): void {
    if (messages.length === 0) return;
    if (this.engine.meta?.attributes.deadLetter || this.waiters.size > 0) {
      this.scheduleAt(Math.min(...messages.map((message) => message.nextVisibleAt)));
    }
  }

  async deleteMessages(receiptHandles: string[]): Promise<Result<DeleteResult[]>> {
    const nowMs = this.clock.nowMs();
    const result = toResult(() => this.engine.deleteMessages(receiptHandles, nowMs));
    // A message kept for rewind expires at enqueue + rewindSeconds, usually before any armed deadline.
    if (result.ok && this.engine.meta?.attributes.rewindSeconds && result.value.some((r) => r.deleted)) {
      this.reschedule(nowMs);
    }
    return result;
  }

  async changeVisibility(receiptHandle: string, visibilityTimeout: number): Promise<Result<{ nextVisibleAt: number }>> {
    const nowMs = this.clock.nowMs();
    const result = toResult(() => this.engine.changeVisibility(receiptHandle, visibilityTimeout, nowMs));
    if (result.ok) {
      if (visibilityTimeout === 0) this.wake(nowMs);
      // Also at 0: a message at its last receive is not claimable, it is due for its dead-letter move now.
      if (this.engine.meta?.attributes.deadLetter || this.waiters.size > 0) this.scheduleAt(result.value.nextVisibleAt);
    }
    return result;
  }

  async peek(limit: number, afterSeq: number): Promise<Result<{ messages: PeekedMessage[]; nextCursor: string | null }>> {
    return toResult(() => this.engine.peek(limit, afterSeq, this.clock.nowMs()));
  }

  async purge(): Promise<Result<{ purged: number }>> {
    return toResult(() => this.engine.purge());
  }

  async rewind(sinceMs: number): Promise<Result<{ rewound: number }>> {
    const nowMs = this.clock.nowMs();
    const result = toResult(() => this.engine.rewind(sinceMs, nowMs));
    if (result.ok) {
      this.wake(nowMs);
      this.reschedule(nowMs);
    }
    return result;
  }

  async startRedrive(request: RedriveRequest): Promise<Result<RedriveStatus>> {
    const nowMs = this.clock.nowMs();
    const result = toResult(() => this.redrives.start(request, nowMs));
    if (result.ok) this.scheduleAt(nowMs);
    return result;
  }

  async getRedrive(): Promise<Result<RedriveStatus>> {
    return toResult(() => this.redrives.status(this.clock.nowMs()));
  }

  async cancelRedrive(): Promise<Result<RedriveStatus>> {
    return toResult(() => this.redrives.cancel(this.clock.nowMs()));
  }

  override async alarm(): Promise<void> {
    this.alarmAtMs = null;
    await this.runDue(this.clock.nowMs());
  }

  /**
   * Everything due at `nowMs`: expiry, dead-letter moves, a redrive step, then the next alarm. Runs
   * one at a time: an overlapping run would hand over the rows still moving in the other, and a
   * redrive would count them twice.
   */
  runDue(nowMs: number): Promise<void> {
    const run = this.dueRun.then(() => this.runDueNow(nowMs));
    this.dueRun = run.catch(() => undefined);
    return run;
  }

  private async runDueNow(nowMs: number): Promise<void> {
    if (!this.engine.meta) return;
    this.engine.purgeExpired(nowMs);
    this.redrives.step(nowMs);
    for (const batch of this.engine.takeDueMoves(nowMs)) await this.handOver(batch, nowMs);
    this.redrives.settle(nowMs);
    this.wake(nowMs);
    this.reschedule(nowMs);
  }

  /** Gives moving messages to their destination queue; its idempotency keys make a retry harmless. */
  private async handOver(batch: MoveBatch, nowMs: number): Promise<void> {
    const meta = this.engine.meta;
    if (!meta) return;
    let error: string | null = null;
    try {
      const destination = queueObject(this.env, meta.objectKeyPrefix, batch.destination);
      const messages = this.engine.moveMessages(batch);
      const result = await destination.accept(messages);
      if (!result.ok) error = `${result.error.code}: ${result.error.message}`;
    } catch (thrown) {
      error = thrown instanceof Error ? thrown.message : String(thrown);
    }
    if (error === null) {
      this.engine.moveSucceeded(batch.seqs);
      if (batch.kind === MoveKind.redrive) this.redrives.recordMoved(batch.seqs.length);
    } else {
      this.engine.moveFailed(batch, nowMs);
      if (batch.kind === MoveKind.redrive) this.redrives.recordFailure(`queue ${batch.destination}: ${error}`, nowMs);
      else console.warn(`dead-letter move to ${batch.destination} failed, retrying: ${error}`);
    }
  }

  private scheduleAt(deadlineMs: number): void {
    if (this.alarmAtMs !== null && this.alarmAtMs <= deadlineMs) return;
    this.alarmAtMs = deadlineMs;
    void this.ctx.storage.setAlarm(deadlineMs);
  }

  /** Re-arms the alarm to the earliest pending deadline. */
  private reschedule(nowMs: number): void {
    const next = this.engine.nextDeadline(nowMs, this.waiters.size > 0);
    if (next === null) return;
    if (this.alarmAtMs !== null && this.alarmAtMs > next) this.alarmAtMs = null;
    this.scheduleAt(next);
  }
}
