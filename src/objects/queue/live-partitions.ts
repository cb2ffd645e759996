import { ErrorCode, fail, ok, type Result } from "../../errors";
import { LiveLimits } from "../../schema/live";
import { parsePartitionHandle, partitionHandle, partitionOfGroup } from "../../schema/partitions";
import type { DeleteResult, ReceivedMessage } from "../../schema/queue";
import { partitionObject } from "../keys";
import { shuffled } from "../partition-counts";
import type { QueueEngine } from "./engine";
import type { LiveQueuePort, SendRequest } from "./live";
import { LiveFifoFrames, type HomeFifoRouting } from "./live-fifo";
import { BacklogReportRetryMs, type PartitionHints } from "./partition-hint";

/** A socket as the pump sees it: how much it may still be given, and where its messages go. */
export interface PartitionReceiver {
  /** Credit left, less what is being taken for it already. */
  readonly room: number;
  readonly visibilityTimeoutSeconds: number | undefined;
  /** Holds `count` of its credit for a take under way, so that no other take spends it. */
  reserve(count: number): void;
  release(count: number): void;
  /** Pushes what was taken for it; a socket gone meanwhile leaves them to come back by visibility. */
  push(messages: ReceivedMessage[]): void;
}

/** What live sockets over partitions need of the queue's home object (partition 0). */
export interface LivePartitionsHost {
  env: Env;
  engine: QueueEngine;
  hints: PartitionHints;
  nowMs(): number;
  arm(deadlineMs: number): void;
  /** Sockets with credit, in the order they wait. */
  receivers(): PartitionReceiver[];
  /** A FIFO queue's routing and the home object's own routed send, for send frames. */
  fifo: Omit<HomeFifoRouting, "env" | "meta">;
}

type SendAnswer = Result<{ ids: string[] }>;

/**
 * A socket's frames on a queue of several partitions, run from the home object that holds the
 * socket: sends go where a send through the service goes, acks and visibility changes to the
 * partition their receipt handle names. Partition 0's share runs the object's own methods, so a
 * queue of one partition takes exactly the paths it took before.
 */
export class PartitionedLivePort implements LiveQueuePort {
  /** Sends without a group go to the partitions in turn. */
  private nextSpread = 0;
  /** A FIFO queue's frames, kept in order per group across turns. */
  private fifoFrames: LiveFifoFrames | null = null;

  constructor(
    private readonly host: LivePartitionsHost,
    private readonly local: LiveQueuePort,
  ) {}

  private count(): number {
    return this.host.engine.meta?.attributes.partitions ?? 1;
  }

  private object(partition: number) {
    const meta = this.host.engine.requireMeta();
    return partitionObject(this.host.env, meta.objectKeyPrefix, meta.name, partition);
  }

  exists(): boolean {
    return this.local.exists();
  }

  wake(nowMs: number): void {
    this.local.wake(nowMs);
  }

  /**
   * Each frame to the partition a send through the service would choose: on a standard queue the
   * whole frame to its first group's partition or the next in turn, frames bound for one partition
   * stored in one of its transactions; on a FIFO queue each frame by the FIFO routing
   * (`LiveFifoFrames`). Each frame is answered on its own.
   */
  async sendEach(sends: readonly SendRequest[]): Promise<SendAnswer[]> {
    const partitions = this.count();
    if (partitions <= 1) return this.local.sendEach(sends);
    if (this.host.engine.requireMeta().attributes.fifo) {
      this.fifoFrames ??= new LiveFifoFrames({ env: this.host.env, meta: () => this.host.engine.requireMeta(), ...this.host.fifo });
      return this.fifoFrames.sendEach(sends);
    }
    const byPartition = new Map<number, number[]>();
    sends.forEach(({ messages }, frame) => {
      const group = messages.find((message) => message.groupId !== undefined)?.groupId;
      const partition = group === undefined ? this.nextSpread++ % partitions : partitionOfGroup(group, partitions);
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), frame]);
    });
    const answers: SendAnswer[] = new Array(sends.length);
    await Promise.all(
      [...byPartition].map(async ([partition, frames]) => {
        const stored = await this.sendTo(partition, frames.map((frame) => sends[frame]!));
        frames.forEach((frame, position) => (answers[frame] = stored[position]!));
      }),
    );
    return answers;
  }

  private async sendTo(partition: number, requests: SendRequest[]): Promise<SendAnswer[]> {
    if (partition === 0) return this.local.sendEach(requests);
    let answers: SendAnswer[];
    try {
      answers = await this.object(partition).sendEach(requests);
    } catch {
      return requests.map(() => unreachable(partition));
    }
    // A partition removed by a lowering under way: partition 0 takes the message, as the service's send does.
    const gone = answers.flatMap((answer, index) => (!answer.ok && answer.error.code === ErrorCode.QueueNotFound ? [index] : []));
    if (gone.length === 0) return answers;
    const retried = await this.local.sendEach(gone.map((index) => requests[index]!));
    gone.forEach((index, position) => (answers[index] = retried[position]!));
    return answers;
  }

  /** Each handle in the partition it names (an `ack` frame names one); results in the order given. */
  async deleteMessages(receiptHandles: string[]): Promise<Result<DeleteResult[]>> {
    const answers = await Promise.all(receiptHandles.map((handle) => this.deleteOne(handle)));
    const failed = answers.find((answer) => !answer.ok);
    return failed ?? ok(answers.flatMap((answer) => (answer.ok ? answer.value : [])));
  }

  private async deleteOne(handle: string): Promise<Result<DeleteResult[]>> {
    const { partition, handle: own } = parsePartitionHandle(handle);
    if (partition === 0) return this.local.deleteMessages([handle]);
    if (partition >= this.count()) {
      const { code, message } = unknownPartition(partition);
      return ok([{ deleted: false, receiptHandle: handle, error: { code, message } }]);
    }
    const answer = await this.object(partition).deleteMessages([own]);
    return answer.ok ? ok(answer.value.map((result) => ({ ...result, receiptHandle: handle }))) : answer;
  }

  async changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): Promise<Result<{ nextVisibleAt: number }>> {
    const { partition, handle: own } = parsePartitionHandle(receiptHandle);
    if (partition === 0) return this.local.changeVisibility(receiptHandle, visibilityTimeoutSeconds);
    if (partition >= this.count()) {
      const { code, message } = unknownPartition(partition);
      return fail(code, message);
    }
    return this.object(partition).changeVisibility(own, visibilityTimeoutSeconds);
  }
}

/**
 * Feeds the home object's sockets from the other partitions. Partition 0's messages reach them by
 * the object's own claim, in line with its other waiters; the partitions the backlog hint names are
 * asked here, each take for one socket, at most its credit left (held while the take is under way,
 * so the claim and other takes cannot spend it too), with its visibility timeout. It runs when a
 * socket is given credit, when a partition reports a new backlog, after an eviction and from the
 * alarm, and goes on while takes find messages. A message taken and not delivered (the socket
 * closed, the home object evicted meanwhile) stays claimed in its partition and comes back when
 * its visibility ends, as a receive's whose answer was lost.
 */
export class LivePartitionPump {
  private running: Promise<void> | null = null;
  private again = false;
  /** After a take that failed (a partition restarting), the alarm runs the pump again then. */
  private retryAtMs: number | null = null;
  /** Where the next round starts among the sockets, so that each gets its turn first. */
  private nextReceiver = 0;
  /** Long polls were woken with the sockets: each take is one message, so that rounds and their takes alternate. */
  private shared = false;

  constructor(private readonly host: LivePartitionsHost) {}

  /**
   * Runs the pump, or, when it runs already, has it look again once done. `shared` when receives
   * waiting in the home object were woken by the same report: the sockets then take one message
   * per partition a round, as a socket takes one per turn while other receivers wait.
   */
  kick(shared = false): void {
    const partitions = this.host.engine.meta?.attributes.partitions ?? 1;
    if (partitions <= 1 || this.host.hints.partition !== 0) return;
    if (shared) this.shared = true;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      this.shared = false;
    });
  }

  /** Resolves once the pump is idle. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  nextDeadline(): number | null {
    return this.retryAtMs;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      // Partitions that gave fewer than asked: empty for now (their report saying so may be on its
      // way); a new backlog there is reported, and that report runs the pump again.
      const drained = new Set<number>();
      while (await this.round(drained));
    } while (this.again);
  }

  /**
   * One take from each partition the hint names and `drained` does not, in parallel, while sockets
   * have room; answers whether it took anything. Each round spends credit or drains a partition,
   * so rounds end.
   */
  private async round(drained: Set<number>): Promise<boolean> {
    const meta = this.host.engine.meta;
    if (!meta) return false;
    const nowMs = this.host.nowMs();
    if (this.retryAtMs !== null && this.retryAtMs <= nowMs) this.retryAtMs = null;
    const backlog = shuffled(this.host.hints.reportedBacklog().filter((partition) => !drained.has(partition)));
    const takes: Array<Promise<void>> = [];
    for (const partition of backlog) {
      const receiver = this.pick();
      if (!receiver) break;
      const max = this.shared ? 1 : Math.min(receiver.room, LiveLimits.pushBatchMax);
      receiver.reserve(max);
      takes.push(
        this.take(meta.objectKeyPrefix, meta.name, partition, max, receiver.visibilityTimeoutSeconds)
          .finally(() => receiver.release(max))
          .then((messages) => {
            if (messages.length < max) drained.add(partition);
            if (messages.length > 0) receiver.push(messages);
          }),
      );
    }
    await Promise.all(takes);
    return takes.length > 0;
  }

  /** The next socket with room, round robin. */
  private pick(): PartitionReceiver | null {
    const receivers = this.host.receivers().filter((receiver) => receiver.room > 0);
    if (receivers.length === 0) return null;
    const receiver = receivers[this.nextReceiver % receivers.length]!;
    this.nextReceiver = (this.nextReceiver + 1) % Math.max(1, receivers.length);
    return receiver;
  }

  /** Takes up to `max` messages from `partition` for one socket; never throws (the round awaits every take). */
  private async take(prefix: string, name: string, partition: number, max: number, visibilityTimeout: number | undefined): Promise<ReceivedMessage[]> {
    try {
      const answer = await partitionObject(this.host.env, prefix, name, partition).receive({
        max,
        waitSeconds: 0,
        visibilityTimeout,
      });
      // A partition gone (a lowering) or refusing has nothing to give; its report will say so.
      if (!answer.ok) return [];
      return answer.value.map((message) => ({ ...message, receiptHandle: partitionHandle(partition, message.receiptHandle) }));
    } catch {
      // Its backlog is still reported: the alarm asks again.
      this.retryAtMs = this.host.nowMs() + BacklogReportRetryMs;
      this.host.arm(this.retryAtMs);
      return [];
    }
  }
}

function unknownPartition(partition: number): { code: ErrorCode; message: string } {
  return { code: ErrorCode.ReceiptHandleInvalid, message: `receipt handle names partition ${partition}, which this queue does not have` };
}

/** A partition that did not answer a send: the call may have been stored or not, as with any request whose answer is lost. */
function unreachable(partition: number): SendAnswer {
  return fail(ErrorCode.InternalError, `partition ${partition} of the queue did not answer; the frame's messages may or may not be stored`);
}
