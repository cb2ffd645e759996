import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock";
import { counts, createQueue, expectOk, expectParked, inQueue, peekAll, queueStub, sendBodies } from "../objects/support";
import { Far, consumerInfo, consumerWorker, deliveredBatches, fireAlarm, queueWithConsumer, settle } from "../support/queue-consumer";

describe("a queue's consumer Worker", () => {
  it("delivers a batch once batchSize messages are visible, not before", async () => {
    const { name, stub } = await queueWithConsumer({ batchSize: 3, maxWaitMs: 60_000 });

    await sendBodies(stub, "a", "b");
    await settle(stub);
    const beforeFull = await deliveredBatches(name);
    await sendBodies(stub, "c");
    await settle(stub);

    expect(beforeFull).toEqual([]);
    expect(await deliveredBatches(name)).toEqual([[{ body: "a", attempts: 1 }, { body: "b", attempts: 1 }, { body: "c", attempts: 1 }]]);
    expect((await counts(stub)).total).toBe(0);
    expect((await consumerInfo(stub)).stats).toMatchObject({ delivered: 3, acked: 3, retried: 0, failed: 0, inFlightBatches: 0, backlog: 0 });
  });

  it("delivers a partial batch when maxWaitMs has passed since its oldest message became visible", async () => {
    const { name, stub, clock } = await queueWithConsumer({ batchSize: 10, maxWaitMs: 5_000 });

    await sendBodies(stub, "a", "b");
    const alarmAtMs = await inQueue(stub, (_object, state) => state.storage.getAlarm());
    clock.set(Far + 4_999);
    await inQueue(stub, (object) => object.runDue(Far + 4_999));
    await settle(stub);
    const early = await deliveredBatches(name);
    clock.set(Far + 5_000);
    await fireAlarm(stub);

    expect(alarmAtMs).toBe(Far + 5_000);
    expect(early).toEqual([]);
    expect(await deliveredBatches(name)).toEqual([[{ body: "a", attempts: 1 }, { body: "b", attempts: 1 }]]);
    expect((await counts(stub)).total).toBe(0);
  });

  it("keeps at most maxConcurrency batches in flight", async () => {
    const { name, stub } = await queueWithConsumer({ batchSize: 1, maxConcurrency: 2 });

    await sendBodies(stub, "hang", "hang", "ack");
    await consumerWorker().waitForBatches(name, 2);
    const whileHung = await consumerInfo(stub);
    const deliveredWhileHung = await deliveredBatches(name);
    await consumerWorker().release(name);
    await settle(stub);

    expect(whileHung.stats).toMatchObject({ inFlightBatches: 2, inFlightMessages: 2, backlog: 1 });
    expect(deliveredWhileHung.map((batch) => batch.map((m) => m.body))).toEqual([["hang"], ["hang"]]);
    expect((await deliveredBatches(name)).map((batch) => batch.map((m) => m.body))).toEqual([["hang"], ["hang"], ["ack"]]);
    expect((await counts(stub)).total).toBe(0);
    expect((await consumerInfo(stub)).stats).toMatchObject({ delivered: 3, acked: 3, inFlightBatches: 0 });
  });

  it("acks and retries each message as the consumer answers, a retry hidden for its delay", async () => {
    const { name, stub, clock } = await queueWithConsumer({ batchSize: 3 });

    expectOk(await stub.send([{ body: "ack" }, { body: "retry+10@1" }, { body: "ack" }]));
    await settle(stub);
    const [kept] = await peekAll(stub);
    const afterFirst = (await consumerInfo(stub)).stats;
    clock.set(Far + 10_000);
    await fireAlarm(stub);

    expect(kept).toMatchObject({ body: "retry+10@1", receiveCount: 1, nextVisibleAt: Far + 10_000 });
    expect(afterFirst).toMatchObject({ delivered: 3, acked: 2, retried: 1 });
    expect(await deliveredBatches(name)).toEqual([
      [{ body: "ack", attempts: 1 }, { body: "retry+10@1", attempts: 1 }, { body: "ack", attempts: 1 }],
      [{ body: "retry+10@1", attempts: 2 }],
    ]);
    expect((await counts(stub)).total).toBe(0);
    expect((await consumerInfo(stub)).stats).toMatchObject({ delivered: 4, acked: 3, retried: 1, failed: 0 });
  });

  it("retries with retryDelaySeconds when the consumer names no delay", async () => {
    const { stub } = await queueWithConsumer({ batchSize: 1, retryDelaySeconds: 60 });

    await sendBodies(stub, "retry@1");
    await settle(stub);

    expect((await peekAll(stub))[0]).toMatchObject({ receiveCount: 1, nextVisibleAt: Far + 60_000 });
  });

  it("moves a message retried past maxRetries to the dead-letter queue", async () => {
    const dlq = await createQueue();
    const { name, stub, clock } = await queueWithConsumer({ batchSize: 1, maxRetries: 1 }, { deadLetter: { queue: dlq.name, maxReceiveCount: 1_000 } });

    const [id] = await sendBodies(stub, "retry");
    await settle(stub);
    await inQueue(stub, (object) => object.runDue(clock.nowMs()));

    expect(await deliveredBatches(name)).toEqual([[{ body: "retry", attempts: 1 }], [{ body: "retry", attempts: 2 }]]);
    expect((await counts(stub)).total).toBe(0);
    expect(await peekAll(dlq.stub)).toEqual([expect.objectContaining({ id, body: "retry", sourceQueue: name })]);
    expect((await consumerInfo(stub)).stats).toMatchObject({ delivered: 2, retried: 1, failed: 1, acked: 0 });
  });

  it("drops a message retried past maxRetries when the queue has no dead-letter queue", async () => {
    const { name, stub } = await queueWithConsumer({ batchSize: 1, maxRetries: 0 });

    await sendBodies(stub, "retry");
    await settle(stub);

    expect(await deliveredBatches(name)).toEqual([[{ body: "retry", attempts: 1 }]]);
    expect((await counts(stub)).total).toBe(0);
    expect((await consumerInfo(stub)).stats).toMatchObject({ delivered: 1, retried: 0, failed: 1 });
  });

  it("fails, without delivering it again, a message whose abandoned delivery was its last attempt", async () => {
    const { name, stub, clock } = await queueWithConsumer({ batchSize: 1, maxRetries: 0 }, { visibilityTimeout: 30 });

    await sendBodies(stub, "hang@1");
    await consumerWorker().waitForBatches(name, 1);
    clock.set(Far + 30_000);
    await fireAlarm(stub);
    await consumerWorker().release(name);
    await settle(stub, true);

    expect(await deliveredBatches(name)).toEqual([[{ body: "hang@1", attempts: 1 }]]);
    expect((await counts(stub)).total).toBe(0);
    expect((await consumerInfo(stub)).stats).toMatchObject({ delivered: 1, acked: 0, failed: 1 });
  });

  it("stops delivering while paused, keeps taking sends, and delivers on resume", async () => {
    const { name, stub } = await queueWithConsumer({ batchSize: 2 });

    const paused = expectOk(await stub.pauseConsumer(true));
    await sendBodies(stub, "a", "b");
    await settle(stub);
    const whilePaused = await deliveredBatches(name);
    const backlog = (await consumerInfo(stub)).stats.backlog;
    expectOk(await stub.pauseConsumer(false));
    await settle(stub);

    expect(paused.paused).toBe(true);
    expect(whilePaused).toEqual([]);
    expect(backlog).toBe(2);
    expect(await deliveredBatches(name)).toEqual([[{ body: "a", attempts: 1 }, { body: "b", attempts: 1 }]]);
    expect((await consumerInfo(stub)).paused).toBe(false);
  });

  it("retries the whole batch when the consumer throws, and records the error", async () => {
    const { name, stub, clock } = await queueWithConsumer({ batchSize: 2, retryDelaySeconds: 30 });

    expectOk(await stub.send([{ body: "throw@1" }, { body: "ack" }]));
    await settle(stub);
    const afterThrow = (await consumerInfo(stub)).stats;
    const hidden = await peekAll(stub);
    clock.set(Far + 30_000);
    await fireAlarm(stub);

    expect(afterThrow).toMatchObject({ delivered: 2, acked: 0, retried: 2, lastErrorAt: Far });
    expect(afterThrow.lastError).toContain("the consumer failed on purpose");
    expect(hidden.map((m) => m.nextVisibleAt)).toEqual([Far + 30_000, Far + 30_000]);
    expect((await deliveredBatches(name)).map((batch) => batch.map((m) => m.attempts))).toEqual([[1, 1], [2, 2]]);
    expect((await counts(stub)).total).toBe(0);
  });

  it("retries the whole batch when the consumer answers something that is not an answer", async () => {
    const { stub } = await queueWithConsumer({ batchSize: 1, retryDelaySeconds: 5 });

    await sendBodies(stub, "bad@1");
    await settle(stub);

    expect((await consumerInfo(stub)).stats.lastError).toContain("answered neither nothing nor {acks, retries}");
    expect((await peekAll(stub))[0]).toMatchObject({ receiveCount: 1, nextVisibleAt: Far + 5_000 });
  });

  it("abandons a call that hangs past the visibility timeout: its messages come back, a late answer acks nothing", async () => {
    const { name, stub, clock } = await queueWithConsumer({ batchSize: 1 }, { visibilityTimeout: 30 });

    await sendBodies(stub, "hang@1");
    await consumerWorker().waitForBatches(name, 1);
    const alarmAtMs = await inQueue(stub, (_object, state) => state.storage.getAlarm());
    clock.set(Far + 30_000);
    await fireAlarm(stub);
    await consumerWorker().release(name);
    await settle(stub, true);

    expect(alarmAtMs).toBe(Far + 30_000);
    expect(await deliveredBatches(name)).toEqual([[{ body: "hang@1", attempts: 1 }], [{ body: "hang@1", attempts: 2 }]]);
    const { stats } = await consumerInfo(stub);
    expect(stats).toMatchObject({ delivered: 2, acked: 1, inFlightBatches: 0 });
    expect(stats.lastError).toContain("did not answer");
    expect((await counts(stub)).total).toBe(0);
  });

  it("loses nothing and acks nothing twice when the object is evicted mid-batch", async () => {
    const { name, stub } = await queueWithConsumer({ batchSize: 2 }, { visibilityTimeout: 30 });

    const ids = expectOk(await stub.send([{ body: "hang@1" }, { body: "b" }])).ids;
    await consumerWorker().waitForBatches(name, 1);
    await evictDurableObject(stub);
    const fresh = queueStub(name);
    await inQueue(fresh, (object) => {
      object.clock = new ManualClock(Far + 30_000);
    });
    await inQueue(fresh, (object) => object.runDue(Far + 30_000));
    await settle(fresh);

    const deliveries = (await consumerWorker().batches(name)).flat();
    expect(deliveries.slice(0, 2).map((m) => [m.body, m.attempts])).toEqual([["hang@1", 1], ["b", 1]]);
    for (const id of ids) expect(Math.max(...deliveries.filter((m) => m.id === id).map((m) => m.attempts))).toBeGreaterThan(1);
    expect((await counts(fresh)).total).toBe(0);
    expect((await consumerInfo(fresh)).stats).toMatchObject({ acked: 2, failed: 0, inFlightBatches: 0 });
  });

  it("shares the queue with a parked long poll: each message goes to one of them", async () => {
    const { name, stub } = await queueWithConsumer({ batchSize: 1 });
    const parked = stub.receive({ max: 1, waitSeconds: 20, visibilityTimeout: undefined });
    await expectParked(stub, 1);

    const ids = expectOk(await stub.send([{ body: "a" }, { body: "b" }])).ids;
    const polled = expectOk(await parked);
    await settle(stub);

    const pushed = (await consumerWorker().batches(name)).flat();
    expect(polled).toHaveLength(1);
    expect(pushed).toHaveLength(1);
    expect([polled[0]!.id, pushed[0]!.id].sort()).toEqual([...ids].sort());
    expect((await consumerInfo(stub)).stats).toMatchObject({ delivered: 1, acked: 1 });
  });

  it("reports lag as the age of the oldest message waiting for the consumer", async () => {
    const { stub, clock } = await queueWithConsumer({ batchSize: 5, maxWaitMs: 60_000 });

    await sendBodies(stub, "a");
    clock.set(Far + 1_500);

    expect((await consumerInfo(stub)).stats).toMatchObject({ backlog: 1, lagMs: 1_500, delivered: 0 });
  });
  it("on a FIFO queue, waits for a group's message in flight instead of asking again at once", async () => {
    const { name, stub } = await queueWithConsumer({ batchSize: 1, maxConcurrency: 2 }, { fifo: true });

    expectOk(
      await stub.send([
        { body: "hang", groupId: "g", deduplicationId: "1" },
        { body: "ack", groupId: "g", deduplicationId: "2" },
      ]),
    );
    await consumerWorker().waitForBatches(name, 1);
    const whileHung = await consumerInfo(stub);
    const alarmAtMs = await inQueue(stub, (_object, state) => state.storage.getAlarm());
    await consumerWorker().release(name);
    await settle(stub);

    // The group's second message waits for the first: not counted as ready, and no alarm due now.
    expect(whileHung.stats).toMatchObject({ inFlightBatches: 1, backlog: 0 });
    expect(alarmAtMs).toBeGreaterThan(Far);
    expect((await deliveredBatches(name)).map((batch) => batch.map((m) => m.body))).toEqual([["hang"], ["ack"]]);
    expect((await counts(stub)).total).toBe(0);
  });
  it("counts what a consumer Worker takes and acknowledges in the queue's rates", async () => {
    const { stub } = await queueWithConsumer({ batchSize: 3 });

    await sendBodies(stub, "ack", "ack", "ack");
    await settle(stub);
    const rates = expectOk(await stub.getRates());
    const total = (counter: "sent" | "received" | "deleted") => rates.buckets.reduce((sum, bucket) => sum + bucket[counter], 0);

    expect([total("sent"), total("received"), total("deleted")]).toEqual([3, 3, 3]);
  });
});
