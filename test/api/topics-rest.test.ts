import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";

async function rpc(method: string, ...args: unknown[]) {
  const response = await env.CONSUMER.fetch("http://consumer/", { method: "POST", body: JSON.stringify({ method, args }) });
  return response.json<{ ok: boolean; value?: any; name?: string; message?: string }>();
}

async function waitForStats(topic: string, subscription: string, done: (stats: any) => boolean) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await api("GET", `/v1/topics/${topic}/subscriptions/${subscription}`);
    if (done(response.body.stats)) return response.body.stats;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("delivery did not settle");
}

describe("topics over REST", () => {
  it("creates a topic (201), confirms an identical one (200) and refuses a different one (409)", async () => {
    const name = uniqueName("t");

    const created = await api("PUT", `/v1/topics/${name}`, { filterType: "routingKey" });
    const same = await api("PUT", `/v1/topics/${name}`, { filterType: "routingKey" });
    const different = await api("PUT", `/v1/topics/${name}`, { filterType: "tag" });

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name, filterType: "routingKey", maxMsgSize: 65_536, msgRetentionSeconds: 86_400, subscriptionCount: 0 });
    expect(same.status).toBe(200);
    expect(different.status).toBe(409);
    expect(different.body.error.code).toBe("TopicAlreadyExists");
  });

  it("publishes through a routing key to the matching queue subscription only", async () => {
    const topic = uniqueName("t");
    const eu = uniqueName("q");
    const us = uniqueName("q");
    await api("PUT", `/v1/topics/${topic}`, { filterType: "routingKey" });
    await api("PUT", `/v1/queues/${eu}`, {});
    await api("PUT", `/v1/queues/${us}`, {});
    const subscribed = await api("PUT", `/v1/topics/${topic}/subscriptions/eu`, { protocol: "queue", endpoint: eu, bindingKeys: ["order.eu.#"] });
    await api("PUT", `/v1/topics/${topic}/subscriptions/us`, { protocol: "queue", endpoint: us, bindingKeys: ["order.us.*"] });

    const published = await api("POST", `/v1/topics/${topic}/messages`, { body: "new order", routingKey: "order.eu" });
    await waitForStats(topic, "eu", (stats) => stats.delivered === 1);
    const inEu = await api("POST", `/v1/queues/${eu}/messages/receive`, { max: 16 });
    const inUs = await api("POST", `/v1/queues/${us}/messages/receive`, { max: 16 });

    expect(subscribed.status).toBe(201);
    expect(subscribed.body).toMatchObject({ protocol: "queue", notifyContentFormat: "SIMPLIFIED", notifyStrategy: "EXPONENTIAL_DECAY_RETRY" });
    expect(published.status).toBe(200);
    expect(inEu.body.messages.map((m: { id: string; body: string }) => [m.id, m.body])).toEqual([[published.body.id, "new order"]]);
    expect(inUs.body.messages).toEqual([]);
  });

  it("publishes a batch and reports each subscription's stats, then unsubscribes", async () => {
    const topic = uniqueName("t");
    await api("PUT", `/v1/topics/${topic}`, {});
    const endpoint = `http://sink.test/ok/${topic}`;
    await api("PUT", `/v1/topics/${topic}/subscriptions/hook`, { protocol: "http", endpoint });

    const published = await api("POST", `/v1/topics/${topic}/messages`, { messages: [{ body: "a" }, { body: "b", tags: ["x"] }] });
    const stats = await waitForStats(topic, "hook", (current) => current.delivered === 2);
    const listed = await api("GET", `/v1/topics/${topic}/subscriptions`);
    const removed = await api("DELETE", `/v1/topics/${topic}/subscriptions/hook`);
    const gone = await api("GET", `/v1/topics/${topic}/subscriptions/hook`);

    expect(published.body.messages).toHaveLength(2);
    expect(stats).toEqual({ delivered: 2, failed: 0, pending: 0, lastError: null, lastErrorAt: null });
    expect(listed.body.subscriptions.map((s: { name: string; endpoint: string }) => [s.name, s.endpoint])).toEqual([["hook", endpoint]]);
    expect(removed.status).toBe(204);
    expect(gone.body.error.code).toBe("SubscriptionNotFound");
  });

  it("refuses a batch of 17, a bad binding key and an unknown field", async () => {
    const topic = uniqueName("t");
    await api("PUT", `/v1/topics/${topic}`, { filterType: "routingKey" });
    await api("PUT", `/v1/queues/${topic}`, {});

    const batch = await api("POST", `/v1/topics/${topic}/messages`, { messages: Array.from({ length: 17 }, () => ({ body: "x", routingKey: "a" })) });
    const badKey = await api("PUT", `/v1/topics/${topic}/subscriptions/s`, { protocol: "queue", endpoint: topic, bindingKeys: ["a..b"] });
    const unknown = await api("PUT", `/v1/topics/${topic}/subscriptions/s`, { protocol: "queue", endpoint: topic, bindingKeys: ["a"], colour: "red" });
    const after = await api("GET", `/v1/topics/${topic}`);

    expect(batch.body.error.code).toBe("InvalidParameter");
    expect(badKey.body.error.code).toBe("InvalidParameter");
    expect(unknown.body.error.code).toBe("InvalidParameter");
    expect(after.body).toMatchObject({ subscriptionCount: 0, messageCount: 0 });
  });

  it("lists topics with a prefix and deletes one", async () => {
    const prefix = `tl${crypto.randomUUID().slice(0, 6)}`;
    for (const suffix of ["a", "b", "c"]) await api("PUT", `/v1/topics/${prefix}-${suffix}`, {});

    const page = await api("GET", `/v1/topics?prefix=${prefix}&limit=2`);
    const rest = await api("GET", `/v1/topics?prefix=${prefix}&limit=2&cursor=${page.body.nextCursor}`);
    const deleted = await api("DELETE", `/v1/topics/${prefix}-a`);
    const after = await api("GET", `/v1/topics?prefix=${prefix}`);

    expect(page.body.topics.map((t: { name: string }) => t.name)).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect(rest.body).toMatchObject({ topics: [{ name: `${prefix}-c` }], nextCursor: null });
    expect(deleted.status).toBe(204);
    expect(after.body.topics.map((t: { name: string }) => t.name)).toEqual([`${prefix}-b`, `${prefix}-c`]);
  });
});

describe("topics over the service binding", () => {
  it("creates, subscribes, publishes and reads stats with the same error codes", async () => {
    const topic = uniqueName("t");
    const queue = uniqueName("q");
    await rpc("createQueue", queue, {});

    const created = await rpc("createTopic", topic, {});
    const subscribed = await rpc("subscribe", topic, "to-queue", { protocol: "queue", endpoint: queue });
    const published = await rpc("publish", topic, { body: "over rpc", tags: ["a"] });
    const batch = await rpc("publishBatch", topic, [{ body: "one" }, { body: "two" }]);
    const missing = await rpc("publish", uniqueName("t"), "x");
    const badSubscription = await rpc("subscribe", topic, "bad", { protocol: "queue", endpoint: queue, notifyContentFormat: "JSON" });

    expect(created.value.created).toBe(true);
    expect(subscribed.value.created).toBe(true);
    expect(published.value.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(batch.value.messages).toHaveLength(2);
    expect(missing.message).toMatch(/^\[TopicNotFound\]/);
    expect(badSubscription.message).toMatch(/^\[InvalidParameter\]/);
  });
});
