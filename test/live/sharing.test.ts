import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectParked, inQueue, queueStub } from "../objects/support";
import { api, uniqueName } from "../support/http";
import { counts, createQueue, openLive, sendBodies } from "./support";

describe("live sockets sharing a queue", () => {
  it("take turns: two sockets with credit get one message each in turn", async () => {
    const queue = await createQueue(uniqueName());
    const first = await openLive(`/v1/queues/${queue}/live`);
    const second = await openLive(`/v1/queues/${queue}/live`);
    first.send({ type: "credit", messages: 10 });
    await first.take("credited");
    second.send({ type: "credit", messages: 10 });
    await second.take("credited");

    await sendBodies(queue, "m1", "m2", "m3", "m4");

    const toFirst = await first.messages(2);
    const toSecond = await second.messages(2);
    expect(toFirst.map((m) => m.body)).toEqual(["m1", "m3"]);
    expect(toSecond.map((m) => m.body)).toEqual(["m2", "m4"]);
    first.close();
    second.close();
  });

  it("push a batch to a socket that waits alone", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 10 });
    await live.take("credited");

    await sendBodies(queue, "m1", "m2", "m3");

    expect((await live.take("messages")).messages.map((m: { body: string }) => m.body)).toEqual(["m1", "m2", "m3"]);
    live.close();
  });

  it("share with a long poll and an RPC receiver in the order they started waiting", async () => {
    const queue = await createQueue(uniqueName());
    const stub = queueStub(queue);
    const longPoll = api("POST", `/v1/queues/${queue}/messages/receive`, { waitSeconds: 20 });
    await expectParked(stub, 1);
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 5 });
    await live.take("credited");
    const rpc = stub.receive({ max: 1, waitSeconds: 20, visibilityTimeout: undefined });
    await expectParked(stub, 3);

    await sendBodies(queue, "m1", "m2", "m3", "m4");

    expect((await longPoll).body.messages.map((m: { body: string }) => m.body)).toEqual(["m1"]);
    const rpcAnswer = await rpc;
    expect(rpcAnswer.ok && rpcAnswer.value.map((m) => m.body)).toEqual(["m3"]);
    expect((await live.messages(2)).map((m) => m.body)).toEqual(["m2", "m4"]);
    live.close();
  });

  it("leaves nothing to a socket without credit: a long poll gets the message", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);
    const longPoll = api("POST", `/v1/queues/${queue}/messages/receive`, { waitSeconds: 20 });
    await expectParked(queueStub(queue), 1);

    await sendBodies(queue, "only one");

    expect((await longPoll).body.messages.map((m: { body: string }) => m.body)).toEqual(["only one"]);
    expect(live.frames.filter((frame) => frame.type === "messages")).toEqual([]);
    live.close();
  });

  it("keep a socket and its credit across the object's eviction, and push after it wakes", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 3 });
    await live.take("credited");
    await inQueue(queueStub(queue), (object) => {
      (object as unknown as { marker: boolean }).marker = true;
    });

    await evictDurableObject(queueStub(queue));
    const evicted = await inQueue(queueStub(queue), (object) => (object as unknown as { marker?: boolean }).marker === undefined);
    await sendBodies(queue, "after eviction 1", "after eviction 2");

    expect(evicted).toBe(true);
    expect((await live.messages(2)).map((m) => m.body)).toEqual(["after eviction 1", "after eviction 2"]);
    live.send({ type: "credit", messages: 1 });
    expect(await live.take("credited")).toMatchObject({ credit: 2 });
    live.close();
  });

  it("arm the alarm across an eviction for a message that becomes visible while a socket has credit", async () => {
    const queue = await createQueue(uniqueName(), { visibilityTimeout: 30 });
    await sendBodies(queue, "hidden for a while");
    await api("POST", `/v1/queues/${queue}/messages/receive`, {});
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 1 });
    await live.take("credited");

    await evictDurableObject(queueStub(queue));
    const alarmAtMs = await inQueue(queueStub(queue), async (object, state) => {
      object.clock = { nowMs: () => Date.now() + 31_000 };
      return state.storage.getAlarm();
    });
    expect(await runDurableObjectAlarm(queueStub(queue))).toBe(true);

    expect(alarmAtMs).not.toBeNull();
    expect(await live.messages(1)).toMatchObject([{ body: "hidden for a while", receiveCount: 2 }]);
    live.close();
  });

  it("handle frames on a socket that hibernated through an eviction", async () => {
    const queue = await createQueue(uniqueName());
    await sendBodies(queue, "before");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 1 });
    const [message] = await live.messages(1);

    await evictDurableObject(queueStub(queue));
    const answer = await live.call({ type: "ack", id: "a1", receiptHandle: message!.receiptHandle });

    expect(answer).toEqual({ type: "acked", id: "a1" });
    expect(await counts(queue)).toMatchObject({ total: 0 });
    live.close();
  });

  it("see a purge as every receiver does: handles of purged messages are refused", async () => {
    const queue = await createQueue(uniqueName());
    await sendBodies(queue, "purged");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 1 });
    const [message] = await live.messages(1);

    expect((await api("POST", `/v1/queues/${queue}/purge`)).status).toBe(200);
    const answer = await live.call({ type: "ack", id: "a1", receiptHandle: message!.receiptHandle });

    expect(answer).toMatchObject({ type: "error", error: { code: "ReceiptHandleInvalid" } });
    live.close();
  });

  it("get rewound messages pushed again", async () => {
    const queue = await createQueue(uniqueName(), { rewindSeconds: 3600 });
    const since = Date.now() - 1000;
    await sendBodies(queue, "again");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 2 });
    const [first] = await live.messages(1);
    await live.call({ type: "ack", id: "a1", receiptHandle: first!.receiptHandle });

    expect((await api("POST", `/v1/queues/${queue}/rewind`, { since })).status).toBe(200);

    expect(await live.messages(1)).toMatchObject([{ body: "again", id: first!.id }]);
    live.close();
  });

  it("send a nacked message at its last receive to the dead-letter queue, not back to the socket", async () => {
    const deadLetter = await createQueue(uniqueName("dlq"));
    const queue = await createQueue(uniqueName(), { deadLetter: { queue: deadLetter, maxReceiveCount: 1 } });
    await sendBodies(queue, "poison");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 2 });
    const [message] = await live.messages(1);

    await live.call({ type: "nack", id: "n1", receiptHandle: message!.receiptHandle });
    await runDurableObjectAlarm(queueStub(queue));

    expect(await counts(deadLetter)).toMatchObject({ total: 1 });
    expect(await counts(queue)).toMatchObject({ total: 0 });
    expect(live.frames.filter((frame) => frame.type === "messages")).toEqual([]);
    live.close();
  });
});
