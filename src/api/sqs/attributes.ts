import * as v from "valibot";
import type { QueueInfo } from "../../schema/queue";
import { SqsWire, SqsWireError } from "./errors";
import { queueArnOf } from "./queue-url";
import { integerString, SqsLimits } from "./wire";

/** SQS queue attributes that map onto the service's, with SQS's own bounds on the wire. */
const SettableAttributes = {
  VisibilityTimeout: { field: "visibilityTimeout", value: integerString(SqsLimits.visibilityTimeoutSeconds) },
  MessageRetentionPeriod: { field: "msgRetentionSeconds", value: integerString(SqsLimits.messageRetentionSeconds) },
  MaximumMessageSize: { field: "maxMsgSize", value: integerString(SqsLimits.maximumMessageBytes) },
  ReceiveMessageWaitTimeSeconds: { field: "pollingWaitSeconds", value: integerString(SqsLimits.waitTimeSeconds) },
} as const;

type SettableAttribute = keyof typeof SettableAttributes;

/** The SQS attribute name of a service field, for error messages. */
export const attributeOfField: Record<string, string> = Object.fromEntries(
  Object.entries(SettableAttributes).map(([name, { field }]) => [field, name]),
);

/** Attributes SQS computes; a request may read them, never set them. */
const ReadOnlyAttributes = new Set([
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
  "QueueArn",
]);

/**
 * SQS attributes with no counterpart here yet (issue 14; FIFO queues are an issue of their own):
 * setting one is refused, never ignored; reading one finds it unset.
 */
const NotYetAttributes = new Set([
  "DelaySeconds",
  "Policy",
  "RedrivePolicy",
  "RedriveAllowPolicy",
  "FifoQueue",
  "ContentBasedDeduplication",
  "DeduplicationScope",
  "FifoThroughputLimit",
  "KmsMasterKeyId",
  "KmsDataKeyReusePeriodSeconds",
  "SqsManagedSseEnabled",
]);

const isSettable = (name: string): name is SettableAttribute => Object.hasOwn(SettableAttributes, name);

/** CreateQueue's and SetQueueAttributes's `Attributes` as the service's queue attributes. */
export function attributesToInput(attributes: Record<string, string> | undefined): Record<string, number> {
  const input: Record<string, number> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (NotYetAttributes.has(name)) {
      throw new SqsWireError(SqsWire.UnsupportedOperation, `The queue attribute ${name} is not supported yet.`);
    }
    if (ReadOnlyAttributes.has(name)) throw new SqsWireError(SqsWire.InvalidAttributeName, `The attribute ${name} is read-only.`);
    if (!isSettable(name)) throw new SqsWireError(SqsWire.InvalidAttributeName, `Unknown Attribute ${name}.`);
    const parsed = v.safeParse(SettableAttributes[name].value, value);
    if (!parsed.success) {
      throw new SqsWireError(SqsWire.InvalidAttributeValue, `Invalid value for the parameter ${name}: ${parsed.issues[0].message}.`);
    }
    input[SettableAttributes[name].field] = parsed.output;
  }
  return input;
}

/** GetQueueAttributes's answer for the names asked (`All` for every one that exists). */
export function queueAttributesOf(queue: QueueInfo, names: readonly string[], region: string, account: string): Record<string, string> {
  const all: Record<string, string> = {
    VisibilityTimeout: String(queue.visibilityTimeout),
    MessageRetentionPeriod: String(queue.msgRetentionSeconds),
    MaximumMessageSize: String(queue.maxMsgSize),
    ReceiveMessageWaitTimeSeconds: String(queue.pollingWaitSeconds),
    ApproximateNumberOfMessages: String(queue.counts.active),
    ApproximateNumberOfMessagesNotVisible: String(queue.counts.inactive),
    ApproximateNumberOfMessagesDelayed: String(queue.counts.delayed),
    // SQS gives these in epoch seconds.
    CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.modifiedAt / 1000)),
    QueueArn: queueArnOf(region, account, queue.name),
  };
  if (names.includes("All")) return all;
  const chosen: Record<string, string> = {};
  for (const name of names) {
    if (Object.hasOwn(all, name)) chosen[name] = all[name]!;
    else if (!NotYetAttributes.has(name)) throw new SqsWireError(SqsWire.InvalidAttributeName, `Unknown Attribute ${name}.`);
  }
  return chosen;
}
