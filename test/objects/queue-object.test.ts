import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors";
import {
  counts,
  countsAt,
  createQueue,
  expectError,
  expectOk,
  inQueue,
  peekAll,
  receive,
  receiveOne,
  sendBodies,
} from "./support";

describe("send, receive and delete", () => {
  it("delivers a sent message to a receiver and removes it on delete", async () => {
    const { stub } = await createQueue();
    const [id] = await sendBodies(stub, "hello");

    const message = await receiveOne(stub);
    const deleted = expectOk(await stub.deleteMessages([message.receiptHandle]));

    expect(message).toMatchObject({ id, body: "hello", receiveCount: 1 });
    expect(deleted).toEqual([{ receiptHandle: message.receiptHandle, deleted: true }]);
    expect(await counts(stub)).toMatchObject({ active: 0, inactive: 0, delayed: 0, total: 0 });
    expect(await receive(stub)).toEqual([]);
  });

  it("stores a batch of 16 messages and hands them out in order", async () => {
    const { stub } = await createQueue();
    const bodies = Array.from({ length: 16 }, (_, i) => `m${i}`);

    const ids = await sendBodies(stub, ...bodies);
    const received = await receive(stub, { max: 16 });

    expect(new Set(ids).size).toBe(16);
    expect(received.map((m) => m.body)).toEqual(bodies);
    expect(received.map((m) => m.id)).toEqual(ids);
  });

  it("holds a delayed message back until its delay has passed", async () => {
    const { stub } = await createQueue();
    const sentAt = Date.now();
    expectOk(await stub.send([{ body: "later", delaySeconds: 10 }]));

    const before = await receive(stub);
    const delayed = await counts(stub);
    const after = await inQueue(stub, (o) => o.engine.claim(1, undefined, sentAt + 11_000).value);

    expect(before).toEqual([]);
    expect(delayed).toMatchObject({ active: 0, delayed: 1, total: 1 });
    expect(after.map((m) => m.body)).toEqual(["later"]);
  });

  it("delays only the messages of a batch that ask for it", async () => {
    const { stub } = await createQueue();
    expectOk(await stub.send([{ body: "now" }, { body: "later", delaySeconds: 60 }]));

    const received = await receive(stub, { max: 2 });

    expect(received.map((m) => m.body)).toEqual(["now"]);
    expect(await counts(stub)).toMatchObject({ inactive: 1, delayed: 1, total: 2 });
  });

  it("delivers a message's tags with it", async () => {
    const { stub } = await createQueue();
    expectOk(await stub.send([{ body: "tagged", tags: ["red", "blue"] }, { body: "plain" }]));

    const received = await receive(stub, { max: 2 });

    expect(received.map((m) => [m.body, m.tags])).toEqual([
      ["tagged", ["red", "blue"]],
      ["plain", []],
    ]);
  });
});

describe("visibility", () => {
  it("hides a received message until its visibility deadline, then hands it out again", async () => {
    const { stub } = await createQueue({ visibilityTimeout: 30 });
    await sendBodies(stub, "m");
    const first = await receiveOne(stub);

    const justBefore = await inQueue(stub, (o) => o.engine.claim(1, undefined, first.nextVisibleAt - 1).value);
    const atDeadline = await inQueue(stub, (o) => o.engine.claim(1, undefined, first.nextVisibleAt).value);

    expect(first.nextVisibleAt - first.firstReceivedAt).toBe(30_000);
    expect(justBefore).toEqual([]);
    expect(atDeadline).toHaveLength(1);
    expect(atDeadline[0]).toMatchObject({ id: first.id, receiveCount: 2, firstReceivedAt: first.firstReceivedAt });
  });

  it("uses a receive's visibilityTimeout instead of the queue's default", async () => {
    const { stub } = await createQueue({ visibilityTimeout: 30 });
    await sendBodies(stub, "m");

    const message = await receiveOne(stub, 5);
    const again = await inQueue(stub, (o) => o.engine.claim(1, undefined, message.firstReceivedAt + 5_000).value);

    expect(message.nextVisibleAt - message.firstReceivedAt).toBe(5_000);
    expect(again.map((m) => m.id)).toEqual([message.id]);
  });

  it("extends a message's invisibility when its visibility is changed", async () => {
    const { stub } = await createQueue({ visibilityTimeout: 30 });
    await sendBodies(stub, "m");
    const message = await receiveOne(stub);

    const { nextVisibleAt } = expectOk(await stub.changeVisibility(message.receiptHandle, 120));
    const afterOldDeadline = await inQueue(stub, (o) => o.engine.claim(1, undefined, message.nextVisibleAt + 1).value);
    const afterNewDeadline = await inQueue(stub, (o) => o.engine.claim(1, undefined, nextVisibleAt).value);

    expect(nextVisibleAt).toBeGreaterThanOrEqual(message.firstReceivedAt + 120_000);
    expect(afterOldDeadline).toEqual([]);
    expect(afterNewDeadline.map((m) => m.id)).toEqual([message.id]);
  });

  it("makes a message visible at once when its visibility is changed to 0", async () => {
    const { stub } = await createQueue();
    await sendBodies(stub, "m");
    const message = await receiveOne(stub);

    expectOk(await stub.changeVisibility(message.receiptHandle, 0));
    const again = await receiveOne(stub);

    expect(again).toMatchObject({ id: message.id, receiveCount: 2 });
    expect(again.receiptHandle).not.toBe(message.receiptHandle);
  });

  it("refuses a handle superseded by a later receive of the same message", async () => {
    const { stub } = await createQueue({ visibilityTimeout: 30 });
    await sendBodies(stub, "m");
    const first = await receiveOne(stub);
    const [second] = await inQueue(stub, (o) => o.engine.claim(1, undefined, first.nextVisibleAt).value);
    const nowMs = first.nextVisibleAt + 1;

    const [stale, current] = await inQueue(stub, (o) => [
      o.engine.deleteMessages([first.receiptHandle], nowMs).value[0],
      o.engine.deleteMessages([second!.receiptHandle], nowMs).value[0],
    ]);

    expect(stale).toMatchObject({ deleted: false, error: { code: ErrorCode.ReceiptHandleInvalid } });
    expect(current).toMatchObject({ deleted: true });
  });

  it("refuses a handle whose visibility timeout has ended", async () => {
    const { stub } = await createQueue({ visibilityTimeout: 30 });
    await sendBodies(stub, "m");
    const message = await receiveOne(stub);

    const results = await inQueue(stub, (o) => o.engine.deleteMessages([message.receiptHandle], message.nextVisibleAt).value);
    const change = await inQueue(stub, (o) => {
      try {
        return o.engine.changeVisibility(message.receiptHandle, 10, message.nextVisibleAt).value;
      } catch (error) {
        return (error as { code: string }).code;
      }
    });

    expect(results[0]).toMatchObject({ deleted: false, error: { code: ErrorCode.ReceiptHandleInvalid } });
    expect(change).toBe(ErrorCode.ReceiptHandleInvalid);
  });

  it("refuses a handle issued by another queue", async () => {
    const a = await createQueue();
    const b = await createQueue();
    await sendBodies(a.stub, "a");
    await sendBodies(b.stub, "b");
    const fromA = await receiveOne(a.stub);
    await receiveOne(b.stub);

    const [result] = expectOk(await b.stub.deleteMessages([fromA.receiptHandle]));
    const change = await b.stub.changeVisibility(fromA.receiptHandle, 0);

    expect(result).toMatchObject({ deleted: false, error: { code: ErrorCode.ReceiptHandleInvalid } });
    expectError(change, ErrorCode.ReceiptHandleInvalid);
    expect(await counts(b.stub)).toMatchObject({ inactive: 1, total: 1 });
  });

  it("refuses a malformed handle", async () => {
    const { stub } = await createQueue();

    const [result] = expectOk(await stub.deleteMessages(["not-a-receipt-handle"]));
    const change = await stub.changeVisibility("zz", 0);

    expect(result).toMatchObject({ deleted: false, error: { code: ErrorCode.ReceiptHandleInvalid } });
    expectError(change, ErrorCode.ReceiptHandleInvalid);
  });

  it("deletes once when a batch names the same handle twice", async () => {
    const { stub } = await createQueue();
    await sendBodies(stub, "m");
    const { receiptHandle } = await receiveOne(stub);

    const results = expectOk(await stub.deleteMessages([receiptHandle, receiptHandle]));

    expect(results.map((r) => r.deleted)).toEqual([true, false]);
    expect(results[1]!.error?.code).toBe(ErrorCode.ReceiptHandleInvalid);
    expect(await counts(stub)).toMatchObject({ total: 0 });
  });
});

describe("counts", () => {
  it("counts a message as active, inactive, delayed and gone at each state", async () => {
    const { stub } = await createQueue({ visibilityTimeout: 30 });
    const sentAt = Date.now();
    expectOk(await stub.send([{ body: "a" }, { body: "d", delaySeconds: 60 }]));

    const afterSend = await counts(stub);
    const message = await receiveOne(stub);
    const afterReceive = await counts(stub);
    const afterVisibility = await countsAt(stub, message.nextVisibleAt);
    const afterDelay = await countsAt(stub, sentAt + 61_000);
    expectOk(await stub.deleteMessages([message.receiptHandle]));
    const afterDelete = await counts(stub);

    expect(afterSend).toMatchObject({ active: 1, inactive: 0, delayed: 1, total: 2 });
    expect(afterReceive).toMatchObject({ active: 0, inactive: 1, delayed: 1, total: 2 });
    expect(afterVisibility).toMatchObject({ active: 1, inactive: 0, delayed: 1, total: 2 });
    expect(afterDelay).toMatchObject({ active: 2, inactive: 0, delayed: 0, total: 2 });
    expect(afterDelete).toMatchObject({ active: 0, inactive: 0, delayed: 1, total: 1, rewindable: 0 });
  });
});

describe("parallel receivers", () => {
  it("never gives one message to two of 60 receivers, and gives every message once", async () => {
    const { stub } = await createQueue();
    const bodies = Array.from({ length: 100 }, (_, i) => `m${i}`);
    for (let i = 0; i < bodies.length; i += 16) await sendBodies(stub, ...bodies.slice(i, i + 16));

    const batches = await Promise.all(Array.from({ length: 60 }, () => receive(stub, { max: 2 })));
    const ids = batches.flat().map((m) => m.id);

    expect(ids).toHaveLength(100);
    expect(new Set(ids).size).toBe(100);
    expect(new Set(batches.flat().map((m) => m.body))).toEqual(new Set(bodies));
    expect((await peekAll(stub)).every((m) => m.state === "inactive" && m.receiveCount === 1)).toBe(true);
  });
});
