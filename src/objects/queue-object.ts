import { DurableObject } from "cloudflare:workers";
import { systemClock, type Clock } from "../clock";
import { ErrorCode, fail, ok, ServiceError, toResult, type Result } from "../errors";
import type {
  DeleteResult,
  OutgoingMessage,
  PeekedMessage,
  QueueAttributes,
  QueueInfo,
  ReceivedMessage,
  RedriveStatus,
  QueueTags,
  SentMessage,
  UpdateQueueBody,
} from "../schema/queue";
import { queueObject } from "./keys";
import type { QueueShape } from "./partition-counts";
import { handOverToQueue } from "./partition-hand-over";
import { PartitionHints, type BacklogState } from "./queue/partition-hint";
import { deduplicationHeld, deduplicationKeptUntil, PartitionRouting, settleCheck, strayGroups, takenWhereGroupIs, type RoutedSend } from "./queue/partition-epoch";
import { handedOverWhereGroupIs, type RoutedAccept } from "./queue/routed-accept";
import { LiveQueueSockets, type SendRequest } from "./queue/live";
import { LivePartitionPump, PartitionedLivePort, type LivePartitionsHost } from "./queue/live-partitions";
import type { ConsumerInfo, ConsumerSettings } from "../schema/queue-consumer";
import type { MirroredConsumer } from "./queue/consumer/store";
import { changeTags, mergeQueueAttributes, sameAttributes } from "./queue/attributes";
import { QueueConsumer } from "./queue/consumer/delivery";
import { effects, mergeEffects, type Effects, type Outcome } from "./queue/effects";
import { QueueEngine, type MoveBatch, type TransferredMessage } from "./queue/engine";
import { needsContentDeduplicationIds, withContentDeduplicationIds } from "./queue/content-dedup";
import { QueueRateCounters, type QueueRates } from "./queue/rates";
import { RedriveTasks, type RedriveRequest } from "./queue/redrive";
import { MoveKind } from "./queue/storage";
import { LongPoll, Waiters } from "./queue/waiters";
import { AlarmScheduler } from "./scheduler";

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
 * One queue: its attributes and messages in SQLite, its waiting receivers in memory, and one
 * alarm set to the earliest deadline that needs work. Engine operations answer with their effects,
 * applied in one place (`apply`). Methods return results, not exceptions, because errors thrown
 * over Durable Object RPC lose their code.
 */
export class QueueObject extends DurableObject<Env> {
  /** Where every method reads its `nowMs`; tests replace it through runInDurableObject. */
  clock: Clock = systemClock;
  readonly engine: QueueEngine;
  readonly redrives: RedriveTasks;
  /** The Worker this queue pushes batches to, when one is set. */
  readonly consumer: QueueConsumer;
  readonly rates: QueueRateCounters;
  private readonly scheduler: AlarmScheduler;
  private readonly waiters = new Waiters();
  /** Live sockets: a second kind of waiting receiver, kept across eviction by hibernation. */
  private readonly live: LiveQueueSockets;
  /** Feeds the sockets from the queue's other partitions, when it has several. */
  readonly livePump: LivePartitionPump;
  /** Which partition of its queue this object is, and the backlog hint between partitions. */
  readonly partitions: PartitionHints;
  /** A FIFO queue's routing history while a change of its partition count settles, and the epoch fence. */
  readonly routing: PartitionRouting;
  private readonly longPolls = new Map<string, LongPoll>();
  private readonly cancelledReceives = new Set<string>();
  /** The latest run of due work; the next one starts after it. */
  private dueRun: Promise<void> = Promise.resolve();

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
  private livePort() {
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
  private wakeLive(nowMs: number): void {
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
  private run<T>(nowMs: number, operation: () => Outcome<T>): Result<T> {
    const result = toResult(operation);
    if (!result.ok) return result;
    this.apply(result.value.effects, nowMs);
    return ok(result.value.value);
  }

  /** The one place effects take hold: deadlines go to the scheduler, claimable messages to live waiters. */
  private apply(changes: Effects, nowMs: number): void {
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
  private wake(nowMs: number): void {
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

  async create(name: string, objectKeyPrefix: string, attributes: QueueAttributes): Promise<Result<{ created: boolean; queue: QueueInfo }>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => {
      const { created } = this.engine.create(name, objectKeyPrefix, attributes, nowMs);
      return { created, queue: this.engine.info(nowMs) };
    });
  }

  async getInfo(): Promise<Result<QueueInfo>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => this.engine.info(nowMs));
  }

  async updateAttributes(patch: UpdateQueueBody): Promise<Result<QueueInfo>> {
    const nowMs = this.clock.nowMs();
    return this.run(nowMs, () => {
      const current = this.engine.requireMeta().attributes;
      const merged = mergeQueueAttributes(current, patch);
      if (merged.fifo && merged.partitions !== current.partitions) this.routing.change(current.partitions, merged.partitions);
      // A change that changes nothing leaves modifiedAt alone.
      const changed = sameAttributes(current, merged) ? null : this.engine.updateAttributes(merged, nowMs);
      return { value: this.engine.info(nowMs), effects: changed?.effects ?? effects({ rescan: true }) };
    });
  }

  /** Sets and removes tags in one step, so concurrent changes each see the other's. */
  async changeTags(set: QueueTags, remove: string[]): Promise<Result<QueueInfo>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => {
      const current = this.engine.requireMeta().attributes;
      const tags = changeTags(current.tags, set, remove);
      if (!sameAttributes(current, { ...current, tags })) this.engine.metadata.update({ ...current, tags }, nowMs);
      return this.engine.info(nowMs);
    });
  }

  /** Deletes the queue and frees its storage. */
  async destroy(): Promise<Result<{ existed: boolean }>> {
    const existed = this.engine.meta !== null;
    this.waiters.endAll(fail(ErrorCode.QueueNotFound, "queue was deleted"));
    this.live.closeAll("queue was deleted");
    this.consumer.forget();
    this.partitions.forget();
    this.routing.forget();
    this.engine.destroy();
    await this.scheduler.clear();
    // deleteAll() also drops the tables of a SQLite-backed object: recreate them.
    await this.ctx.storage.deleteAll();
    this.engine.migrate();
    this.consumer.store.migrate();
    this.rates.migrate();
    this.partitions.migrate();
    this.routing.migrate();
    return ok({ existed });
  }

  /** Stores messages sent by `senderId` (see `senderIdOf`); null when not known. */
  async send(
    messages: OutgoingMessage[],
    senderId: string | null = null,
  ): Promise<Result<{ ids: string[]; messages: SentMessage[]; partitions?: number }>> {
    // A FIFO queue that deduplicates by content needs the bodies' digests, which take an await: before the clock is read.
    if (needsContentDeduplicationIds(this.engine.meta?.attributes, messages)) messages = await withContentDeduplicationIds(messages);
    const nowMs = this.clock.nowMs();
    const sent = await this.partitions.afterReports(this.run(nowMs, () => this.engine.send(messages, nowMs, senderId)));
    // The partition count rides back, so the service learns where to spread the next sends.
    return sent.ok ? ok({ ...sent.value, partitions: this.engine.meta?.attributes.partitions }) : sent;
  }

  /**
   * Several sends in one write transaction, each all or nothing on its own: a socket's frames that
   * arrive together share one commit instead of paying one each.
   */
  async sendEach(sends: readonly SendRequest[]): Promise<Array<Result<{ ids: string[]; messages: SentMessage[] }>>> {
    const attributes = this.engine.meta?.attributes;
    const prepared = await Promise.all(
      sends.map(({ messages }) => (needsContentDeduplicationIds(attributes, messages) ? withContentDeduplicationIds(messages) : messages)),
    );
    const nowMs = this.clock.nowMs();
    const { storage } = this.ctx;
    return this.partitions.afterReports(
      storage.transactionSync(() =>
        prepared.map((messages, index) => this.run(nowMs, () => storage.transactionSync(() => this.engine.send(messages, nowMs, sends[index]!.senderId)))),
      ),
    );
  }

  /**
   * A FIFO queue's send, routed under `epoch` (refused, storing nothing, when this object has seen
   * a newer one). With `onlyWhereGroupIs`, takes only the messages whose group this object still
   * holds or whose deduplication id it has seen, in one step with the check; the others answer null.
   */
  async sendRouted(messages: OutgoingMessage[], senderId: string | null, epoch: number, onlyWhereGroupIs: boolean): Promise<Result<RoutedSend>> {
    const [answer] = await this.sendRoutedEach([{ messages, senderId }], epoch, onlyWhereGroupIs);
    return answer!;
  }

  /** Several routed sends under one epoch in one write transaction, each all or nothing and answered on its own. */
  async sendRoutedEach(sends: readonly SendRequest[], epoch: number, onlyWhereGroupIs: boolean): Promise<Array<Result<RoutedSend>>> {
    const attributes = this.engine.meta?.attributes;
    const prepared = await Promise.all(
      sends.map(({ messages }) => (needsContentDeduplicationIds(attributes, messages) ? withContentDeduplicationIds(messages) : messages)),
    );
    const nowMs = this.clock.nowMs();
    const admitted = toResult(() => this.engine.requireMeta() && this.routing.admit(epoch));
    if (!admitted.ok) return sends.map(() => admitted);
    if (!admitted.value) return sends.map(() => ok({ stale: true, epoch: this.routing.epoch }));
    const { storage } = this.ctx;
    const routed = storage.transactionSync(() =>
      prepared.map((messages, index): Result<RoutedSend> => {
        const taken = takenWhereGroupIs(this.engine, messages, onlyWhereGroupIs, nowMs);
        const chosen = messages.filter((_, at) => taken[at]);
        if (chosen.length === 0) return ok({ stale: false, messages: messages.map(() => null) });
        const sent = this.run(nowMs, () => storage.transactionSync(() => this.engine.send(chosen, nowMs, sends[index]!.senderId)));
        if (!sent.ok) return sent;
        let next = 0;
        return ok({ stale: false, messages: taken.map((take) => (take ? sent.value.messages[next++]! : null)) });
      }),
    );
    return this.partitions.afterReports(routed);
  }

  /** Stores messages handed over by a queue or a topic, once per idempotency key. */
  async accept(messages: TransferredMessage[]): Promise<Result<{ stored: number }>> {
    if (needsContentDeduplicationIds(this.engine.meta?.attributes, messages)) messages = await withContentDeduplicationIds(messages);
    const nowMs = this.clock.nowMs();
    return this.partitions.afterReports(this.run(nowMs, () => this.engine.accept(messages, nowMs)));
  }

  /**
   * A hand-over into a FIFO queue, routed under `epoch` as `sendRouted` is: refused, storing
   * nothing, when this object has seen a newer epoch; with `onlyWhereGroupIs`, takes only what
   * `handedOverWhereGroupIs` admits, in one step with the check.
   */
  async acceptRouted(messages: TransferredMessage[], epoch: number, onlyWhereGroupIs: boolean): Promise<Result<RoutedAccept>> {
    if (needsContentDeduplicationIds(this.engine.meta?.attributes, messages)) messages = await withContentDeduplicationIds(messages);
    const nowMs = this.clock.nowMs();
    const taken = toResult(() => {
      this.engine.requireMeta();
      return this.routing.admit(epoch) ? handedOverWhereGroupIs(this.ctx.storage.sql, this.engine, messages, onlyWhereGroupIs, nowMs) : null;
    });
    if (!taken.ok) return taken;
    if (taken.value === null) return ok({ stale: true, epoch: this.routing.epoch });
    const chosen = messages.filter((_, index) => taken.value![index]);
    if (chosen.length === 0) return ok({ stale: false, taken: taken.value, stored: 0 });
    const accepted = await this.partitions.afterReports(this.run(nowMs, () => this.engine.accept(chosen, nowMs)));
    return accepted.ok ? ok({ stale: false, taken: taken.value, stored: accepted.value.stored }) : accepted;
  }

  async receive(request: ReceiveRequest): Promise<Result<ReceivedMessage[]>> {
    const nowMs = this.clock.nowMs();
    const { receiveId } = request;
    if (receiveId !== undefined && this.cancelledReceives.delete(receiveId)) return ok([]);
    const result = this.run(nowMs, () => this.engine.claim(request.max, request.visibilityTimeout, nowMs));
    if (!result.ok) return result;
    const waitSeconds = request.waitSeconds ?? this.engine.meta!.attributes.pollingWaitSeconds;
    if (result.value.length > 0 || waitSeconds === 0) return result;
    return new Promise((resolve) => {
      const poll: LongPoll = new LongPoll(receiveId, request.max, request.visibilityTimeout, (answer) => {
        this.waiters.remove(poll);
        if (receiveId !== undefined) this.longPolls.delete(receiveId);
        resolve(answer);
      });
      this.waiters.add(poll);
      if (receiveId !== undefined) this.longPolls.set(receiveId, poll);
      // A last look when the wait ends, in case a message became visible by time alone since the last wake.
      poll.startTimer(waitSeconds * 1000, () => {
        const lastMs = this.clock.nowMs();
        return this.run(lastMs, () => this.engine.claim(poll.max, poll.visibilityTimeoutSeconds, lastMs));
      });
      this.apply(this.engine.waitEffects(nowMs), nowMs);
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

  async deleteMessages(receiptHandles: string[]): Promise<Result<DeleteResult[]>> {
    const nowMs = this.clock.nowMs();
    return this.partitions.afterReports(this.run(nowMs, () => this.engine.deleteMessages(receiptHandles, nowMs)));
  }

  /** Messages sent, received and deleted per bucket over the rate window (see `QueueRateCounters`). */
  async getRates(): Promise<Result<QueueRates>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => {
      this.engine.requireMeta();
      return this.rates.read(nowMs);
    });
  }

  async changeVisibility(receiptHandle: string, visibilityTimeout: number): Promise<Result<{ nextVisibleAt: number }>> {
    const nowMs = this.clock.nowMs();
    return this.partitions.afterReports(this.run(nowMs, () => this.engine.changeVisibility(receiptHandle, visibilityTimeout, nowMs)));
  }

  async peek(limit: number, afterSeq: number): Promise<Result<{ messages: PeekedMessage[]; nextCursor: string | null }>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => this.engine.peek(limit, afterSeq, nowMs));
  }

  async purge(): Promise<Result<{ purged: number }>> {
    const nowMs = this.clock.nowMs();
    return this.run(nowMs, () => this.engine.purge());
  }

  async rewind(sinceMs: number): Promise<Result<{ rewound: number }>> {
    const nowMs = this.clock.nowMs();
    return this.partitions.afterReports(this.run(nowMs, () => this.engine.rewind(sinceMs, nowMs)));
  }

  async startRedrive(request: RedriveRequest): Promise<Result<RedriveStatus>> {
    const nowMs = this.clock.nowMs();
    return this.run(nowMs, () => ({ value: this.redrives.start(request, nowMs), effects: effects({ deadlines: [nowMs] }) }));
  }

  async redriveSources(): Promise<Result<string[]>> {
    return toResult(() => this.redrives.sources());
  }

  async getRedrive(): Promise<Result<RedriveStatus>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => this.redrives.status(nowMs));
  }

  async cancelRedrive(startedAt?: number): Promise<Result<RedriveStatus>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => this.redrives.cancel(nowMs, startedAt));
  }

  /** Sets (or replaces) the queue's consumer; delivery starts at once for what is due. */
  async setConsumer(settings: ConsumerSettings): Promise<Result<{ created: boolean; consumer: ConsumerInfo }>> {
    const nowMs = this.clock.nowMs();
    return this.run(nowMs, () => {
      this.engine.requireMeta();
      const { created } = this.consumer.store.set(settings, nowMs);
      return { value: { created, consumer: this.consumer.info(nowMs) }, effects: effects() };
    });
  }

  async getConsumer(): Promise<Result<ConsumerInfo>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => {
      this.engine.requireMeta();
      return this.consumer.info(nowMs);
    });
  }

  /** Stops deliveries for good; batches in flight still settle. */
  async deleteConsumer(): Promise<Result<{ existed: boolean }>> {
    return toResult(() => {
      this.engine.requireMeta();
      this.consumer.store.require();
      return this.consumer.store.delete();
    });
  }

  /** Pauses or resumes deliveries; sends go on either way. */
  async pauseConsumer(paused: boolean): Promise<Result<ConsumerInfo>> {
    const nowMs = this.clock.nowMs();
    return this.run(nowMs, () => {
      this.engine.requireMeta();
      this.consumer.store.setPaused(paused, nowMs);
      return { value: this.consumer.info(nowMs), effects: effects() };
    });
  }

  /**
   * Creates this object as partition `partition` of a queue, or brings its attributes in line with
   * the queue's; and its consumer Worker in line with the home object's, so that a partition made
   * by a raise runs the queue's consumer on its own messages.
   */
  async syncPartition(name: string, objectKeyPrefix: string, attributes: QueueAttributes, partition: number, epoch?: number): Promise<Result<void>> {
    const nowMs = this.clock.nowMs();
    const synced = this.run(nowMs, () => {
      this.partitions.setPartition(partition);
      if (epoch !== undefined) this.routing.admit(epoch);
      if (!this.engine.meta) this.engine.create(name, objectKeyPrefix, attributes, nowMs);
      else if (!sameAttributes(this.engine.meta.attributes, attributes)) return this.engine.updateAttributes(attributes, nowMs);
      return { value: undefined, effects: effects({ rescan: true }) };
    });
    if (!synced.ok || partition === 0) return synced;
    const home = await queueObject(this.env, objectKeyPrefix, name).consumerConfig();
    return home.ok ? this.mirrorConsumer(home.value) : synced;
  }

  /** The home object: its consumer's settings and paused state, for the other partitions to mirror. */
  async consumerConfig(): Promise<Result<MirroredConsumer | null>> {
    return toResult(() => {
      this.engine.requireMeta();
      const config = this.consumer.store.config;
      if (!config) return null;
      const { paused, createdAt: _created, modifiedAt: _modified, ...settings } = config;
      return { settings, paused };
    });
  }

  /** A partition past 0: runs the queue's consumer (as its home object holds it) on this partition's messages, or none. */
  async mirrorConsumer(queue: MirroredConsumer | null): Promise<Result<void>> {
    const nowMs = this.clock.nowMs();
    return this.run(nowMs, () => {
      this.engine.requireMeta();
      this.consumer.store.mirror(queue, nowMs);
      return { value: undefined, effects: effects() };
    });
  }

  /** Deletes this partition of a queue whose partition count is being lowered, only if it holds no message. */
  async retirePartition(): Promise<Result<{ existed: boolean }>> {
    const nowMs = this.clock.nowMs();
    const total = this.engine.meta ? this.engine.info(nowMs).counts.total : 0;
    if (total > 0) return fail(ErrorCode.PartitionsNotEmpty, `partition ${this.partitions.partition} holds ${total} messages; drain it first`);
    const dedupUntilMs = this.engine.meta?.attributes.fifo ? deduplicationKeptUntil(this.ctx.storage.sql, nowMs) : null;
    if (dedupUntilMs !== null) return fail(ErrorCode.PartitionsNotEmpty, deduplicationHeld(this.partitions.partition, dedupUntilMs));
    return this.destroy();
  }

  /** What a sender needs to spread messages over this queue's partitions (see `handOverPartition`). */
  async partitionShape(): Promise<Result<QueueShape>> {
    return toResult(() => {
      const { partitions, fifo } = this.engine.requireMeta().attributes;
      return fifo ? { partitions, fifo, routing: this.routing.view() } : { partitions, fifo };
    });
  }

  /** The home object: which partitions hold a backlog; with `since`, waits up to `waitMs` for a new one. */
  async partitionBacklog(since?: string, waitMs = 0, waitId?: string): Promise<Result<BacklogState>> {
    if (since !== undefined) await this.partitions.waitForBacklog(since, waitMs, waitId);
    const nowMs = this.clock.nowMs();
    return toResult(() => ({ ...this.partitions.state(nowMs, this.engine.requireMeta().attributes.pollingWaitSeconds), routing: this.routing.view() }));
  }

  /** How many groups this partition holds that a count of `partitions` puts elsewhere; adopts `epoch`. */
  async partitionStrays(partitions: number, epoch: number): Promise<Result<{ strays: number; epoch: number }>> {
    return toResult(() => {
      this.engine.requireMeta();
      this.routing.admit(epoch);
      return { strays: strayGroups(this.ctx.storage.sql, this.partitions.partition, partitions), epoch: this.routing.epoch };
    });
  }

  /** The home object: ends a partitioned receive's wait whose client went away. */
  async cancelBacklogWait(waitId: string): Promise<Result<{ cancelled: boolean }>> {
    return ok({ cancelled: this.partitions.cancelWait(waitId) });
  }

  /** The home object: a partition's backlog appeared (`true`) or went. */
  async reportBacklog(partition: number, backlog: boolean): Promise<Result<void>> {
    return toResult(() => {
      this.engine.requireMeta();
      const polls = this.partitions.waiting;
      this.partitions.record(partition, backlog);
      if (backlog) this.livePump.kick(polls > 0);
    });
  }

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

  private async runDueNow(nowMs: number): Promise<void> {
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
  private async handOver(batch: MoveBatch, nowMs: number): Promise<void> {
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
