import type { OperationName } from "./catalog";
import { EdgeCmqError } from "./errors";

/** When and how a call that failed is made again. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 3; 1 turns retries off). */
  maxAttempts?: number;
  /** The backoff's base: the n-th retry waits a random time up to `baseDelayMs * 2^(n-1)` (default 100). */
  baseDelayMs?: number;
  /** The longest wait between two attempts, `Retry-After` included (default 5,000). */
  maxDelayMs?: number;
}

/**
 * Operations that can be made again without changing the outcome: reads, creates that confirm an
 * identical resource, updates that set values, deletes, and the message calls whose repeat only
 * repeats their effect (a receive's messages come back after their visibility timeout). Sends and
 * publishes are not here (a repeat would store the message twice), nor purge, rewind, starting a
 * redrive, creating an account or a key, rotating a key: pass `idempotent: true` to retry them.
 */
export const idempotentOperations: ReadonlySet<string> = new Set<OperationName>([
  "health",
  "listQueues", "createQueue", "getQueue", "updateQueue", "deleteQueue", "listDeadLetterSourceQueues",
  "listQueueTags", "tagQueue", "untagQueue",
  "receiveMessages", "deleteMessage", "deleteMessages", "changeVisibility", "peekMessages", "getRedrive", "listRedrives", "cancelRedrive", "getQueueRates",
  "listTopics", "createTopic", "getTopic", "updateTopic", "deleteTopic",
  "listSubscriptions", "subscribe", "getSubscription", "updateSubscription", "unsubscribe",
  "listAccounts", "getAccount", "updateAccount", "listKeys", "updateKey", "deleteKey", "createToken", "whoami",
]);

/**
 * Whether a failure is worth an automatic retry: no answer came (network, timeout), the service was
 * throttling or failing (429, 5xx). A caller's fault never is; nor a code that is retryable only
 * once something else changes (`QueueFull`, `RedriveInProgress`), which backoff would not wait for.
 */
export function isTransient(error: EdgeCmqError): boolean {
  return error.code === "Throttled" || (error.fault === "server" && error.retryable);
}

/** The wait before retry number `retry` (1 for the first): full jitter over an exponential bound (AWS's backoff). */
export function backoffMs(retry: number, options: Required<RetryOptions>, random: () => number, retryAfterMs?: number): number {
  const bound = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  const jittered = Math.floor(random() * bound);
  return Math.min(options.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
