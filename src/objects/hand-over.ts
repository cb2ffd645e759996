/**
 * Bounds of one object-to-object call that carries messages (dead-letter moves, redrive, topic
 * fan-out to queues). workerd refuses RPC arguments over 32 MiB, and a refused call fails its
 * whole batch on every retry; a quarter of that leaves room for tags, ids and encoding.
 */
export const HandOverMaxBytes = 8 * 1_048_576;
export const HandOverMaxMessages = 100;

const textEncoder = new TextEncoder();

/** What a stored message weighs in a hand-over: its body and its attributes' JSON, in UTF-8 bytes. */
export function handOverBytes(message: { body: string; attributes: string | null }): number {
  return textEncoder.encode(message.body).byteLength + (message.attributes ? textEncoder.encode(message.attributes).byteLength : 0);
}

/**
 * Splits items, in order, into batches of at most `maxCount` items and `maxBytes` bytes. An item
 * larger than `maxBytes` by itself goes alone, so one message never makes a batch fail.
 */
export function splitByBytes<T>(
  items: readonly T[],
  bytesOf: (item: T) => number,
  maxBytes = HandOverMaxBytes,
  maxCount = HandOverMaxMessages,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const item of items) {
    const bytes = bytesOf(item);
    if (current.length > 0 && (current.length >= maxCount || currentBytes + bytes > maxBytes)) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
