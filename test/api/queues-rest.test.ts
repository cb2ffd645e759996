import { describe, expect, it } from "vitest";
import { QueueLimits } from "../../src/schema/queue";
import { api, uniqueName } from "../support/http";
import { createQueue, expectError, expectStatus, snapshot } from "./helpers";

const defaults = {
  visibilityTimeout: QueueLimits.visibilityTimeoutSeconds.default,
  pollingWaitSeconds: QueueLimits.pollingWaitSeconds.default,
  maxMsgSize: QueueLimits.maxMsgSizeBytes.default,
  msgRetentionSeconds: QueueLimits.msgRetentionSeconds.default,
  rewindSeconds: QueueLimits.rewindSeconds.default,
  maxMsgHeapNum: QueueLimits.maxMsgHeapNum.default,
  deadLetter: null,
  delaySeconds: QueueLimits.queueDelaySeconds.default,
  redriveAllow: { permission: "allowAll" },
  tags: {},
  locationHint: null,
  fifo: false,
  contentBasedDeduplication: false,
  deduplicationScope: "queue",
  fifoThroughputLimit: "perQueue",
  partitions: 1,
};

/** All pages of `GET /v1/queues` for a prefix. */
async function listAll(prefix: string, limit: number): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query = new URLSearchParams({ prefix, limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    const page = await api("GET", `/v1/queues?${query}`);
    expectStatus(page, 200);
    expect(page.body.queues.length).toBeLessThanOrEqual(limit);
    names.push(...page.body.queues.map((queue: { name: string }) => queue.name));
    cursor = page.body.nextCursor;
    pages++;
    expect(pages).toBeLessThan(100);
  } while (cursor);
  return { names, pages };
}

describe("create", () => {
  it("answers 201 with the queue, its defaults and zero counts", async () => {
    const name = uniqueName("crud");
    const created = await api("PUT", `/v1/queues/${name}`, {});
    expectStatus(created, 201);
    expect(created.body).toMatchObject({ name, ...defaults });
    expect(created.body.counts).toEqual({ active: 0, inactive: 0, delayed: 0, total: 0, rewindable: 0 });
    expect(created.body.oldestMessageAt).toBeNull();
    expect(created.body.createdAt).toBe(created.body.modifiedAt);
    expect(await snapshot(name)).toEqual(created.body);
  });

  it("accepts a PUT without a body as a queue with defaults", async () => {
    const name = uniqueName("crud");
    const created = await api("PUT", `/v1/queues/${name}`);
    expectStatus(created, 201);
    expect(created.body).toMatchObject(defaults);
  });

  it("answers 200 for an identical queue, also when the defaults are spelled out", async () => {
    const name = await createQueue(uniqueName("crud"), { visibilityTimeout: 45 });
    const before = await snapshot(name);
    const again = await api("PUT", `/v1/queues/${name}`, { visibilityTimeout: 45 });
    expectStatus(again, 200);
    expect(again.body).toEqual(before);
    const spelled = await api("PUT", `/v1/queues/${name}`, { ...defaults, locationHint: undefined, visibilityTimeout: 45 });
    expectStatus(spelled, 200);
    expect(await snapshot(name)).toEqual(before);
  });

  it("answers 409 QueueAlreadyExists when the attributes differ, and keeps the queue as it was", async () => {
    const name = await createQueue(uniqueName("crud"), { visibilityTimeout: 45 });
    await api("POST", `/v1/queues/${name}/messages`, { body: "kept" });
    const before = await snapshot(name);
    expectError(await api("PUT", `/v1/queues/${name}`, { visibilityTimeout: 46 }), "QueueAlreadyExists");
    expectError(await api("PUT", `/v1/queues/${name}`, {}), "QueueAlreadyExists");
    expectError(await api("PUT", `/v1/queues/${name}`, { visibilityTimeout: 45, locationHint: "weur" }), "QueueAlreadyExists");
    expect(await snapshot(name)).toEqual(before);
  });

  it("treats names case-insensitively: one queue, found by any case, a differently cased create conflicts", async () => {
    const name = `Case-${crypto.randomUUID().slice(0, 8)}`;
    await createQueue(name);
    for (const variant of [name.toLowerCase(), name.toUpperCase()]) {
      const got = await api("GET", `/v1/queues/${variant}`);
      expectStatus(got, 200);
      expect(got.body.name).toBe(name);
    }
    expectError(await api("PUT", `/v1/queues/${name.toLowerCase()}`, {}), "QueueAlreadyExists");
    await api("POST", `/v1/queues/${name.toUpperCase()}/messages`, { body: "via upper case" });
    const received = await api("POST", `/v1/queues/${name.toLowerCase()}/messages/receive`, {});
    expect(received.body.messages.map((m: { body: string }) => m.body)).toEqual(["via upper case"]);
    const listed = await api("GET", `/v1/queues?prefix=${name.toLowerCase()}`);
    expect(listed.body.queues.map((q: { name: string }) => q.name)).toEqual([name]);
    expectStatus(await api("DELETE", `/v1/queues/${name.toUpperCase()}`), 204);
    expectError(await api("GET", `/v1/queues/${name}`), "QueueNotFound");
    expect((await api("GET", `/v1/queues?prefix=${name}`)).body.queues).toEqual([]);
  });
});

describe("get, patch, delete", () => {
  it("GET of a missing queue answers 404 QueueNotFound", async () => {
    expectError(await api("GET", `/v1/queues/${uniqueName("missing")}`), "QueueNotFound");
  });

  it("PATCH changes only the fields given and moves modifiedAt", async () => {
    const name = await createQueue(uniqueName("crud"), { visibilityTimeout: 45, maxMsgSize: 2048 });
    const before: any = await snapshot(name);
    const patched = await api("PATCH", `/v1/queues/${name}`, { pollingWaitSeconds: 5 });
    expectStatus(patched, 200);
    expect(patched.body).toMatchObject({ visibilityTimeout: 45, maxMsgSize: 2048, pollingWaitSeconds: 5 });
    expect(patched.body.createdAt).toBe(before.createdAt);
    expect(patched.body.modifiedAt).toBeGreaterThanOrEqual(before.modifiedAt);
    expect(await snapshot(name)).toEqual(patched.body);
    const listed = await api("GET", `/v1/queues?prefix=${name}`);
    expect(listed.body.queues).toEqual([
      expect.objectContaining({ name, pollingWaitSeconds: 5, visibilityTimeout: 45, modifiedAt: patched.body.modifiedAt }),
    ]);
  });

  it("PATCH of a missing queue answers 404 QueueNotFound and creates nothing", async () => {
    const name = uniqueName("missing");
    expectError(await api("PATCH", `/v1/queues/${name}`, { visibilityTimeout: 10 }), "QueueNotFound");
    expectError(await api("GET", `/v1/queues/${name}`), "QueueNotFound");
    expect((await api("GET", `/v1/queues?prefix=${name}`)).body.queues).toEqual([]);
  });

  it("PATCH without a body is refused (the body is required) and changes nothing", async () => {
    const name = await createQueue(uniqueName("crud"));
    const before = await snapshot(name);
    expectError(await api("PATCH", `/v1/queues/${name}`), "MalformedRequest");
    expect(await snapshot(name)).toEqual(before);
  });

  it("DELETE answers 204, then the queue is gone from GET, the list, and its messages with it", async () => {
    const name = await createQueue(uniqueName("crud"));
    await api("POST", `/v1/queues/${name}/messages`, { body: "one" });
    expectStatus(await api("DELETE", `/v1/queues/${name}`), 204);
    expectError(await api("GET", `/v1/queues/${name}`), "QueueNotFound");
    expectError(await api("POST", `/v1/queues/${name}/messages`, { body: "two" }), "QueueNotFound");
    expectError(await api("POST", `/v1/queues/${name}/messages/receive`, {}), "QueueNotFound");
    expectError(await api("GET", `/v1/queues/${name}/messages`), "QueueNotFound");
    expect((await api("GET", `/v1/queues?prefix=${name}`)).body.queues).toEqual([]);
    expectError(await api("DELETE", `/v1/queues/${name}`), "QueueNotFound");
  });

  it("a queue recreated after delete starts empty, with the new attributes", async () => {
    const name = await createQueue(uniqueName("crud"), { visibilityTimeout: 99, rewindSeconds: 600 });
    await api("POST", `/v1/queues/${name}/messages`, { messages: [{ body: "a" }, { body: "b" }] });
    const received = await api("POST", `/v1/queues/${name}/messages/receive`, { max: 1 });
    expectStatus(await api("DELETE", `/v1/queues/${name}/messages/${received.body.messages[0].receiptHandle}`), 204);
    expectStatus(await api("DELETE", `/v1/queues/${name}`), 204);

    const recreated = await api("PUT", `/v1/queues/${name}`, {});
    expectStatus(recreated, 201);
    expect(recreated.body).toMatchObject(defaults);
    expect(recreated.body.counts).toEqual({ active: 0, inactive: 0, delayed: 0, total: 0, rewindable: 0 });
    expect((await api("GET", `/v1/queues/${name}/messages`)).body.messages).toEqual([]);
    expect((await api("POST", `/v1/queues/${name}/messages/receive`, { max: 16 })).body.messages).toEqual([]);
    // The old receipt handle means nothing to the new queue.
    expectError(
      await api("DELETE", `/v1/queues/${name}/messages/${received.body.messages[0].receiptHandle}`),
      "ReceiptHandleInvalid",
    );
    const listed = await api("GET", `/v1/queues?prefix=${name}`);
    expect(listed.body.queues).toEqual([expect.objectContaining({ name, ...defaults })]);
  });

  it("a long poll parked on a queue being deleted ends with QueueNotFound", async () => {
    const name = await createQueue(uniqueName("crud"));
    const started = Date.now();
    const poll = api("POST", `/v1/queues/${name}/messages/receive`, { waitSeconds: 10 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expectStatus(await api("DELETE", `/v1/queues/${name}`), 204);
    expectError(await poll, "QueueNotFound");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("list", () => {
  const prefix = `lst${crypto.randomUUID().slice(0, 6)}`;
  const names = Array.from({ length: 27 }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);

  it("pages through 27 queues with prefix, limit and cursor, in name order, each once", async () => {
    await Promise.all(names.map((name) => createQueue(name)));
    for (const limit of [1, 5, 10, 27, 100]) {
      const { names: listed, pages } = await listAll(prefix, limit);
      expect(listed).toEqual(names);
      expect(pages).toBe(Math.max(1, Math.ceil(names.length / limit)));
    }
  });

  it("the last page has nextCursor null, and a page carries each queue's attributes", async () => {
    const page = await api("GET", `/v1/queues?prefix=${prefix}-0&limit=10`);
    expectStatus(page, 200);
    expect(page.body.nextCursor).toBeNull();
    expect(page.body.queues).toHaveLength(10);
    expect(page.body.queues[0]).toEqual({
      name: `${prefix}-00`,
      ...defaults,
      createdAt: expect.any(Number),
      modifiedAt: expect.any(Number),
    });
  });

  it("a prefix matches without regard to case; a prefix with no queue lists nothing", async () => {
    expect((await listAll(prefix.toUpperCase(), 50)).names).toEqual(names);
    const none = await api("GET", `/v1/queues?prefix=${prefix}-x`);
    expectStatus(none, 200);
    expect(none.body).toEqual({ queues: [], nextCursor: null, total: 0 });
  });

  it("without a prefix the list holds these queues among others, sorted case-insensitively", async () => {
    const { names: all } = await listAll("", 1000);
    for (const name of names) expect(all).toContain(name);
    const keys = all.map((name) => name.toLowerCase());
    expect(keys).toEqual([...keys].sort());
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("a deleted queue leaves the list; a cursor taken before the delete still continues correctly", async () => {
    const first = await api("GET", `/v1/queues?prefix=${prefix}&limit=5`);
    expect(first.body.queues.map((q: { name: string }) => q.name)).toEqual(names.slice(0, 5));
    expectStatus(await api("DELETE", `/v1/queues/${names[5]}`), 204);
    expectStatus(await api("DELETE", `/v1/queues/${names[26]}`), 204);
    const next = await api("GET", `/v1/queues?prefix=${prefix}&limit=5&cursor=${first.body.nextCursor}`);
    expect(next.body.queues.map((q: { name: string }) => q.name)).toEqual(names.slice(6, 11));
    const { names: rest } = await listAll(prefix, 7);
    expect(rest).toEqual(names.filter((_, i) => i !== 5 && i !== 26));
    expectError(await api("GET", `/v1/queues/${names[5]}`), "QueueNotFound");
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=-1", "limit"],
    ["limit=1.5", "limit"],
    ["limit=abc", "limit"],
    ["limit=", "limit"],
    ["limit=1&limit=2", "limit"],
    [`prefix=${"p".repeat(65)}`, "prefix"],
    [`cursor=${"c".repeat(201)}`, "cursor"],
    ["cursor=%25%25%25", "cursor"],
    ["unknown=1", "unknown"],
  ])("refuses the query %s with 400 InvalidParameter", async (query, field) => {
    expectError(await api("GET", `/v1/queues?${query}`), "InvalidParameter", field);
  });

  it("limit 1000 is accepted", async () => {
    const page = await api("GET", `/v1/queues?prefix=${prefix}&limit=1000`);
    expectStatus(page, 200);
    expect(page.body.nextCursor).toBeNull();
  });
});

describe("a change that changes nothing", () => {
  it("leaves modifiedAt as it was", async () => {
    const name = uniqueName();
    const created = await api("PUT", `/v1/queues/${name}`, { visibilityTimeout: 40 });

    const patched = await api("PATCH", `/v1/queues/${name}`, { visibilityTimeout: 40 });
    const empty = await api("PATCH", `/v1/queues/${name}`, {});

    expect(patched.status).toBe(200);
    expect(patched.body.modifiedAt).toBe(created.body.modifiedAt);
    expect(empty.body.modifiedAt).toBe(created.body.modifiedAt);
  });
});

describe("query parameters named after Object.prototype", () => {
  it.each(["__proto__", "constructor", "toString"])("refuses ?%s=1 as an unknown parameter with 400 InvalidParameter", async (name) => {
    expectError(await api("GET", `/v1/queues?${name}=1`), "InvalidParameter", name);
  });
});
