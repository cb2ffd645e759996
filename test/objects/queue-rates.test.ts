import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock";
import { RateBucketSeconds, RateWindowSeconds } from "../../src/objects/queue/rates";
import { createQueue, expectError, expectOk, inQueue, queueStub, receive, sendBodies, type QueueStub } from "./support";

/** A bucket boundary far from now, so that bucket arithmetic is visible in the figures. */
const StartMs = 1_900_000_000_000;
const bucketMs = RateBucketSeconds * 1000;
const bucketsInWindow = RateWindowSeconds / RateBucketSeconds;

async function withClock(stub: QueueStub, startMs: number): Promise<ManualClock> {
  const clock = new ManualClock(startMs);
  await inQueue(stub, (object) => {
    object.clock = clock;
  });
  return clock;
}

const rates = async (stub: QueueStub) => expectOk(await stub.getRates());
const storedRows = (stub: QueueStub) =>
  inQueue(stub, (_object, state) => state.storage.sql.exec<{ rows: number }>("SELECT count(*) AS rows FROM queue_rates").one().rows);

describe("the queue's rate counters", () => {
  it("counts messages sent, received and deleted in the bucket of the operation", async () => {
    const { stub } = await createQueue();
    const clock = await withClock(stub, StartMs + 3_000);

    await sendBodies(stub, "a", "b", "c");
    const received = await receive(stub, { max: 2 });
    expectOk(await stub.deleteMessages([received[0]!.receiptHandle, "1-00000000000000000000000000000000"]));
    clock.advance(bucketMs);
    await sendBodies(stub, "d");

    const answer = await rates(stub);
    expect(answer).toMatchObject({ bucketSeconds: RateBucketSeconds, windowSeconds: RateWindowSeconds });
    expect(answer.buckets).toHaveLength(bucketsInWindow);
    expect(answer.buckets.at(-2)).toEqual({ startAt: StartMs, sent: 3, received: 2, deleted: 1 });
    expect(answer.buckets.at(-1)).toEqual({ startAt: StartMs + bucketMs, sent: 1, received: 0, deleted: 0 });
    expect(answer.buckets[0]).toEqual({ startAt: StartMs + 2 * bucketMs - RateWindowSeconds * 1000, sent: 0, received: 0, deleted: 0 });
  });

  it("counts a long poll's messages when a later send answers it", async () => {
    const { stub } = await createQueue();
    await withClock(stub, StartMs);

    const polling = stub.receive({ max: 5, waitSeconds: 10, visibilityTimeout: undefined });
    await sendBodies(stub, "late");

    expect(expectOk(await polling)).toHaveLength(1);
    expect((await rates(stub)).buckets.at(-1)).toMatchObject({ sent: 1, received: 1 });
  });

  it("counts messages handed over by a topic or a queue once, however often the hand-over is retried", async () => {
    const { stub } = await createQueue();
    await withClock(stub, StartMs);
    const handedOver = { idempotencyKey: "k1", id: crypto.randomUUID(), body: "m", tags: [], sourceQueue: null };

    expectOk(await stub.accept([handedOver]));
    expectOk(await stub.accept([handedOver]));

    expect((await rates(stub)).buckets.at(-1)).toMatchObject({ sent: 1 });
  });

  it("keeps its figures when the object is evicted", async () => {
    const { name, stub } = await createQueue();
    await withClock(stub, StartMs);
    await sendBodies(stub, "a", "b");

    await evictDurableObject(stub);
    const restarted = queueStub(name);
    await withClock(restarted, StartMs + 1_000);

    expect((await rates(restarted)).buckets.at(-1)).toEqual({ startAt: StartMs, sent: 2, received: 0, deleted: 0 });
  });

  it("drops buckets older than the window, so storage stays bounded", async () => {
    const { stub } = await createQueue();
    const clock = await withClock(stub, StartMs);

    for (let bucket = 0; bucket < bucketsInWindow + 20; bucket++) {
      await sendBodies(stub, "m");
      clock.advance(bucketMs);
    }

    expect(await storedRows(stub)).toBeLessThanOrEqual(bucketsInWindow);
    const answer = await rates(stub);
    expect(answer.buckets.at(-1)).toMatchObject({ sent: 0 });
    expect(answer.buckets.slice(0, -1).every((bucket) => bucket.sent === 1)).toBe(true);
  });

  it("starts from zero when the queue is deleted and created again", async () => {
    const { name, stub } = await createQueue();
    await withClock(stub, StartMs);
    await sendBodies(stub, "a");

    expectOk(await stub.destroy());
    const again = await createQueue({}, name);
    await withClock(again.stub, StartMs);

    expect((await rates(again.stub)).buckets.every((bucket) => bucket.sent === 0)).toBe(true);
  });

  it("answers QueueNotFound for a queue that does not exist", async () => {
    expectError(await queueStub(`missing-${crypto.randomUUID().slice(0, 8)}`).getRates(), "QueueNotFound");
  });
});
