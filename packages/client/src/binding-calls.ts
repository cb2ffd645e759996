import type { OperationInput, OperationName } from "./catalog";

/**
 * How each operation is called over a service binding (the `QueueService` RPC entrypoint): the
 * method's name and its positional arguments, each an input field, or `*` for an object of the
 * input's other fields. A test checks every row against the service's own table
 * (src/api/rpc/methods.ts): the method runs this operation and rebuilds the same input.
 */
export type BindingCall = readonly [method: string, ...arguments: string[]];

export const bindingCalls = {
  health: ["health"],

  createQueue: ["createQueue", "queue", "*"],
  getQueue: ["getQueue", "queue"],
  listQueues: ["listQueues", "*"],
  listDeadLetterSourceQueues: ["listDeadLetterSourceQueues", "queue", "*"],
  updateQueue: ["updateQueue", "queue", "*"],
  deleteQueue: ["deleteQueue", "queue"],
  purgeQueue: ["purge", "queue"],
  rewindQueue: ["rewind", "queue", "since"],
  sendMessages: ["sendBatch", "queue", "messages"],
  receiveMessages: ["receive", "queue", "*"],
  deleteMessage: ["deleteMessage", "queue", "receiptHandle"],
  deleteMessages: ["deleteMessages", "queue", "receiptHandles"],
  changeVisibility: ["changeVisibility", "queue", "receiptHandle", "visibilityTimeout"],
  peekMessages: ["peek", "queue", "*"],
  startRedrive: ["startRedrive", "queue", "*"],
  getRedrive: ["getRedrive", "queue"],
  listRedrives: ["listRedrives", "queue"],
  getQueueRates: ["getQueueRates", "queue"],
  cancelRedrive: ["cancelRedrive", "queue", "*"],
  tagQueue: ["tagQueue", "queue", "tags"],
  untagQueue: ["untagQueue", "queue", "keys"],
  listQueueTags: ["listQueueTags", "queue"],
  setQueueConsumer: ["setQueueConsumer", "queue", "*"],
  getQueueConsumer: ["getQueueConsumer", "queue"],
  deleteQueueConsumer: ["deleteQueueConsumer", "queue"],
  pauseQueueConsumer: ["pauseQueueConsumer", "queue"],
  resumeQueueConsumer: ["resumeQueueConsumer", "queue"],

  createTopic: ["createTopic", "topic", "*"],
  getTopic: ["getTopic", "topic"],
  listTopics: ["listTopics", "*"],
  updateTopic: ["updateTopic", "topic", "*"],
  deleteTopic: ["deleteTopic", "topic"],
  publishMessages: ["publishBatch", "topic", "messages"],
  subscribe: ["subscribe", "topic", "subscription", "*"],
  getSubscription: ["getSubscription", "topic", "subscription"],
  listSubscriptions: ["listSubscriptions", "topic", "*"],
  updateSubscription: ["updateSubscription", "topic", "subscription", "*"],
  unsubscribe: ["unsubscribe", "topic", "subscription"],

  createAccount: ["createAccount", "name"],
  listAccounts: ["listAccounts", "*"],
  getAccount: ["getAccount", "account"],
  updateAccount: ["updateAccount", "account", "*"],
  createKey: ["createKey", "account", "*"],
  listKeys: ["listKeys", "account", "*"],
  updateKey: ["updateKey", "account", "secretId", "*"],
  rotateKey: ["rotateKey", "account", "secretId"],
  deleteKey: ["deleteKey", "account", "secretId"],
  createToken: ["createToken", "*"],
  whoami: ["whoami"],
} as const satisfies Record<OperationName, BindingCall>;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agrees = <T extends true>(): T => true as T;
type Named<N extends OperationName> = Exclude<(typeof bindingCalls)[N][number], (typeof bindingCalls)[N][0] | "*">;
// Each argument named apart is a field of its operation's input; without `*`, they are all of it.
type ArgumentsAreInput = {
  [N in OperationName]: [Named<N>] extends [keyof OperationInput<N>]
    ? "*" extends (typeof bindingCalls)[N][number]
      ? true
      : Same<keyof OperationInput<N>, Named<N>>
    : false;
}[OperationName];
agrees<ArgumentsAreInput>();

/** The positional arguments of an operation's binding method, from its input. */
export function bindingArguments(call: BindingCall, input: Record<string, unknown>): unknown[] {
  const named = new Set(call.slice(1));
  return call.slice(1).map((field) =>
    field === "*" ? Object.fromEntries(Object.entries(input).filter(([key]) => !named.has(key))) : input[field],
  );
}
