import type { NotifyStrategy } from "../schema/topic";

/** CMQ BACKOFF_RETRY: 3 retries, each 19 to 29 s after the previous attempt, then the delivery fails. */
export const BackoffRetries = 3;
export const BackoffDelayRangeMs = { min: 19_000, max: 29_000 } as const;
/** CMQ EXPONENTIAL_DECAY_RETRY: 1, 2, 4, ... s after each failure, capped at 512 s, until the message's retention ends. */
export const ExponentialFirstDelayMs = 1_000;
export const ExponentialMaxDelayMs = 512_000;

/**
 * When to try a delivery again after its `failedAttempts`-th failure, or null when the strategy
 * gives up. The backoff's spread within 19–29 s comes from `jitterSeed`, so a schedule is
 * reproducible while deliveries of different messages still spread out.
 */
export function nextAttemptAt(
  strategy: NotifyStrategy,
  failedAttempts: number,
  nowMs: number,
  expiresAtMs: number,
  jitterSeed: number,
): number | null {
  let delayMs: number;
  if (strategy === "BACKOFF_RETRY") {
    if (failedAttempts > BackoffRetries) return null;
    const spreadMs = BackoffDelayRangeMs.max - BackoffDelayRangeMs.min;
    delayMs = BackoffDelayRangeMs.min + (((jitterSeed * 7_919 + failedAttempts * 104_729) % (spreadMs + 1)) + spreadMs + 1) % (spreadMs + 1);
  } else {
    delayMs = Math.min(ExponentialFirstDelayMs * 2 ** Math.min(failedAttempts - 1, 20), ExponentialMaxDelayMs);
  }
  const at = nowMs + delayMs;
  return at < expiresAtMs ? at : null;
}
