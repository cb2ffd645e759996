import { ErrorCode, ServiceError } from "../errors";
import type { FifoRouting, RoutedSend } from "./queue/partition-epoch";
import { partitionOfGroup } from "../schema/partitions";
import { attributeBytes } from "../schema/message-attributes";
import { QueueLimits, type OutgoingMessage, type SentMessage } from "../schema/queue";

/** Routings tried for one send: a refusal as stale (or a partition removed meanwhile) asks the home object again. */
const RouteAttempts = 3;

/** A FIFO queue's routing as a Worker isolate holds it: the count and what settles beyond it. */
export interface FifoRoute extends FifoRouting {
  partitions: number;
}

/** What FIFO routing needs of the queue's partitions. */
export interface FifoPartitions {
  /** The routing, from this isolate's cache or (with `fresh`, or when it has none) from the home object. */
  route(fresh: boolean): Promise<FifoRoute>;
  /** One partition's `sendRouted`, unwrapped. */
  sendRouted(partition: number, messages: OutgoingMessage[], senderId: string | null, epoch: number, onlyWhereGroupIs: boolean): Promise<RoutedSend>;
  /** Bounds a batch split over several partitions as a whole. */
  checkBatch(messages: readonly OutgoingMessage[]): void;
}

/** A call refused as routed under an old epoch, or sent to a partition a lowering removed: route again. */
class Reroute extends Error {}

/**
 * A FIFO queue's send. Each message goes to its group's partition under the current count; while
 * earlier counts settle, each earlier partition of its group that differs is first asked to take
 * it only if the group is still there (or its deduplication id was seen there), so a group moves
 * only once its old partition holds none of its messages, and a retry finds its duplicate in
 * either place. Every call carries the routing's epoch; a partition that has seen a newer one
 * refuses it, storing nothing, and the send is routed again from a fresh routing (the parts
 * already stored answer as duplicates then, by their deduplication ids).
 */
export async function sendFifo(partitions: FifoPartitions, messages: OutgoingMessage[], senderId: string | null): Promise<SentMessage[]> {
  for (let attempt = 1; ; attempt++) {
    const route = await partitions.route(attempt > 1);
    try {
      return await sendUnder(partitions, route, messages, senderId);
    } catch (error) {
      if (!(error instanceof Reroute)) throw error;
      if (attempt >= RouteAttempts) throw new ServiceError(ErrorCode.InternalError, `the queue's partition count kept changing during the send; send again`);
    }
  }
}

async function sendUnder(partitions: FifoPartitions, route: FifoRoute, messages: OutgoingMessage[], senderId: string | null): Promise<SentMessage[]> {
  const home = (message: OutgoingMessage) => partitionOfGroup(message.groupId ?? "", route.partitions);
  if (route.settling.length > 0 || new Set(messages.map(home)).size > 1) {
    if (messages.length > 1) partitions.checkBatch(messages);
  }
  const sent: Array<SentMessage | null> = messages.map(() => null);
  let pending = messages.map((_, index) => index);
  for (const count of route.settling) {
    const earlier = spread(pending, (index) => {
      const { groupId } = messages[index]!;
      const partition = groupId === undefined ? null : partitionOfGroup(groupId, count);
      return partition === home(messages[index]!) ? null : partition;
    });
    await sendParts(partitions, route, messages, senderId, earlier, true, sent);
    pending = pending.filter((index) => sent[index] === null);
  }
  await sendParts(partitions, route, messages, senderId, spread(pending, (index) => home(messages[index]!)), false, sent);
  return sent.map((message) => message!);
}

/** The indexes by the partition `partitionOf` gives them; null leaves one out. */
function spread(indexes: readonly number[], partitionOf: (index: number) => number | null): Map<number, number[]> {
  const parts = new Map<number, number[]>();
  for (const index of indexes) {
    const partition = partitionOf(index);
    if (partition !== null) parts.set(partition, [...(parts.get(partition) ?? []), index]);
  }
  return parts;
}

async function sendParts(
  partitions: FifoPartitions,
  route: FifoRoute,
  messages: OutgoingMessage[],
  senderId: string | null,
  parts: Map<number, number[]>,
  onlyWhereGroupIs: boolean,
  sent: Array<SentMessage | null>,
): Promise<void> {
  const answers = await Promise.allSettled(
    [...parts].map(async ([partition, indexes]) => {
      const batch = indexes.map((index) => messages[index]!);
      let answer: RoutedSend;
      try {
        answer = await partitions.sendRouted(partition, batch, senderId, route.epoch, onlyWhereGroupIs);
      } catch (error) {
        const removed = partition > 0 && error instanceof ServiceError && error.code === ErrorCode.QueueNotFound;
        // An earlier partition a lowering removed holds no group; a current one removed means the count changed.
        if (removed && onlyWhereGroupIs) return;
        throw removed ? new Reroute() : error;
      }
      if (answer.stale) throw new Reroute();
      indexes.forEach((index, position) => (sent[index] = answer.messages[position] ?? null));
    }),
  );
  const failed = answers.find((answer): answer is PromiseRejectedResult => answer.status === "rejected");
  if (!failed) return;
  // A real error is the caller's to see before a reroute.
  const real = answers.find((answer): answer is PromiseRejectedResult => answer.status === "rejected" && !(answer.reason instanceof Reroute));
  throw (real ?? failed).reason;
}

/** Bounds a batch's bodies and attributes as a whole, as one partition's send would. */
export function checkBatchBytes(messages: readonly OutgoingMessage[]): void {
  const encoder = new TextEncoder();
  const bytes = messages.reduce((sum, message) => sum + encoder.encode(message.body).byteLength + attributeBytes(message.attributes), 0);
  if (bytes > QueueLimits.batchBodyMaxBytes) {
    throw new ServiceError(ErrorCode.BatchTooLarge, `a batch's messages (bodies and attributes) total ${bytes} bytes; the most is ${QueueLimits.batchBodyMaxBytes}`);
  }
}
