import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { createQueue, expectError, expectStatus, peekAll, sleep, snapshot } from "./helpers";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const send = (queue: string, body: unknown) => api("POST", `/v1/queues/${queue}/messages`, body);
const receive = (queue: string, body?: unknown) => api("POST", `/v1/queues/${queue}/messages/receive`, body);
const counts = async (queue: string) => ((await snapshot(queue)) as any).counts;

describe("send", () => {
  it("sends one message and answers its id", async () => {
    const queue = await createQueue(uniqueName("msg"));
    const sent = await send(queue, { body: "hello", tags: ["a", "b"] });
    expectStatus(sent, 200);
    expect(sent.body).toEqual({ id: expect.stringMatching(uuid) });
    expect(await counts(queue)).toMatchObject({ active: 1, total: 1 });
    const [peeked] = await peekAll(queue);
    expect(peeked).toMatchObject({ id: sent.body.id, body: "hello", tags: ["a", "b"], state: "active", receiveCount: 0 });
  });

  it("sends a batch of 16 and answers 16 distinct ids in order", async () => {
    const queue = await createQueue(uniqueName("msg"));
    const messages = Array.from({ length: 16 }, (_, i) => ({ body: `m${i}` }));
    const sent = await send(queue, { messages });
    expectStatus(sent, 200);
    expect(sent.body.messages).toHaveLength(16);
    const ids = sent.body.messages.map((m: { id: string }) => m.id);
    expect(new Set(ids).size).toBe(16);
    const received = await receive(queue, { max: 16 });
    expect(received.body.messages.map((m: any) => [m.id, m.body])).toEqual(ids.map((id: string, i: number) => [id, `m${i}`]));
  });

  it.each([
    ["17 messages", { messages: Array.from({ length: 17 }, (_, i) => ({ body: `m${i}` })) }, "at most 16"],
    ["an empty batch", { messages: [] }, "at least 1"],
    ["a batch with a bad message", { messages: [{ body: "ok" }, { body: "" }] }, "messages.1.body"],
    ["a batch with an unknown field", { messages: [{ body: "ok" }], delaySeconds: 1 }, "body"],
    ["messages not an array", { messages: { body: "x" } }, "body"],
    ["no body", {}, "body"],
    ["an empty body", { body: "" }, "at least 1"],
    ["a numeric body", { body: 42 }, "body"],
    ["a null body", { body: null }, "body"],
    ["an object body", { body: { text: "x" } }, "body"],
    ["an unknown field", { body: "x", priority: 1 }, "priority"],
    ["delaySeconds -1", { body: "x", delaySeconds: -1 }, "delaySeconds"],
    ["delaySeconds 1.5", { body: "x", delaySeconds: 1.5 }, "delaySeconds"],
    ["delaySeconds 1296001", { body: "x", delaySeconds: 1_296_001 }, "delaySeconds"],
    ["delaySeconds as string", { body: "x", delaySeconds: "1" }, "delaySeconds"],
    ["17 tags", { body: "x", tags: Array.from({ length: 17 }, (_, i) => `t${i}`) }, "tags"],
    ["a tag of 65 chars", { body: "x", tags: ["t".repeat(65)] }, "tags.0"],
    ["an empty tag", { body: "x", tags: [""] }, "tags.0"],
    ["a numeric tag", { body: "x", tags: [1] }, "tags.0"],
    ["tags as a string", { body: "x", tags: "a,b" }, "tags"],
  ])("refuses %s with 400 InvalidParameter and stores nothing", async (_label, payload, messagePart) => {
    const queue = await createQueue(uniqueName("msg"));
    const before = await snapshot(queue);
    expectError(await send(queue, payload), "InvalidParameter", messagePart);
    expect(await snapshot(queue)).toEqual(before);
    expect(await peekAll(queue)).toEqual([]);
  });

  it("accepts 16 tags of 64 chars and hands them to the receiver", async () => {
    const queue = await createQueue(uniqueName("msg"));
    const tags = Array.from({ length: 16 }, (_, i) => `${i}`.padEnd(64, "t"));
    expectStatus(await send(queue, { body: "tagged", tags }), 200);
    expect((await receive(queue)).body.messages[0].tags).toEqual(tags);
  });

  it("a body of exactly maxMsgSize bytes is accepted, one byte more is 413 MessageTooLarge", async () => {
    const queue = await createQueue(uniqueName("msg"), { maxMsgSize: 1_024 });
    expectStatus(await send(queue, { body: "x".repeat(1_024) }), 200);
    expectError(await send(queue, { body: "x".repeat(1_025) }), "MessageTooLarge", "1024");
    // Bytes of UTF-8, not characters: é is 2 bytes.
    expectStatus(await send(queue, { body: "é".repeat(512) }), 200);
    expectError(await send(queue, { body: "é".repeat(513) }), "MessageTooLarge");
    expect((await peekAll(queue)).map((m) => m.body.length)).toEqual([1_024, 512]);
  });

  it("the default maxMsgSize is 65536 bytes", async () => {
    const queue = await createQueue(uniqueName("msg"));
    expectStatus(await send(queue, { body: "x".repeat(65_536) }), 200);
    expectError(await send(queue, { body: "x".repeat(65_537) }), "MessageTooLarge");
    expect(await counts(queue)).toMatchObject({ total: 1 });
  });

  it("a batch with one message over maxMsgSize is refused whole", async () => {
    const queue = await createQueue(uniqueName("msg"), { maxMsgSize: 1_024 });
    const response = await send(queue, { messages: [{ body: "small" }, { body: "x".repeat(1_025) }, { body: "small" }] });
    expectError(response, "MessageTooLarge", "message 1");
    expect(await peekAll(queue)).toEqual([]);
  });

  it("a batch whose bodies total over 1 MiB is 413 BatchTooLarge; exactly 1 MiB is accepted", async () => {
    const queue = await createQueue(uniqueName("msg"), { maxMsgSize: 1_048_576 });
    const half = "x".repeat(524_288);
    expectError(await send(queue, { messages: [{ body: half }, { body: half }, { body: "y" }] }), "BatchTooLarge");
    expect(await counts(queue)).toMatchObject({ total: 0 });
    expectStatus(await send(queue, { messages: [{ body: half }, { body: half }] }), 200);
    expect(await counts(queue)).toMatchObject({ total: 2 });
    // A single message of 1 MiB is bounded by maxMsgSize only.
    expectStatus(await send(queue, { body: "z".repeat(1_048_576) }), 200);
  });

  it("maxMsgHeapNum bounds the stored messages: 409 QueueFull, a batch that does not fit stores nothing", async () => {
    const queue = await createQueue(uniqueName("msg"), { maxMsgHeapNum: 2 });
    expectStatus(await send(queue, { body: "1" }), 200);
    expectError(await send(queue, { messages: [{ body: "2" }, { body: "3" }] }), "QueueFull");
    expect(await counts(queue)).toMatchObject({ total: 1 });
    expectStatus(await send(queue, { body: "2" }), 200);
    expectError(await send(queue, { body: "3" }), "QueueFull");
    const received = await receive(queue);
    expectStatus(await api("DELETE", `/v1/queues/${queue}/messages/${received.body.messages[0].receiptHandle}`), 204);
    expectStatus(await send(queue, { body: "3" }), 200);
  });

  it("a delayed message is counted as delayed, not received before its delay ends, then received", async () => {
    const queue = await createQueue(uniqueName("msg"));
    expectStatus(await send(queue, { body: "later", delaySeconds: 1 }), 200);
    expect(await counts(queue)).toMatchObject({ delayed: 1, active: 0, total: 1 });
    expect((await peekAll(queue))[0].state).toBe("delayed");
    expect((await receive(queue)).body.messages).toEqual([]);
    await sleep(1_100);
    expect((await receive(queue)).body.messages.map((m: any) => m.body)).toEqual(["later"]);
  });

  it("delaySeconds may not exceed the queue's msgRetentionSeconds minus 60", async () => {
    const queue = await createQueue(uniqueName("msg"), { msgRetentionSeconds: 120 });

    const atBound = await send(queue, { body: "ok", delaySeconds: 60 });
    const pastBound = await send(queue, { body: "too late", delaySeconds: 61 });

    expectStatus(atBound, 200);
    expectError(pastBound, "InvalidParameter", "delaySeconds");
    expect(await counts(queue)).toMatchObject({ delayed: 1, total: 1 });
  });

  it("refuses a delay equal to the retention, which would purge the message the moment it became visible", async () => {
    const queue = await createQueue(uniqueName("msg"), { msgRetentionSeconds: 600 });

    const single = await send(queue, { body: "never receivable", delaySeconds: 600 });
    const batch = await send(queue, { messages: [{ body: "fine" }, { body: "never receivable", delaySeconds: 600 }] });
    const shortest = await createQueue(uniqueName("msg"), { msgRetentionSeconds: 60 });
    const onShortest = await send(shortest, { body: "x", delaySeconds: 1 });

    expectError(single, "InvalidParameter", "delaySeconds 600");
    expectError(batch, "InvalidParameter", "delaySeconds 600");
    expectError(onShortest, "InvalidParameter", "delaySeconds 1");
    expect(await counts(queue)).toMatchObject({ total: 0 });
    expect(await counts(shortest)).toMatchObject({ total: 0 });
  });

  it("sending to a missing queue is 404 QueueNotFound and creates nothing", async () => {
    const queue = uniqueName("missing");
    expectError(await send(queue, { body: "x" }), "QueueNotFound");
    expectError(await send(queue, { messages: [{ body: "x" }] }), "QueueNotFound");
    expectError(await api("GET", `/v1/queues/${queue}`), "QueueNotFound");
  });
});

describe("receive", () => {
  it("receives up to max, hides what it received, and counts it inactive", async () => {
    const queue = await createQueue(uniqueName("msg"));
    await send(queue, { messages: [{ body: "a" }, { body: "b" }, { body: "c" }] });
    const first = await receive(queue);
    expectStatus(first, 200);
    expect(first.body.messages).toHaveLength(1);
    const [message] = first.body.messages;
    expect(message).toMatchObject({ body: "a", tags: [], receiveCount: 1 });
    expect(message.receiptHandle).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
    expect(message.nextVisibleAt - message.firstReceivedAt).toBe(30_000);
    const rest = await receive(queue, { max: 16, visibilityTimeout: 600 });
    expect(rest.body.messages.map((m: any) => m.body)).toEqual(["b", "c"]);
    expect(rest.body.messages[0].nextVisibleAt - rest.body.messages[0].firstReceivedAt).toBe(600_000);
    expect((await receive(queue, { max: 16 })).body.messages).toEqual([]);
    expect(await counts(queue)).toMatchObject({ active: 0, inactive: 3, total: 3 });
  });

  it("accepts an empty body as the defaults", async () => {
    const queue = await createQueue(uniqueName("msg"));
    await send(queue, { body: "a" });
    const received = await api("POST", `/v1/queues/${queue}/messages/receive`);
    expectStatus(received, 200);
    expect(received.body.messages).toHaveLength(1);
  });

  it.each([
    ["max 0", { max: 0 }, "max"],
    ["max 17", { max: 17 }, "max"],
    ["max 1.5", { max: 1.5 }, "max"],
    ["max as string", { max: "2" }, "max"],
    ["waitSeconds -1", { waitSeconds: -1 }, "waitSeconds"],
    ["waitSeconds 31", { waitSeconds: 31 }, "waitSeconds"],
    ["visibilityTimeout 0", { visibilityTimeout: 0 }, "visibilityTimeout"],
    ["visibilityTimeout 43201", { visibilityTimeout: 43_201 }, "visibilityTimeout"],
    ["an unknown field", { maxMessages: 2 }, "maxMessages"],
  ])("refuses %s with 400 InvalidParameter and hides nothing", async (_label, payload, field) => {
    const queue = await createQueue(uniqueName("msg"));
    await send(queue, { body: "a" });
    const before = await snapshot(queue);
    expectError(await receive(queue, payload), "InvalidParameter", field);
    expect(await snapshot(queue)).toEqual(before);
  });

  it("a 1 s long poll is answered by a send made while it waits", async () => {
    const queue = await createQueue(uniqueName("msg"));
    const started = Date.now();
    const poll = receive(queue, { waitSeconds: 1 });
    await sleep(200);
    expectStatus(await send(queue, { body: "just in time" }), 200);
    const received = await poll;
    expectStatus(received, 200);
    expect(received.body.messages.map((m: any) => m.body)).toEqual(["just in time"]);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it("a long poll with nothing to receive answers an empty list after its wait; the queue's pollingWaitSeconds is the default", async () => {
    const queue = await createQueue(uniqueName("msg"), { pollingWaitSeconds: 1 });
    let started = Date.now();
    const explicit = await receive(queue, { waitSeconds: 1 });
    expect(explicit.body.messages).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    started = Date.now();
    expect((await receive(queue, {})).body.messages).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    started = Date.now();
    expect((await receive(queue, { waitSeconds: 0 })).body.messages).toEqual([]);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("receiving from a missing queue is 404 QueueNotFound", async () => {
    expectError(await receive(uniqueName("missing"), { waitSeconds: 1 }), "QueueNotFound");
  });
});

describe("delete", () => {
  it("deletes by receipt handle with a result per handle, refusing bad ones without touching the rest", async () => {
    const queue = await createQueue(uniqueName("msg"));
    await send(queue, { messages: [{ body: "a" }, { body: "b" }, { body: "c" }] });
    const handles = (await receive(queue, { max: 3 })).body.messages.map((m: any) => m.receiptHandle);
    const deleted = await api("POST", `/v1/queues/${queue}/messages/delete`, {
      receiptHandles: [handles[0], "not-a-handle", handles[1]],
    });
    expectStatus(deleted, 200);
    expect(deleted.body.results).toEqual([
      { receiptHandle: handles[0], deleted: true },
      { receiptHandle: "not-a-handle", deleted: false, error: { code: "ReceiptHandleInvalid", message: expect.any(String) } },
      { receiptHandle: handles[1], deleted: true },
    ]);
    expect(await counts(queue)).toMatchObject({ inactive: 1, total: 1 });
    // A handle already used is no longer valid.
    const again = await api("POST", `/v1/queues/${queue}/messages/delete`, { receiptHandles: [handles[0]] });
    expect(again.body.results[0]).toMatchObject({ deleted: false, error: { code: "ReceiptHandleInvalid" } });
    expectError(await api("DELETE", `/v1/queues/${queue}/messages/${handles[1]}`), "ReceiptHandleInvalid");
    expectStatus(await api("DELETE", `/v1/queues/${queue}/messages/${handles[2]}`), 204);
    expect(await counts(queue)).toMatchObject({ total: 0 });
  });

  it.each([
    ["no handles", { receiptHandles: [] }],
    ["17 handles", { receiptHandles: Array.from({ length: 17 }, (_, i) => `h${i}`) }],
    ["a numeric handle", { receiptHandles: [1] }],
    ["a string instead of a list", { receiptHandles: "h1" }],
    ["no field", {}],
    ["an unknown field", { receiptHandles: ["h1"], force: true }],
  ])("batch delete refuses %s with 400 InvalidParameter", async (_label, payload) => {
    const queue = await createQueue(uniqueName("msg"));
    expectError(await api("POST", `/v1/queues/${queue}/messages/delete`, payload), "InvalidParameter");
  });

  it("a handle of another queue, or one whose visibility ended, is 400 ReceiptHandleInvalid", async () => {
    const a = await createQueue(uniqueName("msg"));
    const b = await createQueue(uniqueName("msg"));
    await send(a, { body: "a" });
    await send(b, { body: "b" });
    const handleA = (await receive(a, { visibilityTimeout: 1 })).body.messages[0].receiptHandle;
    const handleB = (await receive(b)).body.messages[0].receiptHandle;
    expectError(await api("DELETE", `/v1/queues/${b}/messages/${handleA}`), "ReceiptHandleInvalid");
    expect(await counts(b)).toMatchObject({ inactive: 1, total: 1 });
    await sleep(1_100);
    expectError(await api("DELETE", `/v1/queues/${a}/messages/${handleA}`), "ReceiptHandleInvalid", "expired");
    expect(await counts(a)).toMatchObject({ active: 1, total: 1 });
    expectStatus(await api("DELETE", `/v1/queues/${b}/messages/${handleB}`), 204);
  });
});

describe("visibility", () => {
  it("0 makes a message receivable at once, and the old handle stops working", async () => {
    const queue = await createQueue(uniqueName("msg"));
    await send(queue, { body: "again" });
    const first = (await receive(queue)).body.messages[0];
    const changed = await api("POST", `/v1/queues/${queue}/messages/visibility`, {
      receiptHandle: first.receiptHandle,
      visibilityTimeout: 0,
    });
    expectStatus(changed, 200);
    expect(changed.body).toEqual({ nextVisibleAt: expect.any(Number) });
    const second = (await receive(queue)).body.messages[0];
    expect(second).toMatchObject({ id: first.id, receiveCount: 2 });
    expect(second.receiptHandle).not.toBe(first.receiptHandle);
    expectError(
      await api("POST", `/v1/queues/${queue}/messages/visibility`, { receiptHandle: first.receiptHandle, visibilityTimeout: 5 }),
      "ReceiptHandleInvalid",
    );
  });

  it("extends the visibility of a received message to the given seconds", async () => {
    const queue = await createQueue(uniqueName("msg"));
    await send(queue, { body: "slow" });
    const message = (await receive(queue, { visibilityTimeout: 1 })).body.messages[0];
    const changed = await api("POST", `/v1/queues/${queue}/messages/visibility`, {
      receiptHandle: message.receiptHandle,
      visibilityTimeout: 43_200,
    });
    expectStatus(changed, 200);
    expect(changed.body.nextVisibleAt - message.firstReceivedAt).toBeGreaterThanOrEqual(43_200_000);
    await sleep(1_100);
    expect((await receive(queue)).body.messages).toEqual([]);
    expectStatus(await api("DELETE", `/v1/queues/${queue}/messages/${message.receiptHandle}`), 204);
  });

  it.each([
    ["visibilityTimeout -1", { visibilityTimeout: -1 }, "InvalidParameter"],
    ["visibilityTimeout 43201", { visibilityTimeout: 43_201 }, "InvalidParameter"],
    ["visibilityTimeout 1.5", { visibilityTimeout: 1.5 }, "InvalidParameter"],
    ["no visibilityTimeout", { visibilityTimeout: undefined }, "InvalidParameter"],
    ["no receiptHandle", { receiptHandle: undefined }, "InvalidParameter"],
    ["an unknown field", { extra: 1 }, "InvalidParameter"],
    ["a malformed handle", { receiptHandle: "%%%" }, "ReceiptHandleInvalid"],
    ["an unknown handle", { receiptHandle: `1-${"0".repeat(32)}` }, "ReceiptHandleInvalid"],
  ] as const)("refuses %s and leaves the message hidden", async (_label, override, code) => {
    const queue = await createQueue(uniqueName("msg"));
    await send(queue, { body: "x" });
    const message = (await receive(queue, { visibilityTimeout: 300 })).body.messages[0];
    const before = await snapshot(queue);
    const payload = { receiptHandle: message.receiptHandle, visibilityTimeout: 0, ...override };
    expectError(await api("POST", `/v1/queues/${queue}/messages/visibility`, payload), code);
    expect(await snapshot(queue)).toEqual(before);
    expect((await receive(queue)).body.messages).toEqual([]);
  });
});
