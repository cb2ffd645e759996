import { catalog, runOperation, type OperationContext, type OperationName, type OperationOutput } from "../../operations";
import type { ActionParams } from "./params";

/** What an action runs with: the caller's operation context and the request's parameters. */
export interface CmqCall {
  context: OperationContext;
  params: ActionParams;
}

/** An action: reads its parameters, runs catalog operations, answers its fields (besides code, message, requestId). */
export type CmqAction = (call: CmqCall) => Promise<Record<string, unknown>>;

/** Where a field of an operation's input came from on the CMQ wire, for error messages. */
const WireNameOf: Record<string, string> = {
  queue: "queueName",
  topic: "topicName",
  subscription: "subscriptionName",
  body: "msgBody",
  messages: "msgBody",
  delaySeconds: "delaySeconds",
  max: "numOfMsg",
  waitSeconds: "pollingWaitSeconds",
  receiptHandle: "receiptHandle",
  receiptHandles: "receiptHandle",
  tags: "msgTag",
  filterTags: "filterTag",
  bindingKeys: "bindingKey",
  deadLetter: "deadLetterPolicy",
  since: "startConsumeTime",
  search: "searchWord",
};

const locate = (keys: string[]) => {
  const named = keys.filter((key) => !/^\d+$/.test(key));
  const last = named.pop() ?? "";
  return [WireNameOf[last] ?? last];
};

/** Runs a catalog operation for the caller, naming fields as CMQ does in its errors. */
export function run<TName extends OperationName>(call: CmqCall, name: TName, input: unknown): Promise<OperationOutput<TName>> {
  return runOperation(catalog[name] as never, call.context, input, locate) as Promise<OperationOutput<TName>>;
}

/** CMQ's times are Unix seconds; the service's are milliseconds. */
export const unixSeconds = (ms: number): number => Math.floor(ms / 1000);

/** CMQ's own page size when a list action names no `limit` (ListQueue, ListTopic, ...: 20). */
export const CmqListLimit = { default: 20 } as const;

/** The page options of the list actions: `searchWord`, `offset`, `limit`. */
export function listOptions(call: CmqCall): Record<string, unknown> {
  return {
    search: call.params.string("searchWord"),
    offset: call.params.integer("offset"),
    limit: call.params.integer("limit") ?? CmqListLimit.default,
  };
}
