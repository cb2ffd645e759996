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
 * on its own. Frames run in waves: a frame waits for the earlier frames that share a group with
 * it, so each group's frames are stored in the order they arrived, while frames of other groups
 * run alongside, their calls to one partition gathered into one (see `HomePartitions`).
 */
export async function sendFifoFrames(home: HomeFifoRouting, sends: readonly SendRequest[]): Promise<Array<Result<{ ids: string[] }>>> {
  const partitions = new HomePartitions(home);
  const waves: number[][] = [];
  const waveOfGroup = new Map<string, number>();
  sends.forEach(({ messages }, frame) => {
    const keys = messages.map(groupKey);
    const wave = Math.max(-1, ...keys.map((key) => waveOfGroup.get(key) ?? -1)) + 1;
    (waves[wave] ??= []).push(frame);
    for (const key of keys) waveOfGroup.set(key, wave);
  });
  const answers: Array<Result<{ ids: string[] }>> = new Array(sends.length);
  for (const wave of waves) {
    await Promise.all(
      wave.map(async (frame) => {
        const { messages, senderId } = sends[frame]!;
        try {
          const sent = await sendFifo(partitions, messages, senderId);
          answers[frame] = ok({ ids: sent.map((message) => message.id) });
        } catch (error) {
          // A frame's failure is its own: the other frames of the turn are answered as they went.
          answers[frame] = error instanceof ServiceError ? fail(error.code, error.message) : fail(ErrorCode.InternalError, "the frame could not be stored; send it again");
        }
      }),
    );
  }
  return answers;
}
