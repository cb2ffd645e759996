import { describe, expect, it } from "vitest";
import { FairQueueRule } from "../../src/objects/queue/fairness";
import type { OutgoingMessage } from "../../src/schema/queue";
import { createQueue, expectOk, receive, type QueueStub } from "../objects/support";

async function sendMany(stub: QueueStub, tenant: string | undefined, count: number): Promise<void> {
  for (let start = 0; start < count; start += 16) {
    const batch: OutgoingMessage[] = Array.from({ length: Math.min(16, count - start) }, (_, index) => ({
      body: `${tenant ?? "none"}-${start + index}`,
      ...(tenant ? { groupId: tenant } : {}),
    }));
    expectOk(await stub.send(batch));
  }
}

/** Receives `count` messages in batches of 16 and keeps them in flight. */
async function receiveMany(stub: QueueStub, count: number) {
  const got = [];
  while (got.length < count) {
    const batch = await receive(stub, { max: Math.min(16, count - got.length), visibilityTimeout: 300 });
    if (batch.length === 0) break;
    got.push(...batch);
  }
  return got;
}

describe("fair delivery among a standard queue's tenants", () => {
  it("gives a quiet tenant's messages first while a noisy tenant holds most messages in flight and has a deep backlog", async () => {
    const { stub } = await createQueue();
    await sendMany(stub, "noisy", 200);
    await receiveMany(stub, FairQueueRule.noisyMinInFlight + 10);
    await sendMany(stub, "quiet", 3);
    const next = await receive(stub, { max: 5, visibilityTimeout: 300 });
    expect(next.map((message) => message.body)).toEqual(["noisy-40", "noisy-41", "quiet-0", "quiet-1", "quiet-2"]);
    expect(next.filter((message) => message.groupId === "quiet")).toHaveLength(3);
  });

  it("counts a tenant noisy only past both thresholds: under the minimum in flight, order is the queue's", async () => {
    const { stub } = await createQueue();
    await sendMany(stub, "busy", 60);
    await receiveMany(stub, FairQueueRule.noisyMinInFlight - 1);
    await sendMany(stub, "quiet", 1);
    const next = await receive(stub, { max: 1 });
    expect(next[0]!.body).toBe(`busy-${FairQueueRule.noisyMinInFlight - 1}`);
  });

  it("counts a tenant noisy only past its share: many tenants each with a small share are served in queue order", async () => {
    const { stub } = await createQueue();
    // 11 tenants with 32 in flight each: each holds 1/11 < 10 % of the in-flight messages.
    const tenants = Array.from({ length: 11 }, (_, index) => `t${index}`);
    for (const tenant of tenants) await sendMany(stub, tenant, 32);
    await receiveMany(stub, 32 * 11);
    await sendMany(stub, "t0", 1);
    await sendMany(stub, "late", 1);
    const next = await receive(stub, { max: 2 });
    expect(next.map((message) => message.body)).toEqual(["t0-0", "late-0"]);
  });

  it("drops and throttles nothing: a queue whose only tenant is noisy is served as before", async () => {
    const { stub } = await createQueue();
    await sendMany(stub, "only", 80);
    await receiveMany(stub, 40);
    const next = await receive(stub, { max: 16 });
    expect(next.map((message) => message.body)).toEqual(Array.from({ length: 16 }, (_, index) => `only-${40 + index}`));
  });

  it("serves messages without a tenant as a tenant of their own", async () => {
    const { stub } = await createQueue();
    await sendMany(stub, "noisy", 100);
    await receiveMany(stub, 50);
    await sendMany(stub, undefined, 2);
    const next = await receive(stub, { max: 2 });
    expect(next.map((message) => message.body)).toEqual(["none-0", "none-1"]);
  });
});
