import type { EdgeCmqClient } from "./client";
import type { Output } from "./catalog";
import { EdgeCmqError } from "./errors";
import { sleep } from "./retry";

/** A message as a receive hands it over. */
export type ReceivedMessage = Output<"receiveMessages">["messages"][number];

/** How a message's handling ended: deleted after the handler succeeded, or left after it failed. */
export type Outcome = { ok: true } | { ok: false; error: unknown };

export interface ConsumeOptions {
  /** Handlers running at once, at most (default 1). */
  concurrency?: number;
  /** Messages asked for per receive, at most (1–16; default: `concurrency`, up to 16); never more than free handlers. */
  batchSize?: number;
  /** How long each receive waits for a message (default 20 s). */
  waitSeconds?: number;
  /** Seconds a received message stays hidden, and what each extension adds (default: the queue's). */
  visibilityTimeout?: number;
  /**
   * After a handler fails, make its message visible again this many seconds later (0: at once).
   * Without it the message is left as it is and comes back when its visibility timeout ends.
   */
  retryDelaySeconds?: number;
  /** Stops receiving; what is in flight is finished (and deleted on success) before `consume` resolves. */
  signal?: AbortSignal;
  /** Called with what went wrong: a failed handler (with its message), a failed delete or visibility change, a receive to be retried. */
  onError?: (error: unknown, message?: ReceivedMessage) => void;
  /** Called once per message handled, after it was deleted (success) or left (failure). */
  onMessage?: (message: ReceivedMessage, outcome: Outcome) => void;
}

export interface ConsumeSummary {
  /** Messages whose handler succeeded and which were deleted. */
  processed: number;
  /** Messages whose handler failed (left for redelivery), or whose delete failed. */
  failed: number;
}

const ReceiveBackoffMs = { base: 200, max: 10_000 };

/**
 * Consumes a queue until `signal` aborts: long-polls for messages, runs `handler` on each with at
 * most `concurrency` at once, deletes a message whose handler resolved and leaves (or delays) one
 * whose handler threw, and keeps a message hidden while its handler is still working by extending
 * its visibility at half its timeout. On abort it stops receiving, lets the handlers in flight
 * finish and resolves with what was done. A receive that fails for a reason a retry can cure is
 * retried with backoff; any other (the queue does not exist, no right to receive) rejects, after
 * the handlers in flight are finished.
 */
export async function consume(
  client: EdgeCmqClient,
  queue: string,
  handler: (message: ReceivedMessage) => unknown,
  options: ConsumeOptions = {},
): Promise<ConsumeSummary> {
  const { signal, onError, onMessage } = options;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const batchSize = Math.min(16, Math.max(1, options.batchSize ?? concurrency));
  const summary: ConsumeSummary = { processed: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();
  const report = (error: unknown, message?: ReceivedMessage) => onError?.(error, message);

  async function handle(message: ReceivedMessage): Promise<void> {
    const stopExtending = keepHidden(client, queue, message, options.visibilityTimeout, report);
    let outcome: Outcome;
    try {
      await handler(message);
      outcome = { ok: true };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      await stopExtending();
    }
    // Not under `signal`: a message handled before the abort is still deleted.
    if (outcome.ok) {
      try {
        await client.deleteMessage({ queue, receiptHandle: message.receiptHandle });
        summary.processed++;
      } catch (error) {
        // The handler ran, but the message will come back (its visibility ended; another consumer has it).
        outcome = { ok: false, error };
      }
    } else if (options.retryDelaySeconds !== undefined) {
      await client
        .changeVisibility({ queue, receiptHandle: message.receiptHandle, visibilityTimeout: options.retryDelaySeconds })
        .catch((error: unknown) => report(error, message));
    }
    if (!outcome.ok) {
      summary.failed++;
      report(outcome.error, message);
    }
    onMessage?.(message, outcome);
  }

  let failedReceives = 0;
  try {
    while (!signal?.aborted) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      let messages: ReceivedMessage[];
      try {
        const max = Math.min(batchSize, concurrency - inFlight.size);
        ({ messages } = await client.receiveMessages({ queue, max, waitSeconds: options.waitSeconds ?? 20, visibilityTimeout: options.visibilityTimeout }, { signal }));
        failedReceives = 0;
      } catch (error) {
        if (signal?.aborted) break;
        if (!(error instanceof EdgeCmqError) || !(error.retryable || error.fault === "server")) throw error;
        report(error);
        const boundMs = Math.min(ReceiveBackoffMs.max, ReceiveBackoffMs.base * 2 ** failedReceives++);
        await sleep(Math.random() * boundMs, signal).catch(() => undefined);
        continue;
      }
      for (const message of messages) {
        const running: Promise<void> = handle(message).finally(() => inFlight.delete(running));
        inFlight.add(running);
      }
    }
  } finally {
    await Promise.all(inFlight);
  }
  return summary;
}

/**
 * Extends a message's visibility each time half of it has passed, until the returned function is
 * called (which also waits for an extension under way). A failed extension is reported and ends
 * the extending: the message may then be received elsewhere, and its delete will say so.
 */
function keepHidden(
  client: EdgeCmqClient,
  queue: string,
  message: ReceivedMessage,
  visibilityTimeout: number | undefined,
  report: (error: unknown, message?: ReceivedMessage) => void,
): () => Promise<void> {
  const seconds = visibilityTimeout ?? Math.max(1, Math.round((message.nextVisibleAt - Date.now()) / 1000));
  let stopped = false;
  let extending: Promise<unknown> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout>;
  const schedule = () => {
    timer = setTimeout(() => {
      extending = client
        .changeVisibility({ queue, receiptHandle: message.receiptHandle, visibilityTimeout: seconds })
        .then(() => stopped || schedule(), (error: unknown) => report(error, message));
    }, (seconds * 1000) / 2);
  };
  schedule();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await extending;
  };
}
