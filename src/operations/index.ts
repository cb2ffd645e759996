import { accountOperations } from "./accounts";
import type { Operation } from "./operation";
import { queueTagOperations } from "./queue-tags";
import { queueConsumerOperations } from "./queue-consumer";
import { queueOperations } from "./queues";
import { topicOperations } from "./topics";

export { OperationContext, runOperation, type Access, type Operation } from "./operation";

/**
 * The operation catalog: every operation of the service, once. The native REST routes, the RPC
 * entrypoint and /openapi.json are derived from it; other protocol adapters translate onto it.
 */
export const catalog = { ...queueOperations, ...queueTagOperations, ...queueConsumerOperations, ...topicOperations, ...accountOperations };

export type OperationName = keyof typeof catalog;
export type OperationInput<TName extends OperationName> = Parameters<(typeof catalog)[TName]["run"]>[1];
export type OperationOutput<TName extends OperationName> = Awaited<ReturnType<(typeof catalog)[TName]["run"]>>;

export const operationNames = Object.keys(catalog) as OperationName[];

export function operationNamed(name: OperationName): Operation {
  return catalog[name] as unknown as Operation;
}
