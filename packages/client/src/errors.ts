import type { ErrorCode, ServiceErrorTraits, ServiceHttpStatus } from "./catalog";

/** Codes the client raises itself, for failures that never got an answer from the service. */
export type ClientErrorCode =
  /** The request did not reach the service or its answer did not come back (DNS, TLS, connection reset). */
  | "NetworkError"
  /** No answer within the call's `timeoutMs`. */
  | "Timeout"
  /** HTTP 429 from the service or a proxy in front of it. */
  | "Throttled"
  /** An answer that is not the service's (a proxy's error page, a body that is not JSON). */
  | "UnexpectedResponse";

/** Whose fault an error is: the caller's (fix the request) or the service's (try again later). */
export type Fault = "client" | "server";

// Each code's HTTP status and kind: 0 the caller's fault, 1 the caller's fault but a later retry
// can succeed (the condition passes), 2 the service's fault, retryable. Checked below against the
// service's own tables (src/errors.ts, src/api/rest/errors.ts), so the two cannot drift apart.
const C = 0;
const L = 1;
const S = 2;
const codes = {
  MalformedRequest: [400, C],
  InvalidParameter: [400, C],
  MissingParameter: [400, C],
  RequestTooLarge: [413, C],
  NotFound: [404, C],
  MethodNotAllowed: [405, C],
  Unauthenticated: [401, C],
  Forbidden: [403, C],
  NotConfigured: [503, S],
  QueueNotFound: [404, C],
  QueueAlreadyExists: [409, C],
  QueueInUse: [409, L],
  InvalidDeadLetterQueue: [400, C],
  DeadLetterSourceNotAllowed: [409, C],
  MessageTooLarge: [413, C],
  BatchTooLarge: [413, C],
  QueueFull: [409, L],
  ReceiptHandleInvalid: [400, C],
  RewindNotEnabled: [409, C],
  InvalidRewindTime: [400, C],
  RedriveInProgress: [409, L],
  RedriveNotFound: [404, C],
  PartitionsNotEmpty: [409, L],
  PartitionedQueue: [409, C],
  ConsumerNotFound: [404, C],
  TopicNotFound: [404, C],
  TopicAlreadyExists: [409, C],
  SubscriptionNotFound: [404, C],
  SubscriptionAlreadyExists: [409, C],
  TooManySubscriptions: [409, C],
  AccountNotFound: [404, C],
  AccountAlreadyExists: [409, C],
  KeyNotFound: [404, C],
  QuotaExceeded: [409, C],
  InternalError: [500, S],
} as const satisfies Record<ErrorCode, readonly [number, 0 | 1 | 2]>;

type Kind = { 0: { fault: "client"; retryable: false }; 1: { fault: "client"; retryable: true }; 2: { fault: "server"; retryable: true } };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agrees = <T extends true>(): T => true as T;
// Fails to compile when the service's traits or statuses change and this table does not follow.
agrees<Same<{ -readonly [K in keyof typeof codes]: Kind[(typeof codes)[K][1]] }, { -readonly [K in keyof ServiceErrorTraits]: { -readonly [F in keyof ServiceErrorTraits[K]]: ServiceErrorTraits[K][F] } }>>();
agrees<Same<{ -readonly [K in keyof typeof codes]: (typeof codes)[K][0] }, { -readonly [K in keyof ServiceHttpStatus]: ServiceHttpStatus[K] }>>();

/** What the client knows of a code; an unknown one (a newer service) is judged by its HTTP status. */
export function traitsOf(code: string, status?: number): { fault: Fault; retryable: boolean; status?: number } {
  const known = (codes as Record<string, readonly [number, number]>)[code];
  if (known) return { status: status ?? known[0], fault: known[1] === S ? "server" : "client", retryable: known[1] !== C };
  if (code === "NetworkError" || code === "Timeout") return { status, fault: "server", retryable: true };
  if (code === "Throttled") return { status, fault: "client", retryable: true };
  // A 5xx may pass; a 4xx is the request's; a 2xx that is no answer of the service is not the caller's doing.
  const isServerError = status === undefined || status >= 500;
  return { status, fault: isServerError || status < 400 ? "server" : "client", retryable: isServerError };
}

export interface EdgeCmqErrorInit {
  code: ErrorCode | ClientErrorCode | (string & {});
  message: string;
  status?: number;
  requestId?: string;
  /** How long the service asked to wait before a retry (`Retry-After`). */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * Every failure of a call: an error of the service (its stable `code`, the HTTP `status` and the
 * `requestId` to quote in a report) or of the way to it (`NetworkError`, `Timeout`, `Throttled`,
 * `UnexpectedResponse`). An aborted call rejects with the signal's reason instead, as `fetch` does.
 */
export class EdgeCmqError extends Error {
  override readonly name = "EdgeCmqError";
  /** The service's error code (`QueueNotFound`, ...) or one of the client's own. */
  readonly code: EdgeCmqErrorInit["code"];
  /** HTTP status; over a service binding, the status the native API gives this code. */
  readonly status?: number;
  /** The service's id of the request (`x-request-id`); absent over a service binding. */
  readonly requestId?: string;
  /** `client`: the request must change to succeed; `server`: the same request may succeed later. */
  readonly fault: Fault;
  /** Whether the same call can succeed later (a full queue drains; the service recovers). */
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(init: EdgeCmqErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    const traits = traitsOf(init.code, init.status);
    this.code = init.code;
    this.status = traits.status;
    this.requestId = init.requestId;
    this.fault = traits.fault;
    this.retryable = traits.retryable;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Whether the caller must change the request (bad input, missing rights, a name that does not exist). */
  get isClientFault(): boolean {
    return this.fault === "client";
  }
}
