import { ErrorCode, ServiceError } from "../../errors";
import { sameJson } from "../canonical";
import { PartitionLimits } from "../../schema/partitions";
import {
  FifoNameSuffix,
  QueueLimits,
  type CreateQueueBody,
  type OutgoingMessage,
  type QueueAttributes,
  type QueueTags,
  type RedriveAllowPolicy,
  type UpdateQueueBody,
} from "../../schema/queue";

/** Any queue may use a queue as its dead-letter queue unless the queue says otherwise. */
export const AllowAllRedrive: RedriveAllowPolicy = { permission: "allowAll" };

/** Attributes added after queues were first stored: a queue stored without them has their defaults. */
export const LaterAttributeDefaults = {
  delaySeconds: QueueLimits.queueDelaySeconds.default,
  redriveAllow: AllowAllRedrive,
  tags: {} as QueueTags,
  fifo: false,
  contentBasedDeduplication: false,
  deduplicationScope: "queue",
  fifoThroughputLimit: "perQueue",
  partitions: PartitionLimits.default,
} as const;

/** A new queue's attributes: every field not given takes CMQ's documented default. */
export function defaultQueueAttributes(input: CreateQueueBody): QueueAttributes {
  return checkQueueAttributes({
    visibilityTimeout: input.visibilityTimeout ?? QueueLimits.visibilityTimeoutSeconds.default,
    pollingWaitSeconds: input.pollingWaitSeconds ?? QueueLimits.pollingWaitSeconds.default,
    maxMsgSize: input.maxMsgSize ?? QueueLimits.maxMsgSizeBytes.default,
    msgRetentionSeconds: input.msgRetentionSeconds ?? QueueLimits.msgRetentionSeconds.default,
    rewindSeconds: input.rewindSeconds ?? QueueLimits.rewindSeconds.default,
    maxMsgHeapNum: input.maxMsgHeapNum ?? QueueLimits.maxMsgHeapNum.default,
    deadLetter: input.deadLetter ?? null,
    delaySeconds: input.delaySeconds ?? QueueLimits.queueDelaySeconds.default,
    redriveAllow: input.redriveAllow ?? AllowAllRedrive,
    tags: input.tags ?? {},
    locationHint: input.locationHint ?? null,
    fifo: input.fifo ?? false,
    contentBasedDeduplication: input.contentBasedDeduplication ?? false,
    deduplicationScope: input.deduplicationScope ?? "queue",
    fifoThroughputLimit: input.fifoThroughputLimit ?? "perQueue",
    partitions: input.partitions ?? PartitionLimits.default,
  });
}

/** A FIFO queue's name ends in `.fifo`, and only a FIFO queue's may (SQS's rule). */
export function checkFifoName(name: string, attributes: QueueAttributes): void {
  if (name.endsWith(FifoNameSuffix) !== attributes.fifo) {
    throw new ServiceError(
      ErrorCode.InvalidParameter,
      attributes.fifo ? `a FIFO queue's name ends in '${FifoNameSuffix}'` : `only a FIFO queue's name may end in '${FifoNameSuffix}' (create it with fifo: true)`,
    );
  }
}

/** The attributes after a change; fields not given keep their value, `deadLetter: null` removes the policy. */
export function mergeQueueAttributes(current: QueueAttributes, patch: UpdateQueueBody): QueueAttributes {
  const merged: QueueAttributes = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  return checkQueueAttributes(merged);
}

/** Rules between attributes (CMQ CreateQueue errors 10700 and the dead-letter policy's TTL bound). */
function checkQueueAttributes(attributes: QueueAttributes): QueueAttributes {
  if (attributes.rewindSeconds > attributes.msgRetentionSeconds) {
    throw new ServiceError(
      ErrorCode.InvalidParameter,
      `rewindSeconds (${attributes.rewindSeconds}) may not exceed msgRetentionSeconds (${attributes.msgRetentionSeconds})`,
    );
  }
  const delayMaxSeconds = attributes.msgRetentionSeconds - QueueLimits.receivableAfterDelayMinSeconds;
  if (attributes.delaySeconds > delayMaxSeconds) {
    throw new ServiceError(
      ErrorCode.InvalidParameter,
      `delaySeconds (${attributes.delaySeconds}) may not exceed msgRetentionSeconds (${attributes.msgRetentionSeconds}) minus ${QueueLimits.receivableAfterDelayMinSeconds}`,
    );
  }
  if (!attributes.fifo) {
    const fifoOnly = (["contentBasedDeduplication", "deduplicationScope", "fifoThroughputLimit"] as const).filter(
      (key) => attributes[key] !== LaterAttributeDefaults[key],
    );
    if (fifoOnly.length > 0) throw new ServiceError(ErrorCode.InvalidParameter, `${fifoOnly.join(", ")} apply to FIFO queues only`);
  }
  const deadLetter = attributes.deadLetter;
  if (deadLetter && "maxTimeToLive" in deadLetter && deadLetter.maxTimeToLive >= attributes.msgRetentionSeconds) {
    throw new ServiceError(
      ErrorCode.InvalidParameter,
      `deadLetter.maxTimeToLive (${deadLetter.maxTimeToLive}) must be less than msgRetentionSeconds (${attributes.msgRetentionSeconds})`,
    );
  }
  return attributes;
}

export function sameAttributes(a: QueueAttributes, b: QueueAttributes): boolean {
  return sameJson(a, b);
}

/**
 * Whether a create confirms an existing queue: its attributes are the same. Tags are not
 * attributes here, as in SQS's CreateQueue: they neither conflict nor change an existing queue.
 */
export function confirmsAttributes(existing: QueueAttributes, requested: QueueAttributes): boolean {
  return sameJson({ ...existing, tags: {} }, { ...requested, tags: {} });
}

/** The delay of a new message: its own when given (0 included), else the queue's (SQS DelaySeconds). */
export function delaySecondsOf(message: Pick<OutgoingMessage, "delaySeconds">, attributes: QueueAttributes): number {
  return message.delaySeconds ?? attributes.delaySeconds;
}

/** The tags after a change: `set` adds or replaces, `remove` deletes; at most `queueTagsMax` remain. */
export function changeTags(current: QueueTags, set: QueueTags, remove: readonly string[]): QueueTags {
  const tags: QueueTags = { ...current };
  for (const key of remove) delete tags[key];
  for (const [key, value] of Object.entries(set)) tags[key] = value;
  const count = Object.keys(tags).length;
  if (count > QueueLimits.queueTagsMax) {
    throw new ServiceError(ErrorCode.InvalidParameter, `a queue holds at most ${QueueLimits.queueTagsMax} tags; this change would leave ${count}`);
  }
  return tags;
}
