import * as v from "valibot";
import { TcWireError } from "./errors";

/**
 * The CMQ actions of Tencent Cloud API 3.0 (service `tdmq`, version 2020-02-17), one schema per
 * action, with the parameters of tencentcloud-sdk-nodejs's `tdmq_models.d.ts`. The schemas check
 * the wire's types and its own paging bounds (Limit 1 to 50, default 20); the service's limits and
 * defaults apply after translation, in the operation catalog.
 * Source: https://www.tencentcloud.com/document/api/1110/44148 (CMQ APIs).
 */
export const TcLimits = {
  /** DescribeCmq*: "Limit: default 20, maximum 50". */
  pageSize: { min: 1, max: 50, default: 20 },
  /** "Offset: default 0". */
  offsetDefault: 0,
} as const;

export const TcVersion = "2020-02-17";

const Integer = v.pipe(v.number(), v.integer("expected an integer"));
const NonNegative = v.pipe(Integer, v.minValue(0, "expected 0 or more"));
const Names = v.array(v.string());
const Tag = v.strictObject({ TagKey: v.string(), TagValue: v.string() });
const Filter = v.strictObject({ Name: v.optional(v.string()), Values: v.optional(Names) });
const Paging = {
  Offset: v.optional(NonNegative, TcLimits.offsetDefault),
  Limit: v.optional(v.pipe(Integer, v.minValue(TcLimits.pageSize.min), v.maxValue(TcLimits.pageSize.max)), TcLimits.pageSize.default),
};

/** Settings with no counterpart in this service: refused unless they hold their default (see `refuseUnsupported`). */
const Unsupported = {
  Transaction: v.optional(Integer),
  FirstQueryInterval: v.optional(Integer),
  MaxQueryCount: v.optional(Integer),
  Trace: v.optional(v.boolean()),
  RetentionSizeInMB: v.optional(Integer),
};

const QueueSettings = {
  MaxMsgHeapNum: v.optional(Integer),
  PollingWaitSeconds: v.optional(Integer),
  VisibilityTimeout: v.optional(Integer),
  MaxMsgSize: v.optional(Integer),
  MsgRetentionSeconds: v.optional(Integer),
  RewindSeconds: v.optional(Integer),
  DeadLetterQueueName: v.optional(v.string()),
  /** 0: after MaxReceiveCount receives; 1: after MaxTimeToLive seconds. */
  Policy: v.optional(v.pipe(Integer, v.check((policy) => policy === 0 || policy === 1, "Policy is 0 (after MaxReceiveCount) or 1 (after MaxTimeToLive)"))),
  MaxReceiveCount: v.optional(Integer),
  MaxTimeToLive: v.optional(Integer),
  ...Unsupported,
};

const ListFilters = { IsTagFilter: v.optional(v.boolean()), Filters: v.optional(v.array(Filter)) };
const Subscription = { TopicName: v.string(), SubscriptionName: v.string() };

export const TcRequest = {
  CreateCmqQueue: v.strictObject({ QueueName: v.string(), ...QueueSettings, Tags: v.optional(v.array(Tag)) }),
  DescribeCmqQueues: v.strictObject({ ...Paging, QueueName: v.optional(v.string()), QueueNameList: v.optional(Names), ...ListFilters }),
  DescribeCmqQueueDetail: v.strictObject({ QueueName: v.string() }),
  ModifyCmqQueueAttribute: v.strictObject({ QueueName: v.string(), ...QueueSettings }),
  DeleteCmqQueue: v.strictObject({ QueueName: v.string() }),
  ClearCmqQueue: v.strictObject({ QueueName: v.string() }),
  RewindCmqQueue: v.strictObject({ QueueName: v.string(), StartConsumeTime: NonNegative }),
  UnbindCmqDeadLetter: v.strictObject({ SourceQueueName: v.string() }),
  DescribeCmqDeadLetterSourceQueues: v.strictObject({ DeadLetterQueueName: v.string(), ...Paging, SourceQueueName: v.optional(v.string()) }),
  SendCmqMsg: v.strictObject({ QueueName: v.string(), MsgContent: v.string(), DelaySeconds: Integer }),

  CreateCmqTopic: v.strictObject({
    TopicName: v.string(),
    MaxMsgSize: v.optional(Integer),
    /** 1: filter by tags; 2: by routing key (binding keys). */
    FilterType: v.optional(v.pipe(Integer, v.check((type) => type === 1 || type === 2, "FilterType is 1 (tags) or 2 (routing keys)"))),
    MsgRetentionSeconds: v.optional(Integer),
    Trace: Unsupported.Trace,
    Tags: v.optional(v.array(Tag)),
  }),
  DescribeCmqTopics: v.strictObject({ ...Paging, TopicName: v.optional(v.string()), TopicNameList: v.optional(Names), ...ListFilters }),
  DescribeCmqTopicDetail: v.strictObject({ TopicName: v.string() }),
  ModifyCmqTopicAttribute: v.strictObject({ TopicName: v.string(), MaxMsgSize: v.optional(Integer), MsgRetentionSeconds: v.optional(Integer), Trace: Unsupported.Trace }),
  DeleteCmqTopic: v.strictObject({ TopicName: v.string() }),
  PublishCmqMsg: v.strictObject({ TopicName: v.string(), MsgContent: v.string(), MsgTag: v.optional(Names) }),

  CreateCmqSubscribe: v.strictObject({
    ...Subscription,
    Protocol: v.pipe(v.string(), v.check((protocol) => protocol === "http" || protocol === "queue", "Protocol is http or queue")),
    Endpoint: v.string(),
    NotifyStrategy: v.optional(v.string()),
    FilterTag: v.optional(Names),
    BindingKey: v.optional(Names),
    NotifyContentFormat: v.optional(v.string()),
  }),
  DescribeCmqSubscriptionDetail: v.strictObject({
    TopicName: v.string(),
    ...Paging,
    SubscriptionName: v.optional(v.string()),
    QueueName: v.optional(v.string()),
    QueryType: v.optional(v.string()),
  }),
  ModifyCmqSubscriptionAttribute: v.strictObject({
    ...Subscription,
    NotifyStrategy: v.optional(v.string()),
    NotifyContentFormat: v.optional(v.string()),
    FilterTags: v.optional(Names),
    BindingKey: v.optional(Names),
  }),
  DeleteCmqSubscribe: v.strictObject(Subscription),
  ClearCmqSubscriptionFilterTags: v.strictObject(Subscription),
} as const;

export type TcAction = keyof typeof TcRequest;
export type TcInput<TAction extends TcAction> = v.InferOutput<(typeof TcRequest)[TAction]>;

export const isTcAction = (name: string): name is TcAction => Object.hasOwn(TcRequest, name);

/**
 * Validates a request against its action's schema, in API 3.0's terms: a required parameter that
 * is absent is MissingParameter, one the action does not have UnknownParameter, a value of the
 * wrong type InvalidParameter, a value out of the wire's bounds InvalidParameterValue.
 */
export function parseWire<TSchema extends v.GenericSchema>(schema: TSchema, input: unknown): v.InferOutput<TSchema> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new TcWireError("InvalidParameter", "The request parameters must be a JSON object.");
  }
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join(".") ?? "";
  if (issue.type === "strict_object" && issue.input === undefined) {
    throw new TcWireError("MissingParameter", `The request is missing a required parameter \`${path}\`.`);
  }
  if (issue.type === "strict_object") {
    throw new TcWireError("UnknownParameter", `The parameter \`${path}\` is not recognized.`);
  }
  if (issue.kind === "schema") {
    throw new TcWireError("InvalidParameter", `The value of parameter \`${path}\` has the wrong type: ${issue.message}.`);
  }
  throw new TcWireError("InvalidParameterValue", `The value of parameter \`${path}\` is invalid: ${issue.message}.`);
}
