export { QueueClient, QueueService } from "./entrypoint";
export { rpcMethods, type RpcMethodName } from "./methods";
