import * as v from "valibot";
import type { OperationName, OperationOutput } from "../../operations";
import { OutgoingMessage, SendBatchBody } from "../../schema/queue";
import { PublishBatchBody, PublishedMessage } from "../../schema/topic";
import { ConsumerResult } from "../../schema/queue-consumer";
import { QueueResult, SubscriptionResult, TopicResult } from "../../schema/results";
import { inputOf } from "../input";

/** The parts of a request an operation's input is made from. */
export interface RequestParts {
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** The parsed JSON body; undefined when the route reads none. */
  body: unknown;
}

export interface RestAnswer {
  status: number;
  body?: unknown;
}

/**
 * One route of the native API: which catalog operation it runs, and how the request and the answer
 * translate. By default the input is the path parameters plus the body's fields (or the query's),
 * the answer is the output with 200, or 204 when the operation answers nothing.
 */
export interface RestRoute<TName extends OperationName = OperationName> {
  method: "GET" | "PUT" | "POST" | "PATCH" | "DELETE";
  /** itty-router path; `:param` names an input field. */
  path: string;
  operation: TName;
  /** Where the input's other fields come from. */
  fieldsFrom: "body" | "query" | "none";
  /** Whether an empty body stands for `{}`. */
  bodyOptional?: boolean;
  toInput?: (parts: RequestParts) => unknown;
  /** Where an input field sits in the request, for error messages, when not `[fieldsFrom, ...field]`. */
  locate?: (keys: string[], parts: RequestParts) => string[];
  toAnswer?: (output: OperationOutput<TName>, parts: RequestParts) => RestAnswer;
  /** The body's schema in /openapi.json when it is not the input less the path. */
  documentedBody?: v.GenericSchema;
  /** The 2xx answer's schema in /openapi.json when it is not the operation's output. */
  documentedAnswer?: { status: number; schema: v.GenericSchema | null };
}

const route = <TName extends OperationName>(spec: RestRoute<TName>): RestRoute => spec as unknown as RestRoute;

const created = (isNew: boolean) => (isNew ? 201 : 200);
const hasMessages = (body: unknown) => body !== null && typeof body === "object" && !Array.isArray(body) && "messages" in body;

/** A body of one message (`{body, ...}` answered with `{id}`) or a batch (`{messages: [...]}`). */
const oneOrBatch = {
  toInput: ({ params, body }: RequestParts) =>
    hasMessages(body) ? inputOf(params, body, "body") : inputOf(params, { messages: [body] }, "body"),
  // A single message's fields are the body's own.
  locate: (keys: string[], { body }: RequestParts) =>
    !hasMessages(body) && keys[0] === "messages" && keys[1] === "0" ? ["body", ...keys.slice(2)] : ["body", ...keys],
  toAnswer: (output: { messages: Array<{ id: string; sequenceNumber?: string }> }, { body }: RequestParts): RestAnswer => ({
    status: 200,
    body: hasMessages(body) ? output : output.messages[0]!,
  }),
};
const SentMessageAnswer = v.object({ id: v.string(), sequenceNumber: v.optional(v.pipe(v.string(), v.description("FIFO queues only"))) });
const MessageIdAnswer = v.union([SentMessageAnswer, v.object({ messages: v.array(SentMessageAnswer) })]);

/** The native REST API (`/v1`). */
export const restRoutes: RestRoute[] = [
  route({ method: "GET", path: "/v1/health", operation: "health", fieldsFrom: "none" }),

  route({ method: "GET", path: "/v1/queues", operation: "listQueues", fieldsFrom: "query" }),
  route({
    method: "PUT",
    path: "/v1/queues/:queue",
    operation: "createQueue",
    fieldsFrom: "body",
    bodyOptional: true,
    toAnswer: (output) => ({ status: created(output.created), body: output.queue }),
    documentedAnswer: { status: 201, schema: QueueResult },
  }),
  route({ method: "GET", path: "/v1/queues/:queue", operation: "getQueue", fieldsFrom: "none" }),
  route({ method: "PATCH", path: "/v1/queues/:queue", operation: "updateQueue", fieldsFrom: "body" }),
  route({ method: "DELETE", path: "/v1/queues/:queue", operation: "deleteQueue", fieldsFrom: "none" }),
  route({ method: "GET", path: "/v1/queues/:queue/dead-letter-sources", operation: "listDeadLetterSourceQueues", fieldsFrom: "query" }),
  route({
    method: "POST",
    path: "/v1/queues/:queue/messages",
    operation: "sendMessages",
    fieldsFrom: "body",
    ...oneOrBatch,
    documentedBody: v.union([OutgoingMessage, SendBatchBody]),
    documentedAnswer: { status: 200, schema: MessageIdAnswer },
  }),
  route({ method: "POST", path: "/v1/queues/:queue/messages/receive", operation: "receiveMessages", fieldsFrom: "body", bodyOptional: true }),
  route({ method: "POST", path: "/v1/queues/:queue/messages/delete", operation: "deleteMessages", fieldsFrom: "body" }),
  route({ method: "DELETE", path: "/v1/queues/:queue/messages/:receiptHandle", operation: "deleteMessage", fieldsFrom: "none" }),
  route({ method: "POST", path: "/v1/queues/:queue/messages/visibility", operation: "changeVisibility", fieldsFrom: "body" }),
  route({ method: "GET", path: "/v1/queues/:queue/messages", operation: "peekMessages", fieldsFrom: "query" }),
  route({ method: "POST", path: "/v1/queues/:queue/purge", operation: "purgeQueue", fieldsFrom: "none" }),
  route({ method: "POST", path: "/v1/queues/:queue/rewind", operation: "rewindQueue", fieldsFrom: "body" }),
  route({
    method: "POST",
    path: "/v1/queues/:queue/redrive",
    operation: "startRedrive",
    fieldsFrom: "body",
    bodyOptional: true,
    toAnswer: (output) => ({ status: 202, body: output }),
  }),
  route({ method: "GET", path: "/v1/queues/:queue/redrive", operation: "getRedrive", fieldsFrom: "none" }),
  route({ method: "GET", path: "/v1/queues/:queue/redrives", operation: "listRedrives", fieldsFrom: "none" }),
  route({ method: "GET", path: "/v1/queues/:queue/rates", operation: "getQueueRates", fieldsFrom: "none" }),
  route({ method: "GET", path: "/v1/queues/:queue/tags", operation: "listQueueTags", fieldsFrom: "none" }),
  route({ method: "PATCH", path: "/v1/queues/:queue/tags", operation: "tagQueue", fieldsFrom: "body" }),
  route({ method: "POST", path: "/v1/queues/:queue/tags/delete", operation: "untagQueue", fieldsFrom: "body" }),
  route({ method: "DELETE", path: "/v1/queues/:queue/redrive", operation: "cancelRedrive", fieldsFrom: "query" }),
  route({
    method: "PUT",
    path: "/v1/queues/:queue/consumer",
    operation: "setQueueConsumer",
    fieldsFrom: "body",
    toAnswer: (output) => ({ status: created(output.created), body: output.consumer }),
    documentedAnswer: { status: 201, schema: ConsumerResult },
  }),
  route({ method: "GET", path: "/v1/queues/:queue/consumer", operation: "getQueueConsumer", fieldsFrom: "none" }),
  route({ method: "DELETE", path: "/v1/queues/:queue/consumer", operation: "deleteQueueConsumer", fieldsFrom: "none" }),
  route({ method: "POST", path: "/v1/queues/:queue/consumer/pause", operation: "pauseQueueConsumer", fieldsFrom: "none" }),
  route({ method: "POST", path: "/v1/queues/:queue/consumer/resume", operation: "resumeQueueConsumer", fieldsFrom: "none" }),

  route({ method: "GET", path: "/v1/topics", operation: "listTopics", fieldsFrom: "query" }),
  route({
    method: "PUT",
    path: "/v1/topics/:topic",
    operation: "createTopic",
    fieldsFrom: "body",
    bodyOptional: true,
    toAnswer: (output) => ({ status: created(output.created), body: output.topic }),
    documentedAnswer: { status: 201, schema: TopicResult },
  }),
  route({ method: "GET", path: "/v1/topics/:topic", operation: "getTopic", fieldsFrom: "none" }),
  route({ method: "PATCH", path: "/v1/topics/:topic", operation: "updateTopic", fieldsFrom: "body" }),
  route({ method: "DELETE", path: "/v1/topics/:topic", operation: "deleteTopic", fieldsFrom: "none" }),
  route({
    method: "POST",
    path: "/v1/topics/:topic/messages",
    operation: "publishMessages",
    fieldsFrom: "body",
    ...oneOrBatch,
    documentedBody: v.union([PublishedMessage, PublishBatchBody]),
    documentedAnswer: { status: 200, schema: MessageIdAnswer },
  }),
  route({ method: "GET", path: "/v1/topics/:topic/subscriptions", operation: "listSubscriptions", fieldsFrom: "query" }),
  route({
    method: "PUT",
    path: "/v1/topics/:topic/subscriptions/:subscription",
    operation: "subscribe",
    fieldsFrom: "body",
    toAnswer: (output) => ({ status: created(output.created), body: output.subscription }),
    documentedAnswer: { status: 201, schema: SubscriptionResult },
  }),
  route({ method: "GET", path: "/v1/topics/:topic/subscriptions/:subscription", operation: "getSubscription", fieldsFrom: "none" }),
  route({ method: "PATCH", path: "/v1/topics/:topic/subscriptions/:subscription", operation: "updateSubscription", fieldsFrom: "body" }),
  route({ method: "DELETE", path: "/v1/topics/:topic/subscriptions/:subscription", operation: "unsubscribe", fieldsFrom: "none" }),

  route({
    method: "POST",
    path: "/v1/accounts",
    operation: "createAccount",
    fieldsFrom: "body",
    toAnswer: (output) => ({ status: 201, body: output }),
  }),
  route({ method: "GET", path: "/v1/accounts", operation: "listAccounts", fieldsFrom: "query" }),
  route({ method: "GET", path: "/v1/accounts/:account", operation: "getAccount", fieldsFrom: "none" }),
  route({ method: "PATCH", path: "/v1/accounts/:account", operation: "updateAccount", fieldsFrom: "body" }),
  route({
    method: "POST",
    path: "/v1/accounts/:account/keys",
    operation: "createKey",
    fieldsFrom: "body",
    toAnswer: (output) => ({ status: 201, body: output }),
  }),
  route({ method: "GET", path: "/v1/accounts/:account/keys", operation: "listKeys", fieldsFrom: "query" }),
  route({ method: "PATCH", path: "/v1/accounts/:account/keys/:secretId", operation: "updateKey", fieldsFrom: "body" }),
  route({ method: "POST", path: "/v1/accounts/:account/keys/:secretId/rotate", operation: "rotateKey", fieldsFrom: "none" }),
  route({ method: "DELETE", path: "/v1/accounts/:account/keys/:secretId", operation: "deleteKey", fieldsFrom: "none" }),
  route({
    method: "POST",
    path: "/v1/tokens",
    operation: "createToken",
    fieldsFrom: "body",
    toAnswer: (output) => ({ status: 201, body: output }),
  }),
  route({ method: "GET", path: "/v1/whoami", operation: "whoami", fieldsFrom: "none" }),
];
