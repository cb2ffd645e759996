import * as v from "valibot";
import { SqsWire, SqsWireError } from "./errors";

/**
 * The AWS JSON 1.0 requests of SQS, one schema per action, with SQS's own wire rules where they
 * are narrower than the service's (a batch holds 10 entries, a long poll waits 20 s, a message is
 * delayed up to 900 s, a queue keeps messages up to 14 days). The service's own limits and
 * defaults apply after translation, in the operation catalog.
 * Source: the SQS API reference (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/).
 */
export const SqsLimits = {
  batchEntries: { min: 1, max: 10 },
  batchEntryIdLength: 80,
  receiveMessages: { min: 1, max: 10 },
  waitTimeSeconds: { min: 0, max: 20 },
  visibilityTimeoutSeconds: { min: 0, max: 43_200 },
  delaySeconds: { min: 0, max: 900 },
  messageRetentionSeconds: { min: 60, max: 1_209_600 },
  maximumMessageBytes: { min: 1_024, max: 1_048_576 },
  listMaxResults: { min: 1, max: 1_000 },
  /** ListMessageMoveTasks answers the most recent tasks, up to 10. */
  moveTaskResults: { min: 1, max: 10 },
} as const;

/**
 * The characters SQS allows in a message body (SendMessage: #x9 | #xA | #xD | #x20 to #xD7FF |
 * #xE000 to #xFFFD | #x10000 to #x10FFFF); any other is InvalidMessageContents.
 */
export const MessageBodyCharacters = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

const integer = (range: { min: number; max: number }) => v.pipe(v.number(), v.integer(), v.minValue(range.min), v.maxValue(range.max));

/** Queue attribute values travel as strings of decimal digits. */
export const integerString = (range: { min: number; max: number }) =>
  v.pipe(v.string(), v.regex(/^\d{1,10}$/, "expected an integer"), v.transform(Number), v.minValue(range.min), v.maxValue(range.max));

const QueueUrl = v.string();
const StringMap = v.record(v.string(), v.string());
const Names = v.array(v.string());

/** `Binary` of `Binary.gif`: which member of a MessageAttributeValue holds the value. */
// Every check of a pipe runs, also after one failed: a missing DataType reaches these as undefined.
const holdsBinary = (dataType: string | undefined) => (dataType ?? "").split(".", 1)[0] === "Binary";
const isStringOrNumber = (dataType: string | undefined) => ["String", "Number"].includes((dataType ?? "").split(".", 1)[0]!);

/** Reserved by SQS ("Not implemented. Reserved for future use."): refused when given, not dropped. */
const ReservedList = (member: string) => v.optional(v.pipe(v.array(v.string()), v.maxLength(0, `${member} is reserved by SQS and not supported`)));

/**
 * One message attribute as SQS carries it (`MessageAttributeValue`): a `DataType`, and the value in
 * `BinaryValue` (base64, kept as text) for Binary types, else in `StringValue`, never empty; a
 * StringValue holds only the characters SQS allows in a body. The service checks the rest (names,
 * types, numbers, base64) as for every interface.
 */
const MessageAttributeValue = v.pipe(
  v.strictObject({
    DataType: v.optional(v.string()),
    StringValue: v.optional(v.string()),
    BinaryValue: v.optional(v.string()),
    StringListValues: ReservedList("StringListValues"),
    BinaryListValues: ReservedList("BinaryListValues"),
  }),
  v.check(({ DataType }) => Boolean(DataType), "a message attribute must contain a non-empty attribute type (DataType)"),
  v.check(
    ({ DataType, StringValue, BinaryValue }) => !holdsBinary(DataType) || (StringValue === undefined && Boolean(BinaryValue)),
    "a Binary attribute must contain a non-empty BinaryValue and no StringValue",
  ),
  v.check(
    ({ DataType, StringValue, BinaryValue }) => !isStringOrNumber(DataType) || (BinaryValue === undefined && Boolean(StringValue)),
    "a String or Number attribute must contain a non-empty StringValue and no BinaryValue",
  ),
  v.check(
    ({ StringValue }) => StringValue === undefined || MessageBodyCharacters.test(StringValue),
    "a StringValue may hold only the characters SQS allows in a message body",
  ),
);
export type SqsMessageAttributeValue = v.InferOutput<typeof MessageAttributeValue>;

/** Keys a JavaScript record cannot hold as plain data: a record schema would drop them without a word. */
const UnstorableKeys = ["__proto__", "constructor", "prototype"];

const MessageAttributeMap = v.pipe(
  v.unknown(),
  v.check(
    (input) => !Array.isArray(input) && (input === null || typeof input !== "object" || !UnstorableKeys.some((key) => Object.hasOwn(input, key))),
    (issue) => (Array.isArray(issue.input) ? "expected an object of attributes by name, not a list" : "the attribute names __proto__, constructor and prototype are not accepted"),
  ),
  v.record(v.string(), MessageAttributeValue),
);

export const BatchEntryId = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-]{1,80}$/, "a batch entry id is 1 to 80 letters, digits, '-' or '_'"),
);

/** A message's fields, the same in SendMessage and in each SendMessageBatch entry. */
const OutgoingMessageFields = {
    MessageBody: v.string(),
    DelaySeconds: v.optional(integer(SqsLimits.delaySeconds)),
    MessageAttributes: v.optional(MessageAttributeMap),
    // SQS's MessageSystemAttributeValue has the same members; AWSTraceHeader, a String, is the only one.
    MessageSystemAttributes: v.optional(
      v.strictObject({
        AWSTraceHeader: v.optional(v.pipe(MessageAttributeValue, v.check(({ DataType }) => DataType === "String", "AWSTraceHeader is of type String"))),
      }),
    ),
    // Checked by the service (1 to 128 letters, digits and punctuation), as for every interface.
    MessageDeduplicationId: v.optional(v.string()),
    MessageGroupId: v.optional(v.string()),
};

export const SqsRequest = {
  CreateQueue: v.strictObject({ QueueName: v.string(), Attributes: v.optional(StringMap), tags: v.optional(StringMap) }),
  GetQueueUrl: v.strictObject({ QueueName: v.string(), QueueOwnerAWSAccountId: v.optional(v.string()) }),
  ListQueues: v.strictObject({
    QueueNamePrefix: v.optional(v.string()),
    MaxResults: v.optional(integer(SqsLimits.listMaxResults)),
    NextToken: v.optional(v.string()),
  }),
  GetQueueAttributes: v.strictObject({ QueueUrl, AttributeNames: v.optional(Names) }),
  SetQueueAttributes: v.strictObject({ QueueUrl, Attributes: StringMap }),
  DeleteQueue: v.strictObject({ QueueUrl }),
  PurgeQueue: v.strictObject({ QueueUrl }),
  SendMessage: v.strictObject({ QueueUrl, ...OutgoingMessageFields }),
  /** Entries are checked one by one (SendMessageBatchEntry): a bad entry fails alone. */
  SendMessageBatch: v.strictObject({ QueueUrl, Entries: v.array(v.looseObject({ Id: v.string() })) }),
  ReceiveMessage: v.strictObject({
    QueueUrl,
    AttributeNames: v.optional(Names),
    MessageSystemAttributeNames: v.optional(Names),
    MessageAttributeNames: v.optional(Names),
    MaxNumberOfMessages: v.optional(integer(SqsLimits.receiveMessages)),
    VisibilityTimeout: v.optional(integer(SqsLimits.visibilityTimeoutSeconds)),
    WaitTimeSeconds: v.optional(integer(SqsLimits.waitTimeSeconds)),
    // Deduplicates retried receives of FIFO queues only; SQS ignores it for standard queues.
    ReceiveRequestAttemptId: v.optional(v.string()),
  }),
  DeleteMessage: v.strictObject({ QueueUrl, ReceiptHandle: v.string() }),
  DeleteMessageBatch: v.strictObject({ QueueUrl, Entries: v.array(v.looseObject({ Id: v.string() })) }),
  ChangeMessageVisibility: v.strictObject({ QueueUrl, ReceiptHandle: v.string(), VisibilityTimeout: integer(SqsLimits.visibilityTimeoutSeconds) }),
  ChangeMessageVisibilityBatch: v.strictObject({ QueueUrl, Entries: v.array(v.looseObject({ Id: v.string() })) }),
  TagQueue: v.strictObject({ QueueUrl, Tags: StringMap }),
  UntagQueue: v.strictObject({ QueueUrl, TagKeys: Names }),
  ListQueueTags: v.strictObject({ QueueUrl }),
  ListDeadLetterSourceQueues: v.strictObject({
    QueueUrl,
    MaxResults: v.optional(integer(SqsLimits.listMaxResults)),
    NextToken: v.optional(v.string()),
  }),
  // The rate's bounds are the redrive's own, checked by the catalog.
  StartMessageMoveTask: v.strictObject({ SourceArn: v.string(), DestinationArn: v.optional(v.string()), MaxNumberOfMessagesPerSecond: v.optional(v.number()) }),
  ListMessageMoveTasks: v.strictObject({ SourceArn: v.string(), MaxResults: v.optional(integer(SqsLimits.moveTaskResults)) }),
  CancelMessageMoveTask: v.strictObject({ TaskHandle: v.string() }),
} as const;

export type SqsAction = keyof typeof SqsRequest;
export type SqsInput<TAction extends SqsAction> = v.InferOutput<(typeof SqsRequest)[TAction]>;

export const SqsBatchEntry = {
  SendMessageBatch: v.strictObject({ Id: BatchEntryId, ...OutgoingMessageFields }),
  DeleteMessageBatch: v.strictObject({ Id: BatchEntryId, ReceiptHandle: v.string() }),
  ChangeMessageVisibilityBatch: v.strictObject({
    Id: BatchEntryId,
    ReceiptHandle: v.string(),
    VisibilityTimeout: integer(SqsLimits.visibilityTimeoutSeconds),
  }),
} as const;

/** SQS actions that exist but have no counterpart here yet; they answer UnsupportedOperation. */
export const UnsupportedActions = new Set([
  "AddPermission",
  "RemovePermission",
]);

/**
 * Validates a request against its wire schema: a required member that is absent is SQS's
 * MissingParameter, any other problem InvalidParameterValue, naming the member.
 */
export function parseWire<TSchema extends v.GenericSchema>(schema: TSchema, input: unknown, where = ""): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = [where, ...(issue.path?.map((item) => String(item.key)) ?? [])].filter((part) => part !== "").join(".");
  if (issue.kind === "schema" && issue.input === undefined && path !== "") {
    throw new SqsWireError(SqsWire.MissingParameter, `The request must contain the parameter ${path}.`);
  }
  const reason = issue.type === "strict_object" && issue.input !== undefined ? `${path} is not a parameter of this action` : issue.message;
  throw new SqsWireError(SqsWire.InvalidParameterValue, `Value for parameter ${path || "(request)"} is invalid. Reason: ${reason}.`);
}
