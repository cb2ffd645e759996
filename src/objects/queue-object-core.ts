import { DurableObject } from "cloudflare:workers";
import { systemClock, type Clock } from "../clock";
import { ok, toResult, type Result } from "../errors";
import type { DeleteResult, SentMessage } from "../schema/queue";
import { handOverToQueue } from "./partition-hand-over";
import { PartitionHints } from "./queue/partition-hint";
import { PartitionRouting, settleCheck, type RoutedSend } from "./queue/partition-epoch";
import { LiveQueueSockets, type SendRequest } from "./queue/live";
import { LivePartitionPump, PartitionedLivePort, type LivePartitionsHost } from "./queue/live-partitions";
import { QueueConsumer } from "./queue/consumer/delivery";
import { effects, mergeEffects, type Effects, type Outcome } from "./queue/effects";
import { QueueEngine, type MoveBatch } from "./queue/engine";
import { QueueRateCounters } from "./queue/rates";
import { RedriveTasks } from "./queue/redrive";
import { MoveKind } from "./queue/storage";
import { Waiters } from "./queue/waiters";
import { AlarmScheduler } from "./scheduler";

/**
 * What a queue's object is made of and how it runs, apart from the calls it answers (`QueueObject`):
 * its parts, the one alarm they share, the one place engine effects take hold, live sockets, and the
 * due work the alarm runs (expiry, dead-letter and redrive hand-overs, a FIFO count's settling).
 */
export abstract class QueueObjectCore extends DurableObject<Env> {
  /** Where every method reads its `nowMs`; tests replace it through runInDurableObject. */
  clock: Clock = systemClock;
  readonly engine: QueueEngine;
  readonly redrives: RedriveTasks;
  /** The Worker this queue pushes batches to, when one is set. */
  readonly consumer: QueueConsumer;
  readonly rates: QueueRateCounters;
  protected readonly scheduler: AlarmScheduler;
  protected readonly waiters = new Waiters();
  /** Live sockets: a second kind of waiting receiver, kept across eviction by hibernation. */
  protected readonly live: LiveQueueSockets;
  /** Feeds the sockets from the queue's other partitions, when it has several. */
  readonly livePump: LivePartitionPump;
  /** Which partition of its queue this object is, and the backlog hint between partitions. */
  readonly partitions: PartitionHints;
  /** A FIFO queue's routing history while a change of its partition count settles, and the epoch fence. */
  readonly routing: PartitionRouting;
  /** The latest run of due work; the next one starts after it. */
  protected dueRun: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.engine = new QueueEngine(ctx.storage.sql, ctx.storage);
    this.redrives = new RedriveTasks(ctx.storage.sql, this.engine.metadata, this.engine.moves);
    this.consumer = new QueueConsumer(ctx.storage.sql, {
      engine: this.engine,
      env,
      nowMs: () => this.clock.nowMs(),
      apply: (changes, nowMs) => this.apply(changes, nowMs),
      arm: (deadlineMs) => this.scheduler.arm(deadlineMs),
    });
    this.rates = new QueueRateCounters(ctx.storage.sql);
    this.partitions = new PartitionHints(ctx.storage.sql, {
      env,
      engine: this.engine,
      nowMs: () => this.clock.nowMs(),
      arm: (deadlineMs) => this.scheduler.arm(deadlineMs),
    });
    this.routing = new PartitionRouting(ctx.storage.sql);
    // Each part reports its next deadline; the scheduler owns the one alarm.
    this.scheduler = new AlarmScheduler(ctx.storage, [
      (nowMs) => this.engine.nextDeadline(nowMs),
      () => this.redrives.nextDeadline(),
      (nowMs) => this.consumer.nextDeadline(nowMs),
      // Visibility ends change no stored state: they matter only while receivers wait.
      (nowMs) => (this.waiters.size > 0 && this.engine.meta ? this.engine.nextVisibleAfter(nowMs) : null),
      (nowMs) => this.partitions.nextDeadline(nowMs),
      () => this.livePump.nextDeadline(),
      (nowMs) => this.routing.nextDeadline(nowMs),
    ]);
    const liveHost: LivePartitionsHost = {
      env,
      engine: this.engine,
      hints: this.partitions,
      nowMs: () => this.clock.nowMs(),
      arm: (deadlineMs) => this.scheduler.arm(deadlineMs),
      receivers: () => this.live.receivers(),
      fifo: { routing: () => this.routing.view(), sendRoutedEach: (...args) => this.sendRoutedEach(...args) },
    };
    this.live = new LiveQueueSockets(ctx, this.waiters, new PartitionedLivePort(liveHost, this.livePort()), { nowMs: () => this.clock.nowMs() });
    this.livePump = new LivePartitionPump(liveHost);
    void ctx.blockConcurrencyWhile(async () => {
      await this.scheduler.load();
      // Sockets with credit outlive an eviction: push to them what became visible meanwhile.
      if (this.live.restore()) this.wakeLive(this.clock.nowMs());
    });
  }

  /** Frames run the object's own methods, so a socket's sends, acks and changes are a request's, rates and digests included. */
  protected livePort() {
    return {
      exists: () => this.engine.meta !== null,
      sendEach: (sends: readonly SendRequest[]) => this.sendEach(sends),
      deleteMessages: (handles: string[]) => this.deleteMessages(handles),
      changeVisibility: (handle: string, seconds: number) => this.changeVisibility(handle, seconds),
      wake: (nowMs: number) => this.wakeLive(nowMs),
    };
  }

  /**
   * A socket waits as a long poll does: claim now, and arm the alarm for the next message to become
   * visible; on a partitioned queue, the other partitions' backlogs are taken for it too.
   */
  protected wakeLive(nowMs: number): void {
    if (!this.engine.meta) return;
    this.wake(nowMs);
    if (this.waiters.size > 0) this.apply(this.engine.waitEffects(nowMs), nowMs);
    this.livePump.kick();
  }

  /** `GET /v1/queues/{name}/live`, forwarded by the service once the caller is authorised. */
  override async fetch(request: Request): Promise<Response> {
    return this.live.accept(request);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.live.message(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.live.closed(ws, code);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.live.closed(ws);
  }

  /** Runs an engine operation and applies its effects; a refused operation has none. */
  protected run<T>(nowMs: number, operation: () => Outcome<T>): Result<T> {
    const result = toResult(operation);
    if (!result.ok) return result;
    this.apply(result.value.effects, nowMs);
    return ok(result.value.value);
  }

  /** The one place effects take hold: deadlines go to the scheduler, claimable messages to live waiters. */
  protected apply(changes: Effects, nowMs: number): void {
    // Counted in the operation's own write batch, whoever ran it: a request, a socket, a consumer Worker.
    this.rates.countAll(changes.counted, nowMs);
    for (const deadlineMs of changes.deadlines) this.scheduler.arm(deadlineMs);
    if (changes.wake) this.wake(nowMs);
    this.consumer.onChange(nowMs);
    if (this.waiters.size > 0) for (const visibleAtMs of changes.visibleAt) this.scheduler.arm(visibleAtMs);
    if (changes.rescan) this.scheduler.reschedule(nowMs);
    this.partitions.check(nowMs);
  }

  /** Answers live waiting receivers, oldest first, while there are messages to give. */
  protected wake(nowMs: number): void {
    if (!this.engine.meta) return;
    const claims: Effects[] = [];
    this.waiters.wake((waiter) => {
      const claimed = this.engine.claim(waiter.max, waiter.visibilityTimeoutSeconds, nowMs);
      claims.push(claimed.effects);
      return claimed.value;
    });
    const merged = mergeEffects(claims);
    this.apply({ ...merged, wake: false }, nowMs);
  }

  /** Several sends in one write transaction, each all or nothing (a socket's frames). */
  abstract sendEach(sends: readonly SendRequest[]): Promise<Array<Result<{ ids: string[]; messages: SentMessage[] }>>>;
  abstract deleteMessages(receiptHandles: string[]): Promise<Result<DeleteResult[]>>;
  abstract changeVisibility(receiptHandle: string, visibilityTimeout: number): Promise<Result<{ nextVisibleAt: number }>>;
  /** Several FIFO sends routed under `epoch`, in one write transaction, each all or nothing (a socket's frames). */
  abstract sendRoutedEach(sends: readonly SendRequest[], epoch: number, onlyWhereGroupIs: boolean): Promise<Array<Result<RoutedSend>>>;

  override async alarm(): Promise<void> {
    this.scheduler.fired();
    await this.runDue(this.clock.nowMs());
    this.livePump.kick();
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

  protected async runDueNow(nowMs: number): Promise<void> {
    if (!this.engine.meta) return;
    this.engine.purgeExpired(nowMs);
    this.redrives.step(nowMs);
    for (const batch of this.engine.takeDueMoves(nowMs)) await this.handOver(batch, nowMs);
    if (this.routing.due(nowMs)) await settleCheck(this.env, this.engine.requireMeta(), this.ctx.storage.sql, this.routing, () => this.clock.nowMs());
    this.redrives.settle(nowMs);
    this.apply(effects({ wake: true, rescan: true }), nowMs);
  }

  /**
   * Gives moving messages to their destination queue, spread over its partitions (one call each);
   * its idempotency keys, and the partition each message's first attempt chose, make a retry
   * harmless. Each call's rows succeed or are retried on their own.
   */
  protected async handOver(batch: MoveBatch, nowMs: number): Promise<void> {
    const meta = this.engine.meta;
    if (!meta) return;
    const moves = this.engine.moves;
    const outcomes = await handOverToQueue(this.env, meta.objectKeyPrefix, batch.destination, {
      items: () => (this.engine.meta ? moves.moveItems(batch) : []),
      record: (seqs, partition) => moves.recordMovePartition(seqs, partition),
      nowMs: () => this.clock.nowMs(),
    });
    for (const { keys: seqs, error } of outcomes) {
      if (error === null) {
        moves.moveSucceeded(seqs);
        if (batch.kind === MoveKind.redrive) this.redrives.recordMoved(seqs.length);
      } else {
        moves.moveFailed({ ...batch, seqs }, nowMs);
        if (batch.kind === MoveKind.redrive) this.redrives.recordFailure(`queue ${batch.destination}: ${error}`, nowMs);
        else console.warn(`dead-letter move to ${batch.destination} failed, retrying: ${error}`);
      }
    }
  }
}
