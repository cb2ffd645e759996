import type { Credentials } from "./auth";
import { bindingCalls } from "./binding-calls";
import { bindingTransport, type QueueServiceBinding } from "./binding-transport";
import type { OperationInput, OperationName, Output } from "./catalog";
import { EdgeCmqError } from "./errors";
import { httpTransport, type Transport } from "./http-transport";
import { backoffMs, idempotentOperations, isTransient, sleep, type RetryOptions } from "./retry";

/** Options of one call. */
export interface CallOptions {
  /** Stops the call (and its retries); it rejects with the signal's reason. */
  signal?: AbortSignal;
  /** How long one attempt may take, on top of a receive's wait (default: the client's `timeoutMs`). */
  timeoutMs?: number;
  /** Retry this call on transient failures even if its operation is not idempotent (a send whose duplicates you accept). */
  idempotent?: boolean;
  /** Attempts for this call, the first included (default: the client's `retry.maxAttempts`). */
  maxAttempts?: number;
}

export interface ClientOptions extends Credentials {
  /** The service's origin, for HTTP (`https://cmq.example.com`); or give `binding`. */
  endpoint?: string;
  /** A service binding to the service's `QueueService` entrypoint (`env.CMQ`), instead of `endpoint`. */
  binding?: QueueServiceBinding;
  /** The fetch to use over HTTP (default: the global one). */
  fetch?: typeof fetch;
  /** How long one attempt may take, in ms (default 30,000); a receive adds its wait to it. */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Waits between retries (default: a timer); tests pass one that records instead. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Draws the backoff's jitter, in [0, 1) (default Math.random). */
  random?: () => number;
  /** The clock, Unix ms: signatures' timestamps and tokens' expiry (default Date.now). */
  now?: () => number;
}

type Method<TName extends OperationName> = {} extends OperationInput<TName>
  ? (input?: OperationInput<TName>, options?: CallOptions) => Promise<Output<TName>>
  : (input: OperationInput<TName>, options?: CallOptions) => Promise<Output<TName>>;

/** One message to send: its body alone, or the body with `delaySeconds` and `tags`. */
export type OutgoingMessage = string | OperationInput<"sendMessages">["messages"][number];
/** One message to publish: its body alone, or the body with `tags` and `routingKey`. */
export type PublishedMessage = string | OperationInput<"publishMessages">["messages"][number];

/**
 * The service's operations, one method each, named and typed as the catalog defines them: every
 * method takes the operation's input as one object and answers its output.
 */
export type EdgeCmqClient = { [TName in OperationName]: Method<TName> } & {
  /** Sends one message; `sendMessages` sends a batch. */
  send(queue: string, message: OutgoingMessage, options?: CallOptions): Promise<{ id: string }>;
  /** Publishes one message; `publishMessages` publishes a batch. */
  publish(topic: string, message: PublishedMessage, options?: CallOptions): Promise<{ id: string }>;
};

/** The longest wait of a receive (src/schema/queue.ts); a receive's deadline covers it when it names none. */
const MaxWaitSeconds = 30;

/**
 * A client of the service over HTTP (`{ endpoint, secretKey }`, `{ endpoint, secretId, secretKey }`,
 * `{ endpoint, getToken }`) or over a service binding (`{ binding: env.CMQ }`): the same methods,
 * errors, retries and timeouts either way.
 */
export function createClient(options: ClientOptions): EdgeCmqClient {
  const now = options.now ?? Date.now;
  let transport: Transport;
  if (options.binding) {
    transport = bindingTransport(options.binding, options, now);
  } else if (options.endpoint) {
    const fetcher = options.fetch ?? ((input, init) => fetch(input, init));
    transport = httpTransport({ ...options, endpoint: options.endpoint, fetch: fetcher, now });
  } else {
    throw new TypeError("createClient needs an endpoint or a binding");
  }
  const retry = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5_000, ...options.retry };
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;

  async function call(name: OperationName, input: Record<string, unknown> = {}, callOptions: CallOptions = {}): Promise<unknown> {
    const { signal } = callOptions;
    const maxAttempts = idempotentOperations.has(name) || callOptions.idempotent ? (callOptions.maxAttempts ?? retry.maxAttempts) : 1;
    const waitMs = name === "receiveMessages" ? ((input.waitSeconds as number | undefined) ?? MaxWaitSeconds) * 1000 : 0;
    const timeoutMs = (callOptions.timeoutMs ?? options.timeoutMs ?? 30_000) + waitMs;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await attemptWithin(timeoutMs, signal, (attemptSignal) => transport(name, input, attemptSignal));
      } catch (error) {
        if (signal?.aborted || !(error instanceof EdgeCmqError) || !isTransient(error) || attempt >= maxAttempts) throw error;
        await wait(backoffMs(attempt, retry, random, error.retryAfterMs), signal);
      }
    }
  }

  const client: Record<string, unknown> = {
    send: async (queue: string, message: OutgoingMessage, callOptions?: CallOptions) => {
      const output = (await call("sendMessages", { queue, messages: [typeof message === "string" ? { body: message } : message] }, callOptions)) as Output<"sendMessages">;
      return { id: output.messages[0]!.id };
    },
    publish: async (topic: string, message: PublishedMessage, callOptions?: CallOptions) => {
      const output = (await call("publishMessages", { topic, messages: [typeof message === "string" ? { body: message } : message] }, callOptions)) as Output<"publishMessages">;
      return { id: output.messages[0]!.id };
    },
  };
  for (const name of Object.keys(bindingCalls) as OperationName[]) {
    client[name] = (input?: Record<string, unknown>, callOptions?: CallOptions) => call(name, input, callOptions);
  }
  return client as EdgeCmqClient;
}

/** Runs one attempt with its own signal, which aborts on the caller's abort or after `timeoutMs`. */
async function attemptWithin<T>(timeoutMs: number, signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timedOut = new EdgeCmqError({ code: "Timeout", message: `no answer within ${timeoutMs} ms` });
  const timer = setTimeout(() => controller.abort(timedOut), timeoutMs);
  const onAbort = () => controller.abort(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  // A call over a binding cannot be cancelled: stop waiting for it instead.
  const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }));
  try {
    return await Promise.race([run(controller.signal), aborted]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
