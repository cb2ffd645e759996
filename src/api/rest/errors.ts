import { ErrorCode, ServiceError, type ErrorCode as Code } from "../../errors";
import { jsonResponse } from "../http";

/** HTTP status of every error code on the native API. */
export const HttpStatusOfError = {
  MalformedRequest: 400,
  InvalidParameter: 400,
  MissingParameter: 400,
  RequestTooLarge: 413,
  NotFound: 404,
  MethodNotAllowed: 405,
  Unauthenticated: 401,
  Forbidden: 403,
  NotConfigured: 503,
  QueueNotFound: 404,
  QueueAlreadyExists: 409,
  QueueInUse: 409,
  InvalidDeadLetterQueue: 400,
  // The dead-letter queue's redriveAllow refuses the source: the request is sound, the target's state refuses it.
  DeadLetterSourceNotAllowed: 409,
  MessageTooLarge: 413,
  BatchTooLarge: 413,
  QueueFull: 409,
  ReceiptHandleInvalid: 400,
  RewindNotEnabled: 409,
  InvalidRewindTime: 400,
  RedriveInProgress: 409,
  RedriveNotFound: 404,
  PartitionsNotEmpty: 409,
  PartitionedQueue: 409,
  ConsumerNotFound: 404,
  TopicNotFound: 404,
  TopicAlreadyExists: 409,
  SubscriptionNotFound: 404,
  SubscriptionAlreadyExists: 409,
  TooManySubscriptions: 409,
  AccountNotFound: 404,
  AccountAlreadyExists: 409,
  KeyNotFound: 404,
  QuotaExceeded: 409,
  InternalError: 500,
} as const satisfies Record<Code, number>;

/** `{"error": {"code", "message", "requestId"}}` with the code's status; anything unexpected is a logged 500. */
export function restErrorResponse(error: unknown, requestId: string): Response {
  if (error instanceof ServiceError) {
    return jsonResponse({ error: { code: error.code, message: error.message, requestId } }, HttpStatusOfError[error.code]);
  }
  console.error(`request ${requestId} failed`, error);
  return jsonResponse(
    { error: { code: ErrorCode.InternalError, message: "internal error", requestId } },
    HttpStatusOfError.InternalError,
  );
}
