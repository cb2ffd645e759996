import * as v from "valibot";
import {
  ChangeVisibilityBody,
  CreateQueueBody,
  DeleteMessagesBody,
  OutgoingMessage,
  QueueLimits,
  QueueName,
  ReceiveBody,
  RedriveBody,
  RewindBody,
  UpdateQueueBody,
} from "../schema/queue";
import {
  CreatedQueueResult,
  DeleteResults,
  MessageIdsResult,
  PeekResult,
  PurgeResult,
  QueueListResult,
  QueueResult,
  ReceivedMessagesResult,
  RedriveResult,
  RewindResult,
  VisibilityResult,
} from "../schema/results";
import { operation } from "./operation";
import { ListOptions, integerIn } from "./shared";

const onQueue = (action: "manage" | "read" | "send" | "receive") =>
  ({ kind: "resource", action, resource: (input: { queue: string }) => `queue:${input.queue}` }) as const;

const queue = { queue: QueueName };

export const queueOperations = {
  createQueue: operation({
    group: "queues",
    summary: "Create a queue, or confirm an identical one; one with other attributes is a conflict",
    input: v.strictObject({ ...queue, ...CreateQueueBody.entries }),
    output: CreatedQueueResult,
    access: onQueue("manage"),
    errors: ["QueueAlreadyExists", "InvalidDeadLetterQueue", "QuotaExceeded"],
    run: ({ queues }, { queue: name, ...attributes }) => queues.createQueue(name, attributes),
  }),
  listQueues: operation({
    group: "queues",
    summary: "List the queues the caller may read, by name, with name filters and pagination",
    input: ListOptions,
    output: QueueListResult,
    access: { kind: "authenticated" },
    errors: [],
    run: ({ queues }, input) => queues.listQueues(input),
  }),
  getQueue: operation({
    group: "queues",
    summary: "A queue's attributes and message counts",
    input: v.strictObject(queue),
    output: QueueResult,
    access: onQueue("read"),
    errors: ["QueueNotFound"],
    run: ({ queues }, input) => queues.getQueue(input.queue),
  }),
  updateQueue: operation({
    group: "queues",
    summary: "Change attributes; those not given keep their value, `deadLetter: null` removes the policy",
    input: v.strictObject({ ...queue, ...UpdateQueueBody.entries }),
    output: QueueResult,
    access: onQueue("manage"),
    errors: ["QueueNotFound", "InvalidDeadLetterQueue"],
    run: ({ queues }, { queue: name, ...patch }) => queues.updateQueue(name, patch),
  }),
  listDeadLetterSourceQueues: operation({
    group: "queues",
    summary: "List the queues whose dead-letter queue this is (those the caller may read), as listQueues lists",
    input: v.strictObject({ ...queue, ...ListOptions.entries }),
    output: QueueListResult,
    access: onQueue("read"),
    errors: ["QueueNotFound"],
    run: ({ queues }, { queue: name, ...query }) => queues.listDeadLetterSourceQueues(name, query),
  }),
  deleteQueue: operation({
    group: "queues",
    summary: "Delete a queue and every message in it",
    input: v.strictObject(queue),
    output: null,
    access: onQueue("manage"),
    errors: ["QueueNotFound", "QueueInUse"],
    run: ({ queues }, input) => queues.deleteQueue(input.queue),
  }),
  purgeQueue: operation({
    group: "queues",
    summary: "Delete every message of the queue",
    input: v.strictObject(queue),
    output: PurgeResult,
    access: onQueue("manage"),
    errors: ["QueueNotFound"],
    run: ({ queues }, input) => queues.purge(input.queue),
  }),
  rewindQueue: operation({
    group: "queues",
    summary: "Make every message enqueued since `since` (Unix ms, inside the rewind window) receivable again",
    input: v.strictObject({ ...queue, ...RewindBody.entries }),
    output: RewindResult,
    access: onQueue("manage"),
    errors: ["QueueNotFound", "RewindNotEnabled", "InvalidRewindTime"],
    run: ({ queues }, input) => queues.rewind(input.queue, input.since),
  }),

  sendMessages: operation({
    group: "messages",
    summary: "Send 1 to 16 messages, stored in one transaction before the answer",
    input: v.strictObject({
      ...queue,
      messages: v.pipe(
        v.array(OutgoingMessage),
        v.minLength(1, "a batch holds at least 1 message"),
        v.maxLength(QueueLimits.batchMax, `a batch holds at most ${QueueLimits.batchMax} messages`),
      ),
    }),
    output: MessageIdsResult,
    access: onQueue("send"),
    errors: ["QueueNotFound", "MessageTooLarge", "BatchTooLarge", "QueueFull", "MissingParameter"],
    run: async ({ queues }, input) => ({ messages: await queues.send(input.queue, input.messages) }),
  }),
  receiveMessages: operation({
    group: "messages",
    summary: "Receive up to `max` messages, long-polling up to `waitSeconds` (default: the queue's pollingWaitSeconds)",
    input: v.strictObject({
      ...queue,
      ...ReceiveBody.entries,
      max: v.optional(integerIn({ min: 1, max: QueueLimits.batchMax }, "most messages to receive"), 1),
    }),
    output: ReceivedMessagesResult,
    access: onQueue("receive"),
    errors: ["QueueNotFound"],
    run: async ({ queues, signal }, input) => ({
      messages: await queues.receive(
        input.queue,
        { max: input.max, waitSeconds: input.waitSeconds, visibilityTimeout: input.visibilityTimeout },
        signal,
      ),
    }),
  }),
  deleteMessage: operation({
    group: "messages",
    summary: "Delete one received message by its newest receipt handle",
    input: v.strictObject({ ...queue, receiptHandle: v.string() }),
    output: null,
    access: onQueue("receive"),
    errors: ["QueueNotFound", "ReceiptHandleInvalid"],
    run: ({ queues }, input) => queues.deleteMessage(input.queue, input.receiptHandle),
  }),
  deleteMessages: operation({
    group: "messages",
    summary: "Delete 1 to 16 received messages by receipt handle, with a result per handle",
    input: v.strictObject({ ...queue, ...DeleteMessagesBody.entries }),
    output: DeleteResults,
    access: onQueue("receive"),
    errors: ["QueueNotFound"],
    run: async ({ queues }, input) => ({ results: await queues.deleteMessages(input.queue, input.receiptHandles) }),
  }),
  changeVisibility: operation({
    group: "messages",
    summary: "Hide a received message for `visibilityTimeout` seconds from now (0 makes it visible at once)",
    input: v.strictObject({ ...queue, ...ChangeVisibilityBody.entries }),
    output: VisibilityResult,
    access: onQueue("receive"),
    errors: ["QueueNotFound", "ReceiptHandleInvalid"],
    run: ({ queues }, input) => queues.changeVisibility(input.queue, input.receiptHandle, input.visibilityTimeout),
  }),
  peekMessages: operation({
    group: "messages",
    summary: "Look at stored messages in enqueue order without changing them",
    input: v.strictObject({
      ...queue,
      limit: v.optional(integerIn({ min: 1, max: QueueLimits.peekMax }, "most messages in the page"), QueueLimits.peekDefault),
      cursor: v.optional(v.pipe(v.string(), v.regex(/^\d{1,16}$/, "malformed cursor"))),
    }),
    output: PeekResult,
    access: onQueue("read"),
    errors: ["QueueNotFound"],
    run: ({ queues }, input) => queues.peek(input.queue, input),
  }),

  startRedrive: operation({
    group: "redrive",
    summary: "Move the messages of this (dead-letter) queue to their source queues or to `destination`, at `maxPerSecond`",
    input: v.strictObject({
      ...queue,
      ...RedriveBody.entries,
      maxPerSecond: v.optional(RedriveBody.entries.maxPerSecond.wrapped, QueueLimits.redriveRatePerSecond.default),
    }),
    output: RedriveResult,
    access: onQueue("manage"),
    errors: ["QueueNotFound", "RedriveInProgress"],
    run: ({ queues }, { queue: name, ...request }) => queues.startRedrive(name, request),
  }),
  getRedrive: operation({
    group: "redrive",
    summary: "The latest redrive's progress",
    input: v.strictObject(queue),
    output: RedriveResult,
    access: onQueue("read"),
    errors: ["QueueNotFound", "RedriveNotFound"],
    run: ({ queues }, input) => queues.getRedrive(input.queue),
  }),
  cancelRedrive: operation({
    group: "redrive",
    summary: "Stop a running redrive; messages already moved stay moved",
    input: v.strictObject({
      ...queue,
      startedAt: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.description("cancel only the redrive started then (Unix ms)"))),
    }),
    output: RedriveResult,
    access: onQueue("manage"),
    errors: ["QueueNotFound", "RedriveNotFound"],
    run: ({ queues }, input) => queues.cancelRedrive(input.queue, input.startedAt),
  }),
};


