import type { OperationInput, OperationName } from "./catalog";

/**
 * How each operation travels over the native REST API: method, path (`:name` is an input field) and
 * where the other fields go. For the three creates answered with 201 or 200, the field that holds
 * the created resource (`{created, queue}` is the operation's output; the API answers the queue
 * alone and says `created` by its status). A test checks every row against the service's own
 * route table (src/api/rest/routes.ts).
 */
export type HttpRoute = readonly [method: "GET" | "PUT" | "POST" | "PATCH" | "DELETE", path: string, fieldsFrom: "body" | "query" | "none", createdAs?: string];

export const httpRoutes = {
  health: ["GET", "/v1/health", "none"],

  listQueues: ["GET", "/v1/queues", "query"],
  createQueue: ["PUT", "/v1/queues/:queue", "body", "queue"],
  getQueue: ["GET", "/v1/queues/:queue", "none"],
  updateQueue: ["PATCH", "/v1/queues/:queue", "body"],
  deleteQueue: ["DELETE", "/v1/queues/:queue", "none"],
  listDeadLetterSourceQueues: ["GET", "/v1/queues/:queue/dead-letter-sources", "query"],
  sendMessages: ["POST", "/v1/queues/:queue/messages", "body"],
  receiveMessages: ["POST", "/v1/queues/:queue/messages/receive", "body"],
  deleteMessages: ["POST", "/v1/queues/:queue/messages/delete", "body"],
  deleteMessage: ["DELETE", "/v1/queues/:queue/messages/:receiptHandle", "none"],
  changeVisibility: ["POST", "/v1/queues/:queue/messages/visibility", "body"],
  peekMessages: ["GET", "/v1/queues/:queue/messages", "query"],
  purgeQueue: ["POST", "/v1/queues/:queue/purge", "none"],
  rewindQueue: ["POST", "/v1/queues/:queue/rewind", "body"],
  startRedrive: ["POST", "/v1/queues/:queue/redrive", "body"],
  getRedrive: ["GET", "/v1/queues/:queue/redrive", "none"],
  listRedrives: ["GET", "/v1/queues/:queue/redrives", "none"],
  getQueueRates: ["GET", "/v1/queues/:queue/rates", "none"],
  cancelRedrive: ["DELETE", "/v1/queues/:queue/redrive", "query"],
  listQueueTags: ["GET", "/v1/queues/:queue/tags", "none"],
  tagQueue: ["PATCH", "/v1/queues/:queue/tags", "body"],
  untagQueue: ["POST", "/v1/queues/:queue/tags/delete", "body"],
  setQueueConsumer: ["PUT", "/v1/queues/:queue/consumer", "body", "consumer"],
  getQueueConsumer: ["GET", "/v1/queues/:queue/consumer", "none"],
  deleteQueueConsumer: ["DELETE", "/v1/queues/:queue/consumer", "none"],
  pauseQueueConsumer: ["POST", "/v1/queues/:queue/consumer/pause", "none"],
  resumeQueueConsumer: ["POST", "/v1/queues/:queue/consumer/resume", "none"],

  listTopics: ["GET", "/v1/topics", "query"],
  createTopic: ["PUT", "/v1/topics/:topic", "body", "topic"],
  getTopic: ["GET", "/v1/topics/:topic", "none"],
  updateTopic: ["PATCH", "/v1/topics/:topic", "body"],
  deleteTopic: ["DELETE", "/v1/topics/:topic", "none"],
  publishMessages: ["POST", "/v1/topics/:topic/messages", "body"],
  listSubscriptions: ["GET", "/v1/topics/:topic/subscriptions", "query"],
  subscribe: ["PUT", "/v1/topics/:topic/subscriptions/:subscription", "body", "subscription"],
  getSubscription: ["GET", "/v1/topics/:topic/subscriptions/:subscription", "none"],
  updateSubscription: ["PATCH", "/v1/topics/:topic/subscriptions/:subscription", "body"],
  unsubscribe: ["DELETE", "/v1/topics/:topic/subscriptions/:subscription", "none"],

  createAccount: ["POST", "/v1/accounts", "body"],
  listAccounts: ["GET", "/v1/accounts", "query"],
  getAccount: ["GET", "/v1/accounts/:account", "none"],
  updateAccount: ["PATCH", "/v1/accounts/:account", "body"],
  createKey: ["POST", "/v1/accounts/:account/keys", "body"],
  listKeys: ["GET", "/v1/accounts/:account/keys", "query"],
  updateKey: ["PATCH", "/v1/accounts/:account/keys/:secretId", "body"],
  rotateKey: ["POST", "/v1/accounts/:account/keys/:secretId/rotate", "none"],
  deleteKey: ["DELETE", "/v1/accounts/:account/keys/:secretId", "none"],
  createToken: ["POST", "/v1/tokens", "body"],
  whoami: ["GET", "/v1/whoami", "none"],
} as const satisfies Record<OperationName, HttpRoute>;

type PathFields<TPath extends string> = TPath extends `${string}:${infer Field}/${infer Rest}`
  ? Field | PathFields<`/${Rest}`>
  : TPath extends `${string}:${infer Field}`
    ? Field
    : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agrees = <T extends true>(): T => true as T;
// Every `:field` of a path is a required string of its operation's input, and a route that sends
// nothing but its path has no other field.
type PathFieldsAreInput = {
  [N in OperationName]: PathFields<(typeof httpRoutes)[N][1]> extends never
    ? true
    : PathFields<(typeof httpRoutes)[N][1]> extends keyof OperationInput<N>
      ? Same<{ [F in PathFields<(typeof httpRoutes)[N][1]>]: OperationInput<N>[F] }, Record<PathFields<(typeof httpRoutes)[N][1]>, string>>
      : false;
}[OperationName];
agrees<PathFieldsAreInput>();
type NoneHasOnlyPath = {
  [N in OperationName]: (typeof httpRoutes)[N][2] extends "none" ? Same<keyof OperationInput<N>, PathFields<(typeof httpRoutes)[N][1]>> : true;
}[OperationName];
agrees<NoneHasOnlyPath>();
