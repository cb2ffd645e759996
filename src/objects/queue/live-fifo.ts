import { ErrorCode, fail, ok, ServiceError, unwrap, type Result } from "../../errors";
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
  /** The home object's own `sendRouted` (partition 0). */
  sendRouted(messages: OutgoingMessage[], senderId: string | null, epoch: number, onlyWhereGroupIs: boolean): Promise<Result<RoutedSend>>;
}

/** The queue's partitions as the home object reaches them: itself directly, the others by their stubs. */
class HomePartitions implements FifoPartitions {
  constructor(private readonly home: HomeFifoRouting) {}

  async route(): Promise<FifoRoute> {
    return { partitions: this.home.meta().attributes.partitions, ...this.home.routing() };
  }

  async sendRouted(partition: number, messages: OutgoingMessage[], senderId: string | null, epoch: number, onlyWhereGroupIs: boolean): Promise<RoutedSend> {
    if (partition === 0) return unwrap(await this.home.sendRouted(messages, senderId, epoch, onlyWhereGroupIs));
    const { objectKeyPrefix, name } = this.home.meta();
    let answer: Result<RoutedSend>;
    try {
      answer = await partitionObject(this.home.env, objectKeyPrefix, name, partition).sendRouted(messages, senderId, epoch, onlyWhereGroupIs);
    } catch {
      throw new ServiceError(ErrorCode.InternalError, `partition ${partition} of the queue did not answer; the frame's messages may or may not be stored`);
    }
    return unwrap(answer);
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
 * run alongside.
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
