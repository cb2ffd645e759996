import * as v from "valibot";
import {
  CreateSubscriptionBody,
  CreateTopicBody,
  PublishedMessage,
  SubscriptionName,
  TopicLimits,
  TopicName,
  UpdateSubscriptionBody,
  UpdateTopicBody,
} from "../schema/topic";
import {
  CreatedSubscriptionResult,
  CreatedTopicResult,
  MessageIdsResult,
  SubscriptionListResult,
  SubscriptionResult,
  TopicListResult,
  TopicResult,
} from "../schema/results";
import { operation } from "./operation";
import { ListOptions } from "./shared";

const onTopic = (action: "manage" | "read" | "publish") =>
  ({ kind: "resource", action, resource: (input: { topic: string }) => `topic:${input.topic}` }) as const;

const topic = { topic: TopicName };
const subscription = { topic: TopicName, subscription: SubscriptionName };

export const topicOperations = {
  createTopic: operation({
    group: "topics",
    summary: "Create a topic, or confirm an identical one; one with other attributes is a conflict",
    input: v.strictObject({ ...topic, ...CreateTopicBody.entries }),
    output: CreatedTopicResult,
    access: onTopic("manage"),
    errors: ["TopicAlreadyExists", "QuotaExceeded"],
    run: ({ topics }, { topic: name, ...attributes }) => topics.createTopic(name, attributes),
  }),
  listTopics: operation({
    group: "topics",
    summary: "List the topics the caller may read, by name, with name filters and pagination",
    input: ListOptions,
    output: TopicListResult,
    access: { kind: "authenticated" },
    errors: [],
    run: ({ topics }, input) => topics.listTopics(input),
  }),
  getTopic: operation({
    group: "topics",
    summary: "A topic's attributes, subscription count and stored message count",
    input: v.strictObject(topic),
    output: TopicResult,
    access: onTopic("read"),
    errors: ["TopicNotFound"],
    run: ({ topics }, input) => topics.getTopic(input.topic),
  }),
  updateTopic: operation({
    group: "topics",
    summary: "Change maxMsgSize or msgRetentionSeconds (filterType is fixed at creation)",
    input: v.strictObject({ ...topic, ...UpdateTopicBody.entries }),
    output: TopicResult,
    access: onTopic("manage"),
    errors: ["TopicNotFound"],
    run: ({ topics }, { topic: name, ...patch }) => topics.updateTopic(name, patch),
  }),
  deleteTopic: operation({
    group: "topics",
    summary: "Delete a topic, its subscriptions and their pending deliveries",
    input: v.strictObject(topic),
    output: null,
    access: onTopic("manage"),
    errors: ["TopicNotFound"],
    run: ({ topics }, input) => topics.deleteTopic(input.topic),
  }),
  publishMessages: operation({
    group: "topics",
    summary: "Publish 1 to 16 messages; answers once they and their deliveries are stored",
    input: v.strictObject({
      ...topic,
      messages: v.pipe(
        v.array(PublishedMessage),
        v.minLength(1, "a batch holds at least 1 message"),
        v.maxLength(TopicLimits.batchMax, `a batch holds at most ${TopicLimits.batchMax} messages`),
      ),
    }),
    output: MessageIdsResult,
    access: onTopic("publish"),
    errors: ["TopicNotFound", "MessageTooLarge", "BatchTooLarge"],
    run: async ({ topics }, input) => ({ messages: (await topics.publish(input.topic, input.messages)).map((id) => ({ id })) }),
  }),

  subscribe: operation({
    group: "subscriptions",
    summary: "Subscribe a queue, an http(s) endpoint or a bound Worker; an identical one is confirmed, another is a conflict",
    input: v.strictObject({ ...subscription, ...CreateSubscriptionBody.entries }),
    output: CreatedSubscriptionResult,
    access: onTopic("manage"),
    errors: ["TopicNotFound", "SubscriptionAlreadyExists", "TooManySubscriptions", "QueueNotFound"],
    run: ({ topics }, { topic: topicName, subscription: name, ...attributes }) => topics.subscribe(topicName, name, attributes),
  }),
  listSubscriptions: operation({
    group: "subscriptions",
    summary: "A topic's subscriptions with their delivery stats, by name, with name filters and pagination",
    input: v.strictObject({ ...topic, ...ListOptions.entries }),
    output: SubscriptionListResult,
    access: onTopic("read"),
    errors: ["TopicNotFound"],
    run: ({ topics }, { topic: topicName, ...query }) => topics.listSubscriptions(topicName, query),
  }),
  getSubscription: operation({
    group: "subscriptions",
    summary: "A subscription's attributes and stats (delivered, failed, pending, lastError, lastErrorAt)",
    input: v.strictObject(subscription),
    output: SubscriptionResult,
    access: onTopic("read"),
    errors: ["TopicNotFound", "SubscriptionNotFound"],
    run: ({ topics }, input) => topics.getSubscription(input.topic, input.subscription),
  }),
  updateSubscription: operation({
    group: "subscriptions",
    summary: "Change filters, notify strategy, content format or signing secret",
    input: v.strictObject({ ...subscription, ...UpdateSubscriptionBody.entries }),
    output: SubscriptionResult,
    access: onTopic("manage"),
    errors: ["TopicNotFound", "SubscriptionNotFound"],
    run: ({ topics }, { topic: topicName, subscription: name, ...patch }) => topics.updateSubscription(topicName, name, patch),
  }),
  unsubscribe: operation({
    group: "subscriptions",
    summary: "Remove a subscription; its pending deliveries stop",
    input: v.strictObject(subscription),
    output: null,
    access: onTopic("manage"),
    errors: ["TopicNotFound", "SubscriptionNotFound"],
    run: ({ topics }, input) => topics.unsubscribe(input.topic, input.subscription),
  }),
};
