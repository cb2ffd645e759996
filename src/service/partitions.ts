import type { Clock } from "../clock";
import { ErrorCode, ServiceError, unwrap, type Result } from "../errors";
import { partitionObject } from "../objects/keys";
import { partitionCounts, shuffled } from "../objects/partition-counts";
import { keepRunning } from "./keep-running";
import { checkBatchBytes, sendFifo, type FifoPartitions, type FifoRoute } from "../objects/fifo-routing";
import type { FifoRouting, RoutedSend } from "../objects/queue/partition-epoch";
import type { BacklogState } from "../objects/queue/partition-hint";
import type { ReceiveRequest } from "../objects/queue-object";
import type { QueueRates } from "../objects/queue/rates";
import { parsePartitionHandle, parsePeekCursor, partitionHandle, partitionOfGroup, peekCursor } from "../schema/partitions";
import {
  type DeleteResult,
  type OutgoingMessage,
  type PeekedMessage,
  type QueueAttributes,
  type QueueInfo,
  type ReceivedMessage,
  type SentMessage,
} from "../schema/queue";

/** Asks of the home object's hint, when its object restarts during a wait. */
const BacklogAttempts = 3;

/** Sends without a group go to the partitions in turn, per isolate. */
let nextSpread = 0;

function isQueueNotFound(error: unknown): boolean {
  return error instanceof ServiceError && error.code === ErrorCode.QueueNotFound;
}

/** The attributes of a queue's info: what every partition holds alike. */
export function attributesOf(info: QueueAttributes & Partial<QueueInfo>): QueueAttributes {
  const { name: _name, createdAt: _created, modifiedAt: _modified, counts: _counts, oldestMessageAt: _oldest, ...attributes } = info;
  return attributes;
}

/** `[from, from + 1, …, to - 1]`. */
export function partitionRange(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, index) => from + index);
}

/**
 * One queue seen across its partitions: where a send goes, how a receive finds messages, and the
 * answers for the whole queue (counts, purge, rewind, peek, rates) gathered from every partition.
 * Partition 0 is the queue's own object, so a queue of one partition takes exactly the paths it
 * took before partitions existed.
 */
export class QueuePartitions implements FifoPartitions {
  constructor(
    private readonly env: Env,
    private readonly prefix: string,
    private readonly name: string,
    private readonly fifo: boolean,
    private readonly clock: Clock,
  ) {}

  object(partition: number) {
    return partitionObject(this.env, this.prefix, this.name, partition);
  }

  /** A FIFO queue's sends trust only a count learned with its routing (epoch and settling counts). */
  remember(partitions: number, routing?: FifoRouting): void {
    partitionCounts.remember(this.prefix, this.name, { partitions, fifo: this.fifo, routing }, this.clock.nowMs());
  }

  forget(): void {
    partitionCounts.forget(this.prefix, this.name);
  }

  private cached(): number | undefined {
    return partitionCounts.cached(this.prefix, this.name, this.clock.nowMs())?.partitions;
  }

  /** The partition count, asked of the queue's object when this isolate does not know it. */
  async count(): Promise<number> {
    const cached = this.cached();
    if (cached !== undefined) return cached;
    const state = unwrap(await this.object(0).partitionBacklog());
    this.remember(state.partitions, state.routing);
    return state.partitions;
  }

  /** A FIFO queue's routing: cached with the count, or (`fresh`, or none cached) asked of the home object. */
  async route(fresh: boolean): Promise<FifoRoute> {
    const known = partitionCounts.cached(this.prefix, this.name, this.clock.nowMs());
    if (!fresh && known?.routing) return { partitions: known.partitions, ...known.routing };
    const state = unwrap(await this.object(0).partitionBacklog());
    const routing = state.routing ?? { epoch: 0, settling: [] };
    this.remember(state.partitions, routing);
    return { partitions: state.partitions, ...routing };
  }

  async sendRouted(partition: number, messages: OutgoingMessage[], senderId: string, epoch: number, onlyWhereGroupIs: boolean): Promise<RoutedSend> {
    return unwrap(await this.object(partition).sendRouted(messages, senderId, epoch, onlyWhereGroupIs));
  }

  checkBatch(messages: readonly OutgoingMessage[]): void {
    checkBatchBytes(messages);
  }

  /**
   * Sends. On a FIFO queue each message goes to its group's partition (a group stays in one, in
   * order, also while a change of the count settles: `sendFifo`); a call whose groups lie in
   * several partitions is split, each part stored all or nothing in its partition. On a standard queue the whole call goes to one partition, so it stays all or
   * nothing: its first group's (a tenant's messages stay together for fairness), or the next one
   * in turn. A standard queue whose count this isolate does not know sends to partition 0, which
   * answers the count; a FIFO queue asks first, because its groups must land in their own partition.
   */
  async send(messages: OutgoingMessage[], senderId: string): Promise<SentMessage[]> {
    if (this.fifo) return sendFifo(this, messages, senderId);
    const partitions = this.cached() ?? 1;
    if (partitions === 1) {
      const sent = unwrap(await this.object(0).send(messages, senderId));
      if (sent.partitions !== undefined) this.remember(sent.partitions);
      return sent.messages;
    }
    const group = messages.find((message) => message.groupId !== undefined)?.groupId;
    return this.sendTo(group === undefined ? nextSpread++ % partitions : partitionOfGroup(group, partitions), messages, senderId);
  }

  private async sendTo(partition: number, messages: OutgoingMessage[], senderId: string): Promise<SentMessage[]> {
    try {
      return unwrap(await this.object(partition).send(messages, senderId)).messages;
    } catch (error) {
      // A standard queue's partition removed since this isolate learned the count: partition 0 takes them.
      if (partition === 0 || !isQueueNotFound(error)) throw error;
      this.forget();
      return unwrap(await this.object(0).send(messages, senderId)).messages;
    }
  }

  /** Takes up to `max` messages from one partition, without waiting; a partition gone or not yet made has none. */
  private async takeFrom(partition: number, request: ReceiveRequest, max: number): Promise<ReceivedMessage[]> {
    try {
      const messages = unwrap(await this.object(partition).receive({ max, waitSeconds: 0, visibilityTimeout: request.visibilityTimeout }));
      return messages.map((message) => ({ ...message, receiptHandle: partitionHandle(partition, message.receiptHandle) }));
    } catch (error) {
      if (partition > 0 && isQueueNotFound(error)) return [];
      throw error;
    }
  }

  /**
   * A receive over several partitions: first one partition at random (under load every partition
   * has a backlog, and this costs one call), then the partitions the home object's hint names, in
   * random order; with nothing found, waits in the home object until a partition reports a new
   * backlog or the wait ends. A wait holds no message, so a client gone meanwhile loses nothing.
   */
  async receive(request: ReceiveRequest, partitions: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const startMs = this.clock.nowMs();
    const first = Math.floor(Math.random() * partitions);
    const received = await this.takeFrom(first, request, request.max);
    if (received.length >= request.max) return received;
    // A client gone away ends the wait in the home object too, rather than leaving it to its time.
    const waitId = signal ? crypto.randomUUID() : undefined;
    const cancel = () => keepRunning(this.object(0).cancelBacklogWait(waitId!).catch(() => undefined));
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      return await this.gather(request, received, first, startMs, waitId, signal);
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
  }

  private async gather(
    request: ReceiveRequest,
    received: ReceivedMessage[],
    first: number,
    startMs: number,
    waitId: string | undefined,
    signal?: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    let since: string | undefined;
    let waitMs = 0;
    for (;;) {
      if (signal?.aborted) return received;
      const state = await this.backlog(since, waitMs, waitId);
      this.remember(state.partitions, state.routing);
      if (signal?.aborted) return received;
      // The first partition gave what it had; the others the hint names fill the rest of the batch.
      for (const partition of shuffled(state.backlog.filter((partition) => since !== undefined || partition !== first))) {
        received.push(...(await this.takeFrom(partition, request, request.max - received.length)));
        if (received.length >= request.max) break;
      }
      if (received.length > 0) return received;
      const waitSeconds = request.waitSeconds ?? state.pollingWaitSeconds;
      waitMs = startMs + waitSeconds * 1000 - this.clock.nowMs();
      if (waitMs <= 0) return [];
      since = state.token;
    }
  }

  /**
   * The home object's hint, waiting there up to `waitMs` for a new backlog after `since`. A wait
   * holds no message: if the home object restarts meanwhile (a deploy, an eviction), it is asked again.
   */
  private async backlog(since: string | undefined, waitMs: number, waitId?: string): Promise<BacklogState> {
    for (let attempt = 1; ; attempt++) {
      const startMs = this.clock.nowMs();
      try {
        return unwrap(await this.object(0).partitionBacklog(since, waitMs, waitId));
      } catch (error) {
        if (error instanceof ServiceError || attempt >= BacklogAttempts) throw error;
        waitMs = Math.max(0, waitMs - (this.clock.nowMs() - startMs));
      }
    }
  }

  /** Deletes by handle, each in the partition its handle names; results in the order asked. */
  async deleteMessages(handles: string[], partitions: number): Promise<DeleteResult[]> {
    const byPartition = new Map<number, number[]>();
    const parsed = handles.map(parsePartitionHandle);
    parsed.forEach(({ partition }, index) => byPartition.set(partition, [...(byPartition.get(partition) ?? []), index]));
    const results: DeleteResult[] = new Array(handles.length);
    await Promise.all(
      [...byPartition].map(async ([partition, indexes]) => {
        const own = indexes.map((index) => parsed[index]!.handle);
        let answered: DeleteResult[];
        if (partition >= partitions) {
          answered = own.map(() => ({ deleted: false, receiptHandle: "", error: unknownPartition(partition) }));
        } else {
          answered = unwrap(await this.object(partition).deleteMessages(own));
        }
        indexes.forEach((index, position) => (results[index] = { ...answered[position]!, receiptHandle: handles[index]! }));
      }),
    );
    return results;
  }

  async changeVisibility(handle: string, visibilityTimeout: number, partitions: number): Promise<{ nextVisibleAt: number }> {
    const { partition, handle: own } = parsePartitionHandle(handle);
    if (partition >= partitions) {
      const error = unknownPartition(partition);
      throw new ServiceError(error.code, error.message);
    }
    return unwrap(await this.object(partition).changeVisibility(own, visibilityTimeout));
  }

  /** Runs `call` in partitions 1 to `partitions - 1`; partition 0 is the caller's. */
  private async others<T>(partitions: number, call: (partition: number) => Promise<T>): Promise<T[]> {
    return Promise.all(partitionRange(1, partitions).map(call));
  }

  /**
   * `call` in one partition for an answer about the whole queue; a partition past 0 that does not
   * exist (a raise or a lowering cut short) holds nothing and answers null.
   */
  private async ask<T>(partition: number, call: (object: ReturnType<QueuePartitions["object"]>) => Promise<Result<T>>): Promise<T | null> {
    try {
      return unwrap(await call(this.object(partition)));
    } catch (error) {
      if (partition > 0 && isQueueNotFound(error)) return null;
      throw error;
    }
  }

  /** The home object's info with every partition's counts added. */
  async wholeInfo(home: QueueInfo): Promise<QueueInfo> {
    if (home.partitions <= 1) return home;
    const infos = await this.others(home.partitions, (partition) => this.ask(partition, (object) => object.getInfo()));
    const counts = { ...home.counts };
    let oldest = home.oldestMessageAt;
    for (const info of infos) {
      if (info === null) continue;
      for (const key of Object.keys(counts) as Array<keyof typeof counts>) counts[key] += info.counts[key];
      if (info.oldestMessageAt !== null && (oldest === null || info.oldestMessageAt < oldest)) oldest = info.oldestMessageAt;
    }
    return { ...home, counts, oldestMessageAt: oldest };
  }

  /** Makes partitions `from` to `to - 1` exist with `attributes`, or brings theirs in line (and, given, to a FIFO queue's `epoch`). */
  async sync(info: QueueAttributes & Partial<QueueInfo>, from: number, to: number, epoch?: number): Promise<void> {
    const attributes = attributesOf(info);
    await Promise.all(
      partitionRange(Math.max(1, from), to).map(async (partition) =>
        unwrap(await this.object(partition).syncPartition(this.name, this.prefix, attributes, partition, epoch)),
      ),
    );
  }

  /**
   * Removes partitions `from` to `to - 1`, last first, each only if it is empty (checked in the
   * partition, in one step with its removal). The first that is not stops the lowering, and those
   * already removed are made again, so the queue keeps the count it had.
   */
  async retire(from: number, to: number, attributes: QueueAttributes & Partial<QueueInfo>, epoch?: number): Promise<void> {
    let retiredFrom = to;
    try {
      for (const partition of partitionRange(from, to).reverse()) {
        unwrap(await this.object(partition).retirePartition());
        retiredFrom = partition;
      }
    } catch (error) {
      await this.sync(attributes, retiredFrom, to, epoch);
      throw error;
    }
  }

  /** Deletes partitions 1 to `partitions - 1` (the caller deletes partition 0). */
  async destroyOthers(partitions: number): Promise<void> {
    this.forget();
    await this.others(partitions, async (partition) => unwrap(await this.object(partition).destroy()));
  }

  async purge(partitions: number): Promise<{ purged: number }> {
    const all = await Promise.all(partitionRange(0, partitions).map((p) => this.ask(p, (object) => object.purge())));
    return { purged: all.reduce((sum, answer) => sum + (answer?.purged ?? 0), 0) };
  }

  async rewind(sinceMs: number, partitions: number): Promise<{ rewound: number }> {
    const all = await Promise.all(partitionRange(0, partitions).map((p) => this.ask(p, (object) => object.rewind(sinceMs))));
    return { rewound: all.reduce((sum, answer) => sum + (answer?.rewound ?? 0), 0) };
  }

  /** Every partition's buckets added up; the partitions share one clock, so their buckets line up. */
  async rates(partitions: number): Promise<QueueRates> {
    const all = await Promise.all(partitionRange(0, partitions).map((p) => this.ask(p, (object) => object.getRates())));
    const [first, ...rest] = all.filter((rates): rates is QueueRates => rates !== null);
    const buckets = first!.buckets.map((bucket) => ({ ...bucket }));
    for (const rates of rest) {
      for (const bucket of rates.buckets) {
        const same = buckets.find((candidate) => candidate.startAt === bucket.startAt);
        if (!same) continue;
        same.sent += bucket.sent;
        same.received += bucket.received;
        same.deleted += bucket.deleted;
      }
    }
    return { ...first!, buckets };
  }

  /** A page of messages, partition after partition; the cursor names the partition and the place in it. */
  async peek(limit: number, cursor: number, partitions: number): Promise<{ messages: PeekedMessage[]; nextCursor: string | null }> {
    let { partition, afterSeq } = parsePeekCursor(cursor);
    const messages: PeekedMessage[] = [];
    while (partition < partitions) {
      const page = (await this.ask(partition, (object) => object.peek(limit - messages.length, afterSeq))) ?? { messages: [], nextCursor: null };
      messages.push(...page.messages);
      if (page.nextCursor !== null) return { messages, nextCursor: peekCursor(partition, Number(page.nextCursor)) };
      partition++;
      afterSeq = 0;
      if (messages.length >= limit) return { messages, nextCursor: partition < partitions ? peekCursor(partition, 0) : null };
    }
    return { messages, nextCursor: null };
  }
}

function unknownPartition(partition: number): { code: ErrorCode; message: string } {
  return { code: ErrorCode.ReceiptHandleInvalid, message: `receipt handle names partition ${partition}, which this queue does not have` };
}
