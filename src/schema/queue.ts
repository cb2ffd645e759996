import * as v from "valibot";
import { MessageAttributesSchema, type MessageAttributes } from "./message-attributes";
import { headerSafe } from "./text";
import { Partitions } from "./partitions";

/**
 * Queue limits. Ranges follow Tencent Cloud CMQ's documented attribute bounds (CreateQueue,
 * SendMessage, BatchReceiveMessage); where this service allows more, the comment says so.
 */
export const QueueLimits = {
  nameMaxLength: 64,
  visibilityTimeoutSeconds: { min: 1, max: 43_200, default: 30 },
  pollingWaitSeconds: { min: 0, max: 30, default: 0 },
  maxMsgSizeBytes: { min: 1_024, max: 1_048_576, default: 65_536 },
  msgRetentionSeconds: { min: 60, max: 1_296_000, default: 345_600 },
  rewindSeconds: { min: 0, max: 1_296_000, default: 0 },
  /** CMQ requires at least 1,000,000; smaller values are accepted so that a queue can be bounded tightly. */
  maxMsgHeapNum: { min: 1, max: 1_000_000_000, default: 100_000_000 },
  maxReceiveCount: { min: 1, max: 1_000 },
  maxTimeToLiveSeconds: { min: 300, max: 43_200 },
  /** CMQ allows 3,600 s; here a message may be scheduled up to the queue's retention ahead. */
  delaySecondsMax: 1_296_000,
  /**
   * A delayed message stays receivable at least this long before retention purges it: a delay
   * is at most the queue's msgRetentionSeconds minus this (the shortest retention, 60 s).
   */
  receivableAfterDelayMinSeconds: 60,
  batchMax: 16,
  tagsPerMessage: 16,
  tagMaxLength: 64,
  /** A message's trace header (SQS's AWSTraceHeader system attribute); 1 KiB holds any X-Ray header. */
  traceHeaderMaxLength: 1_024,
  /** Sum of message bodies in one batch send (CMQ 4470 / SQS: a batch is bounded like one message). */
  batchBodyMaxBytes: 1_048_576,
  /** Redrive rate bounds, messages per second (SQS StartMessageMoveTask allows up to 500). */
  redriveRatePerSecond: { min: 1, max: 500, default: 100 },
  peekMax: 100,
  peekDefault: 16,
  listMax: 1_000,
  listDefault: 100,
  /** Offsets reach past any account's quota of queues or topics. */
  listOffsetMax: 1_000_000,
  /** Source queues one dead-letter queue may serve (CMQ 10780). */
  deadLetterSourcesMax: 6,
  /**
   * A queue's delay for messages sent without one. SQS allows 0 to 900 s; here, as for a message's
   * own delay, up to the queue's retention (less `receivableAfterDelayMinSeconds`).
   */
  queueDelaySeconds: { min: 0, max: 1_296_000, default: 0 },
  /** Queue tags (SQS TagQueue: 50 per queue, keys 1 to 128 characters, values 0 to 256). */
  queueTagsMax: 50,
  queueTagKeyMaxLength: 128,
  queueTagValueMaxLength: 256,
  /** Source queues a `byQueue` redriveAllow may name (SQS RedriveAllowPolicy sourceQueueArns). */
  redriveAllowSourcesMax: 10,
} as const;

/** Cloudflare Durable Object location hints. */
export const LocationHints = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type LocationHint = (typeof LocationHints)[number];

/** CMQ's rule (TDMQ Go SDK `^[a-zA-Z][a-zA-Z\d_-]{0,63}$`). */
export const QueueNamePattern = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** Any queue's name: CMQ's rule, or a FIFO queue's, which ends in `.fifo` (SQS's rule), 64 characters in all. */
export const AnyQueueNamePattern = /^[A-Za-z](?:[A-Za-z0-9_-]{0,63}|[A-Za-z0-9_-]{0,58}\.fifo)$/;
export const FifoNameSuffix = ".fifo";

export const QueueName = v.pipe(
  v.string(),
  v.regex(
    AnyQueueNamePattern,
    "a queue name is 1 to 64 letters, digits, '-' or '_', starting with a letter; a FIFO queue's ends in '.fifo'",
  ),
);

/** FIFO queues: how long a deduplication id is remembered (SQS's 5-minute window), and the ids' shape. */
export const FifoLimits = {
  deduplicationWindowMs: 300_000,
  /** Group and deduplication ids: 1 to 128 characters, letters, digits and punctuation (SQS's rule). */
  idMaxLength: 128,
} as const;

/** SQS's alphabet for MessageGroupId and MessageDeduplicationId: ASCII letters, digits and punctuation. */
const FifoIdPattern = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;
export const FifoId = (what: string, description: string) =>
  v.pipe(
    v.string(),
    v.regex(FifoIdPattern, `a ${what} is 1 to ${FifoLimits.idMaxLength} ASCII letters, digits or punctuation characters`),
    v.description(description),
  );

/** Deduplication ids are per queue, or per message group (SQS DeduplicationScope). */
export const DeduplicationScopes = ["queue", "messageGroup"] as const;
export type DeduplicationScope = (typeof DeduplicationScopes)[number];
/** SQS FifoThroughputLimit; no throughput limit applies here, the value is kept for SQS clients. */
export const FifoThroughputLimits = ["perQueue", "perMessageGroupId"] as const;
export type FifoThroughputLimit = (typeof FifoThroughputLimits)[number];

const integerIn = (range: { min: number; max: number }, description: string) =>
  v.pipe(v.number(), v.integer(), v.minValue(range.min), v.maxValue(range.max), v.description(description));

export const DeadLetterPolicy = v.union([
  v.strictObject({
    queue: QueueName,
    maxReceiveCount: integerIn(
      QueueLimits.maxReceiveCount,
      "move a message after it was received this many times without being deleted",
    ),
  }),
  v.strictObject({
    queue: QueueName,
    maxTimeToLive: integerIn(
      QueueLimits.maxTimeToLiveSeconds,
      "move a message not deleted this many seconds after it was enqueued",
    ),
  }),
]);
export type DeadLetterPolicy = v.InferOutput<typeof DeadLetterPolicy>;

/**
 * Characters of a queue tag's key and value: letters, digits and spaces of any script, and
 * `_ . : / = + - @` (the AWS tag rule, which SQS applies).
 */
export const QueueTagCharacters = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Tag keys starting with `aws:` (in any case) are reserved, as in AWS. */
export const ReservedTagPrefix = "aws:";

export const QueueTagKey = v.pipe(
  v.string(),
  v.minLength(1, "a tag key is at least 1 character"),
  v.maxLength(QueueLimits.queueTagKeyMaxLength, `a tag key is at most ${QueueLimits.queueTagKeyMaxLength} characters`),
  v.regex(QueueTagCharacters, "a tag key holds letters, digits, spaces and _ . : / = + - @ only"),
  v.check((key) => !key.toLowerCase().startsWith(ReservedTagPrefix), `tag keys starting with "${ReservedTagPrefix}" are reserved`),
);

export const QueueTagValue = v.pipe(
  v.string(),
  v.maxLength(QueueLimits.queueTagValueMaxLength, `a tag value is at most ${QueueLimits.queueTagValueMaxLength} characters`),
  v.regex(QueueTagCharacters, "a tag value holds letters, digits, spaces and _ . : / = + - @ only"),
);

/** Tags to set on a queue: key to value, case-sensitive. */
export const QueueTags = v.pipe(
  // A record schema takes an array as an object of its indexes: refuse it first.
  v.custom<Record<string, unknown>>(
    (input) => typeof input === "object" && input !== null && !Array.isArray(input),
    "tags are an object of key to value",
  ),
  v.record(QueueTagKey, QueueTagValue),
  v.check((tags) => Object.keys(tags).length <= QueueLimits.queueTagsMax, `a queue holds at most ${QueueLimits.queueTagsMax} tags`),
  v.description(`key to value; at most ${QueueLimits.queueTagsMax} per queue`),
);
export type QueueTags = v.InferOutput<typeof QueueTags>;

/**
 * Which queues may use this queue as their dead-letter queue (SQS RedriveAllowPolicy): any queue
 * (`allowAll`, the default), none (`denyAll`), or the ones named (`byQueue`).
 */
export const RedriveAllowPolicy = v.variant("permission", [
  v.strictObject({ permission: v.literal("allowAll") }),
  v.strictObject({ permission: v.literal("denyAll") }),
  v.strictObject({
    permission: v.literal("byQueue"),
    sourceQueues: v.pipe(
      v.array(QueueName),
      v.minLength(1, "byQueue names at least 1 source queue"),
      v.maxLength(QueueLimits.redriveAllowSourcesMax, `byQueue names at most ${QueueLimits.redriveAllowSourcesMax} source queues`),
    ),
  }),
]);
export type RedriveAllowPolicy = v.InferOutput<typeof RedriveAllowPolicy>;

const mutableAttributeEntries = {
  visibilityTimeout: v.optional(
    integerIn(QueueLimits.visibilityTimeoutSeconds, "seconds a received message stays hidden"),
  ),
  pollingWaitSeconds: v.optional(
    integerIn(QueueLimits.pollingWaitSeconds, "default long-poll wait of a receive, seconds"),
  ),
  maxMsgSize: v.optional(integerIn(QueueLimits.maxMsgSizeBytes, "largest message body, bytes (UTF-8)")),
  msgRetentionSeconds: v.optional(
    integerIn(QueueLimits.msgRetentionSeconds, "seconds a message is kept, whatever its state"),
  ),
  rewindSeconds: v.optional(
    integerIn(QueueLimits.rewindSeconds, "seconds deleted messages stay rewindable; 0 turns rewind off"),
  ),
  maxMsgHeapNum: v.optional(integerIn(QueueLimits.maxMsgHeapNum, "most messages the queue holds")),
  deadLetter: v.optional(v.nullable(DeadLetterPolicy)),
  delaySeconds: v.optional(
    integerIn(QueueLimits.queueDelaySeconds, "seconds a message sent without a delay of its own stays invisible"),
  ),
  redriveAllow: v.optional(RedriveAllowPolicy),
  contentBasedDeduplication: v.optional(
    v.pipe(v.boolean(), v.description("FIFO queues: a message sent without a deduplicationId is deduplicated by the SHA-256 of its body")),
  ),
  deduplicationScope: v.optional(
    v.pipe(v.picklist(DeduplicationScopes), v.description("FIFO queues: whether deduplication ids are unique per queue or per message group")),
  ),
  fifoThroughputLimit: v.optional(
    v.pipe(v.picklist(FifoThroughputLimits), v.description("FIFO queues: kept for SQS clients; no throughput limit applies")),
  ),
  partitions: v.optional(Partitions),
};

export const CreateQueueBody = v.strictObject({
  ...mutableAttributeEntries,
  fifo: v.optional(
    v.pipe(v.boolean(), v.description("a FIFO queue (name ending in '.fifo'): messages of one group in order, one group's at a time; fixed for the queue's life")),
  ),
  tags: v.optional(QueueTags),
  locationHint: v.optional(
    v.pipe(v.picklist(LocationHints), v.description("where the queue's object is placed on first use")),
  ),
});
export type CreateQueueBody = v.InferOutput<typeof CreateQueueBody>;

export const UpdateQueueBody = v.strictObject(mutableAttributeEntries);
export type UpdateQueueBody = v.InferOutput<typeof UpdateQueueBody>;

/** Every attribute resolved, as a queue object stores it. */
export interface QueueAttributes {
  visibilityTimeout: number;
  pollingWaitSeconds: number;
  maxMsgSize: number;
  msgRetentionSeconds: number;
  rewindSeconds: number;
  maxMsgHeapNum: number;
  deadLetter: DeadLetterPolicy | null;
  delaySeconds: number;
  redriveAllow: RedriveAllowPolicy;
  tags: QueueTags;
  locationHint: LocationHint | null;
  /** Fixed at creation. */
  fifo: boolean;
  contentBasedDeduplication: boolean;
  deduplicationScope: DeduplicationScope;
  fifoThroughputLimit: FifoThroughputLimit;
  /** Queue objects holding the messages (see `src/schema/partitions.ts`). */
  partitions: number;
}

export interface QueueCounts {
  active: number;
  inactive: number;
  delayed: number;
  total: number;
  /** Deleted messages still kept for rewind. */
  rewindable: number;
}

export interface QueueInfo extends QueueAttributes {
  name: string;
  createdAt: number;
  modifiedAt: number;
  counts: QueueCounts;
  /** Earliest enqueue time of a stored message, Unix ms, or null when empty. */
  oldestMessageAt: number | null;
}

const Tag = v.pipe(v.string(), v.minLength(1), v.maxLength(QueueLimits.tagMaxLength), headerSafe("tag"));

export const OutgoingMessage = v.strictObject({
  body: v.pipe(v.string(), v.minLength(1, "a message body is at least 1 character")),
  delaySeconds: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(QueueLimits.delaySecondsMax)),
  ),
  tags: v.optional(v.pipe(v.array(Tag), v.maxLength(QueueLimits.tagsPerMessage))),
  attributes: v.optional(MessageAttributesSchema),
  traceHeader: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1, "a trace header is not empty"),
      v.maxLength(QueueLimits.traceHeaderMaxLength),
      headerSafe("trace header"),
      v.description("a tracing header kept with the message and given back on receive (SQS's AWSTraceHeader, an AWS X-Ray header); not counted in the size"),
    ),
  ),
  groupId: v.optional(
    FifoId(
      "group id",
      "FIFO queues (required): the message group, received in send order and one at a time; standard queues: the tenant, for fair delivery",
    ),
  ),
  deduplicationId: v.optional(
    FifoId("deduplication id", "FIFO queues: a second send with this id within 5 minutes stores nothing and answers the first message's id"),
  ),
});
export type OutgoingMessage = v.InferOutput<typeof OutgoingMessage>;

export const SendBatchBody = v.strictObject({
  messages: v.pipe(
    v.array(OutgoingMessage),
    v.minLength(1, "a batch holds at least 1 message"),
    v.maxLength(QueueLimits.batchMax, `a batch holds at most ${QueueLimits.batchMax} messages`),
  ),
});

/** One message, or `{"messages": [...]}`; which one is decided by the presence of `messages`. */
export const SendBody = v.union([OutgoingMessage, SendBatchBody]);
export type SendBody = v.InferOutput<typeof SendBody>;

export const ReceiveBody = v.strictObject({
  max: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(QueueLimits.batchMax))),
  waitSeconds: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(QueueLimits.pollingWaitSeconds.min),
      v.maxValue(QueueLimits.pollingWaitSeconds.max),
    ),
  ),
  visibilityTimeout: v.optional(
    integerIn(QueueLimits.visibilityTimeoutSeconds, "hide received messages this long instead of the queue's default"),
  ),
});
export type ReceiveBody = v.InferOutput<typeof ReceiveBody>;

/** Receipt handles are opaque, at most 256 characters of `[A-Za-z0-9_-]` (the CMQ Go SDK's client check). */
export const ReceiptHandle = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,256}$/, "malformed receipt handle"));

export const DeleteMessagesBody = v.strictObject({
  receiptHandles: v.pipe(v.array(v.string()), v.minLength(1), v.maxLength(QueueLimits.batchMax)),
});
export type DeleteMessagesBody = v.InferOutput<typeof DeleteMessagesBody>;

export const ChangeVisibilityBody = v.strictObject({
  receiptHandle: v.string(),
  visibilityTimeout: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.maxValue(QueueLimits.visibilityTimeoutSeconds.max),
  ),
});
export type ChangeVisibilityBody = v.InferOutput<typeof ChangeVisibilityBody>;

export const RewindBody = v.strictObject({
  since: v.pipe(v.number(), v.integer(), v.minValue(0), v.description("Unix ms")),
});
export type RewindBody = v.InferOutput<typeof RewindBody>;

export const RedriveBody = v.strictObject({
  destination: v.optional(QueueName),
  maxPerSecond: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(QueueLimits.redriveRatePerSecond.min),
      v.maxValue(QueueLimits.redriveRatePerSecond.max),
    ),
  ),
  maxMessages: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});
export type RedriveBody = v.InferOutput<typeof RedriveBody>;

const IntegerString = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,10}$/, "expected a non-negative integer"),
    v.transform(Number),
    v.minValue(min),
    v.maxValue(max),
  );

export const ListQueuesQuery = v.strictObject({
  prefix: v.optional(v.pipe(v.string(), v.maxLength(QueueLimits.nameMaxLength))),
  limit: v.optional(IntegerString(1, QueueLimits.listMax)),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(200))),
});
export type ListQueuesQuery = v.InferOutput<typeof ListQueuesQuery>;

export const PeekQuery = v.strictObject({
  limit: v.optional(IntegerString(1, QueueLimits.peekMax)),
  cursor: v.optional(v.pipe(v.string(), v.regex(/^\d{1,16}$/, "malformed cursor"))),
});
export type PeekQuery = v.InferOutput<typeof PeekQuery>;

/** A message as a consumer receives it. */
export interface ReceivedMessage {
  id: string;
  body: string;
  tags: string[];
  receiptHandle: string;
  enqueuedAt: number;
  firstReceivedAt: number;
  receiveCount: number;
  nextVisibleAt: number;
  /** Set on messages moved here as dead letters: the queue they came from. */
  sourceQueue?: string;
  /** The message's typed attributes; `{}` when it has none. */
  attributes: MessageAttributes;
  /** Who sent it: the sending key's SecretId, or the account for root credentials; null if not recorded. */
  senderId: string | null;
  /** The trace header it was sent with, if any. */
  traceHeader?: string;
  /** The group (FIFO) or tenant (standard queue) it was sent with, if any. */
  groupId?: string;
  /** FIFO queues: the deduplication id it was sent with, or the SHA-256 of its body (content-based). */
  deduplicationId?: string;
  /** FIFO queues: its place in the queue, increasing in send order, as 20 decimal digits. */
  sequenceNumber?: string;
}

export type MessageState = "delayed" | "active" | "inactive" | "deleted";

/** A message as peek shows it: no receipt handle, state unchanged. */
export interface PeekedMessage {
  id: string;
  body: string;
  tags: string[];
  state: MessageState;
  enqueuedAt: number;
  firstReceivedAt: number | null;
  receiveCount: number;
  nextVisibleAt: number;
  sourceQueue?: string;
  attributes: MessageAttributes;
  senderId: string | null;
  traceHeader?: string;
  groupId?: string;
  deduplicationId?: string;
  sequenceNumber?: string;
}

/** What a send answers per message; a FIFO queue's duplicate answers the first message's. */
export interface SentMessage {
  id: string;
  /** FIFO queues only. */
  sequenceNumber?: string;
}

export interface DeleteResult {
  receiptHandle: string;
  deleted: boolean;
  error?: { code: string; message: string };
}

export interface RedriveStatus {
  status: "running" | "completed" | "cancelled" | "failed";
  destination: string | null;
  maxPerSecond: number;
  maxMessages: number | null;
  moved: number;
  /** Messages still waiting in this queue when the status was read. */
  remaining: number;
  startedAt: number;
  endedAt: number | null;
  lastError: string | null;
}
