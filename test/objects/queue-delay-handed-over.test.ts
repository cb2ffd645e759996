import { describe, expect, it } from "vitest";
import { createTopic, drained, queues, topics, uniqueName } from "../support/topics";
import { countsAt, createQueue, expectOk, inQueue, peekAll } from "./support";

const handedOver = (id: string, delayed?: boolean) => ({
  idempotencyKey: `test:${id}`,
  id,
  body: `body of ${id}`,
  tags: [],
  sourceQueue: null,
  ...(delayed !== undefined && { delayed }),
});

/**
 * A topic's delivery is a send that names no delay, so the queue's delaySeconds holds it back, as
 * SQS does for messages from SNS; a dead-letter move or a redrive is not delayed a second time.
 */
describe("queue-level delay on handed-over messages", () => {
  it("holds back a topic's delivery for the queue's delaySeconds", async () => {
    const { stub } = await createQueue({ delaySeconds: 90 });

    expectOk(await stub.accept([handedOver("m-topic", true)]));

    const [message] = await peekAll(stub);
    expect(message!.state).toBe("delayed");
    expect(message!.nextVisibleAt - message!.enqueuedAt).toBe(90_000);
    expect(await countsAt(stub, message!.enqueuedAt + 89_000)).toMatchObject({ delayed: 1, active: 0 });
    const claimed = await inQueue(stub, (object) => object.engine.claim(1, undefined, message!.nextVisibleAt).value);
    expect(claimed.map((received) => received.id)).toEqual(["m-topic"]);
  });

  it("stores a move between queues visible at once, whatever the queue's delay", async () => {
    const { stub } = await createQueue({ delaySeconds: 90 });

    expectOk(await stub.accept([handedOver("m-move"), handedOver("m-move-explicit", false)]));

    const stored = await peekAll(stub);
    expect(stored.map((message) => [message.id, message.state])).toEqual([
      ["m-move", "active"],
      ["m-move-explicit", "active"],
    ]);
  });

  it("a queue without a delay gets a topic's delivery visible at once", async () => {
    const { stub } = await createQueue();

    expectOk(await stub.accept([handedOver("m-now", true)]));

    expect((await peekAll(stub)).map((message) => message.state)).toEqual(["active"]);
  });

  it("a topic subscription delivers into a delayed queue as delayed", async () => {
    const topic = await createTopic();
    const queue = uniqueName("dq");
    await queues.createQueue(queue, { delaySeconds: 45 });
    await topics.subscribe(topic, "delayed", { protocol: "queue", endpoint: queue });

    const [id] = await topics.publish(topic, [{ body: "fanned out" }]);
    await drained(topic);

    const { messages } = await queues.peek(queue, { limit: 10 });
    expect(messages).toEqual([expect.objectContaining({ id, state: "delayed" })]);
    expect(messages[0]!.nextVisibleAt - messages[0]!.enqueuedAt).toBe(45_000);
  });
});
