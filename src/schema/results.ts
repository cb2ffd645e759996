import * as v from "valibot";
import type { AccountInfo, KeyInfo } from "./account";
import { Actions, Policy } from "./account";
import { DeduplicationScopes, FifoThroughputLimits, LocationHints, type DeleteResult, type PeekedMessage, type QueueInfo, type ReceivedMessage, type RedriveStatus, type SentMessage } from "./queue";
import { AttributeBaseTypes } from "./message-attributes";
import { ContentFormats, FilterTypes, NotifyStrategies, Protocols, type SubscriptionInfo, type TopicInfo } from "./topic";

/**
 * What operations answer, as schemas: they document every answer in /openapi.json and give clients
 * their types. The checks at the end keep each one equal to the type the service returns.
 */
const unixMs = v.pipe(v.number(), v.integer(), v.description("Unix milliseconds"));
const nullableUnixMs = v.nullable(unixMs);
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const cursor = v.pipe(v.nullable(v.string()), v.description("pass as `cursor` for the next page; null on the last"));

const DeadLetterPolicyResult = v.union([
  v.object({ queue: v.string(), maxReceiveCount: v.number() }),
  v.object({ queue: v.string(), maxTimeToLive: v.number() }),
]);

const RedriveAllowResult = v.variant("permission", [
  v.object({ permission: v.literal("allowAll") }),
  v.object({ permission: v.literal("denyAll") }),
  v.object({ permission: v.literal("byQueue"), sourceQueues: v.array(v.string()) }),
]);

/** A queue's tags: key to value. */
export const QueueTagsResult = v.record(v.string(), v.string());

const queueAttributeEntries = {
  visibilityTimeout: v.number(),
  pollingWaitSeconds: v.number(),
  maxMsgSize: v.number(),
  msgRetentionSeconds: v.number(),
  rewindSeconds: v.number(),
  maxMsgHeapNum: v.number(),
  deadLetter: v.nullable(DeadLetterPolicyResult),
  delaySeconds: v.number(),
  redriveAllow: RedriveAllowResult,
  tags: QueueTagsResult,
  locationHint: v.nullable(v.picklist(LocationHints)),
  fifo: v.boolean(),
  contentBasedDeduplication: v.boolean(),
  deduplicationScope: v.picklist(DeduplicationScopes),
  fifoThroughputLimit: v.picklist(FifoThroughputLimits),
  partitions: v.number(),
};

export const QueueSummaryResult = v.object({
  name: v.string(),
  createdAt: unixMs,
  modifiedAt: unixMs,
  ...queueAttributeEntries,
});

export const QueueResult = v.object({
  ...QueueSummaryResult.entries,
  counts: v.object({ active: count, inactive: count, delayed: count, total: count, rewindable: count }),
  oldestMessageAt: nullableUnixMs,
});

const total = v.pipe(count, v.description("how many entries the filters match in all pages (those the caller may read)"));
export const QueueListResult = v.object({ queues: v.array(QueueSummaryResult), nextCursor: cursor, total });
export const QueueTagsAnswer = v.object({ tags: QueueTagsResult });
export const CreatedQueueResult = v.object({ created: v.boolean(), queue: QueueResult });

const sequenceNumberResult = v.pipe(
  v.string(),
  v.description("FIFO queues: the message's place in the queue, 20 decimal digits, increasing in send order"),
);
const fifoMessageEntries = {
  groupId: v.optional(v.pipe(v.string(), v.description("the message group (FIFO queue) or tenant (standard queue)"))),
  deduplicationId: v.optional(v.string()),
  sequenceNumber: v.optional(sequenceNumberResult),
};

export const MessageIdsResult = v.object({
  messages: v.array(
    v.object({
      id: v.pipe(v.string(), v.description("a FIFO queue's duplicate within the deduplication window answers the first message's id")),
      sequenceNumber: v.optional(sequenceNumberResult),
    }),
  ),
});

const MessageAttributesResult = v.pipe(
  v.record(v.string(), v.object({ type: v.string(), value: v.string() })),
  v.description(
    `typed attributes by name; \`type\` is ${AttributeBaseTypes.join(", ")} or one of them with a custom label (\`Number.float\`), \`value\` is text, base64 for Binary types; \`{}\` when none`,
  ),
);
const senderIdResult = v.pipe(
  v.nullable(v.string()),
  v.description("who sent the message: the SecretId of the sending key (or of the key that minted the token), the account id for root credentials; null for messages stored before senders were recorded"),
);

export const ReceivedMessageResult = v.object({
  id: v.string(),
  body: v.string(),
  tags: v.array(v.string()),
  receiptHandle: v.string(),
  enqueuedAt: unixMs,
  firstReceivedAt: unixMs,
  receiveCount: count,
  nextVisibleAt: unixMs,
  sourceQueue: v.optional(v.string()),
  attributes: MessageAttributesResult,
  senderId: senderIdResult,
  traceHeader: v.optional(v.string()),
  ...fifoMessageEntries,
});
export const ReceivedMessagesResult = v.object({ messages: v.array(ReceivedMessageResult) });

export const PeekedMessageResult = v.object({
  id: v.string(),
  body: v.string(),
  tags: v.array(v.string()),
  state: v.picklist(["delayed", "active", "inactive", "deleted"]),
  enqueuedAt: unixMs,
  firstReceivedAt: nullableUnixMs,
  receiveCount: count,
  nextVisibleAt: unixMs,
  sourceQueue: v.optional(v.string()),
  attributes: MessageAttributesResult,
  senderId: senderIdResult,
  traceHeader: v.optional(v.string()),
  ...fifoMessageEntries,
});
export const PeekResult = v.object({ messages: v.array(PeekedMessageResult), nextCursor: cursor });

export const DeleteResultItem = v.object({
  receiptHandle: v.string(),
  deleted: v.boolean(),
  error: v.optional(v.object({ code: v.string(), message: v.string() })),
});
export const DeleteResults = v.object({ results: v.array(DeleteResultItem) });

export const VisibilityResult = v.object({ nextVisibleAt: unixMs });
export const PurgeResult = v.object({ purged: count });
export const RewindResult = v.object({ rewound: count });

export const RedriveResult = v.object({
  status: v.picklist(["running", "completed", "cancelled", "failed"]),
  destination: v.nullable(v.string()),
  maxPerSecond: v.number(),
  maxMessages: v.nullable(v.number()),
  moved: count,
  remaining: count,
  startedAt: unixMs,
  endedAt: nullableUnixMs,
  lastError: v.nullable(v.string()),
});

export const RedriveListResult = v.object({ redrives: v.pipe(v.array(RedriveResult), v.maxLength(1)) });

export const QueueRatesResult = v.object({
  bucketSeconds: v.pipe(v.number(), v.description("length of a bucket: a count divided by it is a rate per second")),
  windowSeconds: v.pipe(v.number(), v.description("how far back the buckets reach")),
  buckets: v.pipe(
    v.array(v.object({ startAt: unixMs, sent: count, received: count, deleted: count })),
    v.description("every bucket of the window, oldest first, the current (partial) one last"),
  ),
});

const topicAttributeEntries = {
  maxMsgSize: v.number(),
  msgRetentionSeconds: v.number(),
  filterType: v.picklist(FilterTypes),
};
export const TopicSummaryResult = v.object({ name: v.string(), createdAt: unixMs, modifiedAt: unixMs, ...topicAttributeEntries });
export const TopicResult = v.object({ ...TopicSummaryResult.entries, subscriptionCount: count, messageCount: count });
export const TopicListResult = v.object({ topics: v.array(TopicSummaryResult), nextCursor: cursor, total });
export const CreatedTopicResult = v.object({ created: v.boolean(), topic: TopicResult });

export const SubscriptionResult = v.object({
  name: v.string(),
  topic: v.string(),
  protocol: v.picklist(Protocols),
  endpoint: v.string(),
  filterTags: v.array(v.string()),
  bindingKeys: v.array(v.string()),
  notifyStrategy: v.picklist(NotifyStrategies),
  notifyContentFormat: v.picklist(ContentFormats),
  signed: v.boolean(),
  createdAt: unixMs,
  modifiedAt: unixMs,
  stats: v.object({
    delivered: count,
    failed: count,
    pending: count,
    lastError: v.nullable(v.string()),
    lastErrorAt: nullableUnixMs,
  }),
});
export const SubscriptionListResult = v.object({ subscriptions: v.array(SubscriptionResult), nextCursor: cursor, total });
export const CreatedSubscriptionResult = v.object({ created: v.boolean(), subscription: SubscriptionResult });

export const AccountResult = v.object({
  id: v.string(),
  name: v.string(),
  createdAt: unixMs,
  allowedOrigins: v.nullable(v.array(v.string())),
});
export const AccountListResult = v.object({ accounts: v.array(AccountResult), nextCursor: cursor, total });

export const KeyResult = v.object({
  secretId: v.string(),
  accountId: v.string(),
  policy: Policy,
  disabled: v.boolean(),
  createdAt: unixMs,
  rotatedAt: nullableUnixMs,
});
export const KeyListResult = v.object({ keys: v.array(KeyResult), nextCursor: cursor, total });
export const NewKeyResult = v.object({
  ...KeyResult.entries,
  secretKey: v.pipe(v.string(), v.description("shown only in this answer")),
});

export const TokenResult = v.object({ token: v.string(), expiresAt: unixMs });

export const WhoAmIResult = v.object({
  account: v.pipe(v.string(), v.description("the account the credentials act in")),
  kind: v.pipe(v.picklist(["root", "key", "token"]), v.description("root credentials, a key, or a browser token")),
  secretId: v.pipe(v.nullable(v.string()), v.description("the key used, or that minted the token; null for the root credentials")),
  policy: v.pipe(v.nullable(Policy), v.description("the key's policy; null when no policy limits it (root, or a token root minted)")),
  token: v.pipe(
    v.nullable(v.object({ actions: v.array(v.picklist(Actions)), resources: v.array(v.string()), expiresAt: unixMs })),
    v.description("a token's own scope, on top of its key's policy, and when it ends; null for a key or root"),
  ),
  allowedOrigins: v.pipe(v.nullable(v.array(v.string())), v.description("origins whose pages may read the account's answers; null: any")),
});
export const HealthResult = v.object({ status: v.literal("ok") });

// Each schema must describe exactly what the service returns: these fail to compile otherwise.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agrees = <T extends true>(): T => true as T;
agrees<Same<v.InferOutput<typeof QueueResult>, QueueInfo>>();
agrees<Same<v.InferOutput<typeof ReceivedMessageResult>, ReceivedMessage>>();
agrees<Same<v.InferOutput<typeof PeekedMessageResult>, PeekedMessage>>();
agrees<Same<v.InferOutput<typeof MessageIdsResult>["messages"][number], SentMessage>>();
agrees<Same<v.InferOutput<typeof DeleteResultItem>, DeleteResult>>();
agrees<Same<v.InferOutput<typeof RedriveResult>, RedriveStatus>>();
agrees<Same<v.InferOutput<typeof TopicResult>, TopicInfo>>();
agrees<Same<v.InferOutput<typeof SubscriptionResult>, SubscriptionInfo>>();
agrees<Same<v.InferOutput<typeof AccountResult>, AccountInfo>>();
agrees<Same<v.InferOutput<typeof KeyResult>, KeyInfo>>();
