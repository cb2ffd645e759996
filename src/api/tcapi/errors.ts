import { ErrorCode, ServiceError, type ErrorCode as Code } from "../../errors";
import { jsonResponse } from "../http";

/**
 * Every error code of the service as Tencent Cloud API 3.0 names it (`Response.Error.Code`). The
 * common codes are API 3.0's (https://www.tencentcloud.com/document/api/1110/44084); the
 * `.Queue`, `.Topic`, `.Subscription` suffixes are those the TDMQ SDKs declare.
 */
export const TcErrorOf = {
  MalformedRequest: "InvalidParameter",
  InvalidParameter: "InvalidParameterValue",
  MissingParameter: "MissingParameter",
  RequestTooLarge: "RequestSizeLimitExceeded",
  NotFound: "InvalidAction",
  // API 3.0: "UnsupportedProtocol: only GET and POST requests are supported".
  MethodNotAllowed: "UnsupportedProtocol",
  // Refined by the refusal's reason (see `authFailureOf`); one answer for an unknown id and a wrong signature.
  Unauthenticated: "AuthFailure.SignatureFailure",
  Forbidden: "AuthFailure.UnauthorizedOperation",
  NotConfigured: "InternalError",
  QueueNotFound: "ResourceNotFound.Queue",
  QueueAlreadyExists: "ResourceInUse.Queue",
  // A dead-letter queue that other queues still name cannot be deleted.
  QueueInUse: "ResourceInUse",
  InvalidDeadLetterQueue: "InvalidParameterValue",
  // The dead-letter queue's redriveAllow does not admit the source queue.
  DeadLetterSourceNotAllowed: "InvalidParameterValue",
  MessageTooLarge: "InvalidParameterValue",
  BatchTooLarge: "InvalidParameterValue",
  QueueFull: "LimitExceeded",
  ReceiptHandleInvalid: "InvalidParameterValue",
  // The queue's RewindSeconds is 0: the operation fails in the queue's present state.
  RewindNotEnabled: "FailedOperation",
  InvalidRewindTime: "InvalidParameterValue",
  RedriveInProgress: "ResourceInUse",
  RedriveNotFound: "ResourceNotFound",
  // The queue's present state refuses the change or operation.
  PartitionsNotEmpty: "FailedOperation",
  PartitionedQueue: "UnsupportedOperation",
  ConsumerNotFound: "ResourceNotFound",
  TopicNotFound: "ResourceNotFound.Topic",
  TopicAlreadyExists: "ResourceInUse.Topic",
  SubscriptionNotFound: "ResourceNotFound.Subscription",
  SubscriptionAlreadyExists: "ResourceInUse.Subscription",
  TooManySubscriptions: "LimitExceeded.Subscriptions",
  AccountNotFound: "ResourceNotFound",
  AccountAlreadyExists: "ResourceInUse",
  KeyNotFound: "ResourceNotFound",
  QuotaExceeded: "LimitExceeded",
  InternalError: "InternalError",
} as const satisfies Record<Code, string>;

/**
 * Authentication refusals API 3.0 tells apart. An unknown SecretId keeps the wrong signature's
 * answer, so that no answer says whether an id exists (src/auth/authenticate.ts).
 */
const AuthFailureOfReason: Record<string, string> = {
  signatureExpired: "AuthFailure.SignatureExpire",
  // API 3.0 answers a key that is disabled or deleted with SecretIdNotFound.
  keyDisabled: "AuthFailure.SecretIdNotFound",
};

/** An error of the API 3.0 wire itself (a missing or unknown parameter, an unknown action or version). */
export class TcWireError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "TcWireError";
  }
}

const reasonOf = (error: ServiceError): string | undefined => {
  const details = error.details as { reason?: unknown } | undefined;
  return typeof details?.reason === "string" ? details.reason : undefined;
};

/** The API 3.0 code and message of any error; anything unexpected is a logged InternalError. */
export function tcErrorOf(error: unknown, requestId: string): { code: string; message: string } {
  if (error instanceof TcWireError) return { code: error.code, message: error.message };
  if (error instanceof ServiceError) {
    const reason = error.code === ErrorCode.Unauthenticated ? reasonOf(error) : undefined;
    return { code: (reason && AuthFailureOfReason[reason]) || TcErrorOf[error.code], message: error.message };
  }
  console.error(`request ${requestId} failed`, error);
  return { code: TcErrorOf.InternalError, message: "internal error" };
}

/**
 * `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`, with HTTP 200 as API 3.0 answers
 * every error: the SDKs read the error from the body and treat another status as a network failure.
 */
export function tcErrorResponse(error: unknown, requestId: string): Response {
  const { code, message } = tcErrorOf(error, requestId);
  return jsonResponse({ Response: { Error: { Code: code, Message: message }, RequestId: requestId } }, 200);
}
