import * as v from "valibot";
import { DeadLetterPolicy, DeduplicationScopes, FifoThroughputLimits, RedriveAllowPolicy, type QueueInfo } from "../../schema/queue";
import { arnOfQueue, queueNameOfArn, type ArnScope } from "./arn";
import { SqsWire, SqsWireError } from "./errors";
import { integerString, SqsLimits } from "./wire";

/** SQS queue attributes that map onto one service field each, with SQS's own bounds on the wire. */
const SettableAttributes = {
  VisibilityTimeout: { field: "visibilityTimeout", value: integerString(SqsLimits.visibilityTimeoutSeconds) },
  MessageRetentionPeriod: { field: "msgRetentionSeconds", value: integerString(SqsLimits.messageRetentionSeconds) },
  MaximumMessageSize: { field: "maxMsgSize", value: integerString(SqsLimits.maximumMessageBytes) },
  ReceiveMessageWaitTimeSeconds: { field: "pollingWaitSeconds", value: integerString(SqsLimits.waitTimeSeconds) },
  DelaySeconds: { field: "delaySeconds", value: integerString(SqsLimits.delaySeconds) },
} as const;

type SettableAttribute = keyof typeof SettableAttributes;

/**
 * FIFO queue attributes, with SQS's documented values. FifoQueue is fixed at creation; a standard
 * queue has none of them (reading one finds it unset, as in SQS).
 */
const FifoAttributes = {
  FifoQueue: { field: "fifo", value: v.pipe(v.picklist(["true", "false"]), v.transform((text) => text === "true")) },
  ContentBasedDeduplication: { field: "contentBasedDeduplication", value: v.pipe(v.picklist(["true", "false"]), v.transform((text) => text === "true")) },
  DeduplicationScope: { field: "deduplicationScope", value: v.picklist(DeduplicationScopes) },
  FifoThroughputLimit: { field: "fifoThroughputLimit", value: v.picklist(FifoThroughputLimits) },
} as const;

type FifoAttribute = keyof typeof FifoAttributes;
const isFifoAttribute = (name: string): name is FifoAttribute => Object.hasOwn(FifoAttributes, name);

/** The SQS attribute name of a service field, for error messages. */
export const attributeOfField: Record<string, string> = {
  ...Object.fromEntries(Object.entries(SettableAttributes).map(([name, { field }]) => [field, name])),
  ...Object.fromEntries(Object.entries(FifoAttributes).map(([name, { field }]) => [field, name])),
  deadLetter: "RedrivePolicy",
  redriveAllow: "RedriveAllowPolicy",
};

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
 * SQS attributes with no counterpart here (access policies and encryption have none): setting one
 * is refused, never ignored; reading one finds it unset.
 */
const NotYetAttributes = new Set([
  "Policy",
  "KmsMasterKeyId",
  "KmsDataKeyReusePeriodSeconds",
  "SqsManagedSseEnabled",
]);

const isSettable = (name: string): name is SettableAttribute => Object.hasOwn(SettableAttributes, name);

/** SQS's answer to a RedrivePolicy or RedriveAllowPolicy it cannot take: InvalidParameterValue with the reason. */
const invalidPolicy = (name: string, value: string, reason: string) =>
  new SqsWireError(SqsWire.InvalidParameterValue, `Value ${value} for parameter ${name} is invalid. Reason: ${reason}`);

/** A policy attribute's JSON map, with exactly the keys SQS defines for it. */
function policyMap(name: string, value: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalidPolicy(name, value, `${name} is not a valid JSON map.`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalidPolicy(name, value, `${name} is not a valid JSON map.`);
  const map = parsed as Record<string, unknown>;
  const known = [...required, ...optional];
  const unknown = Object.keys(map).find((key) => !known.includes(key));
  if (unknown !== undefined) throw invalidPolicy(name, value, `Only following attributes are supported: [${known.join(", ")}].`);
  const missing = required.find((key) => map[key] === undefined);
  if (missing !== undefined) throw invalidPolicy(name, value, `${name} does not contain mandatory attribute: ${missing}.`);
  return map;
}

/** The service's field checked by the catalog's own schema: a refusal is SQS's InvalidParameterValue for the attribute. */
function checked<TSchema extends v.GenericSchema>(schema: TSchema, input: unknown, name: string, value: string): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join(".");
  throw invalidPolicy(name, value, `${path ? `${path}: ` : ""}${issue.message}.`);
}

/**
 * RedrivePolicy `{"deadLetterTargetArn", "maxReceiveCount"}` as the queue's dead-letter policy; an
 * empty value removes the policy, as in SetQueueAttributes.
 */
function deadLetterOf(value: string, scope: ArnScope): v.InferOutput<typeof DeadLetterPolicy> | null {
  if (value === "") return null;
  const map = policyMap("RedrivePolicy", value, ["deadLetterTargetArn", "maxReceiveCount"]);
  const arn = map.deadLetterTargetArn;
  const queue = typeof arn === "string" ? queueNameOfArn(arn, scope) : null;
  if (queue === null) throw invalidPolicy("RedrivePolicy", value, "deadLetterTargetArn is not the ARN of a queue of this account and region.");
  // SQS takes maxReceiveCount as a number or a string of digits.
  const count = map.maxReceiveCount;
  const maxReceiveCount = typeof count === "string" && /^\d{1,10}$/.test(count) ? Number(count) : count;
  return checked(DeadLetterPolicy, { queue, maxReceiveCount }, "RedrivePolicy", value);
}

/** RedriveAllowPolicy `{"redrivePermission", "sourceQueueArns"}` as the queue's redriveAllow. */
function redriveAllowOf(value: string, scope: ArnScope): v.InferOutput<typeof RedriveAllowPolicy> {
  const map = policyMap("RedriveAllowPolicy", value, ["redrivePermission"], ["sourceQueueArns"]);
  if (map.sourceQueueArns === undefined) return checked(RedriveAllowPolicy, { permission: map.redrivePermission }, "RedriveAllowPolicy", value);
  if (!Array.isArray(map.sourceQueueArns)) throw invalidPolicy("RedriveAllowPolicy", value, "sourceQueueArns is not a list of queue ARNs.");
  const sourceQueues = map.sourceQueueArns.map((arn: unknown) => {
    const queue = typeof arn === "string" ? queueNameOfArn(arn, scope) : null;
    if (queue === null) throw invalidPolicy("RedriveAllowPolicy", value, `${JSON.stringify(arn)} is not the ARN of a queue of this account and region.`);
    return queue;
  });
  return checked(RedriveAllowPolicy, { permission: map.redrivePermission, sourceQueues }, "RedriveAllowPolicy", value);
}

/**
 * CreateQueue's and SetQueueAttributes's `Attributes` as the service's queue attributes; FifoQueue
 * only at creation (`creating`), as SQS allows it.
 */
export function attributesToInput(attributes: Record<string, string> | undefined, scope: ArnScope, creating = false): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (isFifoAttribute(name)) {
      if (name === "FifoQueue" && !creating) throw new SqsWireError(SqsWire.InvalidAttributeName, "The attribute FifoQueue is set when the queue is created and cannot change.");
      const parsed = v.safeParse(FifoAttributes[name].value, value);
      if (!parsed.success) throw new SqsWireError(SqsWire.InvalidAttributeValue, `Invalid value for the parameter ${name}: ${value}.`);
      input[FifoAttributes[name].field] = parsed.output;
      continue;
    }
    if (NotYetAttributes.has(name)) {
      throw new SqsWireError(SqsWire.UnsupportedOperation, `The queue attribute ${name} is not supported.`);
    }
    if (ReadOnlyAttributes.has(name)) throw new SqsWireError(SqsWire.InvalidAttributeName, `The attribute ${name} is read-only.`);
    if (name === "RedrivePolicy") {
      input.deadLetter = deadLetterOf(value, scope);
      continue;
    }
    if (name === "RedriveAllowPolicy") {
      input.redriveAllow = redriveAllowOf(value, scope);
      continue;
    }
    if (!isSettable(name)) throw new SqsWireError(SqsWire.InvalidAttributeName, `Unknown Attribute ${name}.`);
    const parsed = v.safeParse(SettableAttributes[name].value, value);
    if (!parsed.success) {
      throw new SqsWireError(SqsWire.InvalidAttributeValue, `Invalid value for the parameter ${name}: ${parsed.issues[0].message}.`);
    }
    input[SettableAttributes[name].field] = parsed.output;
  }
  return input;
}

/** RedrivePolicy as SQS gives it; a dead-letter policy by age (maxTimeToLive) has no SQS form. */
function redrivePolicyOf(queue: QueueInfo, scope: ArnScope): Record<string, string> {
  const deadLetter = queue.deadLetter;
  if (!deadLetter || !("maxReceiveCount" in deadLetter)) return {};
  return { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOfQueue(scope, deadLetter.queue), maxReceiveCount: deadLetter.maxReceiveCount }) };
}

function redriveAllowPolicyOf(queue: QueueInfo, scope: ArnScope): string {
  const policy = queue.redriveAllow;
  if (policy.permission !== "byQueue") return JSON.stringify({ redrivePermission: policy.permission });
  return JSON.stringify({ redrivePermission: policy.permission, sourceQueueArns: policy.sourceQueues.map((name) => arnOfQueue(scope, name)) });
}

/** GetQueueAttributes's answer for the names asked (`All` for every one that exists). */
export function queueAttributesOf(queue: QueueInfo, names: readonly string[], region: string, account: string): Record<string, string> {
  const scope = { region, account };
  const all: Record<string, string> = {
    VisibilityTimeout: String(queue.visibilityTimeout),
    MessageRetentionPeriod: String(queue.msgRetentionSeconds),
    MaximumMessageSize: String(queue.maxMsgSize),
    ReceiveMessageWaitTimeSeconds: String(queue.pollingWaitSeconds),
    DelaySeconds: String(queue.delaySeconds),
    ApproximateNumberOfMessages: String(queue.counts.active),
    ApproximateNumberOfMessagesNotVisible: String(queue.counts.inactive),
    ApproximateNumberOfMessagesDelayed: String(queue.counts.delayed),
    // SQS gives these in epoch seconds.
    CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.modifiedAt / 1000)),
    QueueArn: arnOfQueue(scope, queue.name),
    ...redrivePolicyOf(queue, scope),
    RedriveAllowPolicy: redriveAllowPolicyOf(queue, scope),
    ...(queue.fifo
      ? {
          FifoQueue: "true",
          ContentBasedDeduplication: String(queue.contentBasedDeduplication),
          DeduplicationScope: queue.deduplicationScope,
          FifoThroughputLimit: queue.fifoThroughputLimit,
        }
      : {}),
  };
  if (names.includes("All")) return all;
  const chosen: Record<string, string> = {};
  for (const name of names) {
    if (Object.hasOwn(all, name)) chosen[name] = all[name]!;
    // A queue without a RedrivePolicy answers without it, as SQS does.
    else if (!NotYetAttributes.has(name) && !isFifoAttribute(name) && name !== "RedrivePolicy") throw new SqsWireError(SqsWire.InvalidAttributeName, `Unknown Attribute ${name}.`);
  }
  return chosen;
}
