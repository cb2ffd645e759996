import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors";
import { defaultQueueAttributes } from "../../src/objects/queue/attributes";
import {
  Prefix,
  counts,
  createQueue,
  expectError,
  expectOk,
  inQueue,
  peekAll,
  queueStub,
  receive,
  receiveOne,
  sendBodies,
  uniqueName,
} from "./support";

describe("purge", () => {
  it("removes every message, whatever its state", async () => {
    const { stub } = await createQueue();
    expectOk(await stub.send([{ body: "a" }, { body: "b" }, { body: "c", delaySeconds: 60 }]));
    const held = await receiveOne(stub);

    const result = expectOk(await stub.purge());

    expect(result).toEqual({ purged: 3 });
    expect(await counts(stub)).toMatchObject({ active: 0, inactive: 0, delayed: 0, total: 0 });
    expect(expectOk(await stub.deleteMessages([held.receiptHandle]))[0]).toMatchObject({ deleted: false });
  });

  it("frees the room it held under maxMsgHeapNum", async () => {
    const { stub } = await createQueue({ maxMsgHeapNum: 2 });
    await sendBodies(stub, "a", "b");

    expectOk(await stub.purge());

    expect((await stub.send([{ body: "c" }, { body: "d" }])).ok).toBe(true);
  });
});

describe("peek", () => {
  it("shows messages without receiving them", async () => {
    const { stub } = await createQueue();
    await sendBodies(stub, "a", "b");

    const peeked = await peekAll(stub);
    const received = await receive(stub, { max: 2 });

    expect(peeked.map((m) => [m.body, m.state, m.receiveCount])).toEqual([
      ["a", "active", 0],
      ["b", "active", 0],
    ]);
    expect(peeked[0]).not.toHaveProperty("receiptHandle");
    expect(received.map((m) => m.receiveCount)).toEqual([1, 1]);
  });

  it("shows each message's state", async () => {
    const { stub } = await createQueue({ rewindSeconds: 60 });
    expectOk(await stub.send([{ body: "inactive" }, { body: "deleted" }, { body: "active" }]));
    expectOk(await stub.send([{ body: "delayed", delaySeconds: 60 }]));
    const [inactive, deleted] = await receive(stub, { max: 2 });
    expectOk(await stub.deleteMessages([deleted!.receiptHandle]));

    const peeked = await peekAll(stub);

    expect(peeked.map((m) => [m.body, m.state])).toEqual([
      ["inactive", "inactive"],
      ["active", "active"],
      ["delayed", "delayed"],
    ]);
    expect(peeked[0]).toMatchObject({ receiveCount: 1, firstReceivedAt: inactive!.firstReceivedAt });
  });

  it("pages through messages with its cursor", async () => {
    const { stub } = await createQueue();
    await sendBodies(stub, "m0", "m1", "m2", "m3", "m4");

    const first = expectOk(await stub.peek(2, 0));
    const second = expectOk(await stub.peek(2, Number(first.nextCursor)));
    const third = expectOk(await stub.peek(2, Number(second.nextCursor)));

    expect(first.messages.map((m) => m.body)).toEqual(["m0", "m1"]);
    expect(second.messages.map((m) => m.body)).toEqual(["m2", "m3"]);
    expect(third.messages.map((m) => m.body)).toEqual(["m4"]);
    expect(third.nextCursor).toBeNull();
  });

  it("gives no cursor when the page holds the last message", async () => {
    const { stub } = await createQueue();
    await sendBodies(stub, "m0", "m1");

    const page = expectOk(await stub.peek(2, 0));

    expect(page.messages).toHaveLength(2);
    expect(page.nextCursor).toBeNull();
  });
});

describe("limits", () => {
  it("refuses a send beyond maxMsgHeapNum with QueueFull", async () => {
    const { stub } = await createQueue({ maxMsgHeapNum: 3 });
    await sendBodies(stub, "a", "b");

    const tooMany = await stub.send([{ body: "c" }, { body: "d" }]);
    const fits = await stub.send([{ body: "c" }]);
    const full = await stub.send([{ body: "d" }]);

    expectError(tooMany, ErrorCode.QueueFull);
    expect(fits.ok).toBe(true);
    expectError(full, ErrorCode.QueueFull);
    expect(await counts(stub)).toMatchObject({ total: 3 });
  });

  it("counts received messages against maxMsgHeapNum until they are deleted", async () => {
    const { stub } = await createQueue({ maxMsgHeapNum: 1 });
    await sendBodies(stub, "a");
    const message = await receiveOne(stub);

    const whileHeld = await stub.send([{ body: "b" }]);
    expectOk(await stub.deleteMessages([message.receiptHandle]));
    const afterDelete = await stub.send([{ body: "b" }]);

    expectError(whileHeld, ErrorCode.QueueFull);
    expect(afterDelete.ok).toBe(true);
  });

  it("still enforces maxMsgHeapNum after the object restarts", async () => {
    const { name, stub } = await createQueue({ maxMsgHeapNum: 1 });
    await sendBodies(stub, "a");

    await abortAllDurableObjects();
    const result = await queueStub(name).send([{ body: "b" }]);

    expectError(result, ErrorCode.QueueFull);
  });

  it("accepts a body of exactly maxMsgSize bytes", async () => {
    const { stub } = await createQueue({ maxMsgSize: 1_024 });

    const result = await stub.send([{ body: "a".repeat(1_024) }]);

    expect(result.ok).toBe(true);
  });

  it("refuses a body one byte over maxMsgSize with MessageTooLarge", async () => {
    const { stub } = await createQueue({ maxMsgSize: 1_024 });

    const result = await stub.send([{ body: "a".repeat(1_025) }]);

    expectError(result, ErrorCode.MessageTooLarge);
    expect(await counts(stub)).toMatchObject({ total: 0 });
  });

  it("counts a body's size in UTF-8 bytes, not characters", async () => {
    const { stub } = await createQueue({ maxMsgSize: 1_024 });
    const twoByte = "é".repeat(512);

    const exact = await stub.send([{ body: twoByte }]);
    const over = await stub.send([{ body: `${twoByte}a` }]);
    const threeByte = await stub.send([{ body: "€".repeat(342) }]);

    expect(exact.ok).toBe(true);
    expectError(over, ErrorCode.MessageTooLarge);
    expectError(threeByte, ErrorCode.MessageTooLarge);
  });

  it("refuses a whole batch when one of its messages is too large", async () => {
    const { stub } = await createQueue({ maxMsgSize: 1_024 });

    const result = await stub.send([{ body: "fine" }, { body: "a".repeat(1_025) }]);

    expectError(result, ErrorCode.MessageTooLarge);
    expect(await counts(stub)).toMatchObject({ total: 0 });
  });
});

describe("create and destroy", () => {
  it("confirms an identical queue without creating it again", async () => {
    const { name, stub } = await createQueue({ visibilityTimeout: 60 });
    await sendBodies(stub, "kept");

    const again = expectOk(await stub.create(name, Prefix, defaultQueueAttributes({ visibilityTimeout: 60 })));

    expect(again.created).toBe(false);
    expect(again.queue.counts).toMatchObject({ total: 1 });
  });

  it("refuses a queue of the same name with different attributes", async () => {
    const { name, stub } = await createQueue({ visibilityTimeout: 60 });

    const result = await stub.create(name, Prefix, defaultQueueAttributes({ visibilityTimeout: 61 }));

    expectError(result, ErrorCode.QueueAlreadyExists);
    expect(expectOk(await stub.getInfo()).visibilityTimeout).toBe(60);
  });

  it("answers QueueNotFound for a queue never created", async () => {
    const stub = queueStub(uniqueName("missing"));

    expectError(await stub.getInfo(), ErrorCode.QueueNotFound);
    expectError(await stub.send([{ body: "m" }]), ErrorCode.QueueNotFound);
    expectError(await stub.receive({ max: 1, waitSeconds: 0, visibilityTimeout: undefined }), ErrorCode.QueueNotFound);
  });

  it("frees the queue's storage when destroyed", async () => {
    const { stub } = await createQueue({ rewindSeconds: 60 });
    await sendBodies(stub, "a", "b");
    expectOk(await stub.deleteMessages([(await receiveOne(stub)).receiptHandle]));

    const result = expectOk(await stub.destroy());
    const stored = await inQueue(stub, async (o, state) => ({
      messages: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n,
      meta: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue_meta").one().n,
      alarm: await state.storage.getAlarm(),
    }));

    expect(result).toEqual({ existed: true });
    expectError(await stub.getInfo(), ErrorCode.QueueNotFound);
    expect(stored).toEqual({ messages: 0, meta: 0, alarm: null });
  });

  it("starts empty when created again after being destroyed", async () => {
    const { name, stub } = await createQueue({ maxMsgHeapNum: 2 });
    await sendBodies(stub, "a", "b");
    expectOk(await stub.destroy());

    const created = expectOk(await stub.create(name, Prefix, defaultQueueAttributes({ maxMsgHeapNum: 2 })));
    const sent = await stub.send([{ body: "c" }, { body: "d" }]);

    expect(created.created).toBe(true);
    expect(created.queue.counts).toMatchObject({ total: 0, rewindable: 0 });
    expect(sent.ok).toBe(true);
    expect((await peekAll(stub)).map((m) => m.body)).toEqual(["c", "d"]);
  });

  it("answers a parked receive with QueueNotFound when the queue is destroyed", async () => {
    const { stub } = await createQueue();
    const pending = stub.receive({ max: 1, waitSeconds: 20, visibilityTimeout: undefined });
    await stub.getInfo();

    expectOk(await stub.destroy());

    expectError(await pending, ErrorCode.QueueNotFound);
  });

  it("reports existed false when destroying a queue that does not exist", async () => {
    const stub = queueStub(uniqueName("missing"));

    expect(expectOk(await stub.destroy())).toEqual({ existed: false });
  });
});
