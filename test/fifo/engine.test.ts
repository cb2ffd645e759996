import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock";
import { ErrorCode } from "../../src/errors";
import type { QueueObject } from "../../src/objects/queue-object";
import type { OutgoingMessage, ReceivedMessage } from "../../src/schema/queue";
import { Prefix, createQueue, deadLetters, expectError, expectOk, expectParked, inQueue, queueStub, receive, runDueAt, uniqueName } from "../objects/support";

/** A FIFO queue's name. */
const fifoName = (prefix = "f") => `${uniqueName(prefix)}.fifo`;

async function createFifo(input: Record<string, unknown> = {}, name = fifoName()) {
  return createQueue({ fifo: true, contentBasedDeduplication: true, ...input }, name);
}

/** Sends one message per entry, each `[group, body]`, and answers what the send answered. */
async function sendTo(stub: ReturnType<typeof queueStub>, ...entries: Array<[string, string, string?]>) {
  const messages: OutgoingMessage[] = entries.map(([groupId, body, deduplicationId]) => ({
    body,
    groupId,
    ...(deduplicationId ? { deduplicationId } : {}),
  }));
  return expectOk(await stub.send(messages)).messages;
}

const bodies = (messages: ReceivedMessage[]) => messages.map((message) => message.body);

describe("a FIFO queue's message groups", () => {
  it("hands out a group's messages in send order, one batch in flight per group", async () => {
    const { stub } = await createFifo();
    await sendTo(stub, ["a", "a1"], ["a", "a2"], ["a", "a3"]);
    const first = await receive(stub, { max: 2 });
    expect(bodies(first)).toEqual(["a1", "a2"]);
    // a1 and a2 are in flight: a3 waits, though it is visible.
    expect(await receive(stub, { max: 10 })).toEqual([]);
    expectOk(await stub.deleteMessages([first[0]!.receiptHandle]));
    expect(await receive(stub, { max: 10 })).toEqual([]);
    expectOk(await stub.deleteMessages([first[1]!.receiptHandle]));
    expect(bodies(await receive(stub, { max: 10 }))).toEqual(["a3"]);
  });

  it("keeps groups independent: a group in flight does not hold back the others", async () => {
    const { stub } = await createFifo();
    await sendTo(stub, ["slow", "s1"], ["slow", "s2"], ["fast", "f1"], ["fast", "f2"]);
    expect(bodies(await receive(stub, { max: 1 }))).toEqual(["s1"]);
    const next = await receive(stub, { max: 10 });
    expect(bodies(next)).toEqual(["f1", "f2"]);
  });

  it("returns several messages of several groups in one batch, each group in order", async () => {
    const { stub } = await createFifo();
    await sendTo(stub, ["x", "x1"], ["y", "y1"], ["x", "x2"], ["y", "y2"], ["x", "x3"]);
    const batch = await receive(stub, { max: 10 });
    expect(bodies(batch)).toEqual(["x1", "x2", "x3", "y1", "y2"]);
    const seqs = batch.map((message) => message.sequenceNumber!);
    expect(seqs.every((seq) => /^\d{20}$/.test(seq))).toBe(true);
    expect(batch.map((message) => message.groupId)).toEqual(["x", "x", "x", "y", "y"]);
  });

  it("gives a message whose visibility ended back first, before later ones of its group", async () => {
    const { name, stub } = await createFifo({ visibilityTimeout: 5 });
    await sendTo(stub, ["g", "one"], ["g", "two"]);
    const nowMs = Date.now();
    const first = await inQueue(stub, (object) => object.engine.claim(1, undefined, nowMs).value);
    expect(bodies(first)).toEqual(["one"]);
    const again = await inQueue(stub, (object) => object.engine.claim(10, undefined, nowMs + 6_000).value);
    expect(bodies(again)).toEqual(["one", "two"]);
    expect(again[0]!.receiveCount).toBe(2);
    expect(name.endsWith(".fifo")).toBe(true);
  });

  it("numbers messages in send order, answering sequence numbers on send", async () => {
    const { stub } = await createFifo();
    const sent = await sendTo(stub, ["a", "1"], ["b", "2"], ["a", "3"]);
    const numbers = sent.map((message) => BigInt(message.sequenceNumber!));
    expect(numbers[0]! < numbers[1]! && numbers[1]! < numbers[2]!).toBe(true);
    const peeked = expectOk(await stub.peek(10, 0)).messages;
    expect(peeked.map((message) => message.sequenceNumber)).toEqual(sent.map((message) => message.sequenceNumber));
  });

  it("keeps order and blocking through an eviction", async () => {
    const { stub } = await createFifo();
    await sendTo(stub, ["g", "1"], ["g", "2"], ["h", "3"]);
    const [held] = await receive(stub, { max: 1 });
    await evictDurableObject(stub);
    expect(bodies(await receive(stub, { max: 10 }))).toEqual(["3"]);
    expectOk(await stub.deleteMessages([held!.receiptHandle]));
    expect(bodies(await receive(stub, { max: 10 }))).toEqual(["2"]);
  });
});

describe("a FIFO queue's deduplication", () => {
  it("stores a second send of one deduplication id once, answering the first message", async () => {
    const { stub } = await createFifo({ contentBasedDeduplication: false });
    const [first] = await sendTo(stub, ["g", "body", "order-1"]);
    const [second] = await sendTo(stub, ["g", "another body", "order-1"]);
    expect(second).toEqual(first);
    expect(expectOk(await stub.getInfo()).counts.total).toBe(1);
  });

  it("deduplicates by the body's SHA-256 when the queue deduplicates by content", async () => {
    const { stub } = await createFifo();
    const [first] = await sendTo(stub, ["g", "same"]);
    const [again] = await sendTo(stub, ["h", "same"]);
    expect(again).toEqual(first);
    const [message] = await receive(stub, { max: 1 });
    // SHA-256("same")
    expect(message!.deduplicationId).toBe("0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5");
  });

  it("deduplicates inside one batch", async () => {
    const { stub } = await createFifo({ contentBasedDeduplication: false });
    const sent = await sendTo(stub, ["g", "a", "k"], ["g", "b", "k"], ["g", "c", "other"]);
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[2]!.id).not.toBe(sent[0]!.id);
    expect(expectOk(await stub.getInfo()).counts.total).toBe(2);
  });

  it("forgets an id after the 5-minute window, expired by the alarm's work", async () => {
    const { stub } = await createFifo({ contentBasedDeduplication: false });
    const nowMs = Date.now();
    const first = await inQueue(stub, (object) => object.engine.send([{ body: "x", groupId: "g", deduplicationId: "d" }], nowMs).value);
    const inside = await inQueue(stub, (object) => object.engine.send([{ body: "x", groupId: "g", deduplicationId: "d" }], nowMs + 299_999).value);
    expect(inside.ids).toEqual(first.ids);
    const deadline = await inQueue(stub, (object) => object.engine.nextDeadline(nowMs));
    expect(deadline).toBe(nowMs + 300_000);
    await runDueAt(stub, nowMs + 300_000);
    const keys = await inQueue(stub, (object: QueueObject, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM dedup").one().n);
    expect(keys).toBe(0);
    const after = await inQueue(stub, (object) => object.engine.send([{ body: "x", groupId: "g", deduplicationId: "d" }], nowMs + 300_000).value);
    expect(after.ids).not.toEqual(first.ids);
  });

  it("scopes ids to the message group when deduplicationScope is messageGroup", async () => {
    const { stub } = await createFifo({ contentBasedDeduplication: false, deduplicationScope: "messageGroup" });
    const [a] = await sendTo(stub, ["a", "x", "k"]);
    const [b] = await sendTo(stub, ["b", "x", "k"]);
    const [a2] = await sendTo(stub, ["a", "x", "k"]);
    expect(b!.id).not.toBe(a!.id);
    expect(a2).toEqual(a);
  });
});

describe("a FIFO queue refuses", () => {
  it("a message without a group id, a delay of its own, or without a deduplication id when content is not used", async () => {
    const { stub } = await createFifo({ contentBasedDeduplication: false });
    expectError(await stub.send([{ body: "x", deduplicationId: "d" }]), ErrorCode.MissingParameter);
    expectError(await stub.send([{ body: "x", groupId: "g", deduplicationId: "d", delaySeconds: 1 }]), ErrorCode.InvalidParameter);
    expectError(await stub.send([{ body: "x", groupId: "g" }]), ErrorCode.InvalidParameter);
    // A refused batch stores nothing, not even its good messages' keys.
    expectError(await stub.send([{ body: "ok", groupId: "g", deduplicationId: "d1" }, { body: "x" }]), ErrorCode.MissingParameter);
    expect(expectOk(await stub.getInfo()).counts.total).toBe(0);
    const [sent] = await sendTo(stub, ["g", "ok", "d1"]);
    expect(sent!.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("and a standard queue refuses a deduplication id", async () => {
    const { stub } = await createQueue();
    expectError(await stub.send([{ body: "x", deduplicationId: "d" }]), ErrorCode.InvalidParameter);
  });
});

describe("a FIFO queue's dead letters, purge, rewind and retention", () => {
  it("blocks a group while its message is moving, and unblocks it once moved", async () => {
    const dlq = fifoName("dlq");
    await createFifo({}, dlq);
    const { stub } = await createFifo({ deadLetter: { queue: dlq, maxReceiveCount: 1 }, visibilityTimeout: 5 });
    await sendTo(stub, ["g", "poison"], ["g", "next"], ["h", "other"]);
    const nowMs = Date.now();
    await inQueue(stub, (object) => object.engine.claim(1, undefined, nowMs));
    // Visible again but at its last receive: due for a move, it blocks its group until moved.
    const blocked = await inQueue(stub, (object) => object.engine.claim(10, undefined, nowMs + 6_000).value);
    expect(bodies(blocked)).toEqual(["other"]);
    await runDueAt(stub, nowMs + 6_000);
    const after = await inQueue(stub, (object) => object.engine.claim(10, undefined, nowMs + 6_000).value);
    expect(bodies(after)).toEqual(["next"]);
    const moved = await receive(queueStub(dlq), { max: 10 });
    expect(bodies(moved)).toEqual(["poison"]);
    expect(moved[0]!.groupId).toBe("g");
  });

  it("puts a hand-over without a group in the default group, in order", async () => {
    const { stub } = await createFifo();
    expectOk(await stub.accept(deadLetters(null, "one", "two")));
    const got = await receive(stub, { max: 10 });
    expect(bodies(got)).toEqual(["one", "two"]);
    expect(got.map((message) => message.groupId)).toEqual(["default", "default"]);
  });

  it("starts groups afresh after a purge, and replays a rewind in order", async () => {
    const { stub } = await createFifo({ rewindSeconds: 600 });
    await sendTo(stub, ["g", "1"], ["g", "2"]);
    const first = await receive(stub, { max: 2 });
    expectOk(await stub.deleteMessages(first.map((message) => message.receiptHandle)));
    const since = first[0]!.enqueuedAt;
    expectOk(await stub.rewind(since));
    expect(bodies(await receive(stub, { max: 1 }))).toEqual(["1"]);
    expect(await receive(stub, { max: 10 })).toEqual([]);
    expectOk(await stub.purge());
    await sendTo(stub, ["g", "3"]);
    expect(bodies(await receive(stub, { max: 10 }))).toEqual(["3"]);
  });

  it("unblocks a group whose head retention removed", async () => {
    const { stub } = await createFifo({ msgRetentionSeconds: 60 });
    const nowMs = Date.now();
    await inQueue(stub, (object) => object.engine.send([{ body: "old", groupId: "g", deduplicationId: "1" }], nowMs));
    await inQueue(stub, (object) => object.engine.send([{ body: "new", groupId: "g", deduplicationId: "2" }], nowMs + 30_000));
    await inQueue(stub, (object) => object.engine.claim(1, 300, nowMs));
    await runDueAt(stub, nowMs + 60_000);
    const got = await inQueue(stub, (object) => object.engine.claim(10, undefined, nowMs + 60_000).value);
    expect(bodies(got)).toEqual(["new"]);
  });
});

describe("a FIFO queue's stored rows", () => {
  it("are found through the group index: a receive reads one row per group, not the backlog", async () => {
    const { stub } = await createFifo({ contentBasedDeduplication: false });
    const batch = Array.from({ length: 16 }, (_, index) => ({ body: `m${index}`, groupId: "deep", deduplicationId: `d${index}` }));
    for (let round = 0; round < 20; round++) {
      expectOk(await stub.send(batch.map((message) => ({ ...message, deduplicationId: `${message.deduplicationId}-${round}` }))));
    }
    await sendTo(stub, ["other", "o", "o"]);
    await receive(stub, { max: 1 });
    const plan = await inQueue(stub, (_object, state) =>
      state.storage.sql
        .exec<{ detail: string }>(
          "EXPLAIN QUERY PLAN SELECT seq, group_id, visible_at FROM messages WHERE state < 2 AND head = 1 AND visible_at <= 0 ORDER BY visible_at, seq LIMIT 32",
        )
        .toArray()
        .map((row) => row.detail)
        .join("; "),
    );
    expect(plan).toContain("messages_fifo_heads");
    expect(bodies(await receive(stub, { max: 10 }))).toEqual(["o"]);
  });

  it("are migrated: a table stored before groups existed gains the columns and indexes", async () => {
    const name = uniqueName("old");
    const stub = queueStub(name);
    const columns = await inQueue(stub, (_object, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP INDEX IF EXISTS messages_by_group");
      sql.exec("DROP INDEX IF EXISTS messages_fifo_heads");
      sql.exec("DROP INDEX IF EXISTS messages_busy_by_group");
      sql.exec("ALTER TABLE messages DROP COLUMN head");
      sql.exec("ALTER TABLE messages DROP COLUMN group_id");
      sql.exec("ALTER TABLE messages DROP COLUMN dedup_id");
      return sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('messages')").toArray().map((column) => column.name);
    });
    expect(columns).not.toContain("group_id");
    await evictDurableObject(stub);
    expectOk(await stub.create(name, Prefix, (await import("../../src/objects/queue/attributes")).defaultQueueAttributes({})));
    expectOk(await stub.send([{ body: "x", groupId: "tenant" }]));
    const [message] = await receive(stub);
    expect(message!.groupId).toBe("tenant");
  });
});

describe("a FIFO queue's waiting receivers", () => {
  it("are woken when a delete unblocks a group", async () => {
    const { stub } = await createFifo();
    await sendTo(stub, ["g", "1"], ["g", "2"]);
    const [first] = await receive(stub, { max: 1 });
    const waiting = stub.receive({ max: 10, waitSeconds: 20, visibilityTimeout: undefined });
    await expectParked(stub, 1);
    expectOk(await stub.deleteMessages([first!.receiptHandle]));
    const woken = expectOk(await waiting);
    expect(bodies(woken)).toEqual(["2"]);
  });
});

describe("a FIFO dead-letter queue's redrive", () => {
  it("keeps each group's order: a group with a message in flight waits, the others move", async () => {
    const source = fifoName("src");
    const { stub: sourceStub } = await createFifo({}, source);
    const { stub: dlq } = await createFifo({}, fifoName("dlq"));
    // The redrive's steps are timed by the object's clock: fixed here, so that due work runs exactly when the test says.
    const nowMs = Date.now();
    await inQueue(dlq, (object) => {
      object.clock = new ManualClock(nowMs);
    });
    const letter = (body: string, groupId: string) => ({ ...deadLetters(source, body)[0]!, groupId, deduplicationId: body });
    expectOk(await dlq.accept([letter("g1", "g"), letter("g2", "g"), letter("h1", "h"), letter("g3", "g")]));
    const [held] = await receive(dlq, { max: 1 });
    expect(held!.body).toBe("g1");
    expectOk(await dlq.startRedrive({ destination: null, maxPerSecond: 100, maxMessages: undefined }));
    await runDueAt(dlq, nowMs);
    expect(bodies(await receive(sourceStub, { max: 10 }))).toEqual(["h1"]);
    expectOk(await dlq.deleteMessages([held!.receiptHandle]));
    await runDueAt(dlq, nowMs + 1_000);
    const moved = await receive(sourceStub, { max: 10 });
    expect(bodies(moved)).toEqual(["g2", "g3"]);
    expect(moved.map((message) => message.groupId)).toEqual(["g", "g"]);
  });
});
