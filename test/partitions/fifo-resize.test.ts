import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RootPrincipal } from "../../src/auth/authenticate";
import { SettleCheckIntervalMs } from "../../src/objects/queue/partition-epoch";
import { partitionOfGroup } from "../../src/schema/partitions";
import { FifoLimits } from "../../src/schema/queue";
import { sendFifo } from "../../src/objects/fifo-routing";
import { QueuePartitions } from "../../src/service/partitions";
import { QueueOperations } from "../../src/service/queues";
import { systemClock } from "../../src/clock";
import { expectError, expectStatus } from "../api/helpers";
import { api, uniqueName } from "../support/http";
import { deleteHandles, drain, partition, partitionedQueue, partitionOfHandle, Prefix, receive, sendBatch } from "./support";

/** A group id whose partition is `partition` under each `[count, partition]` given. */
function groupWhere(...placements: Array<[number, number]>): string {
  for (let index = 0; ; index++) {
    const groupId = `g${index}`;
    if (placements.every(([count, target]) => partitionOfGroup(groupId, count) === target)) return groupId;
  }
}

function fifoQueue(partitions: number, attributes: Record<string, unknown> = {}): Promise<string> {
  return partitionedQueue(partitions, { fifo: true, ...attributes }, `${uniqueName("pf")}.fifo`);
}

async function resize(name: string, partitions: number): Promise<void> {
  const response = await api("PATCH", `/v1/queues/${name}`, { partitions });
  expectStatus(response, 200);
  expect(response.body.partitions).toBe(partitions);
}

/** Messages each partition holds, in any state. */
async function totals(name: string, count: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const info = await partition(name, index).getInfo();
      return info.ok ? info.value.counts.total : -1;
    }),
  );
}

function message(groupId: string, body: string) {
  return { body, groupId, deduplicationId: body };
}

function routing(name: string) {
  return runInDurableObject(partition(name, 0), (object) => object.routing.view());
}

/** Runs the home object's due work as if `offsetMs` had passed, its clock moved on as far. */
function settleAfter(name: string, offsetMs: number): Promise<void> {
  return runInDurableObject(partition(name, 0), async (object) => {
    object.clock = { nowMs: () => Date.now() + offsetMs };
    await object.runDue(Date.now() + offsetMs);
    object.clock = systemClock;
  });
}

/** Sends through the FIFO routing, counting the calls made to an earlier partition of a group. */
async function sendCounted(name: string, messages: Array<ReturnType<typeof message>>): Promise<{ conditional: number; ids: string[] }> {
  const partitions = new QueuePartitions(env, Prefix, name, true, systemClock);
  let conditional = 0;
  const counted = {
    route: (fresh: boolean) => partitions.route(fresh),
    checkBatch: (batch: Parameters<typeof partitions.checkBatch>[0]) => partitions.checkBatch(batch),
    sendRouted: (...args: Parameters<typeof partitions.sendRouted>) => {
      if (args[4]) conditional++;
      return partitions.sendRouted(...args);
    },
  };
  const sent = await sendFifo(counted, messages, "test");
  return { conditional, ids: sent.map((sentMessage) => sentMessage.id) };
}

describe("a FIFO queue's partition count changed", () => {
  it("keeps every group's order across raises from 1 to 4 to 16, with messages waiting and in flight", async () => {
    const name = await fifoQueue(1);
    const groups = Array.from({ length: 10 }, (_, index) => `order-${index}`);
    const sentOrder = new Map(groups.map((groupId) => [groupId, [] as string[]]));
    const sendRound = async (round: number) => {
      const batch = groups.map((groupId) => message(groupId, `${groupId}:${round}`));
      await sendBatch(name, batch);
      for (const { groupId, body } of batch) sentOrder.get(groupId)!.push(body);
    };
    const receivedOrder = new Map(groups.map((groupId) => [groupId, [] as string[]]));
    const take = (messages: any[]) => messages.forEach((m) => receivedOrder.get(m.groupId)!.push(m.body));

    for (const round of [0, 1, 2]) await sendRound(round);
    // Some groups' heads in flight across the raise, the others waiting.
    const inFlight = await receive(name, { max: 4 });
    expect(inFlight.length).toBeGreaterThan(0);
    take(inFlight);
    await resize(name, 4);
    for (const round of [3, 4]) await sendRound(round);
    expect((await totals(name, 4)).slice(1)).toEqual([0, 0, 0]);
    await resize(name, 16);
    for (const round of [5, 6]) await sendRound(round);
    // Still all in partition 0: every group has messages there.
    expect(await totals(name, 16)).toEqual([groups.length * 7, ...new Array(15).fill(0)]);

    await deleteHandles(name, inFlight.map((m) => m.receiptHandle));
    take(await drain(name));
    for (const groupId of groups) expect(receivedOrder.get(groupId), groupId).toEqual(sentOrder.get(groupId));

    // Drained, each group sends to its partition under 16.
    await sendRound(7);
    const expected = new Array(16).fill(0);
    for (const groupId of groups) expected[partitionOfGroup(groupId, 16)]++;
    expect(await totals(name, 16)).toEqual(expected);
    const last = await drain(name);
    for (const m of last) expect(partitionOfHandle(m.receiptHandle)).toBe(partitionOfGroup(m.groupId, 16));
  });

  it("keeps a group's new messages in its old partition until it drains, then sends them to the new one", async () => {
    const name = await fifoQueue(1);
    const groupId = groupWhere([4, 3]);
    await sendBatch(name, [message(groupId, "a")]);
    await resize(name, 4);
    expect(await routing(name)).toEqual({ epoch: 1, settling: [1] });
    await sendBatch(name, [message(groupId, "b")]);
    expect(await totals(name, 4)).toEqual([2, 0, 0, 0]);
    // In flight still holds the group in partition 0.
    const [first] = await receive(name, { max: 1 });
    expect(first.body).toBe("a");
    await sendBatch(name, [message(groupId, "c")]);
    expect(await totals(name, 4)).toEqual([3, 0, 0, 0]);
    await deleteHandles(name, [first.receiptHandle]);
    expect((await drain(name)).map((m) => m.body)).toEqual(["b", "c"]);
    await sendBatch(name, [message(groupId, "d")]);
    expect(await totals(name, 4)).toEqual([0, 0, 0, 1]);
    expect((await drain(name)).map((m) => [m.body, partitionOfHandle(m.receiptHandle)])).toEqual([["d", 3]]);
  });

  it("deduplicates across a raise, whether the group still waits in its old partition or has left it", async () => {
    const name = await fifoQueue(1);
    const waiting = groupWhere([4, 2]);
    const drained = groupWhere([4, 1]);
    const [waitingId, drainedId] = await sendBatch(name, [message(waiting, "w1"), message(drained, "d1")]);
    // One group leaves partition 0 before the raise; its deduplication id is still remembered there.
    const [head] = (await receive(name)).filter((m) => m.groupId === drained);
    await deleteHandles(name, [head.receiptHandle]);
    await resize(name, 4);
    const again = await sendBatch(name, [message(waiting, "w1"), message(drained, "d1")]);
    expect(again).toEqual([waitingId, drainedId]);
    expect(await totals(name, 4)).toEqual([1, 0, 0, 0]);
    // Content-based deduplication too: the digest is made where the message is stored.
    const content = await fifoQueue(1, { contentBasedDeduplication: true });
    const [contentId] = await sendBatch(content, [{ body: "same", groupId: waiting }]);
    await resize(content, 4);
    expect(await sendBatch(content, [{ body: "same", groupId: waiting }])).toEqual([contentId]);
    expect(await totals(content, 4)).toEqual([1, 0, 0, 0]);
  });

  it("refuses a call routed under an older epoch, storing nothing, and the service routes it again", async () => {
    const name = await fifoQueue(4);
    await resize(name, 8);
    const { epoch } = await routing(name);
    const moved = groupWhere([4, 3], [8, 7]);
    // A partition refuses an older epoch, whether asked to take a message directly or only where its group is.
    for (const onlyWhereGroupIs of [false, true]) {
      const refused = await partition(name, 3).sendRouted([message(moved, "x")], null, epoch - 1, onlyWhereGroupIs);
      expect(refused).toEqual({ ok: true, value: { stale: true, epoch } });
    }
    expect(await totals(name, 8)).toEqual(new Array(8).fill(0));
    // An isolate that still holds the count of 4 and its epoch: its send is refused, then routed afresh.
    const stale = new QueuePartitions(env, Prefix, name, true, systemClock);
    stale.remember(4, { epoch: epoch - 1, settling: [] });
    const queues = new QueueOperations(env, { account: "default", region: "local", principal: RootPrincipal() });
    await queues.send(name, [message(moved, "y")]);
    const expected = new Array(8).fill(0);
    expected[7] = 1;
    expect(await totals(name, 8)).toEqual(expected);
    expect(await stale.route(false)).toEqual({ partitions: 8, epoch, settling: [4] });
    // Every partition learned the new epoch before the raise was answered, and keeps it across an eviction.
    await abortAllDurableObjects();
    expect(await routing(name)).toEqual({ epoch, settling: [4] });
    for (const index of [1, 2, 3, 4, 5, 6, 7]) {
      expect(await runInDurableObject(partition(name, index), (object) => object.routing.epoch)).toBe(epoch);
    }
  });

  it("ends settling once moved groups have drained and the deduplication window has passed, and then sends directly", async () => {
    const name = await fifoQueue(1);
    const moved = groupWhere([4, 1]);
    await sendBatch(name, [message(moved, "m1")]);
    await resize(name, 4);
    expect(await sendCounted(name, [message(moved, "m2")])).toMatchObject({ conditional: 1 });
    // A stray left: checks keep the settling count.
    await settleAfter(name, SettleCheckIntervalMs);
    await settleAfter(name, SettleCheckIntervalMs * 2 + FifoLimits.deduplicationWindowMs);
    expect((await routing(name)).settling).toEqual([1]);
    expect((await drain(name)).map((m) => m.body)).toEqual(["m1", "m2"]);
    // No stray: the settling count goes once the window after the first empty check has passed.
    await settleAfter(name, SettleCheckIntervalMs * 3 + FifoLimits.deduplicationWindowMs);
    expect((await routing(name)).settling).toEqual([1]);
    await settleAfter(name, SettleCheckIntervalMs * 4 + FifoLimits.deduplicationWindowMs * 2);
    expect(await routing(name)).toEqual({ epoch: 1, settling: [] });
    await new QueuePartitions(env, Prefix, name, true, systemClock).route(true);
    const direct = await sendCounted(name, [message(moved, "m3")]);
    expect(direct.conditional).toBe(0);
    const expected = [0, 0, 0, 0];
    expected[partitionOfGroup(moved, 4)] = 1;
    expect(await totals(name, 4)).toEqual(expected);
  });

  it("lowers from 4 to 2 only once partitions 2 and 3 are empty and their deduplication ids have expired", async () => {
    const name = await fifoQueue(4);
    const leaving = groupWhere([4, 3]);
    const [firstId] = await sendBatch(name, [message(leaving, "l1")]);
    expectError(await api("PATCH", `/v1/queues/${name}`, { partitions: 2 }), "PartitionsNotEmpty", /holds 1 messages/);
    await drain(name);
    // Empty, but its group's deduplication id would be lost with it.
    expectError(await api("PATCH", `/v1/queues/${name}`, { partitions: 2 }), "PartitionsNotEmpty", /deduplication ids/);
    expect((await api("GET", `/v1/queues/${name}`)).body.partitions).toBe(4);
    expect(await totals(name, 4)).toEqual([0, 0, 0, 0]);
    expect(await sendBatch(name, [message(leaving, "l1")])).toEqual([firstId]);
    for (const index of [2, 3]) {
      await runInDurableObject(partition(name, index), (object) => {
        object.clock = { nowMs: () => Date.now() + FifoLimits.deduplicationWindowMs + 1_000 };
      });
    }
    await resize(name, 2);
    expect(await routing(name)).toEqual({ epoch: 1, settling: [4] });
    expect((await partition(name, 3).getInfo()).ok).toBe(false);
    await sendBatch(name, [message(leaving, "l2")]);
    expect(await totals(name, 2)).toEqual([0, 1]);
    expect((await drain(name)).map((m) => [m.body, partitionOfHandle(m.receiptHandle)])).toEqual([["l2", 1]]);
  });

  it("lowers from 3 to 2, a group left in partition 1 staying there until it drains", async () => {
    const name = await fifoQueue(3);
    const kept = groupWhere([3, 1], [2, 0]);
    await sendBatch(name, [message(kept, "k1")]);
    const [head] = await receive(name);
    expect(head.body).toBe("k1");
    await resize(name, 2);
    expect(await routing(name)).toEqual({ epoch: 1, settling: [3] });
    // In flight, the group holds partition 1, its partition under 3.
    await sendBatch(name, [message(kept, "k2")]);
    expect(await totals(name, 2)).toEqual([0, 2]);
    await deleteHandles(name, [head.receiptHandle]);
    expect((await drain(name)).map((m) => [m.body, partitionOfHandle(m.receiptHandle)])).toEqual([["k2", 1]]);
    await sendBatch(name, [message(kept, "k3")]);
    expect(await totals(name, 2)).toEqual([1, 0]);
    expect((await drain(name)).map((m) => [m.body, partitionOfHandle(m.receiptHandle)])).toEqual([["k3", 0]]);
  });

  it("refuses a change while as many earlier counts as it keeps still settle, before making or removing any partition", async () => {
    const name = await fifoQueue(1);
    for (const count of [2, 3, 4]) await resize(name, count);
    expect(await routing(name)).toEqual({ epoch: 3, settling: [1, 2, 3] });
    expectError(await api("PATCH", `/v1/queues/${name}`, { partitions: 5 }), "PartitionsNotEmpty", /settled/);
    expect((await api("GET", `/v1/queues/${name}`)).body.partitions).toBe(4);
    expect((await partition(name, 4).getInfo()).ok).toBe(false);
    // Back to a count still settling leaves it out of the list, so that change is allowed.
    await resize(name, 3);
    expect(await routing(name)).toEqual({ epoch: 4, settling: [1, 2, 4] });
  });
});
