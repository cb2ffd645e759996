import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { QueueObject } from "../../src/objects/queue-object";
import { LiveLimits } from "../../src/schema/live";
import { partitionOfGroup } from "../../src/schema/partitions";
import { expectStatus } from "../api/helpers";
import { api, uniqueName } from "../support/http";
import { openLive, type Frame, type LiveClient } from "../live/support";
import { countsOf, drain, fillEach, groupIn, partition, partitionCounts, partitionedQueue, partitionOfHandle, sendBatch } from "./support";

/** Waits until the home object has finished taking from the other partitions for its sockets. */
async function pumpSettled(name: string): Promise<void> {
  await runInDurableObject(partition(name, 0), (object) => object.livePump.settled());
}

async function credit(live: LiveClient, messages: number): Promise<void> {
  live.send({ type: "credit", messages });
  await live.take("credited");
}

/** Moves a partition's clock `ms` ahead of real time. */
async function advance(name: string, index: number, ms: number): Promise<void> {
  await runInDurableObject(partition(name, index), (object) => {
    object.clock = { nowMs: () => Date.now() + ms };
  });
}

function ids(messages: Frame[]): string[] {
  return messages.map((message) => message.id as string).sort();
}

describe("a live socket on a partitioned queue", () => {
  it("receives the messages of every partition, each once while acknowledged", async () => {
    const name = await partitionedQueue(4);
    const sent = await fillEach(name, 4, 10);
    const live = await openLive(`/v1/queues/${name}/live`);

    await credit(live, 100);
    const received = await live.messages(40);
    for (const [index, message] of received.entries()) {
      expect(await live.call({ type: "ack", id: `a${index}`, receiptHandle: message.receiptHandle })).toEqual({ type: "acked", id: `a${index}` });
    }
    await pumpSettled(name);

    expect(ids(received)).toEqual([...sent].sort());
    expect(new Set(received.map((message) => partitionOfHandle(message.receiptHandle)))).toEqual(new Set([0, 1, 2, 3]));
    for (const message of received) expect(message.body.startsWith(`p${partitionOfHandle(message.receiptHandle)}-`)).toBe(true);
    expect(live.frames.filter((frame) => frame.type === "messages")).toEqual([]);
    expect(await countsOf(name)).toMatchObject({ total: 0 });
    live.close();
  });

  it("acks, nacks and extends in the partition each receipt handle names", async () => {
    const name = await partitionedQueue(4, { visibilityTimeout: 30 });
    await fillEach(name, 4, 1);
    const live = await openLive(`/v1/queues/${name}/live`);
    await credit(live, 4);
    const byPartition = new Map((await live.messages(4)).map((message) => [partitionOfHandle(message.receiptHandle), message]));

    const acked = await live.call({ type: "ack", id: "ack1", receiptHandle: byPartition.get(1)!.receiptHandle });
    const nacked = await live.call({ type: "nack", id: "nack2", receiptHandle: byPartition.get(2)!.receiptHandle });
    const extended = await live.call({ type: "extend", id: "ext3", receiptHandle: byPartition.get(3)!.receiptHandle, visibilityTimeout: 600 });
    const acked0 = await live.call({ type: "ack", id: "ack0", receiptHandle: byPartition.get(0)!.receiptHandle });

    expect(acked).toEqual({ type: "acked", id: "ack1" });
    expect(nacked).toMatchObject({ type: "nacked", id: "nack2", nextVisibleAt: expect.any(Number) });
    expect(extended.nextVisibleAt - byPartition.get(3)!.firstReceivedAt).toBeGreaterThanOrEqual(600_000);
    expect(acked0).toEqual({ type: "acked", id: "ack0" });
    // The nacked message is visible again: the socket has no credit left, so it stays in partition 2.
    expect(await partitionCounts(name, 4)).toMatchObject([
      { total: 0 },
      { total: 0 },
      { active: 1, inactive: 0 },
      { active: 0, inactive: 1 },
    ]);
    live.close();
  });

  it("refuses a handle of a partition the queue does not have, or that its partition does not know, with the codes of a receive", async () => {
    const name = await partitionedQueue(4);
    const live = await openLive(`/v1/queues/${name}/live`);

    const frames = [
      { type: "ack", id: "x1", receiptHandle: "p9_abc" },
      { type: "nack", id: "x2", receiptHandle: "p9_abc" },
      { type: "extend", id: "x3", receiptHandle: "p5_abc", visibilityTimeout: 10 },
      { type: "ack", id: "x4", receiptHandle: "p2_not-a-handle" },
      { type: "nack", id: "x5", receiptHandle: "p3_not-a-handle" },
    ];
    const answers = [];
    for (const frame of frames) answers.push(await live.call(frame));

    for (const [index, answer] of answers.entries()) {
      expect(answer).toMatchObject({ type: "error", id: frames[index]!.id, error: { code: "ReceiptHandleInvalid" } });
    }
    expect(answers[0]!.error.message).toContain("partition 9");
    expect(answers[2]!.error.message).toContain("partition 5");
    expect(live.closed).toBeNull();
    live.close();
  });

  it("spreads send frames over the partitions, a group's frame to its group's partition", async () => {
    const name = await partitionedQueue(4);
    const live = await openLive(`/v1/queues/${name}/live`);

    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => live.call({ type: "send", id: `s${index}`, messages: [{ body: `spread ${index}` }] })));
    const grouped = await live.call({ type: "send", id: "g", messages: [{ body: "grouped 1", groupId: groupIn(3, 4) }, { body: "grouped 2" }] });

    for (const answer of answers) expect(answer).toMatchObject({ type: "sent", ids: [expect.any(String)] });
    expect(grouped).toMatchObject({ type: "sent", id: "g", ids: [expect.any(String), expect.any(String)] });
    expect((await partitionCounts(name, 4)).map((counts) => counts.total)).toEqual([2, 2, 2, 4]);
    const drained = await drain(name);
    expect(ids(drained)).toEqual([...answers.flatMap((answer) => answer.ids), ...grouped.ids].sort());
    live.close();
  });

  it("sends a standard queue's frame bound for a partition removed meanwhile to partition 0", async () => {
    const name = await partitionedQueue(4);
    // A lowering removes partitions before the queue's object learns the new count.
    expect((await partition(name, 3).retirePartition()).ok).toBe(true);
    const live = await openLive(`/v1/queues/${name}/live`);

    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => live.call({ type: "send", id: `s${index}`, messages: [{ body: `spread ${index}` }] })));

    for (const answer of answers) expect(answer).toMatchObject({ type: "sent", ids: [expect.any(String)] });
    expect((await partitionCounts(name, 3)).map((counts) => counts.total)).toEqual([4, 2, 2]);
    live.close();
  });

  it("stores frames that arrive together and are bound for one partition in one call to it, each answered on its own", async () => {
    const name = await partitionedQueue(4);
    // RPC calls the class's own method: it is wrapped for the test, counting partition 2's calls.
    const batches: number[] = [];
    const sendEach = QueueObject.prototype.sendEach;
    QueueObject.prototype.sendEach = function (this: QueueObject, sends) {
      if (this.partitions.partition === 2 && this.engine.meta?.name === name) batches.push(sends.length);
      return sendEach.call(this, sends);
    };
    onTestFinished(() => {
      QueueObject.prototype.sendEach = sendEach;
    });
    const live = await openLive(`/v1/queues/${name}/live`);
    const groupId = groupIn(2, 4);

    const answers = await Promise.all(Array.from({ length: 6 }, (_, index) => live.call({ type: "send", id: `s${index}`, messages: [{ body: `m${index}`, groupId }] })));
    const gathered = [...batches];
    const refused = await Promise.all([
      live.call({ type: "send", id: "ok", messages: [{ body: "fine", groupId }] }),
      live.call({ type: "send", id: "big", messages: [{ body: "x".repeat(70_000), groupId }] }),
    ]);

    for (const answer of answers) expect(answer).toMatchObject({ type: "sent", ids: [expect.any(String)] });
    expect(gathered.reduce((sum, size) => sum + size, 0)).toBe(6);
    expect(gathered.length).toBeLessThan(6);
    expect(refused[0]).toMatchObject({ type: "sent", id: "ok" });
    expect(refused[1]).toMatchObject({ type: "error", id: "big", error: { code: "MessageTooLarge" } });
    expect((await partitionCounts(name, 4)).map((counts) => counts.total)).toEqual([0, 0, 7, 0]);
    live.close();
  });

  it("keeps each group's order on a FIFO queue, a frame's messages split over their groups' partitions", async () => {
    const name = await partitionedQueue(4, { fifo: true }, `${uniqueName("part")}.fifo`);
    const groups = [groupIn(1, 4), groupIn(2, 4), groupIn(0, 4, 10)];
    const live = await openLive(`/v1/queues/${name}/live`);

    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, frame) =>
        live.call({
          type: "send",
          id: `f${frame}`,
          messages: groups.map((groupId) => ({ body: `${groupId}-${frame}`, groupId, deduplicationId: `${groupId}-${frame}` })),
        }),
      ),
    );
    const drained = await drain(name);

    for (const answer of answers) expect(answer).toMatchObject({ type: "sent", ids: [expect.any(String), expect.any(String), expect.any(String)] });
    const byId = new Map(drained.map((message) => [message.id, message]));
    for (const [frame, answer] of answers.entries()) {
      answer.ids.forEach((id: string, index: number) => expect(byId.get(id)?.body).toBe(`${groups[index]}-${frame}`));
    }
    for (const groupId of groups) {
      const bodies = drained.filter((message) => message.body.startsWith(`${groupId}-`)).map((message) => message.body);
      expect(bodies).toEqual([0, 1, 2, 3].map((frame) => `${groupId}-${frame}`));
      const partitions = drained.filter((message) => message.body.startsWith(`${groupId}-`)).map((message) => partitionOfHandle(message.receiptHandle));
      expect(new Set(partitions)).toEqual(new Set([partitionOfGroup(groupId, 4)]));
    }
    live.close();
  });

  it("never takes more than its credit, whichever partitions hold the messages", async () => {
    const name = await partitionedQueue(4);
    // None in partition 0: every message comes through takes, which run in parallel.
    for (const index of [1, 2, 3]) await sendBatch(name, Array.from({ length: 10 }, (_, n) => ({ body: `p${index}-${n}`, groupId: groupIn(index, 4) })));
    const live = await openLive(`/v1/queues/${name}/live`);

    await credit(live, 5);
    const first = await live.messages(5);
    await pumpSettled(name);
    const afterFirst = await countsOf(name);
    await credit(live, 7);
    const second = await live.messages(7);
    await pumpSettled(name);

    expect(first).toHaveLength(5);
    expect(afterFirst).toMatchObject({ active: 25, inactive: 5 });
    expect(second).toHaveLength(7);
    expect(live.frames.filter((frame) => frame.type === "messages")).toEqual([]);
    expect(await countsOf(name)).toMatchObject({ active: 18, inactive: 12 });
    expect(new Set([...ids(first), ...ids(second)]).size).toBe(12);
    live.close();
  });

  it("shares each push's batch bound with the other partitions: a push holds at most the batch limit", async () => {
    const name = await partitionedQueue(2);
    await fillEach(name, 2, 20);
    const live = await openLive(`/v1/queues/${name}/live`);

    await credit(live, 40);
    const pushes: Frame[] = [];
    while (pushes.reduce((sum, push) => sum + push.messages.length, 0) < 40) pushes.push(await live.take("messages"));

    for (const push of pushes) expect(push.messages.length).toBeLessThanOrEqual(LiveLimits.pushBatchMax);
    expect(await countsOf(name)).toMatchObject({ active: 0, inactive: 40 });
    live.close();
  });

  it("keeps working when its queue is raised from 1 partition to 4, and receives from the new ones", async () => {
    const name = await partitionedQueue(1);
    const live = await openLive(`/v1/queues/${name}/live`);
    await credit(live, 20);

    expectStatus(await api("PATCH", `/v1/queues/${name}`, { partitions: 4 }), 200);
    const sent = await fillEach(name, 4, 2);
    const received = await live.messages(8);

    expect(live.closed).toBeNull();
    expect(ids(received)).toEqual([...sent].sort());
    expect(new Set(received.map((message) => partitionOfHandle(message.receiptHandle)))).toEqual(new Set([0, 1, 2, 3]));
    live.close();
  });

  it("keeps working when its queue is lowered, and refuses the handles of the partitions removed", async () => {
    const name = await partitionedQueue(4);
    const live = await openLive(`/v1/queues/${name}/live`);
    await credit(live, 10);

    expectStatus(await api("PATCH", `/v1/queues/${name}`, { partitions: 2 }), 200);
    const sent = await fillEach(name, 2, 2);
    const received = await live.messages(4);
    const refused = await live.call({ type: "ack", id: "gone", receiptHandle: "p3_abc" });

    expect(live.closed).toBeNull();
    expect(ids(received)).toEqual([...sent].sort());
    expect(refused).toMatchObject({ type: "error", id: "gone", error: { code: "ReceiptHandleInvalid" } });
    live.close();
  });

  it("keeps receiving after a partition object is evicted", async () => {
    const name = await partitionedQueue(4);
    const live = await openLive(`/v1/queues/${name}/live`);
    await credit(live, 10);
    const before = await sendBatch(name, [{ body: "before", groupId: groupIn(2, 4) }]);
    const [first] = await live.messages(1);

    await evictDurableObject(partition(name, 2));
    const after = await sendBatch(name, [{ body: "after", groupId: groupIn(2, 4) }]);
    const [second] = await live.messages(1);
    const acked = await live.call({ type: "ack", id: "a", receiptHandle: first!.receiptHandle });

    expect([first!.id, second!.id]).toEqual([...before, ...after]);
    expect(partitionOfHandle(second!.receiptHandle)).toBe(2);
    expect(acked).toEqual({ type: "acked", id: "a" });
    live.close();
  });

  it("loses nothing when the home object is evicted: unacknowledged messages come back after their visibility, new ones keep coming", async () => {
    const name = await partitionedQueue(4, { visibilityTimeout: 30 });
    const live = await openLive(`/v1/queues/${name}/live`);
    await credit(live, 10);
    const sent = await sendBatch(name, [{ body: "in 3", groupId: groupIn(3, 4) }]);
    const [held] = await live.messages(1);

    await evictDurableObject(partition(name, 0));
    const later = await sendBatch(name, [{ body: "in 1", groupId: groupIn(1, 4) }]);
    const [next] = await live.messages(1);
    await advance(name, 3, 31_000);
    expect(await runDurableObjectAlarm(partition(name, 3))).toBe(true);
    const [again] = await live.messages(1);

    expect(held!.id).toBe(sent[0]);
    expect(next!.id).toBe(later[0]);
    expect(again).toMatchObject({ id: sent[0], receiveCount: 2 });
    expect(partitionOfHandle(again!.receiptHandle)).toBe(3);
    expect(live.closed).toBeNull();
    live.close();
  });

  it("leaves messages taken for a socket that closed to come back by visibility", async () => {
    const name = await partitionedQueue(4, { visibilityTimeout: 30 });
    const live = await openLive(`/v1/queues/${name}/live`);
    await credit(live, 10);
    const sent = await sendBatch(name, [{ body: "in 2", groupId: groupIn(2, 4) }]);
    await live.messages(1);

    live.close();
    await live.waitClosed();
    await advance(name, 2, 31_000);
    expect(await runDurableObjectAlarm(partition(name, 2))).toBe(true);
    const [message] = (await api("POST", `/v1/queues/${name}/messages/receive`, { max: 10 })).body.messages;

    expect(message).toMatchObject({ id: sent[0], receiveCount: 2 });
  });

  it("shares the other partitions' messages between its sockets, each message to one of them", async () => {
    const name = await partitionedQueue(4);
    const first = await openLive(`/v1/queues/${name}/live`);
    const second = await openLive(`/v1/queues/${name}/live`);
    await credit(first, 100);
    await credit(second, 100);

    const sent = await sendBatch(name, Array.from({ length: 3 }, (_, index) => ({ body: `to 1: ${index}`, groupId: groupIn(1, 4) })));
    sent.push(...(await sendBatch(name, Array.from({ length: 3 }, (_, index) => ({ body: `to 2: ${index}`, groupId: groupIn(2, 4) })))));
    const pushed = (live: LiveClient) => live.frames.filter((frame) => frame.type === "messages").flatMap((frame) => frame.messages);
    await vi.waitFor(() => expect(pushed(first).length + pushed(second).length).toBe(sent.length));

    expect(pushed(first).length).toBeGreaterThan(0);
    expect(pushed(second).length).toBeGreaterThan(0);
    expect(ids([...pushed(first), ...pushed(second)])).toEqual([...sent].sort());
    first.close();
    second.close();
  });

  it("takes one message per partition at a time while long polls woken by the same report wait too", async () => {
    const name = await partitionedQueue(4);
    const live = await openLive(`/v1/queues/${name}/live`);
    await credit(live, 100);
    const longPoll = api("POST", `/v1/queues/${name}/messages/receive`, { max: 16, waitSeconds: 1 });
    await vi.waitFor(async () => expect(await runInDurableObject(partition(name, 0), (object) => object.partitions.waiting)).toBe(1));

    const sent = await sendBatch(name, Array.from({ length: 6 }, (_, index) => ({ body: `shared ${index}`, groupId: groupIn(2, 4) })));
    const polled = (await longPoll).body.messages as Frame[];
    const pushes: Frame[] = [];
    while (pushes.reduce((sum, push) => sum + push.messages.length, 0) < sent.length - polled.length) pushes.push(await live.take("messages"));

    expect(pushes.every((push) => push.messages.length === 1)).toBe(true);
    expect(ids([...polled, ...pushes.flatMap((push) => push.messages)])).toEqual([...sent].sort());
    live.close();
  });

  it("shares a partition's messages with long polls waiting on the queue: each message goes to one of them", async () => {
    const name = await partitionedQueue(4);
    const live = await openLive(`/v1/queues/${name}/live`);
    await credit(live, 100);
    const longPoll = api("POST", `/v1/queues/${name}/messages/receive`, { max: 16, waitSeconds: 1 });

    const sent = await fillEach(name, 4, 3);
    const polled = (await longPoll).body.messages as Frame[];
    const pushed = await live.messages(sent.length - polled.length);
    await pumpSettled(name);

    expect(ids([...polled, ...pushed])).toEqual([...sent].sort());
    expect(await countsOf(name)).toMatchObject({ active: 0, inactive: 12 });
    live.close();
  });
});
