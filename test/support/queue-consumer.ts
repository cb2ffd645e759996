import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { ManualClock } from "../../src/clock";
import type { ConsumerInfo, ConsumerSettings } from "../../src/schema/queue-consumer";
import type { CreateQueueBody } from "../../src/schema/queue";
import { createQueue, expectOk, inQueue, type QueueStub } from "../objects/support";

/** What test/support/queue-consumer-worker answers besides `consume`. */
export interface QueueConsumerControl {
  batches(queue: string): Promise<Array<Array<{ id: string; body: string; attempts: number }>>>;
  waitForBatches(queue: string, count: number): Promise<void>;
  release(queue: string): Promise<number>;
}

/** A moment far ahead of the real clock, so that no alarm fires by itself during a test. */
export const Far = Date.UTC(2031, 0, 1);

export const consumerWorker = () => env.QUEUE_CONSUMER as unknown as QueueConsumerControl;

/** A queue on a manual clock at `Far`, with the test consumer Worker as its consumer. */
export async function queueWithConsumer(
  settings: Partial<ConsumerSettings> = {},
  attributes: CreateQueueBody = {},
): Promise<{ name: string; stub: QueueStub; clock: ManualClock }> {
  const { name, stub } = await createQueue(attributes);
  const clock = new ManualClock(Far);
  await inQueue(stub, (object) => {
    object.clock = clock;
  });
  expectOk(
    await stub.setConsumer({
      binding: "QUEUE_CONSUMER",
      batchSize: 10,
      maxWaitMs: 0,
      maxConcurrency: 1,
      maxRetries: 3,
      retryDelaySeconds: 0,
      ...settings,
    }),
  );
  return { name, stub, clock };
}

/** Waits until no batch is in flight (with `withAbandoned`, until abandoned calls answered too). */
export function settle(stub: QueueStub, withAbandoned = false): Promise<void> {
  return inQueue(stub, (object) => object.consumer.settled(withAbandoned));
}

export async function consumerInfo(stub: QueueStub): Promise<ConsumerInfo> {
  return expectOk(await stub.getConsumer());
}

/** Fires the alarm that is set, asserting there is one, and waits for the deliveries it started. */
export async function fireAlarm(stub: QueueStub): Promise<void> {
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  await settle(stub);
}

/** The bodies and attempts of every batch the consumer Worker got from `queue`. */
export async function deliveredBatches(queue: string): Promise<Array<Array<{ body: string; attempts: number }>>> {
  return (await consumerWorker().batches(queue)).map((batch) => batch.map(({ body, attempts }) => ({ body, attempts })));
}
