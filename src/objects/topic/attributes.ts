import { ErrorCode, ServiceError } from "../../errors";
import {
  TopicLimits,
  type CreateSubscriptionBody,
  type CreateTopicBody,
  type SubscriptionAttributes,
  type TopicAttributes,
  type UpdateSubscriptionBody,
  type UpdateTopicBody,
} from "../../schema/topic";
import { sameJson } from "../canonical";

/** A new topic's attributes: every field not given takes its documented default. */
export function defaultTopicAttributes(input: CreateTopicBody): TopicAttributes {
  return {
    maxMsgSize: input.maxMsgSize ?? TopicLimits.maxMsgSizeBytes.default,
    msgRetentionSeconds: input.msgRetentionSeconds ?? TopicLimits.msgRetentionSeconds.default,
    filterType: input.filterType ?? "tag",
  };
}

/** The attributes after a change; fields not given keep their value. The filter type is fixed at creation. */
export function mergeTopicAttributes(current: TopicAttributes, patch: UpdateTopicBody): TopicAttributes {
  return {
    ...current,
    ...(patch.maxMsgSize !== undefined ? { maxMsgSize: patch.maxMsgSize } : {}),
    ...(patch.msgRetentionSeconds !== undefined ? { msgRetentionSeconds: patch.msgRetentionSeconds } : {}),
  };
}

/** A new subscription's attributes: CMQ's defaults (exponential decay retry; JSON, or SIMPLIFIED for queues). */
export function defaultSubscriptionAttributes(input: CreateSubscriptionBody): SubscriptionAttributes {
  return checkSubscriptionAttributes({
    protocol: input.protocol,
    endpoint: input.endpoint,
    filterTags: input.filterTags ?? [],
    bindingKeys: input.bindingKeys ?? [],
    notifyStrategy: input.notifyStrategy ?? "EXPONENTIAL_DECAY_RETRY",
    notifyContentFormat: input.notifyContentFormat ?? (input.protocol === "queue" ? "SIMPLIFIED" : "JSON"),
    signingSecret: input.signingSecret ?? null,
  });
}

/** The attributes after a change; protocol and endpoint are fixed at creation. */
export function mergeSubscriptionAttributes(current: SubscriptionAttributes, patch: UpdateSubscriptionBody): SubscriptionAttributes {
  const merged: SubscriptionAttributes = { ...current };
  if (patch.notifyStrategy !== undefined) merged.notifyStrategy = patch.notifyStrategy;
  if (patch.notifyContentFormat !== undefined) merged.notifyContentFormat = patch.notifyContentFormat;
  if (patch.filterTags !== undefined) merged.filterTags = patch.filterTags;
  if (patch.bindingKeys !== undefined) merged.bindingKeys = patch.bindingKeys;
  if (patch.signingSecret !== undefined) merged.signingSecret = patch.signingSecret;
  return checkSubscriptionAttributes(merged);
}

function checkSubscriptionAttributes(attributes: SubscriptionAttributes): SubscriptionAttributes {
  if (attributes.protocol === "queue" && attributes.notifyContentFormat !== "SIMPLIFIED") {
    throw new ServiceError(ErrorCode.InvalidParameter, "queue subscriptions deliver SIMPLIFIED content (CMQ 10640)");
  }
  return attributes;
}

export function sameTopicAttributes(a: TopicAttributes, b: TopicAttributes): boolean {
  return sameJson(a, b);
}

export function sameSubscriptionAttributes(a: SubscriptionAttributes, b: SubscriptionAttributes): boolean {
  return sameJson(a, b);
}
