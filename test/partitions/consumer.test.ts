import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { expectError, expectStatus } from "../api/helpers";
import { api } from "../support/http";
import { consumerWorker } from "../support/queue-consumer";
import { countsOf, fillEach, groupIn, partition, partitionedQueue, sendBatch } from "./support";

/** Waits until no batch is in flight in any of the queue's partitions. */
async function settleAll(name: string, partitions: number): Promise<void> {
  for (let index = 0; index < partitions; index++) await runInDurableObject(partition(name, index), (object) => object.consumer.settled());
}

/** Every message the consumer Worker got from `name`, waiting until there are `count`. */
async function deliveredAtLeast(name: string, count: number): Promise<Array<{ id: string; body: string; attempts: number }>> {
  return vi.waitFor(
    async () => {
      const delivered = (await consumerWorker().batches(name)).flat();
      expect(delivered.length).toBeGreaterThanOrEqual(count);
      return delivered;
    },
    { timeout: 5_000, interval: 20 },
  );
}

async function setConsumer(name: string, settings: Record<string, unknown> = {}) {
  const response = await api("PUT", `/v1/queues/${name}/consumer`, { binding: "QUEUE_CONSUMER", maxWaitMs: 0, ...settings });
  expect([200, 201]).toContain(response.status);
  return response;
}

/** The consumer as each partition holds it (null where it has none). */
async function perPartition(name: string, partitions: number) {
  return Promise.all(
    Array.from({ length: partitions }, async (_, index) => {
      const answer = await partition(name, index).getConsumer();
      return answer.ok ? answer.value : null;
    }),
  );
}

describe("a consumer Worker on a partitioned queue", () => {
  it("runs in every partition: each message is delivered once and acknowledged, the counters add up", async () => {
    const name = await partitionedQueue(4);
    const created = await setConsumer(name, { batchSize: 5 });

    const sent = await fillEach(name, 4, 6);
    const delivered = await deliveredAtLeast(name, sent.length);
    await settleAll(name, 4);
    const consumer = await api("GET", `/v1/queues/${name}/consumer`);
    const each = await perPartition(name, 4);

    expect(created.status).toBe(201);
    expect(delivered.map((message) => message.id).sort()).toEqual([...sent].sort());
    expect(delivered.every((message) => message.attempts === 1)).toBe(true);
    expect(await countsOf(name)).toMatchObject({ total: 0 });
    expectStatus(consumer, 200);
    expect(consumer.body).toMatchObject({ binding: "QUEUE_CONSUMER", batchSize: 5, stats: { delivered: 24, acked: 24, inFlightBatches: 0, backlog: 0 } });
    expect(each.map((info) => info?.stats.acked)).toEqual([6, 6, 6, 6]);
    expect(each.every((info) => info?.batchSize === 5)).toBe(true);
  });

  it("pauses, resumes, replaces and deletes the consumer in every partition", async () => {
    const name = await partitionedQueue(4);
    await setConsumer(name);

    const paused = await api("POST", `/v1/queues/${name}/consumer/pause`);
    const sent = await fillEach(name, 4, 2);
    const whilePaused = await api("GET", `/v1/queues/${name}/consumer`);
    const pausedEach = await perPartition(name, 4);
    const replaced = await setConsumer(name, { batchSize: 3, maxConcurrency: 2 });
    const replacedEach = await perPartition(name, 4);
    const resumed = await api("POST", `/v1/queues/${name}/consumer/resume`);
    const delivered = await deliveredAtLeast(name, sent.length);
    await settleAll(name, 4);
    const deleted = await api("DELETE", `/v1/queues/${name}/consumer`);
    await sendBatch(name, [{ body: "after the consumer", groupId: groupIn(2, 4) }]);

    expect([paused.status, paused.body.paused]).toEqual([200, true]);
    expect(pausedEach.every((info) => info?.paused === true)).toBe(true);
    expect(whilePaused.body.stats).toMatchObject({ delivered: 0, backlog: 8 });
    expect([replaced.status, replaced.body.paused, replaced.body.batchSize]).toEqual([200, true, 3]);
    expect(replacedEach.map((info) => [info?.batchSize, info?.maxConcurrency, info?.paused])).toEqual(Array(4).fill([3, 2, true]));
    expect([resumed.status, resumed.body.paused]).toEqual([200, false]);
    expect(delivered.map((message) => message.id).sort()).toEqual([...sent].sort());
    expect(deleted.status).toBe(204);
    expect(await perPartition(name, 4)).toEqual([null, null, null, null]);
    expectError(await api("GET", `/v1/queues/${name}/consumer`), "ConsumerNotFound");
    expect(await countsOf(name)).toMatchObject({ total: 1, active: 1 });
    expect((await consumerWorker().batches(name)).flat()).toHaveLength(sent.length);
  });

  it("follows a raise and a lowering: new partitions run the consumer, the queue's count goes back down once drained", async () => {
    const name = await partitionedQueue(1);
    await setConsumer(name, { batchSize: 4 });

    expectStatus(await api("PATCH", `/v1/queues/${name}`, { partitions: 4 }), 200);
    const raisedEach = await perPartition(name, 4);
    const sent = await fillEach(name, 4, 3);
    const delivered = await deliveredAtLeast(name, sent.length);
    await settleAll(name, 4);
    const lowered = await api("PATCH", `/v1/queues/${name}`, { partitions: 2 });
    const after = await sendBatch(name, [{ body: "after lowering", groupId: groupIn(1, 2) }]);
    const all = await deliveredAtLeast(name, sent.length + 1);
    await settleAll(name, 2);
    const consumer = await api("GET", `/v1/queues/${name}/consumer`);

    expect(raisedEach.map((info) => info?.batchSize)).toEqual([4, 4, 4, 4]);
    expect(delivered.map((message) => message.id).sort()).toEqual([...sent].sort());
    expectStatus(lowered, 200);
    expect(lowered.body.partitions).toBe(2);
    expect(all.map((message) => message.id).sort()).toEqual([...sent, ...after].sort());
    expect(consumer.body.stats).toMatchObject({ backlog: 0, inFlightBatches: 0 });
    expect(await countsOf(name)).toMatchObject({ total: 0 });
  });

  it("is set on a queue created with partitions, and on the partitions a failed lowering made again", async () => {
    const name = await partitionedQueue(3);
    await setConsumer(name, { maxRetries: 7 });
    const held = await sendBatch(name, [{ body: "hang", groupId: groupIn(1, 3) }]);
    await consumerWorker().waitForBatches(name, 1);

    // Partitions go last first: partition 2 is removed, partition 1 holds a message in flight and refuses, partition 2 is made again.
    const refused = await api("PATCH", `/v1/queues/${name}`, { partitions: 1 });
    const each = await perPartition(name, 3);
    await consumerWorker().release(name);
    await settleAll(name, 3);

    expect(held).toHaveLength(1);
    expectError(refused, "PartitionsNotEmpty");
    expect(each.map((info) => info?.maxRetries)).toEqual([7, 7, 7]);
    expect(await countsOf(name)).toMatchObject({ total: 0 });
  });
});
