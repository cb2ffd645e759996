import { describe, expect, it } from "vitest";
import { ConsumerLimits } from "../../src/schema/queue-consumer";
import { api, uniqueName } from "../support/http";
import { queueStub } from "../objects/support";
import { consumerWorker, settle } from "../support/queue-consumer";

async function queueNamed(): Promise<string> {
  const name = uniqueName("cq");
  expect((await api("PUT", `/v1/queues/${name}`, {})).status).toBe(201);
  return name;
}

describe("the consumer routes", () => {
  it("sets a consumer with its defaults (201), replaces it (200) keeping pause and counters, and reads it", async () => {
    const queue = await queueNamed();

    const created = await api("PUT", `/v1/queues/${queue}/consumer`, { binding: "QUEUE_CONSUMER" });
    await api("POST", `/v1/queues/${queue}/consumer/pause`);
    const replaced = await api("PUT", `/v1/queues/${queue}/consumer`, { binding: "QUEUE_CONSUMER", batchSize: 50, maxConcurrency: 4 });
    const got = await api("GET", `/v1/queues/${queue}/consumer`);

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      binding: "QUEUE_CONSUMER",
      batchSize: ConsumerLimits.batchSize.default,
      maxWaitMs: ConsumerLimits.maxWaitMs.default,
      maxConcurrency: ConsumerLimits.maxConcurrency.default,
      maxRetries: ConsumerLimits.maxRetries.default,
      retryDelaySeconds: ConsumerLimits.retryDelaySeconds.default,
      paused: false,
      stats: { delivered: 0, acked: 0, retried: 0, failed: 0, inFlightBatches: 0, inFlightMessages: 0, backlog: 0, lagMs: 0, lastError: null, lastErrorAt: null },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ batchSize: 50, maxConcurrency: 4, maxWaitMs: ConsumerLimits.maxWaitMs.default, paused: true, createdAt: created.body.createdAt });
    expect(got.body).toEqual(replaced.body);
  });

  it("refuses a binding that is not a service binding of this Worker, and sets nothing", async () => {
    const queue = await queueNamed();

    const answers = await Promise.all(
      ["NOPE", "QUEUES", "REGION", "ROOT_SECRET_KEY"].map((binding) => api("PUT", `/v1/queues/${queue}/consumer`, { binding })),
    );

    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe("InvalidParameter");
      expect(answer.body.error.message).toContain("binding");
    }
    expect((await api("GET", `/v1/queues/${queue}/consumer`)).body.error.code).toBe("ConsumerNotFound");
  });

  it("answers 404 ConsumerNotFound for a queue without a consumer, and QueueNotFound for no queue", async () => {
    const queue = await queueNamed();

    const paths = ["GET consumer", "DELETE consumer", "POST consumer/pause", "POST consumer/resume"].map((call) => call.split(" ") as [string, string]);
    const withoutConsumer = await Promise.all(paths.map(([method, path]) => api(method, `/v1/queues/${queue}/${path}`)));
    const withoutQueue = await Promise.all(paths.map(([method, path]) => api(method, `/v1/queues/${uniqueName("none")}/${path}`)));
    const setOnNothing = await api("PUT", `/v1/queues/${uniqueName("none")}/consumer`, { binding: "QUEUE_CONSUMER" });

    expect(withoutConsumer.map((a) => [a.status, a.body.error.code])).toEqual(paths.map(() => [404, "ConsumerNotFound"]));
    expect(withoutQueue.map((a) => [a.status, a.body.error.code])).toEqual(paths.map(() => [404, "QueueNotFound"]));
    expect([setOnNothing.status, setOnNothing.body.error.code]).toEqual([404, "QueueNotFound"]);
  });

  it("pauses and resumes, and deletes the consumer (204)", async () => {
    const queue = await queueNamed();
    await api("PUT", `/v1/queues/${queue}/consumer`, { binding: "QUEUE_CONSUMER" });

    const paused = await api("POST", `/v1/queues/${queue}/consumer/pause`);
    const resumed = await api("POST", `/v1/queues/${queue}/consumer/resume`);
    const deleted = await api("DELETE", `/v1/queues/${queue}/consumer`);

    expect([paused.status, paused.body.paused]).toEqual([200, true]);
    expect([resumed.status, resumed.body.paused]).toEqual([200, false]);
    expect(deleted.status).toBe(204);
    expect((await api("GET", `/v1/queues/${queue}/consumer`)).status).toBe(404);
  });

  it("removes the consumer with its queue: a queue created again under the name has none", async () => {
    const queue = await queueNamed();
    await api("PUT", `/v1/queues/${queue}/consumer`, { binding: "QUEUE_CONSUMER" });

    expect((await api("DELETE", `/v1/queues/${queue}`)).status).toBe(204);
    expect((await api("PUT", `/v1/queues/${queue}`, {})).status).toBe(201);

    expect((await api("GET", `/v1/queues/${queue}/consumer`)).body.error.code).toBe("ConsumerNotFound");
  });

  it("delivers what is sent over HTTP to the consumer Worker, which acks it", async () => {
    const queue = await queueNamed();
    await api("PUT", `/v1/queues/${queue}/consumer`, { binding: "QUEUE_CONSUMER", maxWaitMs: 0 });

    const sent = await api("POST", `/v1/queues/${queue}/messages`, { body: "hello", tags: ["greeting"] });
    await consumerWorker().waitForBatches(queue, 1);
    await settle(queueStub(queue));

    expect(await consumerWorker().batches(queue)).toEqual([[{ id: sent.body.id, body: "hello", attempts: 1 }]]);
    expect((await api("GET", `/v1/queues/${queue}`)).body.counts.total).toBe(0);
    expect((await api("GET", `/v1/queues/${queue}/consumer`)).body.stats).toMatchObject({ delivered: 1, acked: 1 });
  });

  it("documents the routes in /openapi.json", async () => {
    const document = (await api("GET", "/openapi.json")).body;

    expect(Object.keys(document.paths["/v1/queues/{queue}/consumer"]).sort()).toEqual(["delete", "get", "put"]);
    expect(document.paths["/v1/queues/{queue}/consumer/pause"]).toHaveProperty("post");
    expect(document.paths["/v1/queues/{queue}/consumer/resume"]).toHaveProperty("post");
  });
});
