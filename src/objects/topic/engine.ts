import { ErrorCode, ServiceError } from "../../errors";
import {
  TopicLimits,
  type PublishedMessage,
  type SubscriptionAttributes,
  type SubscriptionInfo,
  type TopicAttributes,
  type TopicInfo,
  type UpdateSubscriptionBody,
  type UpdateTopicBody,
} from "../../schema/topic";
import { mergeSubscriptionAttributes, mergeTopicAttributes, sameSubscriptionAttributes, sameTopicAttributes } from "./attributes";
import { nextWakeUp, purgeExpired, recordAttempt, releaseLeases, takeDue } from "./delivery";
import { topicOutcome, type TopicOutcome } from "./effects";
import { storePublished } from "./publish";
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
} from "./storage";
import { checkFilters, subscriptionInfo } from "./subscriptions";

/**
 * The topic's state over its SQLite tables: metadata, subscriptions, messages and the outbox.
 * Operations that change what must follow answer their value with their effects (start a
 * delivery round, deadlines that arose, a rescan), which the object applies in one place. Every
 * method is synchronous and takes `nowMs`; pushes and queue hand-overs stay with the object.
 */
export class TopicEngine {
  meta: TopicMeta | null = null;
  subscriptions = new Map<number, Subscription>();

  constructor(private readonly storage: DurableObjectStorage) {
    this.migrate();
    this.load();
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** Creates the tables; after `deleteAll()` dropped them, creates them again. */
  migrate(): void {
    migrate(this.sql);
  }

  private load(): void {
    this.meta = loadMeta(this.sql);
    this.subscriptions = loadSubscriptions(this.sql);
  }

  requireMeta(): TopicMeta {
    if (!this.meta) throw new ServiceError(ErrorCode.TopicNotFound, "topic does not exist");
    return this.meta;
  }

  info(): TopicInfo {
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

  create(name: string, account: string, objectKeyPrefix: string, attributes: TopicAttributes, nowMs: number): { created: boolean; topic: TopicInfo } {
    if (this.meta) {
      const same = this.meta.name === name && sameTopicAttributes(this.meta.attributes, attributes);
      if (!same) {
        throw new ServiceError(ErrorCode.TopicAlreadyExists, `topic ${this.meta.name} already exists with different attributes`);
      }
      return { created: false, topic: this.info() };
    }
    insertMeta(this.sql, { name, account, objectKeyPrefix, attributes }, nowMs);
    this.load();
    return { created: true, topic: this.info() };
  }

  updateAttributes(patch: UpdateTopicBody, nowMs: number): TopicOutcome<TopicInfo> {
    const meta = this.requireMeta();
    const attributes = mergeTopicAttributes(meta.attributes, patch);
    // A change that changes nothing leaves modifiedAt alone, as for queues.
    if (sameTopicAttributes(meta.attributes, attributes)) return topicOutcome(this.info());
    updateMetaAttributes(this.sql, attributes, nowMs);
    this.load();
    // A shorter retention ends sooner: the alarm may have to come forward to the new end.
    return topicOutcome(this.info(), { rescan: true });
  }

  /** The tables are about to be dropped; the object clears the alarm. */
  forget(): void {
    this.meta = null;
    this.subscriptions.clear();
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

  /** A new subscription receives only messages published after it: nothing becomes due. */
  subscribe(name: string, attributes: SubscriptionAttributes, nowMs: number): TopicOutcome<{ created: boolean; subscription: SubscriptionInfo }> {
    checkFilters(this.requireMeta(), attributes);
    const existing = this.findSubscription(name);
    if (existing) {
      if (existing.name === name && sameSubscriptionAttributes(existing.attributes, attributes)) {
        return topicOutcome({ created: false, subscription: subscriptionInfo(this.sql, this.requireMeta(), existing) });
      }
      throw new ServiceError(ErrorCode.SubscriptionAlreadyExists, `subscription ${existing.name} already exists with different attributes`);
    }
    if (this.subscriptions.size >= TopicLimits.subscriptionsPerTopic) {
      throw new ServiceError(ErrorCode.TooManySubscriptions, `a topic has at most ${TopicLimits.subscriptionsPerTopic} subscriptions`);
    }
    insertSubscription(this.sql, name, attributes, nowMs);
    this.load();
    return topicOutcome({ created: true, subscription: subscriptionInfo(this.sql, this.requireMeta(), this.findSubscription(name)!) });
  }

  subscription(name: string): SubscriptionInfo {
    return subscriptionInfo(this.sql, this.requireMeta(), this.requireSubscription(name));
  }

  listSubscriptions(): SubscriptionInfo[] {
    const meta = this.requireMeta();
    return [...this.subscriptions.values()]
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
      .map((sub) => subscriptionInfo(this.sql, meta, sub));
  }

  /** A changed endpoint or strategy applies from the next attempt, at its scheduled time. */
  updateSubscription(name: string, patch: UpdateSubscriptionBody, nowMs: number): TopicOutcome<SubscriptionInfo> {
    const sub = this.requireSubscription(name);
    const attributes = mergeSubscriptionAttributes(sub.attributes, patch);
    checkFilters(this.requireMeta(), attributes);
    updateSubscriptionAttributes(this.sql, sub.id, attributes, nowMs);
    this.load();
    return topicOutcome(this.subscription(name));
  }

  /**
   * Removes a subscription and its pending deliveries. An alarm armed for them stays: it finds
   * nothing due and re-arms then, which costs less than a scan now.
   */
  unsubscribe(name: string): TopicOutcome<void> {
    const sub = this.requireSubscription(name);
    deleteSubscription(this.storage, sub.id);
    this.subscriptions.delete(sub.id);
    return topicOutcome(undefined);
  }

  /**
   * Stores messages and their outbox rows, due now: a delivery round starts at once, and the
   * retention end of these messages becomes a deadline.
   */
  publish(messages: readonly PublishedMessage[], nowMs: number, senderId: string | null = null): TopicOutcome<{ ids: string[] }> {
    const meta = this.requireMeta();
    const ids = storePublished(this.storage, meta, this.subscriptions.values(), messages, nowMs, senderId);
    return topicOutcome({ ids }, { deliverNow: true, deadlines: [nowMs + meta.attributes.msgRetentionSeconds * 1000] });
  }

  /** Leases left by an instance that died are released at start: their deliveries are due again. */
  releaseLeases(): TopicOutcome<number> {
    const released = releaseLeases(this.sql);
    return topicOutcome(released, { rescan: released > 0 });
  }

  /**
   * Leases the deliveries due at `nowMs`. The watchdog over the leases and the deliveries left for
   * later are deadlines that must not wait for this round, which may take up to 15 s.
   */
  takeDue(nowMs: number): TopicOutcome<DueDelivery[]> {
    const due = takeDue(this.storage, nowMs);
    return topicOutcome(due, { rescan: due.length > 0 });
  }

  /**
   * Records an attempt's outcome; a failure to be retried arms its retry at once, not when the
   * whole round ends. Answers when the next attempt is due, if any.
   */
  recordAttempt(sub: Subscription, row: DueDelivery, error: string | null, nowMs: number): TopicOutcome<number | null> {
    const next = recordAttempt(this.storage, this.requireMeta(), sub, row, error, nowMs);
    return topicOutcome(next, { deadlines: next === null ? [] : [next] });
  }

  /** Drops what retention ended; the next retention end and the next delivery may then be later. */
  purgeExpired(nowMs: number): TopicOutcome<number> {
    const dropped = purgeExpired(this.storage, this.requireMeta(), nowMs);
    return topicOutcome(dropped, { rescan: dropped > 0 });
  }

  /** The earliest of the next due delivery, the lease watchdog and the next retention end. */
  nextDeadline(nowMs: number): number | null {
    return this.meta ? nextWakeUp(this.sql, this.meta, nowMs) : null;
  }
}
