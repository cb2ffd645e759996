import { authorize } from "../auth/authenticate";
import { serviceBinding } from "../delivery/service-binding";
import { ErrorCode, ServiceError, unwrap, type Result } from "../errors";
import { objectKeyPrefix, partitionObject, queueObject } from "../objects/keys";
import type { MirroredConsumer } from "../objects/queue/consumer/store";
import { QueueName } from "../schema/queue";
import type { ConsumerInfo, ConsumerSettings } from "../schema/queue-consumer";
import { parse } from "../schema/parse";
import { partitionRange } from "./partitions";
import type { Scope } from "./queues";

/**
 * A queue's consumer Worker. Setting one needs `manage` (it configures the queue) and `receive`
 * (the consumer takes and deletes its messages, as a receiver does); the binding must be a service
 * binding configured on this Worker, checked as a topic's `worker` subscription is. Reading needs
 * `read`; pausing, resuming and deleting need `manage`.
 *
 * On a queue of several partitions every partition runs the consumer on its own messages: the
 * queue's own object (partition 0) holds the consumer as set, and each change is then mirrored
 * to the other partitions (a partition made later by a raise takes it from partition 0 when it
 * is made). Reading it adds up every partition's counters.
 */
export class QueueConsumerOperations {
  private readonly objectKeyPrefix: string;

  constructor(
    private readonly env: Env,
    private readonly scope: Scope,
  ) {
    this.objectKeyPrefix = objectKeyPrefix(scope.account, scope.region);
  }

  private queue(name: string, ...actions: Array<"manage" | "read" | "receive">) {
    parse(QueueName, name, "queue name");
    for (const action of actions) authorize(this.scope.principal, action, `queue:${name}`);
    return queueObject(this.env, this.objectKeyPrefix, name);
  }

  async setConsumer(name: string, settings: ConsumerSettings): Promise<{ created: boolean; consumer: ConsumerInfo }> {
    const queue = this.queue(name, "manage", "receive");
    if (!serviceBinding(this.env, settings.binding)) {
      throw new ServiceError(ErrorCode.InvalidParameter, `binding: no service binding named ${settings.binding} is configured on this Worker`);
    }
    const result = unwrap(await queue.setConsumer(settings));
    const partitions = await this.mirror(name, mirroredOf(result.consumer));
    return partitions.length === 0 ? result : { ...result, consumer: whole(result.consumer, await this.gather(name, partitions)) };
  }

  async getConsumer(name: string): Promise<ConsumerInfo> {
    const queue = this.queue(name, "read");
    const home = unwrap(await queue.getConsumer());
    const partitions = partitionRange(1, unwrap(await queue.partitionBacklog()).partitions);
    return partitions.length === 0 ? home : whole(home, await this.gather(name, partitions));
  }

  async deleteConsumer(name: string): Promise<void> {
    unwrap(await this.queue(name, "manage").deleteConsumer());
    await this.mirror(name, null);
  }

  async pauseConsumer(name: string, paused: boolean): Promise<ConsumerInfo> {
    const home = unwrap(await this.queue(name, "manage").pauseConsumer(paused));
    const partitions = await this.mirror(name, mirroredOf(home));
    return partitions.length === 0 ? home : whole(home, await this.gather(name, partitions));
  }

  /**
   * Gives partitions past 0 the consumer partition 0 now holds (or none); answers them. A partition
   * removed meanwhile by a lowering is skipped.
   */
  private async mirror(name: string, consumer: MirroredConsumer | null): Promise<number[]> {
    const partitions = partitionRange(1, unwrap(await this.queue(name).partitionBacklog()).partitions);
    await Promise.all(
      partitions.map(async (partition) => present(await partitionObject(this.env, this.objectKeyPrefix, name, partition).mirrorConsumer(consumer))),
    );
    return partitions;
  }

  /** The consumer as each of `partitions` holds it; one that has none (a raise or lowering under way) is left out. */
  private async gather(name: string, partitions: number[]): Promise<ConsumerInfo[]> {
    const infos = await Promise.all(
      partitions.map(async (partition) => present(await partitionObject(this.env, this.objectKeyPrefix, name, partition).getConsumer())),
    );
    return infos.filter((info): info is ConsumerInfo => info !== null);
  }
}

/** A partition's answer; null for a partition without the queue or the consumer. */
function present<T>(result: Result<T>): T | null {
  if (result.ok) return result.value;
  if (result.error.code === ErrorCode.QueueNotFound || result.error.code === ErrorCode.ConsumerNotFound) return null;
  throw new ServiceError(result.error.code, result.error.message);
}

function mirroredOf(info: ConsumerInfo): MirroredConsumer {
  const { binding, batchSize, maxWaitMs, maxConcurrency, maxRetries, retryDelaySeconds, paused } = info;
  return { settings: { binding, batchSize, maxWaitMs, maxConcurrency, maxRetries, retryDelaySeconds }, paused };
}

/**
 * The consumer of the whole queue: partition 0's settings and state, every partition's counters
 * added, the lag of the oldest backlog anywhere, the latest error anywhere.
 */
function whole(home: ConsumerInfo, others: ConsumerInfo[]): ConsumerInfo {
  const stats = { ...home.stats };
  for (const { stats: other } of others) {
    stats.delivered += other.delivered;
    stats.acked += other.acked;
    stats.retried += other.retried;
    stats.failed += other.failed;
    stats.inFlightBatches += other.inFlightBatches;
    stats.inFlightMessages += other.inFlightMessages;
    stats.backlog += other.backlog;
    stats.lagMs = Math.max(stats.lagMs, other.lagMs);
    if (other.lastErrorAt !== null && (stats.lastErrorAt === null || other.lastErrorAt > stats.lastErrorAt)) {
      stats.lastError = other.lastError;
      stats.lastErrorAt = other.lastErrorAt;
    }
  }
  return { ...home, stats };
}
