import { partitionOfGroup } from "../schema/partitions";
import { objectKey } from "./keys";
import { DefaultFifoGroupId } from "./queue/fifo";
import type { FifoRouting } from "./queue/partition-epoch";

/**
 * How long a Worker isolate trusts the partition count it last saw for a queue. A standard queue's
 * count only spreads messages (every partition is a valid place for one, and a partition removed
 * meanwhile refuses: a send then goes to partition 0, a hand-over chooses again), so a stale count
 * costs evenness, never a message; a raise reaches every isolate within this time. A FIFO queue's
 * sends and hand-overs trust it only with the routing epoch learned alongside, which partitions check.
 */
export const PartitionCountTtlMs = 5_000;

/** What a sender needs to know of a queue to choose a partition: how many, and whether groups must stay in theirs. */
export interface QueueShape {
  partitions: number;
  fifo: boolean;
  /** A FIFO queue's routing epoch and settling counts, when learned with the count. */
  routing?: FifoRouting;
}

const known = new Map<string, QueueShape & { expiresAtMs: number }>();

/**
 * The partition counts this isolate knows, per queue, shared by the service's sends and receives
 * and by the objects' hand-overs (dead letters, redrive, topic deliveries): whoever learns a new
 * count first saves the others the question.
 */
export const partitionCounts = {
  remember(prefix: string, name: string, shape: QueueShape, nowMs: number): void {
    known.set(objectKey(prefix, name), { ...shape, expiresAtMs: nowMs + PartitionCountTtlMs });
  },
  forget(prefix: string, name: string): void {
    known.delete(objectKey(prefix, name));
  },
  cached(prefix: string, name: string, nowMs: number): QueueShape | undefined {
    const entry = known.get(objectKey(prefix, name));
    if (!entry || entry.expiresAtMs <= nowMs) return undefined;
    const { expiresAtMs: _expires, ...shape } = entry;
    return shape;
  },
};

/**
 * The partition a handed-over message goes to, chosen as a send's: on a FIFO queue its group's
 * under the current count (where `handOverFifo` sends it once no earlier partition holds the group)
 * (a message without one joins `DefaultFifoGroupId`, as the queue stores it), so a group keeps its
 * order; on a standard queue its tenant's when it names one, so a tenant's messages stay together,
 * else a hash of its idempotency key, which spreads messages evenly.
 */
export function handOverPartition(message: { idempotencyKey: string; groupId?: string | null }, target: QueueShape): number {
  if (target.partitions <= 1) return 0;
  if (target.fifo) return partitionOfGroup(message.groupId ?? DefaultFifoGroupId, target.partitions);
  return partitionOfGroup(message.groupId ?? message.idempotencyKey, target.partitions);
}

/** Partitions in random order (Fisher-Yates), so that receivers asking the same hint do not all start at one. */
export function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}
