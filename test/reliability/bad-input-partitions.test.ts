import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { partitionOfGroup } from "../../src/schema/partitions";
import { api, type ApiResponse } from "../support/http";
import { sqs } from "../support/sqs";
import { checkProperty, propertyTimeoutMs } from "./fc-params";

/**
 * Bad input for partitioned queues: partition counts out of range or of the wrong type, lowering
 * a count while the partitions to remove hold messages (or, on a FIFO queue, deduplication ids),
 * changing a FIFO queue's count while earlier changes settle, and receipt handles that name a partition
 * wrongly. Each is refused with its stable code in the interface's dialect and changes nothing.
 */
const uid = () => crypto.randomUUID().slice(0, 8);
const queue = `bpa-${uid()}`;
const queueUrl = (name: string) => `http://cmq.test/default/${name}`;

type RpcOutcome = { ok: true; value: unknown } | { ok: false; name: string; message: string };

async function rpc(method: string, ...args: unknown[]): Promise<RpcOutcome> {
  const response = await env.CONSUMER.fetch("http://consumer/", { method: "POST", body: JSON.stringify({ method, args }) });
  return response.json<RpcOutcome>();
}

const rpcCode = (outcome: RpcOutcome) => (outcome.ok ? "ok" : (/^\[(\w+)\] /.exec(outcome.message)?.[1] ?? outcome.message));

function expectRestError(response: ApiResponse, code: string, status: number, label: string): void {
  expect({ status: response.status, code: response.body?.error?.code }, `${label}: ${JSON.stringify(response.body)?.slice(0, 300)}`).toEqual({ status, code });
}

/** The queue's attributes, counts and every partition's messages: all a refused request could change. */
async function state(): Promise<unknown> {
  const info = await api("GET", `/v1/queues/${queue}`);
  const peek = await api("GET", `/v1/queues/${queue}/messages?limit=100`);
  return { info: info.body, messages: peek.body.messages };
}

/** A group id that lands in partition `target` of `partitions`. */
function groupIn(target: number, partitions: number): string {
  for (let index = 0; ; index++) if (partitionOfGroup(`g${index}`, partitions) === target) return `g${index}`;
}

let before: unknown;
/** A handle of partition 3, received and not deleted. */
let handleOfThree = "";

beforeAll(async () => {
  expect((await api("PUT", `/v1/queues/${queue}`, { partitions: 4, visibilityTimeout: 3600 })).status).toBe(201);
  for (const target of [0, 2, 3]) {
    const sent = await api("POST", `/v1/queues/${queue}/messages`, { messages: [{ body: `in ${target}`, groupId: groupIn(target, 4) }] });
    expect(sent.status).toBe(200);
  }
  for (let attempt = 0; attempt < 20 && !handleOfThree; attempt++) {
    const received = await api("POST", `/v1/queues/${queue}/messages/receive`, { max: 16 });
    handleOfThree = received.body.messages.map((message: { receiptHandle: string }) => message.receiptHandle).find((handle: string) => handle.startsWith("p3_")) ?? "";
  }
  expect(handleOfThree).toMatch(/^p3_/);
  before = await state();
});

const badCount = fc.oneof(
  fc.integer({ max: 0 }),
  fc.integer({ min: 65 }),
  fc.constantFrom(0, 65, 1.5, 63.999, -1, 1e21, Number.NaN),
  fc.constantFrom("2", "", null, true, [4], { count: 2 }),
);

describe("bad partition counts", () => {
  it(
    "are InvalidParameter over REST (create and update) and RPC, and change nothing",
    async () => {
      await checkProperty(
        "partition counts",
        fc.asyncProperty(badCount, async (partitions) => {
          const label = `partitions = ${JSON.stringify(partitions)}`;
          expectRestError(await api("PUT", `/v1/queues/bpc-${uid()}`, { partitions }), "InvalidParameter", 400, `create, ${label}`);
          expectRestError(await api("PATCH", `/v1/queues/${queue}`, { partitions }), "InvalidParameter", 400, `update, ${label}`);
          expect(rpcCode(await rpc("updateQueue", queue, { partitions })), label).toBe("InvalidParameter");
        }),
        60,
      );
      expect(await state()).toEqual(before);
    },
    propertyTimeoutMs(),
  );

  it("lowering while a partition to remove holds messages is PartitionsNotEmpty over REST and RPC, and changes nothing", async () => {
    for (const partitions of [1, 2, 3]) {
      const response = await api("PATCH", `/v1/queues/${queue}`, { partitions });
      expectRestError(response, "PartitionsNotEmpty", 409, `lower to ${partitions}`);
      expect(response.body.error.message).toMatch(/partition 3 holds 1 messages; drain it first/);
      expect(rpcCode(await rpc("updateQueue", queue, { partitions })), `lower to ${partitions}`).toBe("PartitionsNotEmpty");
    }
    expect(await state()).toEqual(before);
  });
});

describe("a FIFO queue's count changed too often or lowered too soon", () => {
  it("is PartitionsNotEmpty over REST and RPC, before any partition is made or removed, and changes nothing", async () => {
    const fifo = `bpr-${uid()}.fifo`;
    expect((await api("PUT", `/v1/queues/${fifo}`, { fifo: true, partitions: 4 })).status).toBe(201);
    // A message taken and deleted: partition 3 is empty but keeps its deduplication id for 5 minutes.
    const group = groupIn(3, 4);
    expect((await api("POST", `/v1/queues/${fifo}/messages`, { body: "x", groupId: group, deduplicationId: "x" })).status).toBe(200);
    const [received] = (await api("POST", `/v1/queues/${fifo}/messages/receive`, { max: 1 })).body.messages;
    expect((await api("POST", `/v1/queues/${fifo}/messages/delete`, { receiptHandles: [received.receiptHandle] })).status).toBe(200);
    const fifoState = async () => [(await api("GET", `/v1/queues/${fifo}`)).body, (await api("GET", `/v1/queues/${fifo}/messages?limit=100`)).body];
    const lowered = await fifoState();
    for (const partitions of [1, 2, 3]) {
      const response = await api("PATCH", `/v1/queues/${fifo}`, { partitions });
      expectRestError(response, "PartitionsNotEmpty", 409, `lower to ${partitions}`);
      expect(response.body.error.message).toMatch(/partition 3 is empty but keeps the deduplication ids/);
      expect(rpcCode(await rpc("updateQueue", fifo, { partitions })), `lower to ${partitions}`).toBe("PartitionsNotEmpty");
    }
    expect(await fifoState()).toEqual(lowered);
    // Three raises settle at once; a fourth change waits for them.
    for (const partitions of [5, 6, 7]) expect((await api("PATCH", `/v1/queues/${fifo}`, { partitions })).status).toBe(200);
    const settling = await fifoState();
    for (const partitions of [8, 64, 2]) {
      expectRestError(await api("PATCH", `/v1/queues/${fifo}`, { partitions }), "PartitionsNotEmpty", 409, `change to ${partitions}`);
      expect(rpcCode(await rpc("updateQueue", fifo, { partitions })), `change to ${partitions}`).toBe("PartitionsNotEmpty");
    }
    expect(await fifoState()).toEqual(settling);
  });
});

describe("a FIFO batch split over partitions", () => {
  it("is bounded as a whole: over 1 MiB in all is BatchTooLarge over REST and RPC, storing nothing in any partition", async () => {
    const fifo = `bpf-${uid()}.fifo`;
    expect((await api("PUT", `/v1/queues/${fifo}`, { fifo: true, partitions: 4, maxMsgSize: 1_048_576 })).status).toBe(201);
    const [left, right] = [groupIn(1, 4), groupIn(3, 4)];
    const half = "x".repeat(600_000);
    const messages = [
      { body: half, groupId: left, deduplicationId: "a" },
      { body: half, groupId: right, deduplicationId: "b" },
    ];
    expectRestError(await api("POST", `/v1/queues/${fifo}/messages`, { messages }), "BatchTooLarge", 413, "two halves");
    expect(rpcCode(await rpc("sendBatch", fifo, messages))).toBe("BatchTooLarge");
    expect((await api("GET", `/v1/queues/${fifo}`)).body.counts.total).toBe(0);
    // Each half alone is a valid batch, in its own partition.
    for (const message of messages) expect((await api("POST", `/v1/queues/${fifo}/messages`, { messages: [message] })).status).toBe(200);
    expect((await api("GET", `/v1/queues/${fifo}`)).body.counts.total).toBe(2);
  });
});

describe("receipt handles that name a partition wrongly", () => {
  const forged = () => [
    handleOfThree.replace(/^p3_/, "p2_"),
    handleOfThree.replace(/^p3_/, "p4_"),
    handleOfThree.replace(/^p3_/, "p64_"),
    handleOfThree.replace(/^p3_/, "p03_"),
    handleOfThree.replace(/^p3_/, "p0_"),
    handleOfThree.replace(/^p3_/, ""),
    "p3_",
    "p3_x",
    "p1_p2_0-00000000000000000000000000000000",
  ];

  it("are ReceiptHandleInvalid per handle over REST, RPC and SQS, and delete nothing", async () => {
    const rest = await api("POST", `/v1/queues/${queue}/messages/delete`, { receiptHandles: forged() });
    expect(rest.status).toBe(200);
    expect(rest.body.results.map((result: { receiptHandle: string; deleted: boolean; error?: { code: string } }) => [result.receiptHandle, result.deleted, result.error?.code])).toEqual(
      forged().map((handle) => [handle, false, "ReceiptHandleInvalid"]),
    );
    const viaRpc = await rpc("deleteMessages", queue, forged());
    expect(viaRpc.ok && (viaRpc.value as { results: Array<{ error?: { code: string } }> }).results.map((result) => result.error?.code)).toEqual(
      forged().map(() => "ReceiptHandleInvalid"),
    );
    for (const handle of forged()) {
      const answer = await sqs("DeleteMessage", { QueueUrl: queueUrl(queue), ReceiptHandle: handle });
      expect({ status: answer.status, type: answer.body?.__type }, handle).toEqual({ status: 404, type: "com.amazonaws.sqs#ReceiptHandleIsInvalid" });
      const visibility = await api("POST", `/v1/queues/${queue}/messages/visibility`, { receiptHandle: handle, visibilityTimeout: 5 });
      expectRestError(visibility, "ReceiptHandleInvalid", 400, `visibility ${handle}`);
    }
    expect(await state()).toEqual(before);
  });
});
