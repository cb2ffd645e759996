import * as v from "valibot";

/**
 * A queue's consumer: a Worker bound to this service by a service binding, to which the queue's
 * object pushes batches (the shape of Cloudflare Queues' consumer settings and SQS's Lambda
 * event source mapping).
 */
export const ConsumerLimits = {
  /** Cloudflare Queues: max_batch_size 1 to 100, default 10. */
  batchSize: { min: 1, max: 100, default: 10 },
  /** Cloudflare Queues: max_batch_timeout up to 60 s, default 5 s. */
  maxWaitMs: { min: 0, max: 60_000, default: 5_000 },
  /** Batches in flight at once; Cloudflare Queues allows up to 250 concurrent consumer invocations. */
  maxConcurrency: { min: 1, max: 250, default: 1 },
  /** Cloudflare Queues: max_retries 0 to 100, default 3. */
  maxRetries: { min: 0, max: 100, default: 3 },
  /** Cloudflare Queues: retry_delay up to 12 hours (43,200 s), default 0. */
  retryDelaySeconds: { min: 0, max: 43_200, default: 0 },
  /** A binding is a JavaScript identifier as wrangler names them. */
  bindingMaxLength: 64,
} as const;

const integerIn = (range: { min: number; max: number }, description: string) =>
  v.pipe(v.number(), v.integer(), v.minValue(range.min), v.maxValue(range.max), v.description(description));

export const ConsumerBinding = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(ConsumerLimits.bindingMaxLength),
  v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a binding name is letters, digits and underscores, not starting with a digit"),
  v.description("the name of a service binding configured on this Worker; the bound Worker's entrypoint has a `consume(batch)` method"),
);

/** The settings of a consumer as `PUT /v1/queues/{name}/consumer` takes them; absent fields take their defaults. */
export const ConsumerSettingsBody = v.strictObject({
  binding: ConsumerBinding,
  batchSize: v.optional(integerIn(ConsumerLimits.batchSize, "most messages in one batch"), ConsumerLimits.batchSize.default),
  maxWaitMs: v.optional(
    integerIn(ConsumerLimits.maxWaitMs, "how long a batch smaller than batchSize waits for more messages, from when its oldest became visible"),
    ConsumerLimits.maxWaitMs.default,
  ),
  maxConcurrency: v.optional(integerIn(ConsumerLimits.maxConcurrency, "batches in flight at once"), ConsumerLimits.maxConcurrency.default),
  maxRetries: v.optional(
    integerIn(ConsumerLimits.maxRetries, "retries after the first delivery; a message retried past them goes to the dead-letter queue"),
    ConsumerLimits.maxRetries.default,
  ),
  retryDelaySeconds: v.optional(
    integerIn(ConsumerLimits.retryDelaySeconds, "how long a retried message stays hidden unless the consumer names a delay"),
    ConsumerLimits.retryDelaySeconds.default,
  ),
});

export type ConsumerSettings = v.InferOutput<typeof ConsumerSettingsBody>;

/** What the consumer has done since it was set. */
export interface ConsumerStats {
  /** Messages handed to the consumer (a redelivery counts again). */
  delivered: number;
  acked: number;
  retried: number;
  /** Messages retried past maxRetries: moved to the dead-letter queue, or dropped without one. */
  failed: number;
  /** Batches and messages handed over whose outcome has not come back. */
  inFlightBatches: number;
  inFlightMessages: number;
  /** Messages visible now that the consumer has not been given yet. */
  backlog: number;
  /** Age of the oldest of them (now minus when it was enqueued); 0 without backlog. */
  lagMs: number;
  lastError: string | null;
  lastErrorAt: number | null;
}

export interface ConsumerInfo extends ConsumerSettings {
  paused: boolean;
  createdAt: number;
  modifiedAt: number;
  stats: ConsumerStats;
}

const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const unixMs = v.pipe(v.number(), v.integer(), v.description("Unix milliseconds"));

export const ConsumerResult = v.object({
  binding: v.string(),
  batchSize: v.number(),
  maxWaitMs: v.number(),
  maxConcurrency: v.number(),
  maxRetries: v.number(),
  retryDelaySeconds: v.number(),
  paused: v.boolean(),
  createdAt: unixMs,
  modifiedAt: unixMs,
  stats: v.object({
    delivered: count,
    acked: count,
    retried: count,
    failed: count,
    inFlightBatches: count,
    inFlightMessages: count,
    backlog: count,
    lagMs: count,
    lastError: v.nullable(v.string()),
    lastErrorAt: v.nullable(unixMs),
  }),
});

/** One message as the consumer Worker receives it: what a receive gives, without the receipt handle. */
export interface ConsumerMessage {
  id: string;
  body: string;
  tags: string[];
  attributes: Record<string, unknown>;
  /** Deliveries so far, this one included (1 on the first). */
  attempts: number;
  enqueuedAt: number;
  senderId: string | null;
  sourceQueue?: string;
  traceHeader?: string;
}

/** The argument of the consumer's `consume(batch)`. */
export interface ConsumerBatch {
  queue: string;
  messages: ConsumerMessage[];
}

/**
 * What `consume(batch)` may answer. Nothing (or `{}`) acknowledges the whole batch; ids in
 * `retries` are retried (after their `delaySeconds`, else the consumer's retryDelaySeconds); every
 * other message is acknowledged. `acks` may name acknowledged ids explicitly. Throwing retries all.
 */
export const ConsumerAnswer = v.optional(
  v.nullable(
    v.object({
      acks: v.optional(v.array(v.string())),
      retries: v.optional(
        v.array(
          v.union([
            v.string(),
            v.object({
              id: v.string(),
              delaySeconds: v.optional(integerIn(ConsumerLimits.retryDelaySeconds, "how long the retried message stays hidden")),
            }),
          ]),
        ),
      ),
    }),
  ),
);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agrees = <T extends true>(): T => true as T;
agrees<Same<v.InferOutput<typeof ConsumerResult>, ConsumerInfo>>();
