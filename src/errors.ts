/**
 * Stable error codes. A released code never changes meaning; a new case gets a new code.
 * Each protocol adapter maps every code in one table typed `satisfies Record<ErrorCode, ...>`.
 */
export const ErrorCode = {
  MalformedRequest: "MalformedRequest",
  InvalidParameter: "InvalidParameter",
  RequestTooLarge: "RequestTooLarge",
  UnsupportedMediaType: "UnsupportedMediaType",
  NotFound: "NotFound",
  MethodNotAllowed: "MethodNotAllowed",
  Unauthenticated: "Unauthenticated",
  Forbidden: "Forbidden",
  NotConfigured: "NotConfigured",
  QueueNotFound: "QueueNotFound",
  QueueAlreadyExists: "QueueAlreadyExists",
  QueueInUse: "QueueInUse",
  InvalidDeadLetterQueue: "InvalidDeadLetterQueue",
  MessageTooLarge: "MessageTooLarge",
  BatchTooLarge: "BatchTooLarge",
  QueueFull: "QueueFull",
  ReceiptHandleInvalid: "ReceiptHandleInvalid",
  RewindNotEnabled: "RewindNotEnabled",
  InvalidRewindTime: "InvalidRewindTime",
  RedriveInProgress: "RedriveInProgress",
  RedriveNotFound: "RedriveNotFound",
  TopicNotFound: "TopicNotFound",
  TopicAlreadyExists: "TopicAlreadyExists",
  SubscriptionNotFound: "SubscriptionNotFound",
  SubscriptionAlreadyExists: "SubscriptionAlreadyExists",
  TooManySubscriptions: "TooManySubscriptions",
  AccountNotFound: "AccountNotFound",
  AccountAlreadyExists: "AccountAlreadyExists",
  KeyNotFound: "KeyNotFound",
  QuotaExceeded: "QuotaExceeded",
  InternalError: "InternalError",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorDetail {
  code: ErrorCode;
  message: string;
}

/** The one error type of the service; adapters turn it into their protocol's error shape. */
export class QueueError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = "QueueError";
    this.code = code;
    this.details = details;
  }
}

/**
 * What a Durable Object method returns. Errors thrown across Durable Object RPC lose their class
 * and `code` (workerd rethrows a plain Error), so objects return failures as values instead.
 */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorDetail };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail(code: ErrorCode, message: string): { ok: false; error: ErrorDetail } {
  return { ok: false, error: { code, message } };
}

/** Runs an operation and returns a QueueError it throws as a failure value; other errors still throw. */
export function toResult<T>(operation: () => T): Result<T> {
  try {
    return ok(operation());
  } catch (error) {
    if (error instanceof QueueError) return fail(error.code, error.message);
    throw error;
  }
}

/** Unwraps an object's result, turning a failure back into a QueueError. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new QueueError(result.error.code, result.error.message);
}

const knownCodes = new Set<string>(Object.values(ErrorCode));

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && knownCodes.has(value);
}
