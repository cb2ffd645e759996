import * as v from "valibot";

/**
 * A queue's partitions: how many queue objects hold its messages. Partition 0 is the queue's own
 * object (a queue of 1 partition is a plain queue); the others are found by `partitionObject`.
 */
export const PartitionLimits = { min: 1, max: 64, default: 1 } as const;

export const Partitions = v.pipe(
  v.number(),
  v.integer("partitions is a whole number"),
  v.minValue(PartitionLimits.min, `partitions is at least ${PartitionLimits.min}`),
  v.maxValue(PartitionLimits.max, `partitions is at most ${PartitionLimits.max}`),
  v.description(
    `queue objects the messages are spread over (${PartitionLimits.min} to ${PartitionLimits.max}); raised at any time, lowered only once the partitions to remove are empty`,
  ),
);

/**
 * Receipt handles of partition p > 0 carry `p{p}_` in front of the partition's own handle; a
 * partition's own handles never hold `_`, and partition 0's have no prefix, so handles given out
 * before a queue was partitioned stay valid.
 */
const PartitionHandlePattern = /^p([1-9][0-9]?)_(.+)$/;

export function partitionHandle(partition: number, handle: string): string {
  return partition === 0 ? handle : `p${partition}_${handle}`;
}

/** The partition a handle names and the partition's own handle; a bad prefix names partition 0, which refuses it. */
export function parsePartitionHandle(handle: string): { partition: number; handle: string } {
  const match = PartitionHandlePattern.exec(handle);
  if (!match) return { partition: 0, handle };
  return { partition: Number(match[1]), handle: match[2]! };
}

/**
 * The partition of a message group: FNV-1a over the group id's UTF-16 code units, so every
 * Worker puts a group in the same partition for a given count and its messages stay in order.
 */
export function partitionOfGroup(groupId: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < groupId.length; index++) {
    hash ^= groupId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/**
 * A peek cursor over partitions: the partition in the high bits, the sequence number inside it
 * below. Partition 0's cursors are its plain sequence numbers, as before partitions existed.
 */
const PeekCursorPartitionFactor = 2 ** 47;

export function peekCursor(partition: number, afterSeq: number): string {
  return String(partition * PeekCursorPartitionFactor + afterSeq);
}

export function parsePeekCursor(cursor: number): { partition: number; afterSeq: number } {
  return { partition: Math.floor(cursor / PeekCursorPartitionFactor), afterSeq: cursor % PeekCursorPartitionFactor };
}
