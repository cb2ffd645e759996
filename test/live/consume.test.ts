import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { inQueue, queueStub } from "../objects/support";
import { api, uniqueName } from "../support/http";
import { counts, createQueue, mintToken, openLive, sendBodies } from "./support";

/** Moves the queue object's clock `ms` ahead of real time. */
async function advanceClock(queue: string, ms: number): Promise<void> {
  await inQueue(queueStub(queue), (object) => {
    object.clock = { nowMs: () => Date.now() + ms };
  });
}

describe("consuming over a live socket", () => {
  it("pushes a message as a receive would receive it", async () => {
    const queue = await createQueue(uniqueName(), { visibilityTimeout: 30 });
    const [id] = await sendBodies(queue, "hello");
    const live = await openLive(`/v1/queues/${queue}/live`);

    live.send({ type: "credit", messages: 1 });
    const [message] = await live.messages(1);

    expect(message).toMatchObject({ id, body: "hello", receiveCount: 1, tags: [], attributes: {} });
    expect(message!.receiptHandle).toEqual(expect.any(String));
    expect(message!.nextVisibleAt - message!.firstReceivedAt).toBe(30_000);
    live.close();
  });

  it("hides pushed messages for the socket's visibilityTimeout", async () => {
    const queue = await createQueue(uniqueName(), { visibilityTimeout: 30 });
    await sendBodies(queue, "hello");
    const live = await openLive(`/v1/queues/${queue}/live?visibilityTimeout=5`);

    live.send({ type: "credit", messages: 1 });
    const [message] = await live.messages(1);

    expect(message!.nextVisibleAt - message!.firstReceivedAt).toBe(5_000);
    live.close();
  });

  it("pushes messages sent after the credit, until the credit is spent", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 2 });
    await live.take("credited");

    await sendBodies(queue, "one");
    await sendBodies(queue, "two", "three");

    expect((await live.messages(2)).map((m) => m.body)).toEqual(["one", "two"]);
    expect(await counts(queue)).toMatchObject({ active: 1, inactive: 2 });
    live.send({ type: "credit", messages: 5 });
    expect(await live.take("credited")).toMatchObject({ credit: 5 });
    expect((await live.messages(1)).map((m) => m.body)).toEqual(["three"]);
    live.close();
  });

  it("refuses credit past the most a socket may hold, keeping the credit it had", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 600 });
    await live.take("credited");

    live.send({ type: "credit", messages: 401 });
    const refused = await live.take("error");
    live.send({ type: "credit", messages: 400 });

    expect(refused.error).toMatchObject({ code: "InvalidParameter" });
    expect(refused.error.message).toContain("at most 1000");
    expect(await live.take("credited")).toMatchObject({ credit: 1000 });
    live.close();
  });

  it("acks by receipt handle, deleting the message", async () => {
    const queue = await createQueue(uniqueName());
    await sendBodies(queue, "done");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 1 });
    const [message] = await live.messages(1);

    const answer = await live.call({ type: "ack", id: "a1", receiptHandle: message!.receiptHandle });

    expect(answer).toEqual({ type: "acked", id: "a1" });
    expect(await counts(queue)).toMatchObject({ total: 0 });
    live.close();
  });

  it("answers an ack with a superseded or unknown receipt handle with ReceiptHandleInvalid, and goes on", async () => {
    const queue = await createQueue(uniqueName());
    await sendBodies(queue, "kept");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 2 });
    const [first] = await live.messages(1);
    await live.call({ type: "nack", id: "n1", receiptHandle: first!.receiptHandle });
    const [again] = await live.messages(1);

    const superseded = await live.call({ type: "ack", id: "a1", receiptHandle: first!.receiptHandle });
    const unknown = await live.call({ type: "ack", id: "a2", receiptHandle: "no-such-handle" });
    const current = await live.call({ type: "ack", id: "a3", receiptHandle: again!.receiptHandle });

    expect(superseded).toMatchObject({ type: "error", id: "a1", error: { code: "ReceiptHandleInvalid" } });
    expect(unknown).toMatchObject({ type: "error", id: "a2", error: { code: "ReceiptHandleInvalid" } });
    expect(current).toEqual({ type: "acked", id: "a3" });
    live.close();
  });

  it("nacks a message back to visible at once, pushing it again with its receive count", async () => {
    const queue = await createQueue(uniqueName());
    await sendBodies(queue, "retry me");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 2 });
    const [first] = await live.messages(1);

    const answer = await live.call({ type: "nack", id: "n1", receiptHandle: first!.receiptHandle });
    const [again] = await live.messages(1);

    expect(answer).toMatchObject({ type: "nacked", id: "n1", nextVisibleAt: expect.any(Number) });
    expect(again).toMatchObject({ id: first!.id, receiveCount: 2 });
    expect(again!.receiptHandle).not.toBe(first!.receiptHandle);
    live.close();
  });

  it("nacks with a delay: the message is hidden until then", async () => {
    const queue = await createQueue(uniqueName());
    await sendBodies(queue, "later");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 1 });
    const [message] = await live.messages(1);

    const answer = await live.call({ type: "nack", id: "n1", receiptHandle: message!.receiptHandle, delaySeconds: 60 });

    expect(answer.nextVisibleAt).toBeGreaterThanOrEqual(Date.now() + 59_000);
    expect(await counts(queue)).toMatchObject({ inactive: 1, active: 0 });
    live.close();
  });

  it("extends a message's visibility, and refuses a bad handle with the REST code", async () => {
    const queue = await createQueue(uniqueName(), { visibilityTimeout: 30 });
    await sendBodies(queue, "slow work");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 1 });
    const [message] = await live.messages(1);

    const extended = await live.call({ type: "extend", id: "e1", receiptHandle: message!.receiptHandle, visibilityTimeout: 600 });
    const refused = await live.call({ type: "extend", id: "e2", receiptHandle: "nope", visibilityTimeout: 600 });

    expect(extended.type).toBe("extended");
    expect(extended.nextVisibleAt - message!.nextVisibleAt).toBeGreaterThanOrEqual(570_000);
    expect(refused).toMatchObject({ type: "error", id: "e2", error: { code: "ReceiptHandleInvalid" } });
    live.close();
  });

  it("sends over the socket, answering the ids once stored", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);

    const answer = await live.call({ type: "send", id: "s1", messages: [{ body: "a", tags: ["x"] }, { body: "b", delaySeconds: 60 }] });

    expect(answer.type).toBe("sent");
    expect(answer.ids).toHaveLength(2);
    expect(await counts(queue)).toMatchObject({ active: 1, delayed: 1 });
    const peeked = (await api("GET", `/v1/queues/${queue}/messages`)).body.messages;
    expect(peeked.map((m: { id: string }) => m.id)).toEqual(answer.ids);
    live.close();
  });

  it("sends as a request does: a FIFO queue that deduplicates by content answers a repeated body with the first id, storing it once", async () => {
    const queue = await createQueue(`${uniqueName()}.fifo`, { fifo: true, contentBasedDeduplication: true });
    const live = await openLive(`/v1/queues/${queue}/live`);

    const first = await live.call({ type: "send", id: "s1", messages: [{ body: "same", groupId: "g" }] });
    const again = await live.call({ type: "send", id: "s2", messages: [{ body: "same", groupId: "g" }] });

    expect(first.type).toBe("sent");
    expect(again).toMatchObject({ type: "sent", ids: first.ids });
    expect(await counts(queue)).toMatchObject({ total: 1 });
    // The duplicate stored nothing, so the rates count one message sent.
    const { buckets } = (await api("GET", `/v1/queues/${queue}/rates`)).body;
    expect(buckets.reduce((sum: number, bucket: { sent: number }) => sum + bucket.sent, 0)).toBe(1);
    live.close();
  });

  it("counts a socket's sends, pushes and acks in the queue's rates, as a request's", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);

    await live.call({ type: "send", id: "s1", messages: [{ body: "a" }, { body: "b" }] });
    live.send({ type: "credit", messages: 1 });
    const [pushed] = (await live.take("messages")).messages;
    const acked = await live.call({ type: "ack", id: "a1", receiptHandle: pushed.receiptHandle });
    const rates = (await api("GET", `/v1/queues/${queue}/rates`)).body;
    const total = (name: string) => rates.buckets.reduce((sum: number, bucket: Record<string, number>) => sum + bucket[name]!, 0);

    expect(acked.type).toBe("acked");
    expect([total("sent"), total("received"), total("deleted")]).toEqual([2, 1, 1]);
    live.close();
  });

  it("stores frames sent back to back each on its own, in order: a refused one among them changes nothing of the others", async () => {
    const queue = await createQueue(uniqueName(), { maxMsgSize: 1024 });
    const live = await openLive(`/v1/queues/${queue}/live`);
    const bodies = Array.from({ length: 20 }, (_, index) => (index === 7 ? "x".repeat(2000) : `m${index}`));

    // Sent without waiting, so that they reach the object together.
    for (const [index, body] of bodies.entries()) live.send({ type: "send", id: `s${index}`, messages: [{ body }] });
    const answers = await Promise.all(bodies.map((_, index) => live.take(index === 7 ? "error" : "sent", `s${index}`)));
    const peeked = (await api("GET", `/v1/queues/${queue}/messages?limit=50`)).body.messages;

    expect(answers[7]).toMatchObject({ type: "error", id: "s7", error: { code: "MessageTooLarge" } });
    expect(peeked.map((message: { body: string }) => message.body)).toEqual(bodies.filter((_, index) => index !== 7));
    expect(peeked.map((message: { id: string }) => message.id)).toEqual(answers.filter((_, index) => index !== 7).map((answer) => answer.ids[0]));
    live.close();
  });

  it("deduplicates FIFO frames sent back to back by content, as separate requests would be", async () => {
    const queue = await createQueue(`${uniqueName()}.fifo`, { fifo: true, contentBasedDeduplication: true });
    const live = await openLive(`/v1/queues/${queue}/live`);

    for (const [index, body] of ["same", "other", "same"].entries()) live.send({ type: "send", id: `s${index}`, messages: [{ body, groupId: "g" }] });
    const [first, other, again] = await Promise.all([0, 1, 2].map((index) => live.take("sent", `s${index}`)));

    expect(again!.ids).toEqual(first!.ids);
    expect(other!.ids).not.toEqual(first!.ids);
    expect(await counts(queue)).toMatchObject({ total: 2 });
    live.close();
  });

  it("refuses a send over the queue's limits with the REST code, storing nothing", async () => {
    const queue = await createQueue(uniqueName(), { maxMsgSize: 1024 });
    const live = await openLive(`/v1/queues/${queue}/live`);

    const answer = await live.call({ type: "send", id: "s1", messages: [{ body: "ok" }, { body: "x".repeat(2000) }] });

    expect(answer).toMatchObject({ type: "error", id: "s1", error: { code: "MessageTooLarge" } });
    expect(await counts(queue)).toMatchObject({ total: 0 });
    live.close();
  });

  it("loses nothing when a socket closes with messages in flight: they come back when their visibility ends", async () => {
    const queue = await createQueue(uniqueName(), { visibilityTimeout: 30 });
    await sendBodies(queue, "in flight 1", "in flight 2");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 2 });
    await live.messages(2);

    live.close();
    await live.waitClosed();
    const hidden = await counts(queue);
    await advanceClock(queue, 31_000);
    const back = await inQueue(queueStub(queue), (object) => object.receive({ max: 10, waitSeconds: 0, visibilityTimeout: undefined }));

    expect(hidden).toMatchObject({ inactive: 2, active: 0 });
    expect(back.ok && back.value.map((m) => [m.body, m.receiveCount])).toEqual([
      ["in flight 1", 2],
      ["in flight 2", 2],
    ]);
  });

  it("pushes a message whose visibility ended, woken by the alarm", async () => {
    const queue = await createQueue(uniqueName(), { visibilityTimeout: 30 });
    await sendBodies(queue, "comes back");
    const live = await openLive(`/v1/queues/${queue}/live`);
    live.send({ type: "credit", messages: 2 });
    await live.messages(1);

    await advanceClock(queue, 31_000);
    expect(await runDurableObjectAlarm(queueStub(queue))).toBe(true);

    expect(await live.messages(1)).toMatchObject([{ body: "comes back", receiveCount: 2 }]);
    live.close();
  });

  it("closes its sockets with 4404 when the queue is deleted", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);

    expect((await api("DELETE", `/v1/queues/${queue}`)).status).toBe(204);

    expect(await live.waitClosed()).toMatchObject({ code: 4404 });
  });

  it("closes with 1008 at the first frame after the token expired", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`, { token: await mintToken(["receive"], [`queue:${queue}`], 60) });

    await advanceClock(queue, 61_000);
    live.send({ type: "credit", messages: 1 });

    expect(await live.waitClosed()).toMatchObject({ code: 1008, reason: "credential expired" });
  });
});
