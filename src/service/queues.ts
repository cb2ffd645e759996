import { authorize, can, type Principal } from "../auth/authenticate";
import { systemClock, type Clock } from "../clock";
import { ErrorCode, ServiceError, unwrap } from "../errors";
import { AccountLimits, type Action } from "../schema/account";
import { checkFifoName, defaultQueueAttributes, LaterAttributeDefaults } from "../objects/queue/attributes";
import type { ReceiveRequest } from "../objects/queue-object";
import type { QueueRates } from "../objects/queue/rates";
import {
  FifoNameSuffix,
  QueueLimits,
  QueueName,
  type CreateQueueBody,
  type DeadLetterPolicy,
  type DeleteResult,
  type OutgoingMessage,
  type PeekedMessage,
  type QueueAttributes,
  type QueueInfo,
  type QueueTags,
  type ReceivedMessage,
  type RedriveStatus,
  type SentMessage,
  type UpdateQueueBody,
} from "../schema/queue";
import { parse } from "../schema/parse";
import { parsePartitionHandle } from "../schema/partitions";
import { pageOf, type ListQuery } from "./listing";
import { keepRunning } from "./keep-running";
import { quota, withinQuota } from "./quotas";
import type { CatalogEntry, CatalogFilter } from "../objects/catalog-object";
import { objectKeyPrefix, queueObject } from "../objects/keys";
import { QueuePartitions } from "./partitions";
import { settlingAfter } from "../objects/queue/partition-epoch";
import { cancelPartitionedRedrive, partitionedRedriveSources, partitionedRedriveStatus, startPartitionedRedrive } from "./partition-redrive";

const ReceiveAttempts = 3;

/** Only FIFO queues' names end in `.fifo` (checked at creation): the name tells the queue's type. */
function isFifoName(name: string): boolean {
  return name.endsWith(FifoNameSuffix);
}

export { quota } from "./quotas";

/** Who a request acts for: queues live per account and region; the principal's rights are checked here. */
export interface Scope {
  account: string;
  region: string;
  principal: Principal;
}

export const DefaultRegion = "local";

/**
 * Who a message was sent by, as the message remembers it (SQS's SenderId): the SecretId of the
 * sending key, or of the key that minted the token; the account id for root credentials and the
 * tokens root minted, which no key stands for.
 */
export function senderIdOf(principal: Principal): string {
  return principal.secretId ?? principal.account;
}

/** The scope of an authenticated principal: its own account, this deployment's region. */
export function scopeOf(env: Env, principal: Principal): Scope {
  return { account: principal.account, region: env.REGION || DefaultRegion, principal };
}

export interface QueueList {
  queues: Array<{ name: string; createdAt: number; modifiedAt: number } & QueueAttributes>;
  nextCursor: string | null;
  total: number;
}

/**
 * The queue operations every interface shares. The hot path (send, receive, delete) goes straight
 * to the queue's object by name; the catalog is touched only to create, change, delete and list.
 */
export class QueueOperations {
  private readonly objectKeyPrefix: string;

  constructor(
    private readonly env: Env,
    private readonly scope: Scope,
    private readonly clock: Clock = systemClock,
  ) {
    this.objectKeyPrefix = objectKeyPrefix(scope.account, scope.region);
  }

  /**
   * The queue's object, once the name is valid and the principal may do `action` on it. Names are
   * unique without regard to case (CMQ 4460), so the object is found by the lower-case name.
   */
  private queue(name: string, action: Action, locationHint?: DurableObjectLocationHint) {
    parse(QueueName, name, "queue name");
    authorize(this.scope.principal, action, `queue:${name}`);
    return queueObject(this.env, this.objectKeyPrefix, name, locationHint);
  }

  /** The queue across its partitions, once the name is valid and the principal may do `action` on it. */
  private partitioned(name: string, action: Action): QueuePartitions {
    parse(QueueName, name, "queue name");
    authorize(this.scope.principal, action, `queue:${name}`);
    return new QueuePartitions(this.env, this.objectKeyPrefix, name, isFifoName(name), this.clock);
  }

  private catalog() {
    return this.env.CATALOG.get(this.env.CATALOG.idFromName(this.scope.account));
  }

  async createQueue(name: string, input: CreateQueueBody): Promise<{ created: boolean; queue: QueueInfo }> {
    parse(QueueName, name, "queue name");
    authorize(this.scope.principal, "manage", `queue:${name}`);
    const attributes = defaultQueueAttributes(input);
    checkFifoName(name, attributes);
    // An account holds at most `queuesPerAccount` queues; confirming an existing one is always allowed.
    const limit = quota(this.env.MAX_QUEUES_PER_ACCOUNT, AccountLimits.queuesPerAccount);
    return withinQuota(this.catalog(), "queue", this.scope.region, name, limit, async () => {
      const queue = this.queue(name, "manage", attributes.locationHint ?? undefined);
      const result = await this.withDeadLetterLink(name, attributes.deadLetter, async () =>
        unwrap(await queue.create(name, this.objectKeyPrefix, attributes)),
      );
      // Confirming a queue also makes any partition a failed create left out.
      const partitions = this.partitioned(name, "manage");
      await partitions.sync(result.queue, 1, result.queue.partitions);
      partitions.remember(result.queue.partitions);
      await this.index(result.queue);
      return result;
    });
  }

  private async index(queue: QueueInfo): Promise<void> {
    const { name, createdAt, modifiedAt, counts: _counts, oldestMessageAt: _oldest, ...attributes } = queue;
    await this.catalog().put("queue", this.scope.region, {
      name,
      createdAt,
      modifiedAt,
      attributes,
      deadLetterQueue: attributes.deadLetter?.queue ?? null,
    });
  }

  /**
   * Runs a queue change under its dead-letter link (`undefined`: the link is not changing). The
   * catalog checks the dead-letter rules and records the link in one step before the change, so
   * concurrent changes cannot break the rules; if the change fails, the link is put back.
   */
  private async withDeadLetterLink<T>(
    name: string,
    policy: DeadLetterPolicy | null | undefined,
    change: () => Promise<T>,
  ): Promise<T> {
    if (policy === undefined) return change();
    if (policy) {
      if (policy.queue.toLowerCase() === name.toLowerCase()) {
        throw new ServiceError(ErrorCode.InvalidDeadLetterQueue, "a queue cannot be its own dead-letter queue");
      }
      if (isFifoName(policy.queue) !== isFifoName(name)) {
        throw new ServiceError(ErrorCode.InvalidDeadLetterQueue, "a FIFO queue's dead-letter queue is a FIFO queue, and a standard queue's a standard queue");
      }
      // Dead letters are sends into the target: the principal must be allowed that.
      authorize(this.scope.principal, "send", `queue:${policy.queue}`);
    }
    const catalog = this.catalog();
    const link = unwrap(await catalog.linkDeadLetter(this.scope.region, name, policy?.queue ?? null));
    try {
      return await change();
    } catch (error) {
      await catalog.unlinkDeadLetter(this.scope.region, name, link.provisional ? null : link.previous);
      throw error;
    }
  }

  async getQueue(name: string): Promise<QueueInfo> {
    const home = unwrap(await this.queue(name, "read").getInfo());
    return this.partitioned(name, "read").wholeInfo(home);
  }

  /** Lists the queues the principal may read; others are left out as if they did not exist. */
  async listQueues(query: ListQuery): Promise<QueueList> {
    return this.listIndexed({ prefix: query.prefix, search: query.search }, query);
  }

  /** The queues whose dead-letter queue is `name`, as `listQueues` lists them. */
  async listDeadLetterSourceQueues(name: string, query: ListQuery): Promise<QueueList> {
    authorize(this.scope.principal, "read", `queue:${name}`);
    if (!(await this.catalog().get("queue", this.scope.region, name))) {
      throw new ServiceError(ErrorCode.QueueNotFound, `queue ${name} does not exist`);
    }
    return this.listIndexed({ prefix: query.prefix, search: query.search, deadLetterOf: name }, query);
  }

  private async listIndexed(filter: CatalogFilter, query: ListQuery): Promise<QueueList> {
    const catalog = this.catalog();
    const readable = (await catalog.names("queue", this.scope.region, filter)).filter((name) =>
      can(this.scope.principal, "read", `queue:${name}`),
    );
    const page = pageOf(readable, (name) => name, query);
    const entries = (await catalog.entries("queue", this.scope.region, page.items)) as CatalogEntry<QueueAttributes>[];
    return {
      queues: entries.map((queue) => ({
        name: queue.name,
        // Indexed before later attributes existed, an entry shows their defaults, as its queue does.
        ...LaterAttributeDefaults,
        ...queue.attributes,
        createdAt: queue.createdAt,
        modifiedAt: queue.modifiedAt,
      })),
      nextCursor: page.nextCursor,
      total: page.total,
    };
  }

  /**
   * Changes attributes in the queue's object and then in every other partition. A raise makes the
   * new partitions first; a lowering removes the partitions past the new count first, each only
   * if it is empty. A FIFO queue's change also moves its routing to a new epoch (see
   * `PartitionRouting`), which every partition learns before the change is answered.
   */
  async updateQueue(name: string, patch: UpdateQueueBody): Promise<QueueInfo> {
    const queueObject = this.queue(name, "manage");
    const partitions = this.partitioned(name, "manage");
    let made: { from: number; to: number; attributes: QueueInfo } | null = null;
    let retired: { from: number; to: number; attributes: QueueInfo; epoch: number | undefined } | null = null;
    let fifo = isFifoName(name);
    if (patch.partitions !== undefined) {
      const before = unwrap(await queueObject.getInfo());
      fifo = before.fifo;
      if (before.partitions !== patch.partitions) {
        const route = before.fifo ? await partitions.route(true) : undefined;
        // Refused before any partition is made or removed; the home object checks again in one step with the change.
        if (route) settlingAfter(route.settling, before.partitions, patch.partitions);
        if (patch.partitions > before.partitions) {
          made = { from: before.partitions, to: patch.partitions, attributes: { ...before, partitions: patch.partitions } };
          await partitions.sync(made.attributes, made.from, made.to, route?.epoch);
        } else {
          await partitions.retire(patch.partitions, before.partitions, before, route?.epoch);
          retired = { from: patch.partitions, to: before.partitions, attributes: before, epoch: route?.epoch };
        }
      }
    }
    let queue: QueueInfo;
    try {
      queue = await this.withDeadLetterLink(name, patch.deadLetter, async () => unwrap(await queueObject.updateAttributes(patch)));
    } catch (error) {
      // The raise did not happen: the partitions made for it go again (they are empty, nothing routes to them).
      if (made) await partitions.retire(made.from, made.to, made.attributes).catch(() => undefined);
      // The lowering did not happen: the partitions it removed (empty) are made again.
      if (retired) await partitions.sync(retired.attributes, retired.from, retired.to, retired.epoch).catch(() => undefined);
      throw error;
    }
    if (fifo) {
      // Every partition learns the new epoch before the change is answered: older routings are refused from then on.
      const route = await partitions.route(true);
      await partitions.sync(queue, 1, queue.partitions, route.epoch);
    } else {
      partitions.remember(queue.partitions);
      await partitions.sync(queue, 1, queue.partitions);
    }
    await this.index(queue);
    return partitions.wholeInfo(queue);
  }

  /** Adds or replaces tags (SQS TagQueue); the queue keeps at most `queueTagsMax`. */
  async tagQueue(name: string, tags: QueueTags): Promise<{ tags: QueueTags }> {
    return this.changeTags(name, tags, []);
  }

  /** Removes tags by key (SQS UntagQueue); keys the queue does not have are ignored. */
  async untagQueue(name: string, keys: string[]): Promise<{ tags: QueueTags }> {
    return this.changeTags(name, {}, keys);
  }

  async listQueueTags(name: string): Promise<{ tags: QueueTags }> {
    return { tags: (await this.getQueue(name)).tags };
  }

  private async changeTags(name: string, set: QueueTags, remove: string[]): Promise<{ tags: QueueTags }> {
    const queue = unwrap(await this.queue(name, "manage").changeTags(set, remove));
    await this.index(queue);
    return { tags: queue.tags };
  }

  /** Deletes a queue and frees its storage; a dead-letter queue in use is refused (CMQ 10750). */
  async deleteQueue(name: string): Promise<void> {
    parse(QueueName, name, "queue name");
    authorize(this.scope.principal, "manage", `queue:${name}`);
    // Out of the index first, in one step with the in-use check, so no source can link to it meanwhile.
    const { removed } = unwrap(await this.catalog().removeQueue(this.scope.region, name));
    const home = this.queue(name, "manage");
    const state = await home.partitionBacklog();
    if (state.ok) await this.partitioned(name, "manage").destroyOthers(state.value.partitions);
    const { existed } = unwrap(await home.destroy());
    if (!existed && !removed) throw new ServiceError(ErrorCode.QueueNotFound, `queue ${name} does not exist`);
  }

  async send(name: string, messages: OutgoingMessage[]): Promise<SentMessage[]> {
    return this.partitioned(name, "send").send(messages, senderIdOf(this.scope.principal));
  }

  /**
   * Receives, long-polling inside the queue's object. If the object restarts while a receiver is
   * parked (a deploy, an eviction, a crash), the receive is made again for the rest of its wait:
   * a parked receiver holds no message, so nothing is lost or doubled by asking again. When
   * `signal` aborts (the client went away), the parked receive is cancelled in the object before
   * any message is claimed for it.
   */
  async receive(name: string, request: ReceiveRequest, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const partitioned = this.partitioned(name, "receive");
    const partitions = await partitioned.count();
    if (partitions > 1) return partitioned.receive(request, partitions, signal);
    const deadlineMs = this.clock.nowMs() + (request.waitSeconds ?? 0) * 1000;
    const receiveId = signal ? crypto.randomUUID() : undefined;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) return [];
      // A fresh object handle each time: a handle whose object broke stays broken.
      const queue = this.queue(name, "receive");
      const cancel = () => keepRunning(queue.cancelReceive(receiveId!).catch(() => undefined));
      signal?.addEventListener("abort", cancel, { once: true });
      try {
        return unwrap(await queue.receive(receiveId === undefined ? request : { ...request, receiveId }));
      } catch (error) {
        const remainingMs = deadlineMs - this.clock.nowMs();
        if (error instanceof ServiceError || attempt >= ReceiveAttempts || remainingMs < 1000) throw error;
        request = { ...request, waitSeconds: Math.floor(remainingMs / 1000) };
      } finally {
        signal?.removeEventListener("abort", cancel);
      }
    }
  }

  async deleteMessages(name: string, receiptHandles: string[]): Promise<DeleteResult[]> {
    const partitioned = this.partitioned(name, "receive");
    return partitioned.deleteMessages(receiptHandles, await this.partitionsOf(partitioned, receiptHandles));
  }

  /**
   * The partition count, read only when a handle names a partition past 0: handles of a queue of
   * one partition go straight to its object, as before partitions existed.
   */
  private async partitionsOf(partitioned: QueuePartitions, receiptHandles: string[]): Promise<number> {
    return receiptHandles.some((handle) => parsePartitionHandle(handle).partition > 0) ? partitioned.count() : 1;
  }

  /** Deletes one message; a handle that does not delete is an error, not a result. */
  async deleteMessage(name: string, receiptHandle: string): Promise<void> {
    const [result] = await this.deleteMessages(name, [receiptHandle]);
    if (result && !result.deleted) {
      throw new ServiceError(ErrorCode.ReceiptHandleInvalid, result.error?.message ?? "receipt handle refused");
    }
  }

  async changeVisibility(name: string, receiptHandle: string, visibilityTimeout: number): Promise<{ nextVisibleAt: number }> {
    const partitioned = this.partitioned(name, "receive");
    return partitioned.changeVisibility(receiptHandle, visibilityTimeout, await this.partitionsOf(partitioned, [receiptHandle]));
  }

  async peek(name: string, query: { limit: number; cursor?: string }): Promise<{ messages: PeekedMessage[]; nextCursor: string | null }> {
    const partitioned = this.partitioned(name, "read");
    return partitioned.peek(query.limit, query.cursor ? Number(query.cursor) : 0, await partitioned.count());
  }

  async purge(name: string): Promise<{ purged: number }> {
    const partitioned = this.partitioned(name, "manage");
    return partitioned.purge(await partitioned.count());
  }

  async rewind(name: string, sinceMs: number): Promise<{ rewound: number }> {
    const partitioned = this.partitioned(name, "manage");
    return partitioned.rewind(sinceMs, await partitioned.count());
  }

  async startRedrive(
    name: string,
    request: { destination?: string; maxPerSecond: number; maxMessages?: number },
  ): Promise<RedriveStatus> {
    if (request.destination) {
      parse(QueueName, request.destination, "destination");
      authorize(this.scope.principal, "send", `queue:${request.destination}`);
      const destination = await this.catalog().get("queue", this.scope.region, request.destination);
      if (!destination) throw new ServiceError(ErrorCode.QueueNotFound, `queue ${request.destination} does not exist`);
      if (isFifoName(request.destination) !== isFifoName(name)) {
        throw new ServiceError(ErrorCode.InvalidParameter, "a redrive moves messages between queues of one type: FIFO to FIFO, standard to standard");
      }
      if (destination.name.toLowerCase() === name.toLowerCase()) {
        throw new ServiceError(ErrorCode.InvalidParameter, "a redrive's destination must be another queue");
      }
    }
    const partitioned = this.partitioned(name, "manage");
    const partitions = await partitioned.count();
    const queue = this.queue(name, "manage");
    if (!request.destination) {
      // Back to the sources is a send into each of them: the caller must be allowed every one.
      const sources = partitions > 1 ? await partitionedRedriveSources(partitioned, partitions) : unwrap(await queue.redriveSources());
      for (const source of sources) authorize(this.scope.principal, "send", `queue:${source}`);
    }
    if (partitions > 1) {
      return startPartitionedRedrive(partitioned, partitions, { ...request, destination: request.destination ?? null });
    }
    return unwrap(
      await queue.startRedrive({
        destination: request.destination ?? null,
        maxPerSecond: request.maxPerSecond,
        maxMessages: request.maxMessages,
      }),
    );
  }

  async getRates(name: string): Promise<QueueRates> {
    const partitioned = this.partitioned(name, "read");
    return partitioned.rates(await partitioned.count());
  }

  async getRedrive(name: string): Promise<RedriveStatus> {
    const partitioned = this.partitioned(name, "read");
    const partitions = await partitioned.count();
    if (partitions > 1) return partitionedRedriveStatus(partitioned, partitions);
    return unwrap(await this.queue(name, "read").getRedrive());
  }

  /** The latest redrive, or none: a status page asks before any has run, and that is no error. */
  async listRedrives(name: string): Promise<RedriveStatus[]> {
    try {
      return [await this.getRedrive(name)];
    } catch (error) {
      if (error instanceof ServiceError && error.code === ErrorCode.RedriveNotFound) return [];
      throw error;
    }
  }

  /** Stops the running redrive; with `startedAt`, only if it is the one started then. */
  async cancelRedrive(name: string, startedAt?: number): Promise<RedriveStatus> {
    const partitioned = this.partitioned(name, "manage");
    const partitions = await partitioned.count();
    if (partitions > 1) return cancelPartitionedRedrive(partitioned, partitions, startedAt);
    return unwrap(await this.queue(name, "manage").cancelRedrive(startedAt));
  }
}
