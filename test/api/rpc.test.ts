import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { expectRpcError, rpc, rpcValue, snapshot } from "./helpers";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("queue administration over RPC", () => {
  it("createQueue answers created and the queue; the same again is not created; different attributes conflict", async () => {
    const name = uniqueName("rpc");
    const created = rpcValue(await rpc("createQueue", name, { visibilityTimeout: 40 }));
    expect(created.created).toBe(true);
    expect(created.queue).toMatchObject({ name, visibilityTimeout: 40, counts: { total: 0 } });
    const again = rpcValue(await rpc("createQueue", name, { visibilityTimeout: 40 }));
    expect(again).toEqual({ created: false, queue: created.queue });
    expectRpcError(await rpc("createQueue", name, { visibilityTimeout: 41 }), "QueueAlreadyExists");
    // Seen the same over REST.
    expect(((await snapshot(name)) as any).visibilityTimeout).toBe(40);
  });

  it("createQueue without attributes takes the defaults", async () => {
    const name = uniqueName("rpc");
    const created = rpcValue(await rpc("createQueue", name));
    expect(created.queue).toMatchObject({ visibilityTimeout: 30, maxMsgSize: 65_536, deadLetter: null });
  });

  it("getQueue, updateQueue, listQueues and deleteQueue", async () => {
    const prefix = `rpcl${crypto.randomUUID().slice(0, 6)}`;
    const names = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    for (const name of names) rpcValue(await rpc("createQueue", name, {}));

    expect(rpcValue(await rpc("getQueue", names[0]!.toUpperCase())).name).toBe(names[0]);
    const updated = rpcValue(await rpc("updateQueue", names[0], { pollingWaitSeconds: 3 }));
    expect(updated.pollingWaitSeconds).toBe(3);

    const first = rpcValue(await rpc("listQueues", { prefix, limit: 2 }));
    expect(first.queues.map((q: any) => q.name)).toEqual(names.slice(0, 2));
    expect(first.queues[0].pollingWaitSeconds).toBe(3);
    const second = rpcValue(await rpc("listQueues", { prefix, limit: 2, cursor: first.nextCursor }));
    expect(second).toMatchObject({ queues: [expect.objectContaining({ name: names[2] })], nextCursor: null });

    expect(rpcValue(await rpc("deleteQueue", names[1]))).toBeNull();
    expectRpcError(await rpc("getQueue", names[1]), "QueueNotFound");
    expectRpcError(await rpc("deleteQueue", names[1]), "QueueNotFound");
    const after = rpcValue(await rpc("listQueues", { prefix }));
    expect(after.queues.map((q: any) => q.name)).toEqual([names[0], names[2]]);
    expect((await api("GET", `/v1/queues?prefix=${prefix}`)).body.queues).toHaveLength(2);
  });

  it("deleteQueue of a dead-letter queue in use is [QueueInUse]", async () => {
    const dlq = uniqueName("rpcdlq");
    rpcValue(await rpc("createQueue", dlq));
    const source = uniqueName("rpcsrc");
    rpcValue(await rpc("createQueue", source, { deadLetter: { queue: dlq, maxReceiveCount: 2 } }));
    expectRpcError(await rpc("deleteQueue", dlq), "QueueInUse", source);
    expectRpcError(await rpc("createQueue", uniqueName("rpc"), { deadLetter: { queue: source, maxReceiveCount: 2 } }), "InvalidDeadLetterQueue");
    expect(rpcValue(await rpc("getQueue", dlq)).name).toBe(dlq);
  });
});

describe("messages over RPC", () => {
  it("send, sendBatch, receive, changeVisibility, deleteMessage, deleteMessages, peek and purge", async () => {
    const name = uniqueName("rpc");
    rpcValue(await rpc("createQueue", name));

    expect(rpcValue(await rpc("send", name, "plain"))).toEqual({ id: expect.stringMatching(uuid) });
    expect(rpcValue(await rpc("send", name, { body: "tagged", tags: ["t1"] }))).toEqual({ id: expect.stringMatching(uuid) });
    const batch = rpcValue(await rpc("sendBatch", name, [{ body: "b1" }, { body: "b2" }, { body: "later", delaySeconds: 600 }]));
    expect(batch.messages).toHaveLength(3);

    const peeked = rpcValue(await rpc("peek", name, { limit: 2 }));
    expect(peeked.messages.map((m: any) => m.body)).toEqual(["plain", "tagged"]);
    const rest = rpcValue(await rpc("peek", name, { cursor: peeked.nextCursor }));
    expect(rest.messages.map((m: any) => [m.body, m.state])).toEqual([
      ["b1", "active"],
      ["b2", "active"],
      ["later", "delayed"],
    ]);

    const received = rpcValue(await rpc("receive", name, { max: 16, visibilityTimeout: 60 })).messages;
    expect(received.map((m: any) => m.body)).toEqual(["plain", "tagged", "b1", "b2"]);
    expect(received[1].tags).toEqual(["t1"]);

    const visible = rpcValue(await rpc("changeVisibility", name, received[0].receiptHandle, 0));
    expect(visible).toEqual({ nextVisibleAt: expect.any(Number) });
    const again = rpcValue(await rpc("receive", name)).messages;
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ body: "plain", receiveCount: 2 });

    expect(rpcValue(await rpc("deleteMessage", name, again[0].receiptHandle))).toBeNull();
    expectRpcError(await rpc("deleteMessage", name, received[0].receiptHandle), "ReceiptHandleInvalid");
    const results = rpcValue(await rpc("deleteMessages", name, [received[1].receiptHandle, "bogus"])).results;
    expect(results).toEqual([
      { receiptHandle: received[1].receiptHandle, deleted: true },
      { receiptHandle: "bogus", deleted: false, error: { code: "ReceiptHandleInvalid", message: expect.any(String) } },
    ]);

    expect(rpcValue(await rpc("purge", name))).toEqual({ purged: 3 });
    expect(rpcValue(await rpc("peek", name)).messages).toEqual([]);
  });

  it("a receive with a wait is answered by a send from another call", async () => {
    const name = uniqueName("rpc");
    rpcValue(await rpc("createQueue", name));
    const poll = rpc("receive", name, { waitSeconds: 2 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    rpcValue(await rpc("send", name, "woken"));
    expect(rpcValue(await poll).messages.map((m: any) => m.body)).toEqual(["woken"]);
  });

  it("rewind and redrive are reachable too", async () => {
    const name = uniqueName("rpc");
    rpcValue(await rpc("createQueue", name));
    expectRpcError(await rpc("rewind", name, Date.now()), "RewindNotEnabled");
    expectRpcError(await rpc("getRedrive", name), "RedriveNotFound");
    expectRpcError(await rpc("cancelRedrive", name), "RedriveNotFound");
    expect(rpcValue(await rpc("startRedrive", name, {})).status).toBe("running");
  });
});

describe("errors keep their codes over RPC", () => {
  it.each([
    ["getQueue", [uniqueName("missing")]],
    ["updateQueue", [uniqueName("missing"), { visibilityTimeout: 5 }]],
    ["deleteQueue", [uniqueName("missing")]],
    ["send", [uniqueName("missing"), "x"]],
    ["sendBatch", [uniqueName("missing"), [{ body: "x" }]]],
    ["receive", [uniqueName("missing"), {}]],
    ["peek", [uniqueName("missing"), {}]],
    ["purge", [uniqueName("missing")]],
    ["changeVisibility", [uniqueName("missing"), `1-${"0".repeat(32)}`, 5]],
  ])("%s on a missing queue is [QueueNotFound]", async (method, args) => {
    expectRpcError(await rpc(method, ...args), "QueueNotFound");
  });

  it.each([
    ["unicode", "café"],
    ["a slash", "a/b"],
    ["a dot", "a.b"],
    ["65 chars", `q${"x".repeat(64)}`],
    ["empty", ""],
    ["a leading digit", "1q"],
  ])("a name with %s is [InvalidParameter] for every operation", async (_label, name) => {
    for (const [method, args] of [
      ["createQueue", [name, {}]],
      ["getQueue", [name]],
      ["deleteQueue", [name]],
      ["send", [name, "x"]],
      ["receive", [name, {}]],
    ] as const) {
      expectRpcError(await rpc(method, ...args), "InvalidParameter", /queue name/);
    }
  });

  it.each([
    ["visibilityTimeout 0", { visibilityTimeout: 0 }, "attributes.visibilityTimeout"],
    ["visibilityTimeout 43201", { visibilityTimeout: 43_201 }, "attributes.visibilityTimeout"],
    ["maxMsgSize 1023", { maxMsgSize: 1_023 }, "attributes.maxMsgSize"],
    ["a string value", { pollingWaitSeconds: "5" }, "attributes.pollingWaitSeconds"],
    ["an unknown attribute", { color: "blue" }, "attributes.color"],
    ["a bad dead-letter rule", { deadLetter: { queue: "dlq", maxReceiveCount: 0 } }, "attributes.deadLetter.maxReceiveCount"],
    ["an array", [], "attributes"],
  ])("createQueue with %s is [InvalidParameter] and creates nothing", async (_label, attributes, where) => {
    const name = uniqueName("rpc");
    expectRpcError(await rpc("createQueue", name, attributes), "InvalidParameter", where);
    expectRpcError(await rpc("getQueue", name), "QueueNotFound");
  });

  it("updateQueue with a bad attribute is [InvalidParameter] and changes nothing", async () => {
    const name = uniqueName("rpc");
    rpcValue(await rpc("createQueue", name));
    const before = rpcValue(await rpc("getQueue", name));
    expectRpcError(await rpc("updateQueue", name, { msgRetentionSeconds: 59 }), "InvalidParameter", "msgRetentionSeconds");
    expectRpcError(await rpc("updateQueue", name, { locationHint: "weur" }), "InvalidParameter", "locationHint");
    expectRpcError(await rpc("updateQueue", name), "InvalidParameter");
    expect(rpcValue(await rpc("getQueue", name))).toEqual(before);
  });

  it("message-level validation: bodies, batches, options", async () => {
    const name = uniqueName("rpc");
    rpcValue(await rpc("createQueue", name, { maxMsgSize: 1_024 }));
    expectRpcError(await rpc("send", name, ""), "InvalidParameter", "message.body");
    expectRpcError(await rpc("send", name, { body: "x", extra: 1 }), "InvalidParameter", "message.extra");
    expectRpcError(await rpc("send", name, 42), "InvalidParameter");
    expectRpcError(await rpc("send", name, "x".repeat(1_025)), "MessageTooLarge");
    expectRpcError(await rpc("sendBatch", name, []), "InvalidParameter", "batch.messages");
    expectRpcError(await rpc("sendBatch", name, Array.from({ length: 17 }, () => ({ body: "x" }))), "InvalidParameter", "16");
    expectRpcError(await rpc("receive", name, { max: 17 }), "InvalidParameter", "options.max");
    expectRpcError(await rpc("receive", name, { waitSeconds: 31 }), "InvalidParameter", "options.waitSeconds");
    expectRpcError(await rpc("peek", name, { limit: 101 }), "InvalidParameter", "options.limit");
    expectRpcError(await rpc("listQueues", { limit: 0 }), "InvalidParameter", "options.limit");
    expectRpcError(await rpc("listQueues", { limit: "10" }), "InvalidParameter", "options.limit");
    expectRpcError(await rpc("deleteMessages", name, []), "InvalidParameter");
    expect(rpcValue(await rpc("peek", name)).messages).toEqual([]);
  });

  it("bad receipt handles are [ReceiptHandleInvalid]; bad visibility timeouts are [InvalidParameter]", async () => {
    const name = uniqueName("rpc");
    rpcValue(await rpc("createQueue", name));
    rpcValue(await rpc("send", name, "x"));
    const [message] = rpcValue(await rpc("receive", name, { visibilityTimeout: 120 })).messages;
    expectRpcError(await rpc("deleteMessage", name, "nonsense"), "ReceiptHandleInvalid");
    expectRpcError(await rpc("deleteMessage", name, `1-${"f".repeat(32)}`), "ReceiptHandleInvalid");
    expectRpcError(await rpc("changeVisibility", name, "nonsense", 5), "ReceiptHandleInvalid");
    expectRpcError(await rpc("changeVisibility", name, message.receiptHandle, 43_201), "InvalidParameter", "visibilityTimeout");
    expectRpcError(await rpc("changeVisibility", name, message.receiptHandle, -1), "InvalidParameter", "visibilityTimeout");
    // Still in flight under the first receipt.
    expect(rpcValue(await rpc("receive", name)).messages).toEqual([]);
    expect(rpcValue(await rpc("deleteMessage", name, message.receiptHandle))).toBeNull();
  });

  it("an unknown method is not a ServiceError", async () => {
    const outcome = await rpc("noSuchMethod", "x");
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.name).not.toBe("ServiceError");
  });
});
