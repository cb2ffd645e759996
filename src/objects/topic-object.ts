import { systemClock, type Clock } from "../clock";
import { DurableObject } from "cloudflare:workers";
import { ErrorCode, ServiceError, ok, toResult, type Result } from "../errors";
import {
  TopicLimits,
  type PublishedMessage,
  type SubscriptionAttributes,
  type SubscriptionInfo,
  type TopicInfo,
  type TopicAttributes,
  type UpdateSubscriptionBody,
  type UpdateTopicBody,
} from "../schema/topic";
import {
  PushConcurrency,
  deliverToQueue,
  nextWakeUp,
  purgeExpired,
  pushDelivery,
  recordAttempt,
  releaseLeases,
  runLimited,
  takeDue,
} from "./topic/delivery";
import { storePublished } from "./topic/publish";
import {
  countMessages,
  deleteSubscription,
  insertMeta,
  insertSubscription,
  loadMeta,
  loadSubscriptions,
  migrate,
  updateMetaAttributes,
  updateSubscriptionAttributes,
  type DueDelivery,
  type Subscription,
  type TopicMeta,
} from "./topic/storage";
import { mergeSubscriptionAttributes, mergeTopicAttributes, sameSubscriptionAttributes, sameTopicAttributes } from "./topic/attributes";
import { AlarmScheduler } from "./scheduler";
import { checkFilters, subscriptionInfo } from "./topic/subscriptions";

export { DeliveryWatchdogMs } from "./topic/delivery";

type RecordOutcome = (sub: Subscription, row: DueDelivery, error: string | null) => void;

/** How long the alarm handler waits for its delivery round before leaving it to run on. */
const AlarmHoldMs = 1_000;

/**
 * One topic: its subscriptions, its own copy of each message for the retention period, and an
 * outbox row per (message, matching subscription). Publishing writes the message and its outbox
 * rows in one transaction and answers; deliveries run afterwards from the outbox, retried per the
 * subscription's strategy, driven by the alarm.
 */
export class TopicObject extends DurableObject<Env> {
  /** Where every method reads its `nowMs`; tests replace it through runInDurableObject. */
  clock: Clock = systemClock;
  private meta: TopicMeta | null = null;
  /** Bumped when the topic is deleted: outcomes of pushes begun before then are dropped. */
  private epoch = 0;
  private subscriptions = new Map<number, Subscription>();
  /** Owns the alarm: deliveries, the lease watchdog and retention report their next deadline. */
  private readonly scheduler: AlarmScheduler;
  private delivering: Promise<void> | null = null;
  private deliverAgain = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql);
    this.load();
    this.scheduler = new AlarmScheduler(ctx.storage, [(nowMs) => (this.meta ? nextWakeUp(this.sql, this.meta, nowMs) : null)]);
    void ctx.blockConcurrencyWhile(async () => {
      await this.scheduler.load();
      if (releaseLeases(ctx.storage.sql) > 0) this.scheduler.reschedule(this.clock.nowMs());
    });
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  private load(): void {
    this.meta = loadMeta(this.sql);
    this.subscriptions = loadSubscriptions(this.sql);
  }

  private requireMeta(): TopicMeta {
    if (!this.meta) throw new ServiceError(ErrorCode.TopicNotFound, "topic does not exist");
    return this.meta;
  }

  private topicInfo(): TopicInfo {
    const meta = this.requireMeta();
    return {
      name: meta.name,
      ...meta.attributes,
      createdAt: meta.createdAt,
      modifiedAt: meta.modifiedAt,
      subscriptionCount: this.subscriptions.size,
      messageCount: countMessages(this.sql),
    };
  }

  async create(
    name: string,
    account: string,
    objectKeyPrefix: string,
    attributes: TopicAttributes,
  ): Promise<Result<{ created: boolean; topic: TopicInfo }>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => {
      if (this.meta) {
        const same = this.meta.name === name && sameTopicAttributes(this.meta.attributes, attributes);
        if (!same) {
          throw new ServiceError(ErrorCode.TopicAlreadyExists, `topic ${this.meta.name} already exists with different attributes`);
        }
        return { created: false, topic: this.topicInfo() };
      }
      insertMeta(this.sql, { name, account, objectKeyPrefix, attributes }, nowMs);
      this.load();
      return { created: true, topic: this.topicInfo() };
    });
  }

  async getInfo(): Promise<Result<TopicInfo>> {
    return toResult(() => this.topicInfo());
  }

  async updateAttributes(patch: UpdateTopicBody): Promise<Result<TopicInfo>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => {
      const meta = this.requireMeta();
      const attributes = mergeTopicAttributes(meta.attributes, patch);
      // A change that changes nothing leaves modifiedAt alone, as for queues.
      if (!sameTopicAttributes(meta.attributes, attributes)) {
        updateMetaAttributes(this.sql, attributes, nowMs);
        this.load();
        // A shorter retention ends sooner: bring the alarm forward to the new end.
        this.scheduler.reschedule(nowMs);
      }
      return this.topicInfo();
    });
  }

  /** Deletes the topic, its subscriptions and their pending deliveries. */
  async destroy(): Promise<Result<{ existed: boolean }>> {
    const existed = this.meta !== null;
    this.meta = null;
    this.epoch++;
    this.subscriptions.clear();
    await this.scheduler.clear();
    await this.ctx.storage.deleteAll();
    migrate(this.sql);
    return ok({ existed });
  }

  private findSubscription(name: string): Subscription | undefined {
    const key = name.toLowerCase();
    for (const sub of this.subscriptions.values()) if (sub.name.toLowerCase() === key) return sub;
    return undefined;
  }

  private requireSubscription(name: string): Subscription {
    this.requireMeta();
    const sub = this.findSubscription(name);
    if (!sub) throw new ServiceError(ErrorCode.SubscriptionNotFound, `subscription ${name} does not exist`);
    return sub;
  }

  async subscribe(name: string, attributes: SubscriptionAttributes): Promise<Result<{ created: boolean; subscription: SubscriptionInfo }>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => {
      checkFilters(this.requireMeta(), attributes);
      const existing = this.findSubscription(name);
      if (existing) {
        if (existing.name === name && sameSubscriptionAttributes(existing.attributes, attributes)) {
          return { created: false, subscription: subscriptionInfo(this.sql, this.requireMeta(), existing) };
        }
        throw new ServiceError(
          ErrorCode.SubscriptionAlreadyExists,
          `subscription ${existing.name} already exists with different attributes`,
        );
      }
      if (this.subscriptions.size >= TopicLimits.subscriptionsPerTopic) {
        throw new ServiceError(
          ErrorCode.TooManySubscriptions,
          `a topic has at most ${TopicLimits.subscriptionsPerTopic} subscriptions`,
        );
      }
      insertSubscription(this.sql, name, attributes, nowMs);
      this.load();
      return { created: true, subscription: subscriptionInfo(this.sql, this.requireMeta(), this.findSubscription(name)!) };
    });
  }

  async getSubscription(name: string): Promise<Result<SubscriptionInfo>> {
    return toResult(() => subscriptionInfo(this.sql, this.requireMeta(), this.requireSubscription(name)));
  }

  async listSubscriptions(): Promise<Result<SubscriptionInfo[]>> {
    return toResult(() => {
      this.requireMeta();
      return [...this.subscriptions.values()]
        .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
        .map((sub) => subscriptionInfo(this.sql, this.requireMeta(), sub));
    });
  }

  async updateSubscription(name: string, patch: UpdateSubscriptionBody): Promise<Result<SubscriptionInfo>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => {
      const sub = this.requireSubscription(name);
      const attributes = mergeSubscriptionAttributes(sub.attributes, patch);
      checkFilters(this.requireMeta(), attributes);
      updateSubscriptionAttributes(this.sql, sub.id, attributes, nowMs);
      this.load();
      return subscriptionInfo(this.sql, this.requireMeta(), this.requireSubscription(name));
    });
  }

  /** Removes a subscription and stops its pending deliveries. */
  async unsubscribe(name: string): Promise<Result<void>> {
    return toResult(() => {
      const sub = this.requireSubscription(name);
      deleteSubscription(this.ctx.storage, sub.id);
      this.subscriptions.delete(sub.id);
    });
  }

  /** Stores messages and one outbox row per matching subscription in one transaction, then answers. */
  async publish(messages: PublishedMessage[]): Promise<Result<{ ids: string[] }>> {
    const nowMs = this.clock.nowMs();
    const result = toResult(() => ({
      ids: storePublished(this.ctx.storage, this.requireMeta(), this.subscriptions.values(), messages, nowMs),
    }));
    if (result.ok) {
      this.scheduler.arm(nowMs + this.meta!.attributes.msgRetentionSeconds * 1000);
      this.startDelivery();
    }
    return result;
  }

  override async alarm(): Promise<void> {
    this.scheduler.fired();
    // workerd runs one alarm at a time: a round held up to 15 s by a slow endpoint must not hold
    // back the retries of other deliveries, which each failed attempt arms the alarm for. So the
    // handler waits for a quick round (its errors retry the alarm) and leaves a slow one running;
    // a round cut short by an eviction is covered by its leases.
    const round = this.runDue(this.clock.nowMs());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<"slow">((resolve) => {
      timer = setTimeout(() => resolve("slow"), AlarmHoldMs);
    });
    const outcome = await Promise.race([round.then(() => "done" as const, (error: unknown) => ({ error })), slow]);
    clearTimeout(timer!);
    if (typeof outcome === "object") throw outcome.error;
    if (outcome === "slow") {
      round.catch((error: unknown) => {
        console.error("topic delivery round failed", error);
        this.scheduler.reschedule(this.clock.nowMs());
      });
    }
  }

  /** Attempts every delivery due at `nowMs`, drops what retention ended, and re-arms the alarm. */
  async runDue(nowMs: number): Promise<void> {
    if (!this.meta) return;
    await this.deliverDue(nowMs);
    if (this.meta) purgeExpired(this.ctx.storage, this.meta, nowMs);
    this.scheduler.reschedule(this.clock.nowMs());
  }

  /** Delivers in the background after a publish; the alarm is the fallback if the object stops. */
  private startDelivery(): void {
    if (this.delivering) {
      this.deliverAgain = true;
      return;
    }
    this.delivering = (async () => {
      try {
        do {
          this.deliverAgain = false;
          await this.deliverDue(this.clock.nowMs());
        } while (this.deliverAgain);
      } catch (error) {
        console.error("topic delivery round failed", error);
      } finally {
        this.delivering = null;
        this.scheduler.reschedule(this.clock.nowMs());
      }
    })();
  }

  private async deliverDue(nowMs: number): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    // Leased before any await, so a concurrent round does not attempt them too.
    const due = takeDue(this.ctx.storage, nowMs);
    if (due.length === 0) return;
    // The earliest of the watchdog and the deliveries left for later: those must not wait for this
    // round, which may take up to 15 s.
    this.scheduler.reschedule(this.clock.nowMs());

    const bySubscription = new Map<number, DueDelivery[]>();
    for (const row of due) {
      const rows = bySubscription.get(row.subscription_id) ?? [];
      rows.push(row);
      bySubscription.set(row.subscription_id, rows);
    }
    // Outcomes are timed on the round's clock (`nowMs` plus the time the attempt took), so a round
    // run for a later moment schedules its retries from that moment.
    const startedAtMs = this.clock.nowMs();
    const epoch = this.epoch;
    // A topic deleted and created again meanwhile reuses ids: a late outcome must not touch it.
    const record: RecordOutcome = (sub, row, error) => {
      if (this.epoch !== epoch || !this.meta || !this.subscriptions.has(sub.id)) return;
      const next = recordAttempt(this.ctx.storage, this.meta, sub, row, error, nowMs + (this.clock.nowMs() - startedAtMs));
      // Armed now, not when the whole round ends: other pushes of the round may take up to 15 s.
      if (next !== null) this.scheduler.arm(next);
    };
    const pushes: Array<() => Promise<void>> = [];
    const queueDeliveries: Promise<void>[] = [];
    for (const [subscriptionId, rows] of bySubscription) {
      const sub = this.subscriptions.get(subscriptionId);
      if (!sub) continue;
      if (sub.attributes.protocol === "queue") {
        queueDeliveries.push(
          deliverToQueue(this.env, meta, sub, rows).then((outcomes) => {
            for (const { rows: delivered, error } of outcomes) for (const row of delivered) record(sub, row, error);
          }),
        );
      } else {
        for (const row of rows) pushes.push(async () => record(sub, row, await pushDelivery(this.env, meta, sub, row, this.clock)));
      }
    }
    await Promise.all([...queueDeliveries, runLimited(pushes, PushConcurrency)]);
  }
}
