import { ErrorCode, fail, ok, ServiceError, type Result } from "../../errors";
import type { OutgoingMessage } from "../../schema/queue";
import { checkBatchBytes, sendFifo, type FifoPartitions, type FifoRoute } from "../fifo-routing";
import { partitionObject } from "../keys";
import type { SendRequest } from "./live";
import type { FifoRouting, RoutedSend } from "./partition-epoch";
import type { QueueMeta } from "./metadata";

/** What a FIFO queue's home object lends the routing of its sockets' send frames. */
export interface HomeFifoRouting {
  env: Env;
  meta(): QueueMeta;
  /** The routing the home object keeps: its own, so never stale. */
  routing(): FifoRouting;
  /** The home object's own `sendRoutedEach` (partition 0). */
  sendRoutedEach(sends: readonly SendRequest[], epoch: number, onlyWhereGroupIs: boolean): Promise<Array<Result<RoutedSend>>>;
}

/** Routed sends to one partition under one epoch and condition, gathered for one call. */
interface Gathered {
  partition: number;
  epoch: number;
  onlyWhereGroupIs: boolean;
  calls: Array<{ send: SendRequest; answer: (sent: RoutedSend) => void; fail: (error: unknown) => void }>;
}

/**
 * The queue's partitions as the home object reaches them: itself directly, the others by their
 * stubs. The routed sends that frames make in the same turn of the event loop to one partition
 * (under one epoch, with one condition) go in one `sendRoutedEach` call, stored in one write
 * transaction and each answered on its own.
 */
class HomePartitions implements FifoPartitions {
  private readonly gathering = new Map<string, Gathered>();

  constructor(private readonly home: HomeFifoRouting) {}

  async route(): Promise<FifoRoute> {
    return { partitions: this.home.meta().attributes.partitions, ...this.home.routing() };
  }

  sendRouted(partition: number, messages: OutgoingMessage[], senderId: string | null, epoch: number, onlyWhereGroupIs: boolean): Promise<RoutedSend> {
    const key = `${partition}/${epoch}/${onlyWhereGroupIs}`;
    let gathered = this.gathering.get(key);
    if (!gathered) {
      const started: Gathered = { partition, epoch, onlyWhereGroupIs, calls: [] };
      this.gathering.set(key, started);
      // A zero timer fires once every frame of the turn has made its call.
      setTimeout(() => {
        this.gathering.delete(key);
        void this.flush(started);
      }, 0);
      gathered = started;
    }
    const calls = gathered.calls;
    return new Promise((answer, fail) => calls.push({ send: { messages, senderId }, answer, fail }));
  }

  private async flush({ partition, epoch, onlyWhereGroupIs, calls }: Gathered): Promise<void> {
    const sends = calls.map((call) => call.send);
    let answers: Array<Result<RoutedSend>>;
    try {
      if (partition === 0) answers = await this.home.sendRoutedEach(sends, epoch, onlyWhereGroupIs);
      else {
        const { objectKeyPrefix, name } = this.home.meta();
        answers = await partitionObject(this.home.env, objectKeyPrefix, name, partition).sendRoutedEach(sends, epoch, onlyWhereGroupIs);
      }
    } catch {
      const lost = new ServiceError(ErrorCode.InternalError, `partition ${partition} of the queue did not answer; the frame's messages may or may not be stored`);
      for (const call of calls) call.fail(lost);
      return;
    }
    calls.forEach((call, index) => {
      const answer = answers[index]!;
      if (answer.ok) call.answer(answer.value);
      else call.fail(new ServiceError(answer.error.code, answer.error.message));
    });
  }

  checkBatch(messages: readonly OutgoingMessage[]): void {
    checkBatchBytes(messages);
  }
}

/** A group key that tells a message without a group apart from every named one. */
function groupKey(message: OutgoingMessage): string {
  return message.groupId === undefined ? "\u0000" : `=${message.groupId}`;
}

/**
 * Send frames on a partitioned FIFO queue, each routed as a send through the service is
 * (`sendFifo`: the group's partition under the current count, or the earlier partition where it
 * still has messages while a change settles, every call fenced by the routing epoch) and answered
 * on its own. A frame waits for the frames before it, in this turn or an earlier one still under
 * way, that share a group with it, so each group's frames are stored in the order they arrived;
 * frames of other groups run alongside, their calls to one partition gathered into one (see
 * `HomePartitions`). Held by the home object in memory: an eviction ends every frame under way.
 */
export class LiveFifoFrames {
  private readonly partitions: HomePartitions;
  /** Per group, the last frame under way; a later frame of the group starts once it is answered. */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(home: HomeFifoRouting) {
    this.partitions = new HomePartitions(home);
  }

  sendEach(sends: readonly SendRequest[]): Promise<Array<Result<{ ids: string[] }>>> {
    return Promise.all(sends.map((send) => this.afterItsGroups(send)));
  }

  private afterItsGroups({ messages, senderId }: SendRequest): Promise<Result<{ ids: string[] }>> {
    const keys = [...new Set(messages.map(groupKey))];
    const before = keys.flatMap((key) => this.tails.get(key) ?? []);
    const answered = Promise.all(before).then(() => this.sendOne(messages, senderId));
    const tail = answered.then(() => undefined);
    for (const key of keys) this.tails.set(key, tail);
    void tail.then(() => {
      for (const key of keys) if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return answered;
  }

  /** One frame; never throws, so that the frames waiting for it go on. */
  private async sendOne(messages: OutgoingMessage[], senderId: string | null): Promise<Result<{ ids: string[] }>> {
    try {
      const sent = await sendFifo(this.partitions, messages, senderId);
      return ok({ ids: sent.map((message) => message.id) });
    } catch (error) {
      // A frame's failure is its own: the other frames are answered as they went.
      return error instanceof ServiceError ? fail(error.code, error.message) : fail(ErrorCode.InternalError, "the frame could not be stored; send it again");
    }
  }
}
