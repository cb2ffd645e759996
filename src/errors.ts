/**
 * Stable error codes. A released code never changes meaning; a new case gets a new code.
 * Each protocol adapter maps every code in one table typed `satisfies Record<ErrorCode, ...>`.
 */
export const ErrorCode = {
  MalformedRequest: "MalformedRequest",
  InvalidParameter: "InvalidParameter",
  /** A parameter the request needs in its context is absent (a FIFO queue's message without a group id). */
  MissingParameter: "MissingParameter",
  RequestTooLarge: "RequestTooLarge",
  NotFound: "NotFound",
  MethodNotAllowed: "MethodNotAllowed",
  Unauthenticated: "Unauthenticated",
  Forbidden: "Forbidden",
  NotConfigured: "NotConfigured",
  QueueNotFound: "QueueNotFound",
  QueueAlreadyExists: "QueueAlreadyExists",
  QueueInUse: "QueueInUse",
  InvalidDeadLetterQueue: "InvalidDeadLetterQueue",
  DeadLetterSourceNotAllowed: "DeadLetterSourceNotAllowed",
  MessageTooLarge: "MessageTooLarge",
  BatchTooLarge: "BatchTooLarge",
  QueueFull: "QueueFull",
  ReceiptHandleInvalid: "ReceiptHandleInvalid",
  RewindNotEnabled: "RewindNotEnabled",
  InvalidRewindTime: "InvalidRewindTime",
  RedriveInProgress: "RedriveInProgress",
  RedriveNotFound: "RedriveNotFound",
  /** Lowering a queue's `partitions` while the partitions to remove still hold messages. */
  PartitionsNotEmpty: "PartitionsNotEmpty",
  /**
   * An operation that works on one queue object only, on a queue of several partitions. No
   * operation raises it (live sockets and consumer Workers span partitions); kept, as every
   * released code is, so that clients that name it still build.
   */
  PartitionedQueue: "PartitionedQueue",
  ConsumerNotFound: "ConsumerNotFound",
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

/**
 * Whose fault an error is and whether repeating the same request can succeed, as AWS SDKs mark
 * `$fault` on each modelled error: callers retry only what can succeed later.
 */
export interface ErrorTraits {
  fault: "client" | "server";
  retryable: boolean;
}

const client = { fault: "client", retryable: false } as const;
const clientLater = { fault: "client", retryable: true } as const;
const server = { fault: "server", retryable: true } as const;

/** Every code's traits; a new code does not compile until it is placed here. */
export const ErrorTraitsOf = {
  MalformedRequest: client,
  InvalidParameter: client,
  MissingParameter: client,
  RequestTooLarge: client,
  NotFound: client,
  MethodNotAllowed: client,
  Unauthenticated: client,
  Forbidden: client,
  NotConfigured: server,
  QueueNotFound: client,
  QueueAlreadyExists: client,
  // The dead-letter queue stops being in use when its sources change.
  QueueInUse: clientLater,
  InvalidDeadLetterQueue: client,
  // The dead-letter queue's redriveAllow changes.
  DeadLetterSourceNotAllowed: client,
  MessageTooLarge: client,
  BatchTooLarge: client,
  // Consumers make room.
  QueueFull: clientLater,
  ReceiptHandleInvalid: client,
  RewindNotEnabled: client,
  InvalidRewindTime: client,
  // The running redrive ends.
  RedriveInProgress: clientLater,
  RedriveNotFound: client,
  // The partitions to remove drain.
  PartitionsNotEmpty: clientLater,
  PartitionedQueue: client,
  ConsumerNotFound: client,
  TopicNotFound: client,
  TopicAlreadyExists: client,
  SubscriptionNotFound: client,
  SubscriptionAlreadyExists: client,
  TooManySubscriptions: client,
  AccountNotFound: client,
  AccountAlreadyExists: client,
  KeyNotFound: client,
  QuotaExceeded: client,
  InternalError: server,
} as const satisfies Record<ErrorCode, ErrorTraits>;

export interface ErrorDetail {
  code: ErrorCode;
  message: string;
}

/** The one error type of the service; adapters turn it into their protocol's error shape. */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = "ServiceError";
    this.code = code;
    this.details = details;
  }

  get fault(): ErrorTraits["fault"] {
    return ErrorTraitsOf[this.code].fault;
  }

  get retryable(): boolean {
    return ErrorTraitsOf[this.code].retryable;
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

/** Runs an operation and returns a ServiceError it throws as a failure value; other errors still throw. */
export function toResult<T>(operation: () => T): Result<T> {
  try {
    return ok(operation());
  } catch (error) {
    if (error instanceof ServiceError) return fail(error.code, error.message);
    throw error;
  }
}

/** Unwraps an object's result, turning a failure back into a ServiceError. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new ServiceError(result.error.code, result.error.message);
}
