import { describe, expect, it } from "vitest";
import { PushUserAgent } from "../../src/delivery/push";
import { createTopic, drained, firstPublishedAt, sinkRecords, topics, uniqueName, type PushRecord } from "../support/topics";

const Secret = "whsec-0123456789abcdef";

/** A topic with one push subscription to the sink at a fresh path; returns the sink key to read. */
async function pushTopic(
  input: { protocol?: "http" | "https"; notifyContentFormat?: "JSON" | "SIMPLIFIED"; signingSecret?: string; filterType?: "tag" | "routingKey"; bindingKeys?: string[] } = {},
): Promise<{ topic: string; key: string }> {
  const topic = await createTopic(input.filterType ? { filterType: input.filterType } : {});
  const protocol = input.protocol ?? "http";
  const key = `sink.test/ok/${uniqueName("push")}`;
  await topics.subscribe(topic, "hook", {
    protocol,
    endpoint: `${protocol}://${key}`,
    ...(input.notifyContentFormat ? { notifyContentFormat: input.notifyContentFormat } : {}),
    ...(input.signingSecret ? { signingSecret: input.signingSecret } : {}),
    ...(input.bindingKeys ? { bindingKeys: input.bindingKeys } : {}),
  });
  return { topic, key };
}

async function onlyPush(topic: string, key: string): Promise<PushRecord> {
  await drained(topic);
  const records = await sinkRecords(key);
  expect(records).toHaveLength(1);
  return records[0]!;
}

async function hmacHex(secret: string, text: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(text));
  return Array.from(new Uint8Array(mac), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

describe("HTTP delivery in the JSON format", () => {
  it("POSTs the CMQ envelope with TopicOwner, topicName, subscriptionName, msgId, msgBody, msgTag and publishTime", async () => {
    const { topic, key } = await pushTopic();

    const [id] = await topics.publish(topic, [{ body: "hello", tags: ["a", "b"] }]);
    const push = await onlyPush(topic, key);

    expect(push.method).toBe("POST");
    expect(push.url).toBe(`http://${key}`);
    expect(JSON.parse(push.body)).toEqual({
      TopicOwner: "default",
      topicName: topic,
      subscriptionName: "hook",
      msgId: id,
      msgBody: "hello",
      msgTag: ["a", "b"],
      routingKey: null,
      publishTime: await firstPublishedAt(topic),
    });
  });

  it("sends the message id, topic, subscription and tags as x-cmq headers, as text/plain like CMQ", async () => {
    const { topic, key } = await pushTopic();

    const [id] = await topics.publish(topic, [{ body: "hello", tags: ["a", "b"] }]);
    const { headers } = await onlyPush(topic, key);

    expect(headers["content-type"]).toMatch(/^text\/plain/);
    expect(headers["x-cmq-content-format"]).toBe("JSON");
    expect(headers["user-agent"]).toBe(PushUserAgent);
    expect(headers["x-cmq-message-id"]).toBe(id);
    expect(headers["x-cmq-topic"]).toBe(topic);
    expect(headers["x-cmq-subscription"]).toBe("hook");
    expect(headers["x-cmq-message-tag"]).toBe("a, b");
    expect(headers["x-cmq-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("carries the routing key of a routingKey topic in the envelope and a header", async () => {
    const { topic, key } = await pushTopic({ filterType: "routingKey", bindingKeys: ["order.#"] });

    await topics.publish(topic, [{ body: "m", routingKey: "order.eu" }]);
    const push = await onlyPush(topic, key);

    expect(JSON.parse(push.body).routingKey).toBe("order.eu");
    expect(push.headers["x-cmq-routing-key"]).toBe("order.eu");
  });

  it("sends no signature header for a subscription without a signing secret", async () => {
    const { topic, key } = await pushTopic();

    await topics.publish(topic, [{ body: "m" }]);
    const { headers } = await onlyPush(topic, key);

    expect(headers["x-cmq-signature"]).toBeUndefined();
  });

  it("delivers to an https endpoint the same way", async () => {
    const { topic, key } = await pushTopic({ protocol: "https" });

    const [id] = await topics.publish(topic, [{ body: "secure" }]);
    const push = await onlyPush(topic, key);

    expect(push.url).toBe(`https://${key}`);
    expect(JSON.parse(push.body)).toMatchObject({ msgId: id, msgBody: "secure" });
  });

  it("counts a 2xx answer as delivered", async () => {
    const { topic } = await pushTopic();

    await topics.publish(topic, [{ body: "m" }, { body: "n" }]);
    await drained(topic);

    expect((await topics.getSubscription(topic, "hook")).stats).toEqual({
      delivered: 2,
      failed: 0,
      pending: 0,
      lastError: null,
      lastErrorAt: null,
    });
  });
});

describe("HTTP delivery in the SIMPLIFIED format", () => {
  it("POSTs the raw body as text/plain with the same headers", async () => {
    const { topic, key } = await pushTopic({ notifyContentFormat: "SIMPLIFIED" });

    const [id] = await topics.publish(topic, [{ body: '{"not":"wrapped"}', tags: ["t"] }]);
    const push = await onlyPush(topic, key);

    expect(push.body).toBe('{"not":"wrapped"}');
    expect(push.headers["content-type"]).toMatch(/^text\/plain/);
    expect(push.headers["x-cmq-content-format"]).toBe("SIMPLIFIED");
    expect(push.headers["x-cmq-message-id"]).toBe(id);
    expect(push.headers["x-cmq-message-tag"]).toBe("t");
  });
});

describe("signed pushes", () => {
  it("carries x-cmq-signature t=<seconds>,v1=<HMAC-SHA256 of '<t>.<body>' under the signing secret>", async () => {
    const { topic, key } = await pushTopic({ signingSecret: Secret });
    const before = Math.floor(Date.now() / 1000);

    await topics.publish(topic, [{ body: "signed body" }]);
    const push = await onlyPush(topic, key);

    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(push.headers["x-cmq-signature"] ?? "");
    expect(match).not.toBeNull();
    const [, t, v1] = match!;
    expect(Number(t)).toBeGreaterThanOrEqual(before);
    expect(Number(t)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(v1).toBe(await hmacHex(Secret, `${t}.${push.body}`));
  });

  it("does not verify under another secret or for another body", async () => {
    const { topic, key } = await pushTopic({ signingSecret: Secret });

    await topics.publish(topic, [{ body: "signed body" }]);
    const push = await onlyPush(topic, key);

    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(push.headers["x-cmq-signature"]!)!;
    expect(v1).not.toBe(await hmacHex("another-secret-0123456", `${t}.${push.body}`));
    expect(v1).not.toBe(await hmacHex(Secret, `${t}.${push.body} `));
  });

  it("signs the raw body of a SIMPLIFIED push", async () => {
    const { topic, key } = await pushTopic({ signingSecret: Secret, notifyContentFormat: "SIMPLIFIED" });

    await topics.publish(topic, [{ body: "raw" }]);
    const push = await onlyPush(topic, key);

    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(push.headers["x-cmq-signature"]!)!;
    expect(v1).toBe(await hmacHex(Secret, `${t}.raw`));
  });

  it("stops signing once the secret is removed", async () => {
    const { topic, key } = await pushTopic({ signingSecret: Secret });
    await topics.updateSubscription(topic, "hook", { signingSecret: null });

    await topics.publish(topic, [{ body: "m" }]);
    const { headers } = await onlyPush(topic, key);

    expect(headers["x-cmq-signature"]).toBeUndefined();
  });
});

describe("Worker delivery through a service binding", () => {
  const WorkerKey = "audit_worker.worker/";

  async function workerPushes(messageId: string): Promise<PushRecord[]> {
    return (await sinkRecords(WorkerKey)).filter((record) => record.headers["x-cmq-message-id"] === messageId);
  }

  it("calls the bound Worker with the JSON envelope and counts it delivered", async () => {
    const topic = await createTopic();
    await topics.subscribe(topic, "audit", { protocol: "worker", endpoint: "AUDIT_WORKER" });

    const [id] = await topics.publish(topic, [{ body: "to a worker", tags: ["w"] }]);
    await drained(topic);

    const pushes = await workerPushes(id!);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.method).toBe("POST");
    expect(JSON.parse(pushes[0]!.body)).toMatchObject({
      TopicOwner: "default",
      topicName: topic,
      subscriptionName: "audit",
      msgId: id,
      msgBody: "to a worker",
      msgTag: ["w"],
    });
    expect((await topics.getSubscription(topic, "audit")).stats).toMatchObject({ delivered: 1, failed: 0, pending: 0 });
  });

  it("sends the same x-cmq headers as an HTTP push, signed when the subscription has a secret", async () => {
    const topic = await createTopic();
    await topics.subscribe(topic, "audit", {
      protocol: "worker",
      endpoint: "AUDIT_WORKER",
      notifyContentFormat: "SIMPLIFIED",
      signingSecret: Secret,
    });

    const [id] = await topics.publish(topic, [{ body: "plain", tags: ["a", "b"] }]);
    await drained(topic);

    const [push] = await workerPushes(id!);
    expect(push!.body).toBe("plain");
    expect(push!.headers).toMatchObject({
      "content-type": expect.stringMatching(/^text\/plain/),
      "x-cmq-message-id": id,
      "x-cmq-topic": topic,
      "x-cmq-subscription": "audit",
      "x-cmq-message-tag": "a, b",
    });
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(push!.headers["x-cmq-signature"]!)!;
    expect(v1).toBe(await hmacHex(Secret, `${t}.plain`));
  });
});
