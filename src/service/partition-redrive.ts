import { ErrorCode, ServiceError, unwrap } from "../errors";
import type { RedriveStatus } from "../schema/queue";
import { partitionRange, type QueuePartitions } from "./partitions";

/**
 * A redrive of a queue of several partitions: one task in each partition, each moving that
 * partition's messages at its share of the rate, seen and cancelled as one. The rate is split
 * evenly, at least 1 a second per partition; `maxMessages` is split as evenly as it goes, and a
 * partition whose share is 0 starts no task.
 */
export async function startPartitionedRedrive(
  queue: QueuePartitions,
  partitions: number,
  request: { destination: string | null; maxPerSecond: number; maxMessages?: number },
): Promise<RedriveStatus> {
  const running = (await statuses(queue, partitions)).some((status) => status?.status === "running");
  if (running) throw new ServiceError(ErrorCode.RedriveInProgress, "a redrive is already running on this queue");
  const perSecond = Math.max(1, Math.floor(request.maxPerSecond / partitions));
  await Promise.all(
    partitionRange(0, partitions).map(async (partition) => {
      const share = request.maxMessages === undefined ? undefined : Math.floor(request.maxMessages / partitions) + (partition < request.maxMessages % partitions ? 1 : 0);
      if (share === 0) return;
      unwrap(await queue.object(partition).startRedrive({ destination: request.destination, maxPerSecond: perSecond, maxMessages: share }));
    }),
  );
  return status(queue, partitions);
}

/** The sources a redrive without a destination writes to: those of every partition's dead letters. */
export async function partitionedRedriveSources(queue: QueuePartitions, partitions: number): Promise<string[]> {
  const all = await Promise.all(partitionRange(0, partitions).map(async (partition) => unwrap(await queue.object(partition).redriveSources())));
  return [...new Set(all.flat())];
}

/** Every partition's task as one: running while any runs; moved, remaining and the rate added up. */
export async function partitionedRedriveStatus(queue: QueuePartitions, partitions: number): Promise<RedriveStatus> {
  return status(queue, partitions);
}

/** Cancels every running task; with `startedAt`, only if it is the whole redrive's start (the earliest task's). */
export async function cancelPartitionedRedrive(queue: QueuePartitions, partitions: number, startedAt?: number): Promise<RedriveStatus> {
  const each = await statuses(queue, partitions);
  const whole = combine(each);
  if (!whole || whole.status !== "running") throw new ServiceError(ErrorCode.RedriveNotFound, "no redrive is running on this queue");
  if (startedAt !== undefined && whole.startedAt !== startedAt) {
    throw new ServiceError(ErrorCode.RedriveNotFound, `no redrive started at ${startedAt} is running on this queue`);
  }
  await Promise.all(
    each.map(async (task, partition) => {
      if (task?.status !== "running") return;
      const cancelled = await queue.object(partition).cancelRedrive(task.startedAt);
      // A task that ended meanwhile is not running to cancel.
      if (!cancelled.ok && cancelled.error.code !== ErrorCode.RedriveNotFound) unwrap(cancelled);
    }),
  );
  return status(queue, partitions);
}

async function statuses(queue: QueuePartitions, partitions: number): Promise<Array<RedriveStatus | null>> {
  return Promise.all(
    partitionRange(0, partitions).map(async (partition) => {
      const answer = await queue.object(partition).getRedrive();
      if (!answer.ok && (answer.error.code === ErrorCode.RedriveNotFound || (partition > 0 && answer.error.code === ErrorCode.QueueNotFound))) return null;
      return unwrap(answer);
    }),
  );
}

async function status(queue: QueuePartitions, partitions: number): Promise<RedriveStatus> {
  const whole = combine(await statuses(queue, partitions));
  if (!whole) throw new ServiceError(ErrorCode.RedriveNotFound, "no redrive has run on this queue");
  return whole;
}

function combine(each: Array<RedriveStatus | null>): RedriveStatus | null {
  const tasks = each.filter((task): task is RedriveStatus => task !== null);
  if (tasks.length === 0) return null;
  const some = (state: RedriveStatus["status"]) => tasks.some((task) => task.status === state);
  const status = some("running") ? "running" : some("failed") ? "failed" : some("cancelled") ? "cancelled" : "completed";
  const sum = (pick: (task: RedriveStatus) => number) => tasks.reduce((total, task) => total + pick(task), 0);
  return {
    status,
    destination: tasks[0]!.destination,
    maxPerSecond: sum((task) => task.maxPerSecond),
    maxMessages: tasks.every((task) => task.maxMessages !== null) ? sum((task) => task.maxMessages!) : null,
    moved: sum((task) => task.moved),
    remaining: sum((task) => task.remaining),
    startedAt: Math.min(...tasks.map((task) => task.startedAt)),
    endedAt: status === "running" ? null : Math.max(...tasks.map((task) => task.endedAt ?? 0)),
    lastError: tasks.find((task) => task.lastError !== null)?.lastError ?? null,
  };
}
