import { ErrorCode, ServiceError } from "../../errors";
import type { OperationOutput } from "../../operations";
import { listOptions, run, unixSeconds, type CmqAction, type CmqCall } from "./call";
import { CmqErrorOf, CmqWire, CmqWireError } from "./errors";
import { deadLetterInput, deadLetterPolicyText } from "./dead-letter";

type Queue = OperationOutput<"getQueue">;
type QueueSummary = OperationOutput<"listQueues">["queues"][number];
type Received = OperationOutput<"receiveMessages">["messages"][number];

/** The settable attributes, as CreateQueue and SetQueueAttributes name them. */
function queueAttributes(call: CmqCall): Record<string, unknown> {
  const { params } = call;
  const deadLetterPolicy = params.string("deadLetterPolicy");
  return {
    maxMsgHeapNum: params.integer("maxMsgHeapNum"),
    pollingWaitSeconds: params.integer("pollingWaitSeconds"),
    visibilityTimeout: params.integer("visibilityTimeout"),
    maxMsgSize: params.integer("maxMsgSize"),
    msgRetentionSeconds: params.integer("msgRetentionSeconds"),
    rewindSeconds: params.integer("rewindSeconds"),
    deadLetter: deadLetterPolicy === undefined ? undefined : deadLetterInput(deadLetterPolicy),
  };
}

/** The settable attributes as CMQ answers them (SetQueueAttributes echoes these). */
const settableOf = (queue: QueueSummary) => ({
  maxMsgHeapNum: queue.maxMsgHeapNum,
  pollingWaitSeconds: queue.pollingWaitSeconds,
  visibilityTimeout: queue.visibilityTimeout,
  maxMsgSize: queue.maxMsgSize,
  msgRetentionSeconds: queue.msgRetentionSeconds,
  rewindSeconds: queue.rewindSeconds,
  ...(queue.deadLetter ? { deadLetterPolicy: deadLetterPolicyText(queue.deadLetter) } : {}),
});

/**
 * GetQueueAttributes: every counter and time as an integer (the Java SDK `getInt`s each one and
 * fails on a missing key), the rewindable count under both spellings SDKs read, times in seconds.
 */
const attributesOf = (queue: Queue) => ({
  queueId: queue.name,
  queueName: queue.name,
  ...settableOf(queue),
  createTime: unixSeconds(queue.createdAt),
  lastModifyTime: unixSeconds(queue.modifiedAt),
  activeMsgNum: queue.counts.active,
  inactiveMsgNum: queue.counts.inactive,
  delayMsgNum: queue.counts.delayed,
  rewindmsgNum: queue.counts.rewindable,
  rewindMsgNum: queue.counts.rewindable,
  minMsgTime: queue.oldestMessageAt === null ? 0 : unixSeconds(queue.oldestMessageAt),
});

const summaryOf = (queue: { name: string }) => ({ queueId: queue.name, queueName: queue.name });

/** The receive fields of a message, times in Unix seconds. */
const receivedOf = (message: Received) => ({
  msgId: message.id,
  msgBody: message.body,
  receiptHandle: message.receiptHandle,
  enqueueTime: unixSeconds(message.enqueuedAt),
  firstDequeueTime: unixSeconds(message.firstReceivedAt),
  nextVisibleTime: unixSeconds(message.nextVisibleAt),
  dequeueCount: message.receiveCount,
});

const noMessage = () => new CmqWireError(CmqWire.NoMessage, "no message");

/** ReceiveMessage takes one message; BatchReceiveMessage up to `numOfMsg`. */
async function receive(call: CmqCall, batch: boolean): Promise<Received[]> {
  const queue = call.params.string("queueName", true);
  const waitSeconds = call.params.integer("pollingWaitSeconds");
  const max = batch ? call.params.integer("numOfMsg", true) : undefined;
  call.params.end();
  const { messages } = await run(call, "receiveMessages", { queue, waitSeconds, max });
  // CMQ answers an empty receive, after its wait, with error 7000; every SDK expects it.
  if (messages.length === 0) throw noMessage();
  return messages;
}

export const queueActions: Record<string, CmqAction> = {
  async CreateQueue(call) {
    const queue = call.params.string("queueName", true);
    const attributes = queueAttributes(call);
    call.params.end();
    const { created, queue: info } = await run(call, "createQueue", { queue, ...attributes });
    // CMQ refuses to create a queue that exists, identical or not (4460).
    if (!created) throw new ServiceError(ErrorCode.QueueAlreadyExists, `queue ${info.name} already exists`);
    return { queueId: info.name };
  },

  async ListQueue(call) {
    const options = listOptions(call);
    call.params.end();
    const page = await run(call, "listQueues", options);
    return { totalCount: page.total, queueList: page.queues.map(summaryOf) };
  },

  async GetQueueAttributes(call) {
    const queue = call.params.string("queueName", true);
    call.params.end();
    return attributesOf(await run(call, "getQueue", { queue }));
  },

  async SetQueueAttributes(call) {
    const queue = call.params.string("queueName", true);
    const attributes = queueAttributes(call);
    call.params.end();
    return settableOf(await run(call, "updateQueue", { queue, ...attributes }));
  },

  async DeleteQueue(call) {
    const queue = call.params.string("queueName", true);
    call.params.end();
    await run(call, "deleteQueue", { queue });
    return {};
  },

  async RewindQueue(call) {
    const queue = call.params.string("queueName", true);
    const startConsumeTime = call.params.integer("startConsumeTime", true);
    call.params.end();
    await run(call, "rewindQueue", { queue, since: startConsumeTime * 1000 });
    return {};
  },

  async SendMessage(call) {
    const queue = call.params.string("queueName", true);
    const body = call.params.string("msgBody", true);
    const delaySeconds = call.params.integer("delaySeconds");
    call.params.end();
    const sent = await run(call, "sendMessages", { queue, messages: [{ body, delaySeconds }] });
    return { msgId: sent.messages[0]!.id };
  },

  async BatchSendMessage(call) {
    const queue = call.params.string("queueName", true);
    const bodies = call.params.list("msgBody", true)!;
    const delaySeconds = call.params.integer("delaySeconds");
    call.params.end();
    const sent = await run(call, "sendMessages", { queue, messages: bodies.map((body) => ({ body, delaySeconds })) });
    return { msgList: sent.messages.map((message) => ({ msgId: message.id })) };
  },

  async ReceiveMessage(call) {
    const [message] = await receive(call, false);
    return receivedOf(message!);
  },

  async BatchReceiveMessage(call) {
    const messages = await receive(call, true);
    return { msgInfoList: messages.map(receivedOf) };
  },

  async DeleteMessage(call) {
    const queue = call.params.string("queueName", true);
    const receiptHandle = call.params.string("receiptHandle", true);
    call.params.end();
    await run(call, "deleteMessage", { queue, receiptHandle });
    return {};
  },

  async BatchDeleteMessage(call) {
    const queue = call.params.string("queueName", true);
    const receiptHandles = call.params.list("receiptHandle", true)!;
    call.params.end();
    const { results } = await run(call, "deleteMessages", { queue, receiptHandles });
    const failed = results.filter((result) => !result.deleted);
    if (failed.length === 0) return {};
    // Each failure in CMQ's terms (a refused handle is 4430), from the same table as every error.
    const errorList = failed.map((result) => ({
      code: CmqErrorOf[(result.error?.code ?? ErrorCode.ReceiptHandleInvalid) as ErrorCode].code,
      message: result.error?.message ?? "invalid receiptHandle",
      receiptHandle: result.receiptHandle,
    }));
    const shape = failed.length === results.length ? CmqWire.BatchDeleteFailed : CmqWire.BatchDeletePartlyFailed;
    throw new CmqWireError(shape, failed.length === results.length ? "delete message failed" : "delete message partially failed", { errorList });
  },

  async UnbindDeadLetterQueue(call) {
    // The docs also name the queue by `queueId`, which is its name here.
    const queue = call.params.string("queueName") ?? call.params.string("queueId");
    if (queue === undefined) throw new CmqWireError(CmqWire.MissingParameter, "missing required parameter queueName");
    call.params.end();
    await run(call, "updateQueue", { queue, deadLetter: null });
    return {};
  },

  async ListDeadLetterSourceQueues(call) {
    const queue = call.params.string("deadLetterQueueName", true);
    const options = listOptions(call);
    call.params.end();
    const page = await run(call, "listDeadLetterSourceQueues", { queue, ...options });
    return { totalCount: page.total, queueList: page.queues.map(summaryOf) };
  },
};
