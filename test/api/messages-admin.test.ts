import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { createQueue, eventually, expectError, expectStatus, peekAll, sleep, snapshot } from "./helpers";

const send = (queue: string, body: unknown) => api("POST", `/v1/queues/${queue}/messages`, body);
const receive = (queue: string, body?: unknown) => api("POST", `/v1/queues/${queue}/messages/receive`, body);
const counts = async (queue: string) => ((await snapshot(queue)) as any).counts;

/** Sends `bodies` to `source` and lets each be received once, so that its dead-letter policy (maxReceiveCount 1) moves them. */
async function deadLetter(source: string, dlq: string, bodies: string[]): Promise<void> {
  await send(source, { messages: bodies.map((body) => ({ body })) });
  expect((await receive(source, { max: 16, visibilityTimeout: 1 })).body.messages).toHaveLength(bodies.length);
  await eventually(async () => ((await counts(dlq)).total === bodies.length ? true : undefined), 10_000, "dead letters");
}

describe("peek", () => {
  it("shows stored messages in enqueue order, with their state, without changing them", async () => {
    const queue = await createQueue(uniqueName("adm"));
    await send(queue, { messages: [{ body: "a" }, { body: "b", delaySeconds: 600 }, { body: "c", tags: ["t"] }] });
    await receive(queue);
    const before = await snapshot(queue);
    const peeked = await api("GET", `/v1/queues/${queue}/messages`);
    expectStatus(peeked, 200);
    expect(peeked.body.nextCursor).toBeNull();
    expect(peeked.body.messages.map((m: any) => [m.body, m.state, m.receiveCount])).toEqual([
      ["a", "inactive", 1],
      ["b", "delayed", 0],
      ["c", "active", 0],
    ]);
    expect(peeked.body.messages[2].tags).toEqual(["t"]);
    expect(peeked.body.messages[0]).not.toHaveProperty("receiptHandle");
    expect(await snapshot(queue)).toEqual(before);
    expect((await receive(queue)).body.messages[0]).toMatchObject({ body: "c", receiveCount: 1 });
  });

  it("pages with limit and cursor", async () => {
    const queue = await createQueue(uniqueName("adm"));
    const bodies = Array.from({ length: 7 }, (_, i) => `m${i}`);
    await send(queue, { messages: bodies.map((body) => ({ body })) });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response: { status: number; body: any; headers: Headers } = await api("GET", `/v1/queues/${queue}/messages?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expectStatus(response, 200);
      seen.push(...response.body.messages.map((m: any) => m.body));
      cursor = response.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(bodies);
    expect(pages).toBe(3);
  });

  it.each(["limit=0", "limit=101", "limit=x", "cursor=abc", "cursor=-1", "cursor=12345678901234567", "other=1"])(
    "refuses the query %s with 400 InvalidParameter",
    async (query) => {
      const queue = await createQueue(uniqueName("adm"));
      expectError(await api("GET", `/v1/queues/${queue}/messages?${query}`), "InvalidParameter", query.split("=")[0]);
    },
  );

  it("of a missing queue is 404 QueueNotFound", async () => {
    expectError(await api("GET", `/v1/queues/${uniqueName("missing")}/messages`), "QueueNotFound");
  });
});

describe("purge", () => {
  it("removes every message in any state and answers how many", async () => {
    const queue = await createQueue(uniqueName("adm"));
    await send(queue, { messages: [{ body: "a" }, { body: "b", delaySeconds: 60 }, { body: "c" }] });
    const handle = (await receive(queue)).body.messages[0].receiptHandle;
    const purged = await api("POST", `/v1/queues/${queue}/purge`);
    expectStatus(purged, 200);
    expect(purged.body).toEqual({ purged: 3 });
    expect(await counts(queue)).toEqual({ active: 0, inactive: 0, delayed: 0, total: 0, rewindable: 0 });
    expect(await peekAll(queue)).toEqual([]);
    expectError(await api("DELETE", `/v1/queues/${queue}/messages/${handle}`), "ReceiptHandleInvalid");
    expect((await api("POST", `/v1/queues/${queue}/purge`)).body).toEqual({ purged: 0 });
    expectStatus(await send(queue, { body: "after" }), 200);
  });

  it("of a missing queue is 404 QueueNotFound", async () => {
    expectError(await api("POST", `/v1/queues/${uniqueName("missing")}/purge`), "QueueNotFound");
  });
});

describe("rewind", () => {
  it("is 409 RewindNotEnabled while rewindSeconds is 0", async () => {
    const queue = await createQueue(uniqueName("adm"));
    expectError(await api("POST", `/v1/queues/${queue}/rewind`, { since: Date.now() - 1_000 }), "RewindNotEnabled");
  });

  it("makes deleted messages enqueued since `since` receivable again", async () => {
    const queue = await createQueue(uniqueName("adm"), { rewindSeconds: 3_600 });
    await send(queue, { messages: [{ body: "a" }, { body: "b" }] });
    const received = (await receive(queue, { max: 2 })).body.messages;
    const deleted = await api("POST", `/v1/queues/${queue}/messages/delete`, {
      receiptHandles: received.map((m: any) => m.receiptHandle),
    });
    expect(deleted.body.results.every((r: any) => r.deleted)).toBe(true);
    expect(await counts(queue)).toMatchObject({ total: 0, rewindable: 2 });
    expect((await receive(queue)).body.messages).toEqual([]);

    const rewound = await api("POST", `/v1/queues/${queue}/rewind`, { since: received[0].enqueuedAt });
    expectStatus(rewound, 200);
    expect(rewound.body).toEqual({ rewound: 2 });
    const again = (await receive(queue, { max: 16 })).body.messages;
    expect(again.map((m: any) => [m.body, m.receiveCount])).toEqual([
      ["a", 1],
      ["b", 1],
    ]);
  });

  it("refuses a since outside the rewind window with 400 InvalidRewindTime, changing nothing", async () => {
    const queue = await createQueue(uniqueName("adm"), { rewindSeconds: 60 });
    await send(queue, { body: "a" });
    const message = (await receive(queue)).body.messages[0];
    await api("DELETE", `/v1/queues/${queue}/messages/${message.receiptHandle}`);
    const before = await snapshot(queue);
    expectError(await api("POST", `/v1/queues/${queue}/rewind`, { since: Date.now() + 60_000 }), "InvalidRewindTime");
    expectError(await api("POST", `/v1/queues/${queue}/rewind`, { since: Date.now() - 120_000 }), "InvalidRewindTime");
    expect(await snapshot(queue)).toEqual(before);
  });

  it.each([
    ["no since", {}],
    ["since -1", { since: -1 }],
    ["since 1.5", { since: 1.5 }],
    ["since as a date string", { since: "2026-01-01T00:00:00Z" }],
    ["an unknown field", { since: 0, until: 1 }],
  ])("refuses %s with 400 InvalidParameter", async (_label, payload) => {
    const queue = await createQueue(uniqueName("adm"), { rewindSeconds: 60 });
    expectError(await api("POST", `/v1/queues/${queue}/rewind`, payload), "InvalidParameter");
  });

  it("without a body is refused", async () => {
    const queue = await createQueue(uniqueName("adm"), { rewindSeconds: 60 });
    expectError(await api("POST", `/v1/queues/${queue}/rewind`), "MalformedRequest");
  });
});

describe("dead letters and redrive", () => {
  it("moves a message received maxReceiveCount times to the dead-letter queue, marked with its source", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const source = await createQueue(uniqueName("src"), { deadLetter: { queue: dlq, maxReceiveCount: 1 } });
    await deadLetter(source, dlq, ["poison"]);
    const [dead] = await peekAll(dlq);
    expect(dead).toMatchObject({ body: "poison", sourceQueue: source, state: "active" });
    expect(await counts(source)).toMatchObject({ total: 0 });
  });

  it("redrives dead letters back to their source queue and reports the progress", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const source = await createQueue(uniqueName("src"), { deadLetter: { queue: dlq, maxReceiveCount: 1 } });
    await deadLetter(source, dlq, ["x", "y", "z"]);

    const started = await api("POST", `/v1/queues/${dlq}/redrive`, {});
    expectStatus(started, 202);
    expect(started.body).toMatchObject({ status: "running", destination: null, maxPerSecond: 100, moved: 0 });
    const done = await eventually(async () => {
      const status = await api("GET", `/v1/queues/${dlq}/redrive`);
      expectStatus(status, 200);
      return status.body.status === "running" ? undefined : status.body;
    });
    expect(done).toMatchObject({ status: "completed", moved: 3, remaining: 0, lastError: null });
    expect(await counts(dlq)).toMatchObject({ total: 0 });
    expect((await peekAll(source)).map((m) => m.body).sort()).toEqual(["x", "y", "z"]);
    expectError(await api("DELETE", `/v1/queues/${dlq}/redrive`), "RedriveNotFound");
  });

  it("redrives to a given destination at a given rate; a second start is 409, a cancel stops it", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const source = await createQueue(uniqueName("src"), { deadLetter: { queue: dlq, maxReceiveCount: 1 } });
    const other = await createQueue(uniqueName("dst"));
    await deadLetter(source, dlq, ["1", "2", "3", "4", "5", "6"]);

    const started = await api("POST", `/v1/queues/${dlq}/redrive`, { destination: other, maxPerSecond: 1 });
    expectStatus(started, 202);
    expect(started.body).toMatchObject({ status: "running", destination: other, maxPerSecond: 1 });
    expectError(await api("POST", `/v1/queues/${dlq}/redrive`, {}), "RedriveInProgress");
    const cancelled = await api("DELETE", `/v1/queues/${dlq}/redrive`);
    expectStatus(cancelled, 200);
    expect(cancelled.body.status).toBe("cancelled");
    expect(cancelled.body.moved).toBeLessThan(6);
    await sleep(1_500);
    const total = (await counts(dlq)).total + (await counts(other)).total;
    expect(total).toBe(6);
    expect((await api("GET", `/v1/queues/${dlq}/redrive`)).body.status).toBe("cancelled");
    expectError(await api("DELETE", `/v1/queues/${dlq}/redrive`), "RedriveNotFound");
  });

  it("a plain queue's messages stay put when no destination is given", async () => {
    const queue = await createQueue(uniqueName("adm"));
    await send(queue, { body: "home" });
    expectStatus(await api("POST", `/v1/queues/${queue}/redrive`), 202);
    const done = await eventually(async () => {
      const status = (await api("GET", `/v1/queues/${queue}/redrive`)).body;
      return status.status === "running" ? undefined : status;
    });
    expect(done).toMatchObject({ status: "completed", moved: 0 });
    expect(await counts(queue)).toMatchObject({ total: 1 });
  });

  it("GET and DELETE of a redrive that never ran are 404 RedriveNotFound", async () => {
    const queue = await createQueue(uniqueName("adm"));
    expectError(await api("GET", `/v1/queues/${queue}/redrive`), "RedriveNotFound");
    expectError(await api("DELETE", `/v1/queues/${queue}/redrive`), "RedriveNotFound");
    expectError(await api("GET", `/v1/queues/${uniqueName("missing")}/redrive`), "QueueNotFound");
  });

  it.each([
    ["a missing destination", () => ({ destination: uniqueName("missing") }), "QueueNotFound"],
    ["itself as destination", (queue: string) => ({ destination: queue.toUpperCase() }), "InvalidParameter"],
    ["a malformed destination", () => ({ destination: "9lives" }), "InvalidParameter"],
    ["maxPerSecond 0", () => ({ maxPerSecond: 0 }), "InvalidParameter"],
    ["maxPerSecond 501", () => ({ maxPerSecond: 501 }), "InvalidParameter"],
    ["maxMessages 0", () => ({ maxMessages: 0 }), "InvalidParameter"],
    ["an unknown field", () => ({ source: "x" }), "InvalidParameter"],
  ] as const)("refuses %s and starts nothing", async (_label, payload, code) => {
    const queue = await createQueue(uniqueName("adm"));
    await send(queue, { body: "stay" });
    expectError(await api("POST", `/v1/queues/${queue}/redrive`, payload(queue)), code);
    expectError(await api("GET", `/v1/queues/${queue}/redrive`), "RedriveNotFound");
    expect(await counts(queue)).toMatchObject({ total: 1 });
  });
});
