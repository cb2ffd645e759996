import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { countsAt, createQueue, expectError, expectOk, inQueue, peekAll, queueStub, receive, sendBodies } from "./support";

/**
 * A queue's delaySeconds (SQS DelaySeconds) holds back every message sent without a delay of its
 * own; a message's own delay, 0 included, wins.
 */
describe("queue-level delay", () => {
  it("holds a message sent without a delay for the queue's delaySeconds", async () => {
    const { stub } = await createQueue({ delaySeconds: 120 });
    const before = Date.now();

    await sendBodies(stub, "later");

    const [message] = await peekAll(stub);
    expect(message!.state).toBe("delayed");
    expect(message!.nextVisibleAt - message!.enqueuedAt).toBe(120_000);
    expect(await receive(stub)).toEqual([]);
    expect(await countsAt(stub, before + 119_000)).toMatchObject({ delayed: 1, active: 0 });
    expect(await countsAt(stub, message!.enqueuedAt + 120_000)).toMatchObject({ delayed: 0, active: 1 });
  });

  it("lets a message's own delay of 0 win over the queue's", async () => {
    const { stub } = await createQueue({ delaySeconds: 300 });

    expectOk(await stub.send([{ body: "now", delaySeconds: 0 }]));

    expect((await receive(stub)).map((message) => message.body)).toEqual(["now"]);
  });

  it("lets a message's own delay win when it is longer or shorter than the queue's", async () => {
    const { stub } = await createQueue({ delaySeconds: 60 });

    expectOk(await stub.send([{ body: "short", delaySeconds: 5 }, { body: "long", delaySeconds: 600 }, { body: "queue's" }]));

    const delays = Object.fromEntries((await peekAll(stub)).map((message) => [message.body, (message.nextVisibleAt - message.enqueuedAt) / 1000]));
    expect(delays).toEqual({ short: 5, long: 600, "queue's": 60 });
  });

  it("applies a changed delay to messages sent afterwards, not to those already stored", async () => {
    const { stub } = await createQueue();
    await sendBodies(stub, "before");

    const info = expectOk(await stub.updateAttributes({ delaySeconds: 30 }));
    await sendBodies(stub, "after");

    expect(info.delaySeconds).toBe(30);
    const delays = Object.fromEntries((await peekAll(stub)).map((message) => [message.body, (message.nextVisibleAt - message.enqueuedAt) / 1000]));
    expect(delays).toEqual({ before: 0, after: 30 });
  });

  it("hands the message to a receiver once the queue's delay ends", async () => {
    const { stub } = await createQueue({ delaySeconds: 10 });
    const [id] = await sendBodies(stub, "delayed");
    const visibleAtMs = (await peekAll(stub))[0]!.nextVisibleAt;

    const claimed = await inQueue(stub, (object) => object.engine.claim(1, undefined, visibleAtMs).value);

    expect(claimed.map((message) => message.id)).toEqual([id]);
  });

  it("refuses a queue delay longer than retention allows, and keeps the queue unchanged", async () => {
    const { stub } = await createQueue({ msgRetentionSeconds: 600 });

    const refused = await stub.updateAttributes({ delaySeconds: 541 });
    const accepted = await stub.updateAttributes({ delaySeconds: 540 });
    const shortened = await stub.updateAttributes({ msgRetentionSeconds: 599 });

    expectError(refused, "InvalidParameter");
    expect(expectOk(accepted).delaySeconds).toBe(540);
    expectError(shortened, "InvalidParameter");
    expect(expectOk(await stub.getInfo())).toMatchObject({ delaySeconds: 540, msgRetentionSeconds: 600 });
  });

  it("defaults to 0 for a queue stored before the attribute existed", async () => {
    const { name, stub } = await createQueue();
    await inQueue(stub, (_object, state) => {
      const stored = JSON.parse(state.storage.sql.exec<{ attributes: string }>("SELECT attributes FROM queue_meta").one().attributes);
      delete stored.delaySeconds;
      delete stored.tags;
      delete stored.redriveAllow;
      state.storage.sql.exec("UPDATE queue_meta SET attributes = ?", JSON.stringify(stored));
    });
    // A restarted object reads its attributes from storage.
    await abortAllDurableObjects();

    const info = expectOk(await queueStub(name).getInfo());
    await sendBodies(queueStub(name), "at once");

    expect(info).toMatchObject({ delaySeconds: 0, tags: {}, redriveAllow: { permission: "allowAll" } });
    expect((await receive(queueStub(name))).map((message) => message.body)).toEqual(["at once"]);
  });
});
