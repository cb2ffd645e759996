import { ErrorCode, ServiceError } from "../../errors";
import type { SubscriptionAttributes, SubscriptionInfo } from "../../schema/topic";
import type { Subscription, TopicMeta } from "./storage";

/** Filters must fit the topic's filter type (CMQ: a routing-key topic needs binding keys, 10710). */
export function checkFilters(meta: TopicMeta, attributes: SubscriptionAttributes): void {
  const { filterType } = meta.attributes;
  if (filterType === "tag" && attributes.bindingKeys.length > 0) {
    throw new ServiceError(ErrorCode.InvalidParameter, "bindingKeys apply to routingKey topics; this topic filters by tag");
  }
  if (filterType === "routingKey") {
    if (attributes.filterTags.length > 0) {
      throw new ServiceError(ErrorCode.InvalidParameter, "filterTags apply to tag topics; this topic filters by routing key");
    }
    if (attributes.bindingKeys.length === 0) {
      throw new ServiceError(ErrorCode.InvalidParameter, "a subscription to a routingKey topic needs at least one binding key");
    }
  }
}

/** A subscription as shown: its attributes without the signing secret, and its delivery stats. */
export function subscriptionInfo(sql: SqlStorage, meta: TopicMeta, sub: Subscription): SubscriptionInfo {
  const stats = sql
    .exec<{ delivered: number; failed: number; last_error: string | null; last_error_at: number | null }>(
      "SELECT delivered, failed, last_error, last_error_at FROM subscriptions WHERE id = ?",
      sub.id,
    )
    .one();
  const pending = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE subscription_id = ?", sub.id).one().n;
  const { signingSecret, ...attributes } = sub.attributes;
  return {
    name: sub.name,
    topic: meta.name,
    ...attributes,
    signed: signingSecret !== null,
    createdAt: sub.createdAt,
    modifiedAt: sub.modifiedAt,
    stats: {
      delivered: stats.delivered,
      failed: stats.failed,
      pending,
      lastError: stats.last_error,
      lastErrorAt: stats.last_error_at,
    },
  };
}
