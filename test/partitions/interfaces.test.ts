import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { partitionOfGroup } from "../../src/schema/partitions";
import { expectError, expectStatus, rpc } from "../api/helpers";
import { cmq, cmqOk } from "../support/cmq";
import { api, RootSecretKey } from "../support/http";
import { connect, openLive } from "../live/support";
import { countsOf, drain, partition, partitionedQueue, partitionOfHandle, receive, sendBatch } from "./support";

function groupIn(target: number, partitions: number): string {
  for (let index = 0; ; index++) if (partitionOfGroup(`g${index}`, partitions) === target) return `g${index}`;
}

/** Sends one message to each partition of a queue of `partitions`; answers the ids in partition order. */
async function oneInEach(name: string, partitions: number): Promise<string[]> {
  return sendBatch(
    name,
    Array.from({ length: partitions }, (_, index) => ({ body: `in ${index}`, groupId: groupIn(index, partitions) })),
  );
}

describe("a partitioned queue through every interface", () => {
  it("RPC: sends, receives across partitions and deletes by the partition's handles", async () => {
    const name = await partitionedQueue(4);
    const ids = await oneInEach(name, 4);
    const received = (rpcValue(await rpc("receive", name, { max: 16 })) as { messages: any[] }).messages;
    const more = received.length < 4 ? (await receive(name)) : [];
    const all = [...received, ...more];
    expect(all.map((message) => message.id).sort()).toEqual([...ids].sort());
    const deleted = rpcValue(await rpc("deleteMessages", name, all.map((message) => message.receiptHandle))) as { results: Array<{ deleted: boolean }> };
    expect(deleted.results.every((result) => result.deleted)).toBe(true);
    expect(await countsOf(name)).toMatchObject({ total: 0 });
  });

  it("CMQ: counts for the whole queue, and receives and deletes in any partition", async () => {
    const name = await partitionedQueue(4);
    const ids = await oneInEach(name, 4);
    const attributes = await cmqOk("GetQueueAttributes", { queueName: name });
    expect(attributes.activeMsgNum).toBe(4);
    const seen: string[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const message = await cmqOk("ReceiveMessage", { queueName: name, pollingWaitSeconds: 0 });
      seen.push(message.msgId);
      await cmqOk("DeleteMessage", { queueName: name, receiptHandle: message.receiptHandle });
    }
    expect(seen.sort()).toEqual([...ids].sort());
    expect((await cmq("ReceiveMessage", { queueName: name, pollingWaitSeconds: 0 })).body.code).not.toBe(0);
  });

  it("changes a message's visibility in the partition its handle names", async () => {
    const name = await partitionedQueue(4);
    await sendBatch(name, [{ body: "in 2", groupId: groupIn(2, 4) }]);
    const [message] = await receive(name);
    expect(partitionOfHandle(message.receiptHandle)).toBe(2);
    const changed = await api("POST", `/v1/queues/${name}/messages/visibility`, { receiptHandle: message.receiptHandle, visibilityTimeout: 0 });
    expectStatus(changed, 200);
    const [again] = await receive(name);
    expect(again.id).toBe(message.id);
    expect(again.receiveCount).toBe(2);
    expect(partitionOfHandle(again.receiptHandle)).toBe(2);
  });

  it("counts sends, receives and deletes of every partition in its rates", async () => {
    const name = await partitionedQueue(4);
    await oneInEach(name, 4);
    await drain(name);
    const rates = await api("GET", `/v1/queues/${name}/rates`);
    expectStatus(rates, 200);
    const totals = rates.body.buckets.reduce(
      (sum: { sent: number; received: number; deleted: number }, bucket: { sent: number; received: number; deleted: number }) => ({
        sent: sum.sent + bucket.sent,
        received: sum.received + bucket.received,
        deleted: sum.deleted + bucket.deleted,
      }),
      { sent: 0, received: 0, deleted: 0 },
    );
    expect(totals).toEqual({ sent: 4, received: 4, deleted: 4 });
  });

  it("moves dead letters from any partition to the dead-letter queue, itself partitioned", async () => {
    const deadLetters = await partitionedQueue(3);
    const name = await partitionedQueue(4, { deadLetter: { queue: deadLetters, maxReceiveCount: 1 } });
    const ids = await oneInEach(name, 4);
    const received = await receive(name);
    expect(received).toHaveLength(4);
    for (const message of received) {
      // Its only receive given up: the message is due for its move when its visibility ends.
      const changed = await api("POST", `/v1/queues/${name}/messages/visibility`, { receiptHandle: message.receiptHandle, visibilityTimeout: 0 });
      expectStatus(changed, 200);
    }
    for (const index of [0, 1, 2, 3]) await runDurableObjectAlarm(partition(name, index));
    expect(await countsOf(name)).toMatchObject({ total: 0 });
    expect(await countsOf(deadLetters)).toMatchObject({ total: 4 });
    const dead = await drain(deadLetters);
    expect(dead.map((message) => message.id).sort()).toEqual([...ids].sort());
    expect(new Set(dead.map((message) => message.sourceQueue))).toEqual(new Set([name]));
  });

  it("redrives every partition of a queue as one task, to a destination", async () => {
    const name = await partitionedQueue(4);
    const destination = await partitionedQueue(2);
    expect((await api("GET", `/v1/queues/${name}/redrives`)).body).toEqual({ redrives: [] });
    const ids = await sendBatch(name, Array.from({ length: 12 }, (_, index) => ({ body: `m${index}`, groupId: groupIn(index % 4, 4) })));
    const started = await api("POST", `/v1/queues/${name}/redrive`, { destination });
    expectStatus(started, 202);
    expect(started.body).toMatchObject({ status: "running", destination, maxPerSecond: 100, moved: 0, remaining: 12 });
    // Each partition's task runs at its alarm; the whole redrive ends when the last one does.
    for (let round = 0; round < 5 && (await api("GET", `/v1/queues/${name}/redrive`)).body.status === "running"; round++) {
      for (const index of [0, 1, 2, 3]) await runDurableObjectAlarm(partition(name, index));
    }
    const done = await api("GET", `/v1/queues/${name}/redrive`);
    expect(done.body).toMatchObject({ status: "completed", moved: 12, remaining: 0, endedAt: expect.any(Number) });
    // The list of redrives answers the same whole-queue task, not partition 0's share of it.
    expect((await api("GET", `/v1/queues/${name}/redrives`)).body).toEqual({ redrives: [done.body] });
    expect(await countsOf(name)).toMatchObject({ total: 0 });
    const moved = await drain(destination);
    expect(moved.map((message) => message.id).sort()).toEqual([...ids].sort());
  });

  it("redrives dead letters of a partitioned queue back to their source, and cancels a redrive as one", async () => {
    const deadLetters = await partitionedQueue(2);
    const name = await partitionedQueue(4, { deadLetter: { queue: deadLetters, maxReceiveCount: 1 } });
    const ids = await oneInEach(name, 4);
    for (const message of await receive(name)) {
      await api("POST", `/v1/queues/${name}/messages/visibility`, { receiptHandle: message.receiptHandle, visibilityTimeout: 0 });
    }
    for (const index of [0, 1, 2, 3]) await runDurableObjectAlarm(partition(name, index));
    expect(await countsOf(deadLetters)).toMatchObject({ total: 4 });
    const back = await api("POST", `/v1/queues/${deadLetters}/redrive`, {});
    expectStatus(back, 202);
    for (let round = 0; round < 5 && (await api("GET", `/v1/queues/${deadLetters}/redrive`)).body.status === "running"; round++) {
      for (const index of [0, 1]) await runDurableObjectAlarm(partition(deadLetters, index));
    }
    expect((await api("GET", `/v1/queues/${deadLetters}/redrive`)).body).toMatchObject({ status: "completed", moved: 4 });
    expect((await drain(name)).map((message) => message.id).sort()).toEqual([...ids].sort());

    // A slow redrive, cancelled by its start time: every partition's task stops.
    await sendBatch(deadLetters, Array.from({ length: 8 }, (_, index) => ({ body: `d${index}`, groupId: groupIn(index % 2, 2) })));
    const destination = await partitionedQueue(1);
    const slow = await api("POST", `/v1/queues/${deadLetters}/redrive`, { destination, maxPerSecond: 2 });
    expectStatus(slow, 202);
    expect(slow.body.maxPerSecond).toBe(2);
    expectError(await api("POST", `/v1/queues/${deadLetters}/redrive`, { destination }), "RedriveInProgress");
    expectError(await api("DELETE", `/v1/queues/${deadLetters}/redrive?startedAt=${slow.body.startedAt - 1}`), "RedriveNotFound");
    const cancelled = await api("DELETE", `/v1/queues/${deadLetters}/redrive?startedAt=${slow.body.startedAt}`);
    expectStatus(cancelled, 200);
    expect(cancelled.body).toMatchObject({ status: "cancelled", startedAt: slow.body.startedAt });
  });

});

function rpcValue(outcome: Awaited<ReturnType<typeof rpc>>): unknown {
  if (!outcome.ok) throw new Error(`${outcome.name}: ${outcome.message}`);
  return outcome.value;
}

