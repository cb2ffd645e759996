import { ErrorCode, ServiceError } from "../../errors";
import { sameJson } from "../canonical";
import { QueueLimits, type CreateQueueBody, type QueueAttributes, type UpdateQueueBody } from "../../schema/queue";

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
    locationHint: input.locationHint ?? null,
  });
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
