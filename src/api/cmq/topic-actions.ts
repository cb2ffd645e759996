import { ErrorCode, ServiceError } from "../../errors";
import type { OperationOutput } from "../../operations";
import { ContentFormats, NotifyStrategies } from "../../schema/topic";
import { listOptions, run, unixSeconds, type CmqAction, type CmqCall } from "./call";
import { CmqWire, CmqWireError, type CmqErrorShape } from "./errors";

type Subscription = OperationOutput<"getSubscription">;

/** CMQ's `filterType`: 1 (or none) filters by tags, 2 by routing keys; fixed at creation. */
const FilterTypeOf: Record<string, "tag" | "routingKey"> = { "1": "tag", "2": "routingKey" };
const CmqFilterTypeOf = { tag: 1, routingKey: 2 } as const;


/** A value of CMQ's fixed vocabularies, matched without regard to case, or CMQ's error for it. */
function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], shape: CmqErrorShape, name: string): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((candidate) => candidate === value.toUpperCase());
  if (!found) throw new CmqWireError(shape, `undefined ${name} ${value}: use ${allowed.join(" or ")}`);
  return found;
}

/**
 * CMQ has two subscription protocols: `queue`, and `http` for every URL endpoint, http or https
 * (the docs write "HTTP"); the service names the scheme, so an https URL is its `https` protocol.
 */
function protocolOf(value: string, endpoint: string): "queue" | "http" | "https" {
  const protocol = value.toLowerCase();
  if (protocol === "queue") return "queue";
  if (protocol === "http") return /^https:/i.test(endpoint) ? "https" : "http";
  throw new CmqWireError(CmqWire.UndefinedProtocol, `undefined protocol ${value}: use http or queue`);
}

/** The service's protocol as CMQ names it. */
const cmqProtocolOf = (protocol: Subscription["protocol"]): string => (protocol === "https" ? "http" : protocol);

/** The subscription attributes Subscribe and SetSubscriptionAttributes take besides protocol and endpoint. */
function subscriptionAttributes(call: CmqCall): Record<string, unknown> {
  const { params } = call;
  return {
    notifyStrategy: oneOf(params.string("notifyStrategy"), NotifyStrategies, CmqWire.UndefinedNotifyStrategy, "notifyStrategy"),
    notifyContentFormat: oneOf(params.string("notifyContentFormat"), ContentFormats, CmqWire.UndefinedContentFormat, "notifyContentFormat"),
    filterTags: params.list("filterTag"),
    bindingKeys: params.list("bindingKey"),
  };
}

const topicSummaryOf = (topic: { name: string }) => ({ topicId: topic.name, topicName: topic.name });

/**
 * GetSubscriptionAttributes under every spelling an SDK reads: `protocol` (docs, Java) and
 * `protocal` (Python, C++); `filterTag` (Java, C++) and `filterTags` (Python).
 */
const subscriptionOf = (subscription: Subscription, owner: string) => ({
  subscriptionId: subscription.name,
  subscriptionName: subscription.name,
  topicName: subscription.topic,
  topicOwner: owner,
  msgCount: subscription.stats.pending,
  protocol: cmqProtocolOf(subscription.protocol),
  protocal: cmqProtocolOf(subscription.protocol),
  endpoint: subscription.endpoint,
  notifyStrategy: subscription.notifyStrategy,
  notifyContentFormat: subscription.notifyContentFormat,
  createTime: unixSeconds(subscription.createdAt),
  lastModifyTime: unixSeconds(subscription.modifiedAt),
  bindingKey: subscription.bindingKeys,
  filterTag: subscription.filterTags,
  filterTags: subscription.filterTags,
});

/** A message's tags and routing key; in a batch they apply to every message. */
function publishFields(call: CmqCall): { tags?: string[]; routingKey?: string } {
  return { tags: call.params.list("msgTag"), routingKey: call.params.string("routingKey") };
}

export const topicActions: Record<string, CmqAction> = {
  async CreateTopic(call) {
    const topic = call.params.string("topicName", true);
    const maxMsgSize = call.params.integer("maxMsgSize");
    const filterTypeText = call.params.string("filterType");
    call.params.end();
    const filterType = filterTypeText === undefined || filterTypeText === "" ? undefined : FilterTypeOf[filterTypeText];
    if (filterTypeText && !filterType) throw new ServiceError(ErrorCode.InvalidParameter, "filterType must be 1 (tags) or 2 (routing keys)");
    const { created, topic: info } = await run(call, "createTopic", { topic, maxMsgSize, filterType });
    // CMQ refuses to create a topic that exists, identical or not.
    if (!created) throw new ServiceError(ErrorCode.TopicAlreadyExists, `topic ${info.name} already exists`);
    return { topicId: info.name };
  },

  async ListTopic(call) {
    const options = listOptions(call);
    call.params.end();
    const page = await run(call, "listTopics", options);
    return { totalCount: page.total, topicList: page.topics.map(topicSummaryOf) };
  },

  async GetTopicAttributes(call) {
    const topic = call.params.string("topicName", true);
    call.params.end();
    const info = await run(call, "getTopic", { topic });
    return {
      topicId: info.name,
      topicName: info.name,
      msgCount: info.messageCount,
      maxMsgSize: info.maxMsgSize,
      msgRetentionSeconds: info.msgRetentionSeconds,
      createTime: unixSeconds(info.createdAt),
      lastModifyTime: unixSeconds(info.modifiedAt),
      filterType: CmqFilterTypeOf[info.filterType],
      createUin: call.context.principal.account,
    };
  },

  async SetTopicAttributes(call) {
    const topic = call.params.string("topicName", true);
    const maxMsgSize = call.params.integer("maxMsgSize");
    call.params.end();
    await run(call, "updateTopic", { topic, maxMsgSize });
    return {};
  },

  async DeleteTopic(call) {
    const topic = call.params.string("topicName", true);
    call.params.end();
    await run(call, "deleteTopic", { topic });
    return {};
  },

  async PublishMessage(call) {
    const topic = call.params.string("topicName", true);
    const body = call.params.string("msgBody", true);
    const fields = publishFields(call);
    call.params.end();
    const published = await run(call, "publishMessages", { topic, messages: [{ body, ...fields }] });
    return { msgId: published.messages[0]!.id };
  },

  async BatchPublishMessage(call) {
    const topic = call.params.string("topicName", true);
    const bodies = call.params.list("msgBody", true)!;
    const fields = publishFields(call);
    call.params.end();
    const published = await run(call, "publishMessages", { topic, messages: bodies.map((body) => ({ body, ...fields })) });
    return { msgList: published.messages.map((message) => ({ msgId: message.id })) };
  },

  async Subscribe(call) {
    const topic = call.params.string("topicName", true);
    const subscription = call.params.string("subscriptionName", true);
    const protocol = call.params.string("protocol", true);
    const endpoint = call.params.string("endpoint", true);
    const attributes = subscriptionAttributes(call);
    call.params.end();
    const { created, subscription: info } = await run(call, "subscribe", {
      topic,
      subscription,
      protocol: protocolOf(protocol, endpoint),
      endpoint,
      ...attributes,
    });
    // CMQ refuses to subscribe a name that exists, identical or not (4490).
    if (!created) throw new ServiceError(ErrorCode.SubscriptionAlreadyExists, `subscription ${info.name} already exists`);
    return { subscriptionId: info.name };
  },

  async ListSubscriptionByTopic(call) {
    const topic = call.params.string("topicName", true);
    const options = listOptions(call);
    call.params.end();
    const page = await run(call, "listSubscriptions", { topic, ...options });
    return {
      totalCount: page.total,
      subscriptionList: page.subscriptions.map((subscription) => ({
        subscriptionId: subscription.name,
        subscriptionName: subscription.name,
        protocol: cmqProtocolOf(subscription.protocol),
        endpoint: subscription.endpoint,
      })),
    };
  },

  async GetSubscriptionAttributes(call) {
    const topic = call.params.string("topicName", true);
    const subscription = call.params.string("subscriptionName", true);
    call.params.end();
    return subscriptionOf(await run(call, "getSubscription", { topic, subscription }), call.context.principal.account);
  },

  async SetSubscriptionAttributes(call) {
    const topic = call.params.string("topicName", true);
    const subscription = call.params.string("subscriptionName", true);
    const attributes = subscriptionAttributes(call);
    call.params.end();
    await run(call, "updateSubscription", { topic, subscription, ...attributes });
    return {};
  },

  async Unsubscribe(call) {
    const topic = call.params.string("topicName", true);
    const subscription = call.params.string("subscriptionName", true);
    call.params.end();
    await run(call, "unsubscribe", { topic, subscription });
    return {};
  },

  async ClearSubscriptionFilterTags(call) {
    const topic = call.params.string("topicName", true);
    const subscription = call.params.string("subscriptionName", true);
    call.params.end();
    await run(call, "updateSubscription", { topic, subscription, filterTags: [] });
    return {};
  },
};
