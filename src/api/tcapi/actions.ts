import * as v from "valibot";
import { ErrorCode, ServiceError } from "../../errors";
import { catalog, runOperation, type OperationContext, type OperationName, type OperationOutput } from "../../operations";
import type { DeadLetterPolicy } from "../../schema/queue";
import { PublishedMessage, RoutingKey } from "../../schema/topic";
import { TcWireError } from "./errors";
import { cmqQueueOf, cmqSubscriptionOf, cmqTopicOf } from "./models";
import { TcLimits, type TcAction, type TcInput } from "./wire";

/** Where a field of an operation's input came from on the API 3.0 wire, for error messages. */
const WireNameOf: Record<string, string> = {
  queue: "QueueName",
  topic: "TopicName",
  subscription: "SubscriptionName",
  maxMsgHeapNum: "MaxMsgHeapNum",
  pollingWaitSeconds: "PollingWaitSeconds",
  visibilityTimeout: "VisibilityTimeout",
  maxMsgSize: "MaxMsgSize",
  msgRetentionSeconds: "MsgRetentionSeconds",
  rewindSeconds: "RewindSeconds",
  maxReceiveCount: "MaxReceiveCount",
  maxTimeToLive: "MaxTimeToLive",
  body: "MsgContent",
  delaySeconds: "DelaySeconds",
  tags: "MsgTag",
  routingKey: "MsgTag",
  since: "StartConsumeTime",
  protocol: "Protocol",
  endpoint: "Endpoint",
  notifyStrategy: "NotifyStrategy",
  notifyContentFormat: "NotifyContentFormat",
  filterTags: "FilterTag",
  bindingKeys: "BindingKey",
  offset: "Offset",
  limit: "Limit",
};

/** Locates a field on the wire; `names` are the action's own (a list's name filter, a queue named otherwise). */
const locatorOf = (names: Record<string, string>) => (keys: string[]) => {
  const named = keys.filter((key) => !/^\d+$/.test(key));
  const last = named.pop() ?? "";
  // deadLetter.queue is the dead-letter queue's name, not the queue's own.
  if (last === "queue" && named.includes("deadLetter")) return ["DeadLetterQueueName"];
  return [names[last] ?? WireNameOf[last] ?? last];
};

/**
 * Runs an operation; parameters the caller left out are left out, so the catalog's defaults apply.
 * `names` are the wire's names of input fields where the action names them its own way.
 */
function run<TName extends OperationName>(
  context: OperationContext,
  name: TName,
  input: Record<string, unknown>,
  names: Record<string, string> = {},
): Promise<OperationOutput<TName>> {
  const given = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
  return runOperation(catalog[name] as never, context, given, locatorOf(names)) as Promise<OperationOutput<TName>>;
}

const unsupported = (message: string) => new TcWireError("UnsupportedOperation", message);

/**
 * Settings that have no counterpart in this service are refused, never dropped, unless they hold
 * the value that means "off": a client that sets them relies on a behaviour it would not get.
 */
function refuseUnsupported(input: {
  Transaction?: number;
  FirstQueryInterval?: number;
  MaxQueryCount?: number;
  Trace?: boolean;
  RetentionSizeInMB?: number;
  Tags?: unknown[];
  IsTagFilter?: boolean;
  Filters?: unknown[];
}): void {
  if (input.Transaction !== undefined && input.Transaction !== 0) throw unsupported("Transaction: transactional queues are not supported; send 0 or leave it out.");
  if (input.FirstQueryInterval !== undefined || input.MaxQueryCount !== undefined) {
    throw unsupported("FirstQueryInterval and MaxQueryCount configure transaction check-backs, which are not supported.");
  }
  if (input.Trace === true) throw unsupported("Trace: message tracing is not supported; send false or leave it out.");
  if (input.RetentionSizeInMB !== undefined && input.RetentionSizeInMB !== 0) {
    throw unsupported("RetentionSizeInMB: rewindable messages are bounded by RewindSeconds only; send 0 or leave it out.");
  }
  if (input.Tags !== undefined && input.Tags.length > 0) throw unsupported("Tags: resource tags are not supported; send an empty list or leave it out.");
  if (input.IsTagFilter === true) throw unsupported("IsTagFilter: resource tags are not supported; send false or leave it out.");
  if (input.Filters !== undefined && input.Filters.length > 0) throw unsupported("Filters: filtering by resource tag is not supported; send an empty list or leave it out.");
}

interface DeadLetterFields {
  DeadLetterQueueName?: string;
  Policy?: number;
  MaxReceiveCount?: number;
  MaxTimeToLive?: number;
}

/**
 * API 3.0's flat dead-letter fields as the service's policy; fields not given keep the queue's
 * `current` value. Policy 0 moves a message after MaxReceiveCount receives, 1 after MaxTimeToLive
 * seconds; a field of the other policy is refused rather than ignored.
 */
function deadLetterOf(fields: DeadLetterFields, current: DeadLetterPolicy | null): DeadLetterPolicy {
  const queue = fields.DeadLetterQueueName ?? current?.queue;
  if (queue === undefined) {
    throw new TcWireError("MissingParameter", "The request is missing a required parameter `DeadLetterQueueName`: the queue has no dead-letter queue to change.");
  }
  const byCount = fields.MaxReceiveCount !== undefined;
  const byAge = fields.MaxTimeToLive !== undefined;
  const currentPolicy = current === null ? undefined : "maxReceiveCount" in current ? 0 : 1;
  const policy = fields.Policy ?? (byCount && !byAge ? 0 : byAge && !byCount ? 1 : currentPolicy);
  if (policy === undefined) throw new TcWireError("MissingParameter", "The request is missing a required parameter `Policy` (0: by MaxReceiveCount, 1: by MaxTimeToLive).");
  if (policy === 0) {
    if (byAge) throw new TcWireError("InvalidParameterValue", "The value of parameter `MaxTimeToLive` is invalid: it applies to Policy 1 only.");
    const maxReceiveCount = fields.MaxReceiveCount ?? (current && "maxReceiveCount" in current ? current.maxReceiveCount : undefined);
    if (maxReceiveCount === undefined) throw new TcWireError("MissingParameter", "The request is missing a required parameter `MaxReceiveCount` (Policy 0).");
    return { queue, maxReceiveCount };
  }
  if (byCount) throw new TcWireError("InvalidParameterValue", "The value of parameter `MaxReceiveCount` is invalid: it applies to Policy 0 only.");
  const maxTimeToLive = fields.MaxTimeToLive ?? (current && "maxTimeToLive" in current ? current.maxTimeToLive : undefined);
  if (maxTimeToLive === undefined) throw new TcWireError("MissingParameter", "The request is missing a required parameter `MaxTimeToLive` (Policy 1).");
  return { queue, maxTimeToLive };
}

const givesDeadLetter = (fields: DeadLetterFields) =>
  fields.DeadLetterQueueName !== undefined || fields.Policy !== undefined || fields.MaxReceiveCount !== undefined || fields.MaxTimeToLive !== undefined;

/** Whether the fields name a whole policy, so that the queue's present one need not be read. */
const completeDeadLetter = (fields: DeadLetterFields) =>
  fields.DeadLetterQueueName !== undefined && (fields.MaxReceiveCount !== undefined) !== (fields.MaxTimeToLive !== undefined);

function queueSettingsOf(input: TcInput<"CreateCmqQueue"> | TcInput<"ModifyCmqQueueAttribute">) {
  return {
    maxMsgHeapNum: input.MaxMsgHeapNum,
    pollingWaitSeconds: input.PollingWaitSeconds,
    visibilityTimeout: input.VisibilityTimeout,
    maxMsgSize: input.MaxMsgSize,
    msgRetentionSeconds: input.MsgRetentionSeconds,
    rewindSeconds: input.RewindSeconds,
  };
}

/** API 3.0's FilterType as the service's. */
const FilterTypeFromWire = { 1: "tag", 2: "routingKey" } as const;

/**
 * PublishCmqMsg carries "several tags or one route" in MsgTag. The topic's FilterType decides which,
 * and reading it would need a right a publisher may lack: so one value is sent as a routing key
 * where it is one, and as a tag where it is one; a topic uses the field its FilterType names.
 */
function publishedMessageOf(body: string, msgTags: readonly string[] | undefined) {
  if (msgTags === undefined || msgTags.length === 0) return { body };
  if (msgTags.length > 1) return { body, tags: msgTags };
  const value = msgTags[0]!;
  const isTag = v.is(PublishedMessage.entries.tags, [value]);
  const isRoutingKey = v.is(RoutingKey, value);
  if (!isTag && isRoutingKey) return { body, routingKey: value };
  return { body, tags: msgTags, ...(isRoutingKey ? { routingKey: value } : {}) };
}

/** CMQ's `http` protocol covers http:// and https:// endpoints; the service names them apart. */
const protocolOf = (protocol: string, endpoint: string) => (protocol === "queue" ? "queue" : /^https:/i.test(endpoint) ? "https" : "http");

/** Drops what a caller may not read or what went away since it was listed, as a list does. */
async function readable<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof ServiceError && (error.code === ErrorCode.QueueNotFound || error.code === ErrorCode.TopicNotFound || error.code === ErrorCode.Forbidden)) {
      return null;
    }
    throw error;
  }
}

const onePage = <T>(items: T[], offset: number, limit: number): T[] => items.slice(offset, offset + limit);

type Handler<TAction extends TcAction> = (context: OperationContext, input: TcInput<TAction>) => Promise<Record<string, unknown>>;

const account = (context: OperationContext) => context.principal.account;

/** The queues whose dead-letter queue is `queue`, by name. */
async function deadLetterSources(context: OperationContext, queue: string, page: { search?: string; offset?: number; limit: number }) {
  return run(context, "listDeadLetterSourceQueues", { queue, ...page }, { queue: "DeadLetterQueueName", search: "SourceQueueName" });
}

async function describeQueue(context: OperationContext, name: string) {
  const queue = await run(context, "getQueue", { queue: name });
  const sources = await deadLetterSources(context, name, { limit: TcLimits.pageSize.max });
  return cmqQueueOf(queue, account(context), sources.queues.map((source) => source.name));
}

/** Each CMQ action of API 3.0 translated onto the operation catalog. */
export const tcActions: { [TAction in TcAction]: Handler<TAction> } = {
  async CreateCmqQueue(context, input) {
    refuseUnsupported(input);
    const deadLetter = givesDeadLetter(input) ? deadLetterOf(input, null) : undefined;
    const { created, queue } = await run(context, "createQueue", { queue: input.QueueName, ...queueSettingsOf(input), deadLetter });
    // CMQ refuses a second queue of the same name, whatever its attributes.
    if (!created) throw new ServiceError(ErrorCode.QueueAlreadyExists, `queue ${queue.name} already exists`);
    return { QueueId: queue.name };
  },

  async DescribeCmqQueues(context, input) {
    refuseUnsupported(input);
    if (input.QueueNameList !== undefined && input.QueueNameList.length > 0) {
      if (input.QueueName !== undefined) throw new TcWireError("InvalidParameter", "Give QueueName (a name filter) or QueueNameList (exact names), not both.");
      if (input.QueueNameList.length > TcLimits.pageSize.max) {
        throw new TcWireError("InvalidParameterValue", `The value of parameter \`QueueNameList\` is invalid: at most ${TcLimits.pageSize.max} names.`);
      }
      const found = (await Promise.all([...new Set(input.QueueNameList)].map((name) => readable(describeQueue(context, name))))).filter((queue) => queue !== null);
      return { TotalCount: found.length, QueueList: onePage(found, input.Offset, input.Limit) };
    }
    const page = await run(context, "listQueues", { search: input.QueueName, offset: input.Offset, limit: input.Limit }, { search: "QueueName" });
    const queues = await Promise.all(page.queues.map((queue) => readable(describeQueue(context, queue.name))));
    return { TotalCount: page.total, QueueList: queues.filter((queue) => queue !== null) };
  },

  async DescribeCmqQueueDetail(context, input) {
    return { QueueDescribe: await describeQueue(context, input.QueueName) };
  },

  async ModifyCmqQueueAttribute(context, input) {
    refuseUnsupported(input);
    let deadLetter: DeadLetterPolicy | undefined;
    if (givesDeadLetter(input)) {
      const current = completeDeadLetter(input) ? null : (await run(context, "getQueue", { queue: input.QueueName })).deadLetter;
      deadLetter = deadLetterOf(input, current);
    }
    await run(context, "updateQueue", { queue: input.QueueName, ...queueSettingsOf(input), deadLetter });
    return {};
  },

  async DeleteCmqQueue(context, input) {
    await run(context, "deleteQueue", { queue: input.QueueName });
    return {};
  },

  async ClearCmqQueue(context, input) {
    await run(context, "purgeQueue", { queue: input.QueueName });
    return {};
  },

  async RewindCmqQueue(context, input) {
    // StartConsumeTime is Unix seconds; the service takes Unix ms.
    await run(context, "rewindQueue", { queue: input.QueueName, since: input.StartConsumeTime * 1000 });
    return {};
  },

  async UnbindCmqDeadLetter(context, input) {
    await run(context, "updateQueue", { queue: input.SourceQueueName, deadLetter: null }, { queue: "SourceQueueName" });
    return {};
  },

  async DescribeCmqDeadLetterSourceQueues(context, input) {
    const page = await deadLetterSources(context, input.DeadLetterQueueName, { search: input.SourceQueueName, offset: input.Offset, limit: input.Limit });
    return { TotalCount: page.total, QueueSet: page.queues.map((queue) => ({ QueueId: queue.name, QueueName: queue.name })) };
  },

  async SendCmqMsg(context, input) {
    const sent = await run(context, "sendMessages", { queue: input.QueueName, messages: [{ body: input.MsgContent, delaySeconds: input.DelaySeconds }] });
    return { Result: true, MsgId: sent.messages[0]!.id };
  },

  async CreateCmqTopic(context, input) {
    refuseUnsupported(input);
    const filterType = input.FilterType === undefined ? undefined : FilterTypeFromWire[input.FilterType as 1 | 2];
    const { created, topic } = await run(context, "createTopic", {
      topic: input.TopicName,
      maxMsgSize: input.MaxMsgSize,
      msgRetentionSeconds: input.MsgRetentionSeconds,
      filterType,
    });
    if (!created) throw new ServiceError(ErrorCode.TopicAlreadyExists, `topic ${topic.name} already exists`);
    return { TopicId: topic.name };
  },

  async DescribeCmqTopics(context, input) {
    refuseUnsupported(input);
    const describe = async (name: string) => cmqTopicOf(await run(context, "getTopic", { topic: name }), account(context));
    if (input.TopicNameList !== undefined && input.TopicNameList.length > 0) {
      if (input.TopicName !== undefined) throw new TcWireError("InvalidParameter", "Give TopicName (a name filter) or TopicNameList (exact names), not both.");
      if (input.TopicNameList.length > TcLimits.pageSize.max) {
        throw new TcWireError("InvalidParameterValue", `The value of parameter \`TopicNameList\` is invalid: at most ${TcLimits.pageSize.max} names.`);
      }
      const found = (await Promise.all([...new Set(input.TopicNameList)].map((name) => readable(describe(name))))).filter((topic) => topic !== null);
      return { TotalCount: found.length, TopicList: onePage(found, input.Offset, input.Limit) };
    }
    const page = await run(context, "listTopics", { search: input.TopicName, offset: input.Offset, limit: input.Limit }, { search: "TopicName" });
    const topics = await Promise.all(page.topics.map((topic) => readable(describe(topic.name))));
    return { TotalCount: page.total, TopicList: topics.filter((topic) => topic !== null) };
  },

  async DescribeCmqTopicDetail(context, input) {
    return { TopicDescribe: cmqTopicOf(await run(context, "getTopic", { topic: input.TopicName }), account(context)) };
  },

  async ModifyCmqTopicAttribute(context, input) {
    refuseUnsupported(input);
    await run(context, "updateTopic", { topic: input.TopicName, maxMsgSize: input.MaxMsgSize, msgRetentionSeconds: input.MsgRetentionSeconds });
    return {};
  },

  async DeleteCmqTopic(context, input) {
    await run(context, "deleteTopic", { topic: input.TopicName });
    return {};
  },

  async PublishCmqMsg(context, input) {
    const published = await run(context, "publishMessages", { topic: input.TopicName, messages: [publishedMessageOf(input.MsgContent, input.MsgTag)] });
    return { Result: true, MsgId: published.messages[0]!.id };
  },

  async CreateCmqSubscribe(context, input) {
    const { created, subscription } = await run(context, "subscribe", {
      topic: input.TopicName,
      subscription: input.SubscriptionName,
      protocol: protocolOf(input.Protocol, input.Endpoint),
      endpoint: input.Endpoint,
      notifyStrategy: input.NotifyStrategy,
      notifyContentFormat: input.NotifyContentFormat,
      filterTags: input.FilterTag,
      bindingKeys: input.BindingKey,
    });
    if (!created) throw new ServiceError(ErrorCode.SubscriptionAlreadyExists, `subscription ${subscription.name} already exists`);
    return { SubscriptionId: subscription.name };
  },

  async DescribeCmqSubscriptionDetail(context, input) {
    if (input.QueryType !== undefined && input.QueryType !== "topic") {
      throw unsupported("QueryType: subscriptions are listed per topic only; send topic or leave it out.");
    }
    if (input.QueueName !== undefined) throw unsupported("QueueName: subscriptions cannot be filtered by their endpoint queue.");
    const page = await run(context, "listSubscriptions", {
      topic: input.TopicName,
      search: input.SubscriptionName,
      offset: input.Offset,
      limit: input.Limit,
    }, { search: "SubscriptionName" });
    return { TotalCount: page.total, SubscriptionSet: page.subscriptions.map(cmqSubscriptionOf) };
  },

  async ModifyCmqSubscriptionAttribute(context, input) {
    await run(context, "updateSubscription", {
      topic: input.TopicName,
      subscription: input.SubscriptionName,
      notifyStrategy: input.NotifyStrategy,
      notifyContentFormat: input.NotifyContentFormat,
      filterTags: input.FilterTags,
      bindingKeys: input.BindingKey,
    });
    return {};
  },

  async DeleteCmqSubscribe(context, input) {
    await run(context, "unsubscribe", { topic: input.TopicName, subscription: input.SubscriptionName });
    return {};
  },

  async ClearCmqSubscriptionFilterTags(context, input) {
    await run(context, "updateSubscription", { topic: input.TopicName, subscription: input.SubscriptionName, filterTags: [] });
    return {};
  },
};
