import { ErrorCode, type Result } from "../errors";
import { partitionOfGroup } from "../schema/partitions";
import { partitionObject } from "./keys";
import { handOverPartition, type QueueShape } from "./partition-counts";
import type { HandOverItem, HandOverOutcome, HandOverSender } from "./partition-hand-over";
import { DefaultFifoGroupId } from "./queue/fifo";
import type { RoutedAccept } from "./queue/routed-accept";

/** Routings tried for one hand-over: a call refused as stale routes its items again from a fresh one. */
const RouteAttempts = 3;

/** Where a FIFO hand-over's target is learned, cached or (`fresh`) asked of its home object. */
export type ShapeSource = (fresh: boolean) => Promise<Result<QueueShape>>;

interface Round<K> {
  done: Array<HandOverOutcome<K>>;
  /**
   * Items to route again: refused as stale (they stored nothing in that call, but an earlier
   * attempt may have, so they keep that partition, asked first next time), or bound for a
   * partition removed meanwhile (they choose afresh).
   */
  reroute: Array<HandOverItem<K>>;
}

function describe(error: { code: string; message: string }): string {
  return `${error.code}: ${error.message}`;
}

function groupOf<K>(item: HandOverItem<K>): string {
  return item.message.groupId ?? DefaultFifoGroupId;
}

/**
 * Hands messages to a FIFO queue by the routing its sends follow (`sendFifo`): each message goes
 * where its group has messages, if anywhere (an earlier partition while a change of the count
 * settles, asked to take it only if the group is still there), else to its group's partition
 * under the current count; every call carries the routing epoch, and a partition that has seen a
 * newer one refuses, storing nothing. An item whose earlier attempt may have been stored first
 * asks the partition recorded for it, which takes it if it holds its idempotency key (or its
 * group); a refusal there means the item was never stored there, so it chooses again. A call
 * refused as stale leaves each item's recorded partition as it was, to be asked first under the
 * fresh routing, since an earlier attempt may have stored it there. Each choice is recorded
 * before the call that carries it.
 */
export async function handOverFifo<K>(
  env: Env,
  prefix: string,
  name: string,
  sender: HandOverSender<K>,
  items: Array<HandOverItem<K>>,
  shapeOf: ShapeSource,
): Promise<Array<HandOverOutcome<K>>> {
  const outcomes: Array<HandOverOutcome<K>> = [];
  let pending = items;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const keys = pending.map((item) => item.key);
    if (attempt > RouteAttempts) {
      outcomes.push({ keys, error: `${ErrorCode.InternalError}: the queue's partition count kept changing during the hand-over` });
      break;
    }
    const shape = await shapeOf(attempt > 1);
    if (!shape.ok) {
      outcomes.push({ keys, error: describe(shape.error) });
      break;
    }
    const round = await routeOnce(env, prefix, name, shape.value, pending, sender);
    outcomes.push(...round.done);
    pending = round.reroute;
  }
  return outcomes;
}

async function routeOnce<K>(env: Env, prefix: string, name: string, shape: QueueShape, items: Array<HandOverItem<K>>, sender: HandOverSender<K>): Promise<Round<K>> {
  const { epoch, settling } = shape.routing ?? { epoch: 0, settling: [] };
  const home = (item: HandOverItem<K>) => handOverPartition(item.message, shape);
  const round: Round<K> = { done: [], reroute: [] };
  // A group's items reach a partition in the order they were given, whichever step they come from.
  const order = new Map(items.map((item, index) => [item.key, index]));
  const inOrder = (list: Array<HandOverItem<K>>) => list.sort((a, b) => order.get(a.key)! - order.get(b.key)!);
  const call = (partition: number, part: Array<HandOverItem<K>>, onlyWhereGroupIs: boolean) =>
    callPartition(env, prefix, name, partition, part, epoch, onlyWhereGroupIs, round);

  // Partitions asked in this round to take an item only where its group is; under one epoch a
  // group does not come back to a partition it has left, so the answer holds for the round.
  const asked = new Map<K, Set<number>>();
  const ask = (part: Array<HandOverItem<K>>, partition: number) => {
    for (const item of part) asked.set(item.key, (asked.get(item.key) ?? new Set()).add(partition));
  };

  // Items an earlier attempt sent somewhere: that partition first, which knows them if it stored them.
  const recorded = bySpread(
    items.filter((item) => item.partition !== null),
    (item) => item.partition,
  );
  for (const [partition, part] of recorded) ask(part, partition);
  let pending = items.filter((item) => item.partition === null);
  pending = inOrder([...pending, ...(await Promise.all([...recorded].map(([partition, part]) => call(partition, part, true)))).flat()]);
  for (const count of settling) {
    const earlierOf = (item: HandOverItem<K>) => {
      const partition = partitionOfGroup(groupOf(item), count);
      return partition === home(item) || asked.get(item.key)?.has(partition) ? null : partition;
    };
    const earlier = bySpread(pending, earlierOf);
    pending = pending.filter((item) => earlierOf(item) === null);
    for (const [partition, part] of earlier) {
      ask(part, partition);
      sender.record(part.map((item) => item.key), partition);
    }
    pending = inOrder([...pending, ...(await Promise.all([...earlier].map(([partition, part]) => call(partition, part, true)))).flat()]);
  }
  const current = bySpread(pending, home);
  for (const [partition, part] of current) sender.record(part.map((item) => item.key), partition);
  const left = (await Promise.all([...current].map(([partition, part]) => call(partition, part, false)))).flat();
  // An unconditional call takes everything it stores; a partition removed meanwhile means the count changed.
  round.reroute.push(...left.map((item) => ({ ...item, partition: null })));
  return round;
}

/**
 * One routed call. Answers the items the partition did not take (not their group's partition, or
 * removed by a lowering), which stored nothing there; its outcome for the others goes to `round`.
 */
async function callPartition<K>(
  env: Env,
  prefix: string,
  name: string,
  partition: number,
  part: Array<HandOverItem<K>>,
  epoch: number,
  onlyWhereGroupIs: boolean,
  round: Round<K>,
): Promise<Array<HandOverItem<K>>> {
  const keys = part.map((item) => item.key);
  let answer: Result<RoutedAccept>;
  try {
    answer = await partitionObject(env, prefix, name, partition).acceptRouted(
      part.map((item) => item.message),
      epoch,
      onlyWhereGroupIs,
    );
  } catch (thrown) {
    round.done.push({ keys, error: thrown instanceof Error ? thrown.message : String(thrown) });
    return [];
  }
  if (!answer.ok) {
    // A partition a lowering removed holds no group and stored nothing.
    if (partition > 0 && answer.error.code === ErrorCode.QueueNotFound) return part;
    round.done.push({ keys, error: describe(answer.error) });
    return [];
  }
  const accepted = answer.value;
  if (accepted.stale) {
    round.reroute.push(...part.map((item) => ({ ...item, partition })));
    return [];
  }
  const taken = part.filter((_, index) => accepted.taken[index]);
  if (taken.length > 0) round.done.push({ keys: taken.map((item) => item.key), error: null });
  return part.filter((_, index) => !accepted.taken[index]).map((item) => ({ ...item, partition: null }));
}

/** Items by the partition `partitionOf` gives them, in their order; null leaves one out. */
function bySpread<K>(items: Array<HandOverItem<K>>, partitionOf: (item: HandOverItem<K>) => number | null): Map<number, Array<HandOverItem<K>>> {
  const parts = new Map<number, Array<HandOverItem<K>>>();
  for (const item of items) {
    const partition = partitionOf(item);
    if (partition === null) continue;
    const list = parts.get(partition);
    if (list) list.push(item);
    else parts.set(partition, [item]);
  }
  return parts;
}
