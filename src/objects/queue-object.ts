import { ErrorCode, fail, ok, toResult, type Result } from "../errors";
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
import type { BacklogState } from "./queue/partition-hint";
import { deduplicationHeld, deduplicationKeptUntil, strayGroups, takenWhereGroupIs, type RoutedSend } from "./queue/partition-epoch";
import { handedOverWhereGroupIs, type RoutedAccept } from "./queue/routed-accept";
import type { SendRequest } from "./queue/live";
import type { ConsumerInfo, ConsumerSettings } from "../schema/queue-consumer";
import type { MirroredConsumer } from "./queue/consumer/store";
import { changeTags, mergeQueueAttributes, sameAttributes } from "./queue/attributes";
import { effects } from "./queue/effects";
import type { TransferredMessage } from "./queue/engine";
import { needsContentDeduplicationIds, withContentDeduplicationIds } from "./queue/content-dedup";
import type { QueueRates } from "./queue/rates";
import type { RedriveRequest } from "./queue/redrive";
import { LongPoll } from "./queue/waiters";
import { QueueObjectCore } from "./queue-object-core";

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
 * alarm set to the earliest deadline that needs work. These are the calls it answers; its parts,
 * the alarm and the one place engine effects take hold (`apply`) are `QueueObjectCore`'s. Methods
 * return results, not exceptions, because errors thrown over Durable Object RPC lose their code.
 */
export class QueueObject extends QueueObjectCore {
  private readonly longPolls = new Map<string, LongPoll>();
  private readonly cancelledReceives = new Set<string>();

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

}
