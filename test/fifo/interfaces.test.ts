import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { createTopic, runDue, topics } from "../support/topics";
import { expectError, expectRpcError, expectStatus, rpc, rpcValue } from "../api/helpers";

const fifoName = (prefix = "f") => `${uniqueName(prefix)}.fifo`;

describe("FIFO queues over REST", () => {
  it("creates a FIFO queue whose name ends in .fifo, with its attributes shown and kept", async () => {
    const name = fifoName();
    const created = await api("PUT", `/v1/queues/${name}`, { fifo: true, contentBasedDeduplication: true, deduplicationScope: "messageGroup", fifoThroughputLimit: "perMessageGroupId" });
    expectStatus(created, 201);
    expect(created.body).toMatchObject({ name, fifo: true, contentBasedDeduplication: true, deduplicationScope: "messageGroup", fifoThroughputLimit: "perMessageGroupId" });
    // contentBasedDeduplication may change; fifo may not.
    const patched = await api("PATCH", `/v1/queues/${name}`, { contentBasedDeduplication: false });
    expectStatus(patched, 200);
    expect(patched.body.contentBasedDeduplication).toBe(false);
    expectError(await api("PATCH", `/v1/queues/${name}`, { fifo: false }), "InvalidParameter");
    const listed = await api("GET", `/v1/queues?prefix=${name.slice(0, 8)}`);
    expect(listed.body.queues).toEqual([expect.objectContaining({ name, fifo: true })]);
  });

  it("refuses a .fifo name without fifo, fifo without the name, and FIFO attributes on a standard queue", async () => {
    expectError(await api("PUT", `/v1/queues/${fifoName()}`, {}), "InvalidParameter", /only a FIFO queue's name/);
    expectError(await api("PUT", `/v1/queues/${uniqueName("s")}`, { fifo: true }), "InvalidParameter", /ends in '.fifo'/);
    expectError(await api("PUT", `/v1/queues/${uniqueName("s")}`, { contentBasedDeduplication: true }), "InvalidParameter", /FIFO queues only/);
    expectError(await api("PUT", `/v1/queues/${uniqueName("s")}`, { deduplicationScope: "messageGroup" }), "InvalidParameter");
    expectError(await api("PUT", `/v1/queues/${uniqueName("s")}`, { fifoThroughputLimit: "perQueue2" }), "InvalidParameter");
    expectError(await api("PUT", `/v1/queues/x.fifo.fifo`, { fifo: true }), "InvalidParameter");
    expectError(await api("PUT", `/v1/queues/${"a".repeat(60)}.fifo`, { fifo: true }), "InvalidParameter");
  });

  it("a FIFO queue's dead-letter queue is FIFO, and a standard queue's is standard", async () => {
    const fifoDlq = fifoName("dlq");
    const standardDlq = uniqueName("dlq");
    expectStatus(await api("PUT", `/v1/queues/${fifoDlq}`, { fifo: true }), 201);
    expectStatus(await api("PUT", `/v1/queues/${standardDlq}`, {}), 201);
    expectError(await api("PUT", `/v1/queues/${fifoName()}`, { fifo: true, deadLetter: { queue: standardDlq, maxReceiveCount: 3 } }), "InvalidDeadLetterQueue");
    expectError(await api("PUT", `/v1/queues/${uniqueName("s")}`, { deadLetter: { queue: fifoDlq, maxReceiveCount: 3 } }), "InvalidDeadLetterQueue");
    expectStatus(await api("PUT", `/v1/queues/${fifoName()}`, { fifo: true, deadLetter: { queue: fifoDlq, maxReceiveCount: 3 } }), 201);
  });

  it("sends with groupId and deduplicationId, answers sequence numbers, and receives each group in order", async () => {
    const name = fifoName();
    expectStatus(await api("PUT", `/v1/queues/${name}`, { fifo: true }), 201);
    const one = await api("POST", `/v1/queues/${name}/messages`, { body: "a1", groupId: "a", deduplicationId: "1" });
    expectStatus(one, 200);
    expect(one.body).toEqual({ id: expect.any(String), sequenceNumber: expect.stringMatching(/^\d{20}$/) });
    const batch = await api("POST", `/v1/queues/${name}/messages`, {
      messages: [
        { body: "b1", groupId: "b", deduplicationId: "2" },
        { body: "a2", groupId: "a", deduplicationId: "3" },
        { body: "a1 again", groupId: "a", deduplicationId: "1" },
      ],
    });
    expectStatus(batch, 200);
    expect(batch.body.messages[2]).toEqual(one.body);
    const received = await api("POST", `/v1/queues/${name}/messages/receive`, { max: 10 });
    expectStatus(received, 200);
    expect(received.body.messages.map((m: any) => [m.body, m.groupId, m.deduplicationId])).toEqual([
      ["a1", "a", "1"],
      ["a2", "a", "3"],
      ["b1", "b", "2"],
    ]);
    expect(received.body.messages[0].sequenceNumber).toBe(one.body.sequenceNumber);
    const peeked = await api("GET", `/v1/queues/${name}/messages`);
    expect(peeked.body.messages.map((m: any) => m.groupId)).toEqual(["a", "b", "a"]);
  });

  it("refuses, in the native dialect, a FIFO send without a group id or with a delay, and a malformed id", async () => {
    const name = fifoName();
    expectStatus(await api("PUT", `/v1/queues/${name}`, { fifo: true, contentBasedDeduplication: true }), 201);
    expectError(await api("POST", `/v1/queues/${name}/messages`, { body: "x" }), "MissingParameter", /groupId/);
    expectError(await api("POST", `/v1/queues/${name}/messages`, { body: "x", groupId: "g", delaySeconds: 5 }), "InvalidParameter", /delay/);
    expectError(await api("POST", `/v1/queues/${name}/messages`, { body: "x", groupId: "" }), "InvalidParameter");
    expectError(await api("POST", `/v1/queues/${name}/messages`, { body: "x", groupId: "g".repeat(129) }), "InvalidParameter");
    expectError(await api("POST", `/v1/queues/${name}/messages`, { body: "x", groupId: "ü" }), "InvalidParameter");
    expectError(await api("POST", `/v1/queues/${name}/messages`, { body: "x", groupId: "g", deduplicationId: 7 }), "InvalidParameter");
    expect((await api("GET", `/v1/queues/${name}`)).body.counts.total).toBe(0);
  });

  it("documents the FIFO fields in /openapi.json", async () => {
    const spec = (await api("GET", "/openapi.json", undefined, { auth: null })).body;
    const text = JSON.stringify(spec);
    for (const field of ["groupId", "deduplicationId", "sequenceNumber", "contentBasedDeduplication", "fifoThroughputLimit", "deduplicationScope"]) {
      expect(text).toContain(`"${field}"`);
    }
  });
});

describe("FIFO queues over RPC", () => {
  it("creates, sends with sequence numbers, deduplicates and receives in group order", async () => {
    const name = fifoName("rpc");
    expect(rpcValue(await rpc("createQueue", name, { fifo: true })).queue.fifo).toBe(true);
    const first = rpcValue(await rpc("send", name, { body: "1", groupId: "g", deduplicationId: "a" }));
    expect(first).toEqual({ id: expect.any(String), sequenceNumber: expect.stringMatching(/^\d{20}$/) });
    expect(rpcValue(await rpc("send", name, { body: "1", groupId: "g", deduplicationId: "a" }))).toEqual(first);
    rpcValue(await rpc("sendBatch", name, [{ body: "2", groupId: "g", deduplicationId: "b" }]));
    const got = rpcValue(await rpc("receive", name, { max: 10 }));
    expect(got.messages.map((m: any) => m.body)).toEqual(["1", "2"]);
    expectRpcError(await rpc("send", name, { body: "x", deduplicationId: "c" }), "MissingParameter");
  });
});

describe("a topic delivering to a FIFO queue", () => {
  it("passes groupId and deduplicationId to its queue subscriptions: order per group, duplicates stored once", async () => {
    const topic = await createTopic();
    const queue = fifoName("sub");
    const tenants = uniqueName("ten");
    expectStatus(await api("PUT", `/v1/queues/${queue}`, { fifo: true }), 201);
    expectStatus(await api("PUT", `/v1/queues/${tenants}`, {}), 201);
    await topics.subscribe(topic, "fifo", { protocol: "queue", endpoint: queue });
    await topics.subscribe(topic, "std", { protocol: "queue", endpoint: tenants });
    const published = await api("POST", `/v1/topics/${topic}/messages`, {
      messages: [
        { body: "g1", groupId: "g", deduplicationId: "1" },
        { body: "h1", groupId: "h", deduplicationId: "2" },
        { body: "g2", groupId: "g", deduplicationId: "3" },
        { body: "g1 again", groupId: "g", deduplicationId: "1" },
        { body: "no group", deduplicationId: "4" },
      ],
    });
    expectStatus(published, 200);
    await runDue(topic, Date.now());
    const received = await api("POST", `/v1/queues/${queue}/messages/receive`, { max: 10 });
    expect(received.body.messages.map((m: any) => [m.body, m.groupId])).toEqual([
      ["g1", "g"],
      ["g2", "g"],
      ["h1", "h"],
      ["no group", "default"],
    ]);
    // The standard queue keeps the group as its tenant and deduplicates nothing.
    const standard = await api("POST", `/v1/queues/${tenants}/messages/receive`, { max: 10 });
    expect(standard.body.messages).toHaveLength(5);
    expect(standard.body.messages[0]).toMatchObject({ groupId: "g" });
    expect(standard.body.messages[0].sequenceNumber).toBeUndefined();
    expect(standard.body.messages[0].deduplicationId).toBeUndefined();
  });

  it("refuses a malformed group id on publish", async () => {
    const topic = await createTopic();
    expectError(await api("POST", `/v1/topics/${topic}/messages`, { body: "x", groupId: "" }), "InvalidParameter");
  });
});
