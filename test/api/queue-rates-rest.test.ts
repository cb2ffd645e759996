import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { createQueue, expectError, expectStatus } from "./helpers";

describe("GET /v1/queues/{name}/rates", () => {
  it("answers the queue's counters per bucket, the current bucket last", async () => {
    const queue = await createQueue(uniqueName());
    expectStatus(await api("POST", `/v1/queues/${queue}/messages`, { messages: [{ body: "a" }, { body: "b" }] }), 200);
    const received = await api("POST", `/v1/queues/${queue}/messages/receive`, { max: 1, waitSeconds: 0 });
    expectStatus(await api("DELETE", `/v1/queues/${queue}/messages/${received.body.messages[0].receiptHandle}`), 204);

    const response = await api("GET", `/v1/queues/${queue}/rates`);

    expectStatus(response, 200);
    expect(response.body).toMatchObject({ bucketSeconds: 10, windowSeconds: 900 });
    expect(response.body.buckets).toHaveLength(90);
    const totals = response.body.buckets.reduce(
      (sum: Record<string, number>, bucket: Record<string, number>) => ({
        sent: sum.sent! + bucket.sent!,
        received: sum.received! + bucket.received!,
        deleted: sum.deleted! + bucket.deleted!,
      }),
      { sent: 0, received: 0, deleted: 0 },
    );
    expect(totals).toEqual({ sent: 2, received: 1, deleted: 1 });
  });

  it("answers QueueNotFound for a queue that does not exist", async () => {
    expectError(await api("GET", `/v1/queues/${uniqueName()}/rates`), "QueueNotFound");
  });
});
