import type { OperationName, OperationOutput } from "../../operations";
import { inputOf } from "../input";

/**
 * One method of the RPC entrypoint: the catalog operation it runs, how its positional arguments
 * become the operation's input, and how the output is answered. Arguments are checked only for
 * their shape here; every value is validated by the operation's schema.
 */
export interface RpcMethod<TName extends OperationName = OperationName, TArgs extends unknown[] = any[], TResult = unknown> {
  operation: TName;
  toInput: (...args: TArgs) => unknown;
  toResult?: (output: OperationOutput<TName>) => TResult;
  /** The argument holding the input's other fields, named in error messages (`options.max`). */
  argument?: string;
}

/** Input fields that come from positional arguments of their own, named as they are. */
const NamedApart = new Set(["queue", "topic", "subscription", "account", "secretId"]);

/** Where an input field came from among a method's arguments, for error messages. */
export function locateArgument(spec: RpcMethod, keys: string[]): string[] {
  if (!spec.argument || NamedApart.has(keys[0] ?? "")) return keys;
  // One message given alone: its fields are the argument's own.
  if (spec.argument === "message" && keys[0] === "messages") return ["message", ...keys.slice(2)];
  return [spec.argument, ...keys];
}

const method = <TName extends OperationName, TArgs extends unknown[], TResult = OperationOutput<TName>>(
  spec: RpcMethod<TName, TArgs, TResult>,
) => spec;

/** A message given as a string is its body. */
const messageOf = (message: unknown) => (typeof message === "string" ? { body: message } : message);
/** The one message sent: its id, and on a FIFO queue its sequence number. */
const firstId = <T extends { id: string }>(output: { messages: T[] }): T => output.messages[0]!;
const nothing = (): void => undefined;

export const rpcMethods = {
  health: method({ operation: "health", toInput: () => ({}) }),

  createQueue: method({ operation: "createQueue", argument: "attributes", toInput: (queue: string, attributes: unknown = {}) => inputOf({ queue }, attributes, "attributes") }),
  getQueue: method({ operation: "getQueue", toInput: (queue: string) => ({ queue }) }),
  listQueues: method({ operation: "listQueues", argument: "options", toInput: (options: unknown = {}) => inputOf({}, options, "options") }),
  listDeadLetterSourceQueues: method({
    operation: "listDeadLetterSourceQueues",
    argument: "options",
    toInput: (queue: string, options: unknown = {}) => inputOf({ queue }, options, "options"),
  }),
  updateQueue: method({ operation: "updateQueue", argument: "attributes", toInput: (queue: string, attributes: unknown) => inputOf({ queue }, attributes, "attributes") }),
  deleteQueue: method({ operation: "deleteQueue", toInput: (queue: string) => ({ queue }), toResult: nothing }),
  purge: method({ operation: "purgeQueue", toInput: (queue: string) => ({ queue }) }),
  rewind: method({ operation: "rewindQueue", toInput: (queue: string, since: unknown) => ({ queue, since }) }),

  /** `send("orders", "body")` or `send("orders", {body, delaySeconds, tags})`. */
  send: method({ operation: "sendMessages", argument: "message", toInput: (queue: string, message: unknown) => ({ queue, messages: [messageOf(message)] }), toResult: firstId }),
  sendBatch: method({ operation: "sendMessages", argument: "batch", toInput: (queue: string, messages: unknown) => ({ queue, messages }) }),
  receive: method({ operation: "receiveMessages", argument: "options", toInput: (queue: string, options: unknown = {}) => inputOf({ queue }, options, "options") }),
  deleteMessage: method({
    operation: "deleteMessage",
    toInput: (queue: string, receiptHandle: unknown) => ({ queue, receiptHandle }),
    toResult: nothing,
  }),
  deleteMessages: method({ operation: "deleteMessages", toInput: (queue: string, receiptHandles: unknown) => ({ queue, receiptHandles }) }),
  changeVisibility: method({
    operation: "changeVisibility",
    toInput: (queue: string, receiptHandle: unknown, visibilityTimeout: unknown) => ({ queue, receiptHandle, visibilityTimeout }),
  }),
  peek: method({ operation: "peekMessages", argument: "options", toInput: (queue: string, options: unknown = {}) => inputOf({ queue }, options, "options") }),

  setQueueConsumer: method({
    operation: "setQueueConsumer",
    argument: "settings",
    toInput: (queue: string, settings: unknown) => inputOf({ queue }, settings, "settings"),
  }),
  getQueueConsumer: method({ operation: "getQueueConsumer", toInput: (queue: string) => ({ queue }) }),
  deleteQueueConsumer: method({ operation: "deleteQueueConsumer", toInput: (queue: string) => ({ queue }), toResult: nothing }),
  pauseQueueConsumer: method({ operation: "pauseQueueConsumer", toInput: (queue: string) => ({ queue }) }),
  resumeQueueConsumer: method({ operation: "resumeQueueConsumer", toInput: (queue: string) => ({ queue }) }),

  tagQueue: method({ operation: "tagQueue", toInput: (queue: string, tags: unknown) => ({ queue, tags }) }),
  untagQueue: method({ operation: "untagQueue", toInput: (queue: string, keys: unknown) => ({ queue, keys }) }),
  listQueueTags: method({ operation: "listQueueTags", toInput: (queue: string) => ({ queue }) }),

  startRedrive: method({ operation: "startRedrive", argument: "options", toInput: (queue: string, options: unknown = {}) => inputOf({ queue }, options, "options") }),
  getRedrive: method({ operation: "getRedrive", toInput: (queue: string) => ({ queue }) }),
  listRedrives: method({ operation: "listRedrives", toInput: (queue: string) => ({ queue }) }),
  getQueueRates: method({ operation: "getQueueRates", toInput: (queue: string) => ({ queue }) }),
  cancelRedrive: method({ operation: "cancelRedrive", argument: "options", toInput: (queue: string, options: unknown = {}) => inputOf({ queue }, options, "options") }),

  createTopic: method({ operation: "createTopic", argument: "attributes", toInput: (topic: string, attributes: unknown = {}) => inputOf({ topic }, attributes, "attributes") }),
  getTopic: method({ operation: "getTopic", toInput: (topic: string) => ({ topic }) }),
  listTopics: method({ operation: "listTopics", argument: "options", toInput: (options: unknown = {}) => inputOf({}, options, "options") }),
  updateTopic: method({ operation: "updateTopic", argument: "attributes", toInput: (topic: string, attributes: unknown) => inputOf({ topic }, attributes, "attributes") }),
  deleteTopic: method({ operation: "deleteTopic", toInput: (topic: string) => ({ topic }), toResult: nothing }),
  /** `publish("events", "body")` or `publish("events", {body, tags, routingKey})`. */
  publish: method({ operation: "publishMessages", argument: "message", toInput: (topic: string, message: unknown) => ({ topic, messages: [messageOf(message)] }), toResult: firstId }),
  publishBatch: method({ operation: "publishMessages", argument: "batch", toInput: (topic: string, messages: unknown) => ({ topic, messages }) }),

  subscribe: method({
    operation: "subscribe",
    argument: "attributes",
    toInput: (topic: string, subscription: string, attributes: unknown) => inputOf({ topic, subscription }, attributes, "attributes"),
  }),
  getSubscription: method({ operation: "getSubscription", toInput: (topic: string, subscription: string) => ({ topic, subscription }) }),
  listSubscriptions: method({
    operation: "listSubscriptions",
    argument: "options",
    toInput: (topic: string, options: unknown = {}) => inputOf({ topic }, options, "options"),
  }),
  updateSubscription: method({
    operation: "updateSubscription",
    argument: "attributes",
    toInput: (topic: string, subscription: string, attributes: unknown) => inputOf({ topic, subscription }, attributes, "attributes"),
  }),
  unsubscribe: method({
    operation: "unsubscribe",
    toInput: (topic: string, subscription: string) => ({ topic, subscription }),
    toResult: nothing,
  }),

  createAccount: method({ operation: "createAccount", toInput: (name: string) => ({ name }) }),
  listAccounts: method({ operation: "listAccounts", argument: "options", toInput: (options: unknown = {}) => inputOf({}, options, "options") }),
  getAccount: method({ operation: "getAccount", toInput: (account: string) => ({ account }) }),
  updateAccount: method({ operation: "updateAccount", argument: "change", toInput: (account: string, change: unknown) => inputOf({ account }, change, "change") }),
  createKey: method({ operation: "createKey", argument: "options", toInput: (account: string, options: unknown) => inputOf({ account }, options, "options") }),
  listKeys: method({ operation: "listKeys", argument: "options", toInput: (account: string, options: unknown = {}) => inputOf({ account }, options, "options") }),
  updateKey: method({
    operation: "updateKey",
    argument: "change",
    toInput: (account: string, secretId: string, change: unknown) => inputOf({ account, secretId }, change, "change"),
  }),
  rotateKey: method({ operation: "rotateKey", toInput: (account: string, secretId: string) => ({ account, secretId }) }),
  deleteKey: method({ operation: "deleteKey", toInput: (account: string, secretId: string) => ({ account, secretId }), toResult: nothing }),
  createToken: method({ operation: "createToken", argument: "request", toInput: (request: unknown) => inputOf({}, request, "request") }),
  whoami: method({ operation: "whoami", toInput: () => ({}) }),
};

export type RpcMethodName = keyof typeof rpcMethods;

/** The typed surface a caller of the entrypoint sees. */
export type RpcClientMethods = {
  [K in RpcMethodName]: (
    ...args: Parameters<(typeof rpcMethods)[K]["toInput"]>
  ) => Promise<
    (typeof rpcMethods)[K] extends { toResult: (output: any) => infer TResult }
      ? TResult
      : OperationOutput<(typeof rpcMethods)[K]["operation"]>
  >;
};
