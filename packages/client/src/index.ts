export { createClient, type CallOptions, type ClientOptions, type EdgeCmqClient, type OutgoingMessage, type PublishedMessage } from "./client";
export { EdgeCmqError, type ClientErrorCode, type EdgeCmqErrorInit, type Fault } from "./errors";
export type { Credentials, IssuedToken } from "./auth";
export type { QueueServiceBinding } from "./binding-transport";
export type { ErrorCode, OperationInput, OperationName, Output as OperationOutput } from "./catalog";
export type { RetryOptions } from "./retry";
export { idempotentOperations } from "./retry";
export { consume, type ConsumeOptions, type ConsumeSummary, type Outcome, type ReceivedMessage } from "./consume";
export { LiveProtocol, LiveSocket, openLive, type LiveMessage, type LiveOptions, type LiveReady, type LiveTopicMessage } from "./live";
