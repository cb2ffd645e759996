import type { OperationOutput } from "../../operations";
import { QueueLimits } from "../../schema/queue";

type Queue = OperationOutput<"getQueue">;
type Topic = OperationOutput<"getTopic">;
type Subscription = OperationOutput<"getSubscription">;

/**
 * The API 3.0 models of tencentcloud-sdk-nodejs (`CmqQueue`, `CmqTopic`, `CmqSubscription`).
 * Every field with a counterpart here is set (times in Unix ms, as API 3.0 gives them); fields with
 * none (rate limits, tenant and namespace, the owner's numeric uin) are null, which the SDK's
 * models declare they may be. Queues, topics and subscriptions are known by name: the name is
 * also the id.
 */
export function cmqQueueOf(queue: Queue, account: string, deadLetterSources: readonly string[]) {
  const deadLetter = queue.deadLetter;
  return {
    QueueId: queue.name,
    QueueName: queue.name,
    Qps: null,
    Bps: null,
    // A delayed message stays receivable for a while before retention ends (src/schema/queue.ts).
    MaxDelaySeconds: Math.min(QueueLimits.delaySecondsMax, queue.msgRetentionSeconds - QueueLimits.receivableAfterDelayMinSeconds),
    MaxMsgHeapNum: queue.maxMsgHeapNum,
    PollingWaitSeconds: queue.pollingWaitSeconds,
    MsgRetentionSeconds: queue.msgRetentionSeconds,
    VisibilityTimeout: queue.visibilityTimeout,
    MaxMsgSize: queue.maxMsgSize,
    RewindSeconds: queue.rewindSeconds,
    CreateTime: queue.createdAt,
    LastModifyTime: queue.modifiedAt,
    ActiveMsgNum: queue.counts.active,
    InactiveMsgNum: queue.counts.inactive,
    DelayMsgNum: queue.counts.delayed,
    RewindMsgNum: queue.counts.rewindable,
    // CMQ: "minimum unconsumed time of messages", in seconds; 0 when the queue holds none.
    MinMsgTime: queue.oldestMessageAt === null ? 0 : Math.floor(queue.oldestMessageAt / 1000),
    Transaction: false,
    DeadLetterSource: deadLetterSources.map((name) => ({ QueueId: name, QueueName: name })),
    DeadLetterPolicy:
      deadLetter === null
        ? null
        : "maxReceiveCount" in deadLetter
          ? { DeadLetterQueue: deadLetter.queue, Policy: 0, MaxReceiveCount: deadLetter.maxReceiveCount, MaxTimeToLive: null }
          : { DeadLetterQueue: deadLetter.queue, Policy: 1, MaxReceiveCount: null, MaxTimeToLive: deadLetter.maxTimeToLive },
    TransactionPolicy: null,
    CreateUin: null,
    Tags: [],
    Trace: false,
    TenantId: account,
    NamespaceName: null,
    Status: null,
    MaxUnackedMsgNum: null,
    MaxMsgBacklogSize: null,
    RetentionSizeInMB: null,
  };
}

/** API 3.0's FilterType: 1 filters by tags, 2 by routing key. */
export const FilterTypeOf = { tag: 1, routingKey: 2 } as const;

export function cmqTopicOf(topic: Topic, account: string) {
  return {
    TopicId: topic.name,
    TopicName: topic.name,
    MsgRetentionSeconds: topic.msgRetentionSeconds,
    MaxMsgSize: topic.maxMsgSize,
    Qps: null,
    FilterType: FilterTypeOf[topic.filterType],
    CreateTime: topic.createdAt,
    LastModifyTime: topic.modifiedAt,
    MsgCount: topic.messageCount,
    CreateUin: null,
    Tags: [],
    Trace: false,
    TenantId: account,
    NamespaceName: null,
    Status: null,
    BrokerType: null,
    SubscriptionCount: topic.subscriptionCount,
  };
}

export function cmqSubscriptionOf(subscription: Subscription) {
  return {
    SubscriptionName: subscription.name,
    SubscriptionId: subscription.name,
    TopicOwner: null,
    // Deliveries still pending, as CMQ's msgCount counts messages not yet pushed.
    MsgCount: subscription.stats.pending,
    LastModifyTime: subscription.modifiedAt,
    CreateTime: subscription.createdAt,
    BindingKey: subscription.bindingKeys,
    Endpoint: subscription.endpoint,
    FilterTags: subscription.filterTags,
    // CMQ's `http` protocol covers http:// and https:// endpoints alike.
    Protocol: subscription.protocol === "https" ? "http" : subscription.protocol,
    NotifyStrategy: subscription.notifyStrategy,
    NotifyContentFormat: subscription.notifyContentFormat,
    TopicName: subscription.topic,
  };
}
