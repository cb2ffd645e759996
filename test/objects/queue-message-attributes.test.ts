import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors";
import { HandOverMaxBytes, handOverBytes } from "../../src/objects/hand-over";
import { QueueEngine } from "../../src/objects/queue/engine";
import { MoveKind } from "../../src/objects/queue/storage";
import { attributeBytes, isAttributeNumber, type MessageAttributes } from "../../src/schema/message-attributes";
import { createQueue, expectError, expectOk, inQueue, peekAll, receiveOne, runDueAt, uniqueName, type QueueStub } from "./support";

const Attributes: MessageAttributes = {
  color: { type: "String", value: "red" },
  price: { type: "Number.float", value: "-12.50e3" },
  thumb: { type: "Binary.png", value: "iVBORw0KGgo=" },
  "trace.id-1_x": { type: "String.uuid", value: "日本語" },
};

async function sendWith(stub: QueueStub, attributes: MessageAttributes, senderId: string | null = "AKIDsender", body = "hello") {
  return expectOk(await stub.send([{ body, attributes }], senderId)).ids[0]!;
}

describe("message attributes and sender in a queue", () => {
  it("stores typed attributes and the sender, and gives them back on receive and on peek", async () => {
    const { stub } = await createQueue();

    const id = await sendWith(stub, Attributes);
    const peeked = await peekAll(stub);
    const received = await receiveOne(stub);

    expect(peeked[0]).toMatchObject({ id, attributes: Attributes, senderId: "AKIDsender" });
    expect(received).toMatchObject({ id, body: "hello", attributes: Attributes, senderId: "AKIDsender" });
  });

  it("gives a message without attributes an empty set, and a send without a known sender a null sender", async () => {
    const { stub } = await createQueue();

    expectOk(await stub.send([{ body: "plain" }]));
    const received = await receiveOne(stub);

    expect(received.attributes).toEqual({});
    expect(received.senderId).toBeNull();
  });

  it("counts attribute names, types and values in the size limit, Binary values as decoded bytes", async () => {
    const { stub } = await createQueue({ maxMsgSize: 1_024 });
    // "bin" + "Binary" + 3 decoded bytes ("AAAA") = 12 bytes; "n" + "Number" + "7" = 8 bytes.
    const attributes: MessageAttributes = { bin: { type: "Binary", value: "AAAA" }, n: { type: "Number", value: "7" } };
    expect(attributeBytes(attributes)).toBe(20);

    const fits = await stub.send([{ body: "x".repeat(1_024 - 20), attributes }]);
    const tooLarge = await stub.send([{ body: "x".repeat(1_024 - 19), attributes }]);

    expectOk(fits);
    expectError(tooLarge, ErrorCode.MessageTooLarge);
    expect(tooLarge.ok ? "" : tooLarge.error.message).toContain("1025 bytes (body and attributes)");
    expect(await peekAll(stub)).toHaveLength(1);
  });

  it("counts attributes in a batch's total and refuses the whole batch past it", async () => {
    const { stub } = await createQueue({ maxMsgSize: 1_048_576 });
    const half = "x".repeat(524_288);

    const refused = await stub.send([{ body: half }, { body: half, attributes: { a: { type: "String", value: "b" } } }]);

    expectError(refused, ErrorCode.BatchTooLarge);
    expect(await peekAll(stub)).toEqual([]);
  });

  it("keeps attributes and sender on a dead-letter move and on the redrive back", async () => {
    const dlq = await createQueue({}, uniqueName("dlq"));
    const source = await createQueue({ deadLetter: { queue: dlq.name, maxReceiveCount: 1 } });
    const id = await sendWith(source.stub, Attributes);
    const received = await receiveOne(source.stub);

    await runDueAt(source.stub, received.nextVisibleAt);
    const dead = await peekAll(dlq.stub);
    const t0 = Date.now() + 3_600_000;
    await inQueue(dlq.stub, (o) => o.redrives.start({ destination: null, maxPerSecond: undefined, maxMessages: undefined }, t0));
    await runDueAt(dlq.stub, t0);
    const back = await peekAll(source.stub);

    expect(dead).toEqual([expect.objectContaining({ id, sourceQueue: source.name, attributes: Attributes, senderId: "AKIDsender" })]);
    expect(back).toEqual([expect.objectContaining({ id, attributes: Attributes, senderId: "AKIDsender" })]);
  });

  it("keeps a trace header, gives it back on receive and peek, and carries it on a dead-letter move", async () => {
    const dlq = await createQueue({}, uniqueName("dlq"));
    const source = await createQueue({ deadLetter: { queue: dlq.name, maxReceiveCount: 1 } });
    const traceHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
    const [id] = expectOk(await source.stub.send([{ body: "traced", traceHeader }, { body: "untraced" }], "AKIDsender")).ids;

    const received = await receiveOne(source.stub);
    const peeked = await peekAll(source.stub);
    await runDueAt(source.stub, received.nextVisibleAt);
    const dead = await peekAll(dlq.stub);

    expect(received).toMatchObject({ id, traceHeader });
    expect(peeked.map((m) => m.traceHeader)).toEqual([traceHeader, undefined]);
    expect(dead).toEqual([expect.objectContaining({ id, traceHeader })]);
  });

  it("keeps attributes and sender on a rewind", async () => {
    const { stub } = await createQueue({ rewindSeconds: 3_600 });
    const sentAt = Date.now();
    const id = await sendWith(stub, Attributes, "account-1");
    const received = await receiveOne(stub);
    expectOk(await stub.deleteMessages([received.receiptHandle]));

    expectOk(await stub.rewind(sentAt - 1_000));
    const again = await receiveOne(stub);

    expect(again).toMatchObject({ id, attributes: Attributes, senderId: "account-1" });
  });

  it("brings a messages table stored before attributes existed up to date, keeping its messages", async () => {
    const { stub } = await createQueue();

    const [old, fresh] = await inQueue(stub, (object, state) => {
      const sql = state.storage.sql;
      // The table as the first release created it, with one message in it.
      sql.exec("DROP TABLE messages");
      sql.exec(`CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, body TEXT NOT NULL, tags TEXT,
        enqueued_at INTEGER NOT NULL, visible_at INTEGER NOT NULL, state INTEGER NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0, first_received_at INTEGER, receipt TEXT,
        source_queue TEXT, move_kind TEXT, move_to TEXT, move_key TEXT)`);
      sql.exec("INSERT INTO messages (id, body, enqueued_at, visible_at, state) VALUES ('old-id', 'old body', 1, 1, 0)");
      // What a restarted object does: a new engine over the stored tables.
      const engine = new QueueEngine(sql, state.storage);
      const nowMs = Date.now();
      engine.send([{ body: "new body", attributes: { k: { type: "String", value: "v" } } }], nowMs, "AKIDnew");
      const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('messages')").toArray().map((c) => c.name);
      expect(columns).toEqual(expect.arrayContaining(["attributes", "sender_id", "trace_header"]));
      // Migrating again changes nothing.
      engine.migrate();
      return engine.peek(10, 0, nowMs).messages;
    });

    expect(old).toMatchObject({ id: "old-id", body: "old body", attributes: {}, senderId: null });
    expect(fresh).toMatchObject({ body: "new body", attributes: { k: { type: "String", value: "v" } }, senderId: "AKIDnew" });
  });

  it("counts attributes when it splits a hand-over by bytes", async () => {
    const { stub } = await createQueue({ maxMsgSize: 1_048_576 });
    // Nine messages of 400 KiB bodies fit one 8 MiB hand-over; with 600 KiB attributes each they do not.
    const attributes: MessageAttributes = { pad: { type: "String", value: "a".repeat(600 * 1_024) } };
    for (let i = 0; i < 9; i++) expectOk(await stub.send([{ body: "b".repeat(400 * 1_024), attributes }]));

    const batches = await inQueue(stub, (o, state) => {
      const seqs = state.storage.sql.exec<{ seq: number }>("SELECT seq FROM messages ORDER BY seq").toArray().map((row) => row.seq);
      o.engine.moves.markMoving(seqs, MoveKind.redrive, "elsewhere");
      return o.engine.moves.pendingMoves(Date.now() + 1_000).map((batch) => batch.seqs.length);
    });

    expect(9 * 400 * 1_024).toBeLessThan(HandOverMaxBytes);
    expect(batches).toEqual([8, 1]);
  });

  it("weighs a topic delivery's hand-over by its body and its attributes' JSON, in UTF-8 bytes", () => {
    expect(handOverBytes({ body: "é", attributes: null })).toBe(2);
    expect(handOverBytes({ body: "é", attributes: '{"k":{"type":"String","value":"日"}}' })).toBe(2 + 37); // 35 characters, "日" three bytes
  });

  it("stores a hand-over from a release without attributes as a message without them", async () => {
    const { stub } = await createQueue();

    expectOk(await stub.accept([{ idempotencyKey: "old:1", id: "m-1", body: "from an old topic", tags: [], sourceQueue: null }]));
    const received = await receiveOne(stub);

    expect(received).toMatchObject({ id: "m-1", attributes: {}, senderId: null });
  });
});

describe("Number attribute values", () => {
  it.each([
    ["0"],
    ["-0"],
    ["42"],
    ["+7"],
    ["-12.5"],
    [".5"],
    ["5."],
    ["1e126"],
    ["9.99E+126"],
    ["1e-128"],
    ["12345678901234567890123456789012345678"],
    ["0.00000000000000000000000000000000000000012345"],
    ["1000000000000000000000000000000000000000000"],
  ])("accepts %s", (text) => {
    expect(isAttributeNumber(text)).toBe(true);
  });

  it.each([
    [""],
    ["."],
    ["-"],
    ["abc"],
    ["1,5"],
    [" 1"],
    ["1e"],
    ["0x10"],
    ["NaN"],
    ["Infinity"],
    ["1e127"],
    ["1e-129"],
    ["123456789012345678901234567890123456789"],
  ])("refuses %j", (text) => {
    expect(isAttributeNumber(text)).toBe(false);
  });
});
