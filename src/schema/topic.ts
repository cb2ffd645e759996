import * as v from "valibot";
import { MessageAttributesSchema } from "./message-attributes";
import { FifoId, QueueName, QueueNamePattern } from "./queue";
import { headerSafe } from "./text";

/**
 * Topic and subscription limits. Bounds follow CMQ's topic model (CreateTopic, Subscribe,
 * PublishMessage): 5 filter tags of at most 16 characters, 5 binding keys of at most 64 bytes and
 * 15 dots, 16 messages per batch; the topic's own copy lives at most a day.
 */
export const TopicLimits = {
  maxMsgSizeBytes: { min: 1_024, max: 1_048_576, default: 65_536 },
  msgRetentionSeconds: { min: 60, max: 86_400, default: 86_400 },
  filterTagsPerSubscription: 5,
  filterTagMaxLength: 16,
  tagsPerMessage: 5,
  bindingKeysPerSubscription: 5,
  routingKeyMaxBytes: 64,
  routingKeyMaxDots: 15,
  subscriptionsPerTopic: 100,
  endpointMaxLength: 500,
  batchMax: 16,
  batchBodyMaxBytes: 1_048_576,
  signingSecretLength: { min: 16, max: 128 },
} as const;

export const TopicName = v.pipe(
  v.string(),
  v.regex(QueueNamePattern, "a topic name is 1 to 64 letters, digits, '-' or '_', starting with a letter"),
);
export const SubscriptionName = v.pipe(
  v.string(),
  v.regex(QueueNamePattern, "a subscription name is 1 to 64 letters, digits, '-' or '_', starting with a letter"),
);

export const FilterTypes = ["tag", "routingKey"] as const;
export type FilterType = (typeof FilterTypes)[number];
export const Protocols = ["queue", "http", "https", "worker"] as const;
export type Protocol = (typeof Protocols)[number];
export const NotifyStrategies = ["BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"] as const;
export type NotifyStrategy = (typeof NotifyStrategies)[number];
export const ContentFormats = ["JSON", "SIMPLIFIED"] as const;
export type ContentFormat = (typeof ContentFormats)[number];

const textEncoder = new TextEncoder();

/** Dot-separated words, at most 64 bytes and 15 dots (CMQ 10691). */
const dottedKey = (what: string, allowWildcards: boolean) =>
  v.pipe(
    v.string(),
    v.minLength(1, `a ${what} is not empty`),
    headerSafe(what),
    v.check(
      (key) => textEncoder.encode(key).byteLength <= TopicLimits.routingKeyMaxBytes,
      `a ${what} is at most ${TopicLimits.routingKeyMaxBytes} bytes`,
    ),
    v.check(
      (key) => key.split(".").length - 1 <= TopicLimits.routingKeyMaxDots,
      `a ${what} has at most ${TopicLimits.routingKeyMaxDots} dots`,
    ),
    v.check(
      (key) => key.split(".").every((word) => word.length > 0),
      `a ${what} has no empty words (no leading, trailing or double dots)`,
    ),
    v.check(
      (key) => allowWildcards || !/[*#]/.test(key),
      `a ${what} may not contain '*' or '#'`,
    ),
    v.check(
      (key) => !allowWildcards || key.split(".").every((word) => !/[*#]/.test(word) || word.length === 1),
      `in a ${what}, '*' and '#' stand alone as a whole word`,
    ),
  );

export const RoutingKey = dottedKey("routing key", false);
export const BindingKey = dottedKey("binding key", true);

const integerIn = (range: { min: number; max: number }) =>
  v.pipe(v.number(), v.integer(), v.minValue(range.min), v.maxValue(range.max));

export const CreateTopicBody = v.strictObject({
  maxMsgSize: v.optional(integerIn(TopicLimits.maxMsgSizeBytes)),
  msgRetentionSeconds: v.optional(integerIn(TopicLimits.msgRetentionSeconds)),
  filterType: v.optional(v.picklist(FilterTypes)),
});
export type CreateTopicBody = v.InferOutput<typeof CreateTopicBody>;

export const UpdateTopicBody = v.strictObject({
  maxMsgSize: v.optional(integerIn(TopicLimits.maxMsgSizeBytes)),
  msgRetentionSeconds: v.optional(integerIn(TopicLimits.msgRetentionSeconds)),
});
export type UpdateTopicBody = v.InferOutput<typeof UpdateTopicBody>;

export interface TopicAttributes {
  maxMsgSize: number;
  msgRetentionSeconds: number;
  filterType: FilterType;
}

export interface TopicInfo extends TopicAttributes {
  name: string;
  createdAt: number;
  modifiedAt: number;
  subscriptionCount: number;
  /** Messages still kept in the topic's own copy. */
  messageCount: number;
}

const FilterTag = v.pipe(v.string(), v.minLength(1), v.maxLength(TopicLimits.filterTagMaxLength), headerSafe("filter tag"));

const subscriptionEntries = {
  notifyStrategy: v.optional(v.picklist(NotifyStrategies)),
  notifyContentFormat: v.optional(v.picklist(ContentFormats)),
  filterTags: v.optional(
    v.pipe(
      v.array(FilterTag),
      v.maxLength(TopicLimits.filterTagsPerSubscription, `at most ${TopicLimits.filterTagsPerSubscription} filter tags`),
    ),
  ),
  bindingKeys: v.optional(
    v.pipe(
      v.array(BindingKey),
      v.maxLength(TopicLimits.bindingKeysPerSubscription, `at most ${TopicLimits.bindingKeysPerSubscription} binding keys`),
    ),
  ),
  signingSecret: v.optional(
    v.nullable(v.pipe(v.string(), v.minLength(TopicLimits.signingSecretLength.min), v.maxLength(TopicLimits.signingSecretLength.max))),
  ),
};

export const CreateSubscriptionBody = v.strictObject({
  protocol: v.picklist(Protocols),
  endpoint: v.pipe(v.string(), v.minLength(1), v.maxLength(TopicLimits.endpointMaxLength)),
  ...subscriptionEntries,
});
export type CreateSubscriptionBody = v.InferOutput<typeof CreateSubscriptionBody>;

export const UpdateSubscriptionBody = v.strictObject(subscriptionEntries);
export type UpdateSubscriptionBody = v.InferOutput<typeof UpdateSubscriptionBody>;

export interface SubscriptionAttributes {
  protocol: Protocol;
  endpoint: string;
  filterTags: string[];
  bindingKeys: string[];
  notifyStrategy: NotifyStrategy;
  notifyContentFormat: ContentFormat;
  /** Secret for the delivery signature header; never shown back. */
  signingSecret: string | null;
}

export interface SubscriptionStats {
  delivered: number;
  failed: number;
  pending: number;
  lastError: string | null;
  lastErrorAt: number | null;
}

export interface SubscriptionInfo extends Omit<SubscriptionAttributes, "signingSecret"> {
  name: string;
  topic: string;
  signed: boolean;
  createdAt: number;
  modifiedAt: number;
  stats: SubscriptionStats;
}

const MessageTag = v.pipe(v.string(), v.minLength(1), v.maxLength(TopicLimits.filterTagMaxLength), headerSafe("tag"));

export const PublishedMessage = v.strictObject({
  body: v.pipe(v.string(), v.minLength(1, "a message body is at least 1 character")),
  tags: v.optional(v.pipe(v.array(MessageTag), v.maxLength(TopicLimits.tagsPerMessage))),
  routingKey: v.optional(RoutingKey),
  /** Carried to queue subscriptions as the messages' attributes, and in JSON pushes as `msgAttributes`. */
  attributes: v.optional(MessageAttributesSchema),
  groupId: v.optional(FifoId("group id", "passed to queue subscriptions: a FIFO queue's message group, a standard queue's tenant")),
  deduplicationId: v.optional(FifoId("deduplication id", "passed to queue subscriptions: a FIFO queue stores a second delivery with this id within 5 minutes once")),
});
export type PublishedMessage = v.InferOutput<typeof PublishedMessage>;

export const PublishBatchBody = v.strictObject({
  messages: v.pipe(
    v.array(PublishedMessage),
    v.minLength(1, "a batch holds at least 1 message"),
    v.maxLength(TopicLimits.batchMax, `a batch holds at most ${TopicLimits.batchMax} messages`),
  ),
});

/** One message, or `{"messages": [...]}`; which one is decided by the presence of `messages`. */
export const PublishBody = v.union([PublishedMessage, PublishBatchBody]);

export const QueueEndpoint = QueueName;
