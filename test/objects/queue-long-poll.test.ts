import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  counts,
  createQueue,
  expectOk,
  expectParked,
  inQueue,
  peekAll,
  queueStub,
  receive,
  receiveOne,
  sendBodies,
} from "./support";

describe("long polling", () => {
  it("answers a parked receive with a message sent while it waits", async () => {
    const { stub } = await createQueue();
    const pending = receive(stub, { waitSeconds: 20 });
    await expectParked(stub, 1);

    await sendBodies(stub, "wake");

    expect((await pending).map((m) => m.body)).toEqual(["wake"]);
    await expectParked(stub, 0);
  });

  it("hides the message a parked receive gets for that receive's visibilityTimeout", async () => {
    const { stub } = await createQueue({ visibilityTimeout: 30 });
    const pending = stub.receive({ max: 1, waitSeconds: 20, visibilityTimeout: 7 });
    await expectParked(stub, 1);

    await sendBodies(stub, "wake");

    const [message] = expectOk(await pending);
    expect(message!.nextVisibleAt - message!.firstReceivedAt).toBe(7_000);
  });

  it("answers parked receives oldest first, one message each", async () => {
    const { stub } = await createQueue();
    const first = receive(stub, { waitSeconds: 20, max: 5 });
    const second = receive(stub, { waitSeconds: 20, max: 5 });
    await expectParked(stub, 2);

    await sendBodies(stub, "one");
    await sendBodies(stub, "two");

    expect((await first).map((m) => m.body)).toEqual(["one"]);
    expect((await second).map((m) => m.body)).toEqual(["two"]);
  });

  it("answers a parked receive when a message's visibility is changed to 0", async () => {
    const { stub } = await createQueue();
    await sendBodies(stub, "m");
    const held = await receiveOne(stub);
    const pending = receive(stub, { waitSeconds: 20 });
    await expectParked(stub, 1);

    expectOk(await stub.changeVisibility(held.receiptHandle, 0));

    const [again] = await pending;
    expect(again).toMatchObject({ id: held.id, receiveCount: 2 });
  });

  it("answers a parked receive with messages a rewind brings back", async () => {
    const { stub } = await createQueue({ rewindSeconds: 3_600 });
    const since = Date.now();
    await sendBodies(stub, "replayed");
    const message = await receiveOne(stub);
    expectOk(await stub.deleteMessages([message.receiptHandle]));
    const pending = receive(stub, { waitSeconds: 20 });
    await expectParked(stub, 1);

    expect(expectOk(await stub.rewind(since))).toEqual({ rewound: 1 });

    const [again] = await pending;
    expect(again).toMatchObject({ id: message.id, body: "replayed", receiveCount: 1 });
  });

  it("answers a parked receive from the alarm when a delayed message becomes visible", async () => {
    const { stub } = await createQueue();
    expectOk(await stub.send([{ body: "delayed", delaySeconds: 1 }]));
    const pending = receive(stub, { waitSeconds: 20 });
    await expectParked(stub, 1);

    await inQueue(stub, (o) => o.runDue(Date.now() + 2_000));

    expect((await pending).map((m) => m.body)).toEqual(["delayed"]);
  });

  it("returns an empty list when nothing arrives within the wait", async () => {
    const { stub } = await createQueue();
    const startedAt = Date.now();

    const messages = await receive(stub, { waitSeconds: 1 });

    expect(messages).toEqual([]);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
    await expectParked(stub, 0);
  });

  it("keeps messages and attributes when the object is aborted under a parked receive", async () => {
    const { name, stub } = await createQueue({ visibilityTimeout: 45, maxMsgSize: 2_048, rewindSeconds: 60 });
    await sendBodies(stub, "kept");
    const held = await receiveOne(stub);
    const pending = receive(stub, { waitSeconds: 20 });
    const settled = pending.then(
      () => "resolved",
      () => "rejected",
    );
    await expectParked(stub, 1);

    await abortAllDurableObjects();
    const restarted = queueStub(name);
    const info = expectOk(await restarted.getInfo());
    const deleted = expectOk(await restarted.deleteMessages([held.receiptHandle]));

    expect(await settled).toBe("rejected");
    expect(info).toMatchObject({ name, visibilityTimeout: 45, maxMsgSize: 2_048, rewindSeconds: 60 });
    expect(info.counts).toMatchObject({ inactive: 1, total: 1 });
    expect(deleted[0]).toMatchObject({ deleted: true });
    await expectParked(restarted, 0);
  });

  it("accepts a delete with a handle issued before the object was evicted", async () => {
    const { name, stub } = await createQueue();
    await sendBodies(stub, "first", "second");
    const message = await receiveOne(stub);

    await evictDurableObject(stub);
    const restarted = queueStub(name);
    const deleted = expectOk(await restarted.deleteMessages([message.receiptHandle]));

    expect(deleted[0]).toMatchObject({ deleted: true });
    expect(await counts(restarted)).toMatchObject({ active: 1, inactive: 0, total: 1 });
    expect((await peekAll(restarted)).map((m) => m.body)).toEqual(["second"]);
  });
});
