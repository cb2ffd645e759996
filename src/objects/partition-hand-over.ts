import { ErrorCode, type Result } from "../errors";
import { partitionObject } from "./keys";
import { handOverFifo } from "./partition-hand-over-fifo";
import { handOverPartition, partitionCounts, type QueueShape } from "./partition-counts";
import type { TransferredMessage } from "./queue/moves";

/** One message to hand over, and the partition an earlier attempt chose for it (null before its first). */
export interface HandOverItem<K> {
  key: K;
  message: TransferredMessage;
  partition: number | null;
}

/** What a hand-over needs of its sender: the items, read after any await, and where their choice is kept. */
export interface HandOverSender<K> {
  /** The items to hand over now, read synchronously (rows gone meanwhile are left out). */
  items(): Array<HandOverItem<K>>;
  /** Keeps, synchronously and before the call that carries them, the partition chosen for items. */
  record(keys: K[], partition: number): void;
  nowMs(): number;
}

/** One call's worth of a hand-over: its items' keys and its error, or null once the partition has them. */
export interface HandOverOutcome<K> {
  keys: K[];
  error: string | null;
}

function describe(error: { code: string; message: string }): string {
  return `${error.code}: ${error.message}`;
}

function thrownMessage(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

/**
 * The target's partition count and kind, from this isolate's cache or (`fresh`, or a FIFO queue's
 * cached without its routing) asked of its own object.
 */
async function shapeOf(env: Env, prefix: string, name: string, nowMs: () => number, fresh = false): Promise<Result<QueueShape>> {
  const cached = fresh ? undefined : partitionCounts.cached(prefix, name, nowMs());
  if (cached && (!cached.fifo || cached.routing)) return { ok: true, value: cached };
  try {
    const answer = await partitionObject(env, prefix, name, 0).partitionShape();
    if (answer.ok) partitionCounts.remember(prefix, name, answer.value, nowMs());
    return answer;
  } catch (thrown) {
    return { ok: false, error: { code: ErrorCode.InternalError, message: thrownMessage(thrown) } };
  }
}

/**
 * Hands messages to a queue, spread over its partitions as sends are (`handOverPartition`; a FIFO
 * queue's by its sends' routing, `handOverFifo`): one
 * call per partition, each stored or failed on its own. The target stores each idempotency key
 * once, but per partition object, so a retried item must reach the partition its first attempt
 * chose: the choice is kept with the item (`record`) before the call that carries it, and a retry
 * goes there whatever the count has become since.
 *
 * A partition removed since (a lowering) answers QueueNotFound, and its items choose again under
 * the fresh count. That stores nothing twice in the normal path: a lowering removes only empty
 * partitions, so the earlier attempt either stored nothing there, or stored the message and it
 * was received and deleted before the lowering. Only in that second case, which needs the earlier
 * attempt's answer to have been lost as well, is a message delivered again.
 */
export async function handOverToQueue<K>(env: Env, prefix: string, name: string, sender: HandOverSender<K>): Promise<Array<HandOverOutcome<K>>> {
  const shape = await shapeOf(env, prefix, name, () => sender.nowMs());
  const items = sender.items();
  if (items.length === 0) return [];
  if (!shape.ok) return [{ keys: items.map((item) => item.key), error: describe(shape.error) }];
  if (shape.value.fifo) {
    const learned = shape;
    return handOverFifo(env, prefix, name, sender, items, async (fresh) => (fresh ? shapeOf(env, prefix, name, () => sender.nowMs(), true) : learned));
  }
  const parts = choose(items, shape.value, sender);
  const outcomes = await Promise.all([...parts].map(([partition, part]) => deliver(env, prefix, name, partition, part, sender, true)));
  return outcomes.flat();
}

/** Groups items by partition, choosing and recording one for each item that has none yet. */
function choose<K>(items: Array<HandOverItem<K>>, shape: QueueShape, sender: HandOverSender<K>): Map<number, Array<HandOverItem<K>>> {
  const parts = new Map<number, Array<HandOverItem<K>>>();
  const chosen = new Map<number, K[]>();
  const add = <T>(map: Map<number, T[]>, partition: number, value: T) => {
    const list = map.get(partition);
    if (list) list.push(value);
    else map.set(partition, [value]);
  };
  for (const item of items) {
    let partition = item.partition;
    if (partition === null) {
      partition = handOverPartition(item.message, shape);
      add(chosen, partition, item.key);
    }
    add(parts, partition, { ...item, partition });
  }
  for (const [partition, keys] of chosen) sender.record(keys, partition);
  return parts;
}

async function deliver<K>(
  env: Env,
  prefix: string,
  name: string,
  partition: number,
  items: Array<HandOverItem<K>>,
  sender: HandOverSender<K>,
  mayChooseAgain: boolean,
): Promise<Array<HandOverOutcome<K>>> {
  const keys = items.map((item) => item.key);
  try {
    const answer = await partitionObject(env, prefix, name, partition).accept(items.map((item) => item.message));
    if (answer.ok) return [{ keys, error: null }];
    if (!(mayChooseAgain && partition > 0 && answer.error.code === ErrorCode.QueueNotFound)) return [{ keys, error: describe(answer.error) }];
  } catch (thrown) {
    return [{ keys, error: thrownMessage(thrown) }];
  }
  // The partition was removed since the count was learned or the choice made: choose again, once, under the queue's count now.
  partitionCounts.forget(prefix, name);
  const shape = await shapeOf(env, prefix, name, () => sender.nowMs());
  if (!shape.ok) return [{ keys, error: describe(shape.error) }];
  const parts = choose(
    items.map((item) => ({ ...item, partition: null })),
    shape.value,
    sender,
  );
  const outcomes = await Promise.all([...parts].map(([again, part]) => deliver(env, prefix, name, again, part, sender, false)));
  return outcomes.flat();
}
