import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors";
import {
  attempted,
  createQueue,
  createTopic,
  drained,
  expectCode,
  outboxRows,
  queueBodies,
  runDue,
  sinkRecords,
  topics,
} from "../support/topics";

const SecretA = "secret-aaaaaaaaaaaaaaaa";
const SecretB = "secret-bbbbbbbbbbbbbbbb";

describe("subscribing with each protocol", () => {
  it("subscribes a queue of the same account and region, delivering SIMPLIFIED content by default", async () => {
    const topic = await createTopic();
    const queue = await createQueue();

    const { created, subscription } = await topics.subscribe(topic, "to-queue", { protocol: "queue", endpoint: queue });

    expect(created).toBe(true);
    expect(subscription).toMatchObject({
      name: "to-queue",
      topic,
      protocol: "queue",
      endpoint: queue,
      filterTags: [],
      bindingKeys: [],
      notifyStrategy: "EXPONENTIAL_DECAY_RETRY",
      notifyContentFormat: "SIMPLIFIED",
      signed: false,
      stats: { delivered: 0, failed: 0, pending: 0, lastError: null, lastErrorAt: null },
    });
  });

  it("subscribes an http:// endpoint, delivering the JSON envelope by default", async () => {
    const topic = await createTopic();

    const { subscription } = await topics.subscribe(topic, "to-http", { protocol: "http", endpoint: "http://sink.test/hook" });

    expect(subscription).toMatchObject({ protocol: "http", endpoint: "http://sink.test/hook", notifyContentFormat: "JSON" });
  });

  it("subscribes an https:// endpoint", async () => {
    const topic = await createTopic();

    const { subscription } = await topics.subscribe(topic, "to-https", {
      protocol: "https",
      endpoint: "https://sink.test/hook",
      notifyStrategy: "BACKOFF_RETRY",
    });

    expect(subscription).toMatchObject({ protocol: "https", notifyStrategy: "BACKOFF_RETRY", notifyContentFormat: "JSON" });
  });

  it("subscribes a Worker through a service binding configured on this Worker", async () => {
    const topic = await createTopic();

    const { subscription } = await topics.subscribe(topic, "to-worker", { protocol: "worker", endpoint: "AUDIT_WORKER" });

    expect(subscription).toMatchObject({ protocol: "worker", endpoint: "AUDIT_WORKER", notifyContentFormat: "JSON" });
  });

  it("shows that a subscription is signed but never shows its signing secret", async () => {
    const topic = await createTopic();

    const { subscription } = await topics.subscribe(topic, "signed", {
      protocol: "http",
      endpoint: "http://sink.test/signed",
      signingSecret: SecretA,
    });

    expect(subscription.signed).toBe(true);
    expect(JSON.stringify(await topics.getSubscription(topic, "signed"))).not.toContain(SecretA);
  });

  it("refuses TopicNotFound on a topic that does not exist", async () => {
    await expectCode(
      topics.subscribe("t-missing-topic", "s", { protocol: "http", endpoint: "http://sink.test/x" }),
      ErrorCode.TopicNotFound,
    );
  });
});

describe("checking endpoints", () => {
  it("refuses QueueNotFound for a queue endpoint that does not exist", async () => {
    const topic = await createTopic();

    await expectCode(topics.subscribe(topic, "s", { protocol: "queue", endpoint: "q-does-not-exist" }), ErrorCode.QueueNotFound);
  });

  it("refuses a queue endpoint that is not a valid queue name", async () => {
    const topic = await createTopic();

    await expectCode(topics.subscribe(topic, "s", { protocol: "queue", endpoint: "no such queue" }), ErrorCode.InvalidParameter);
  });

  it("refuses the JSON content format for a queue subscription", async () => {
    const topic = await createTopic();
    const queue = await createQueue();

    await expectCode(
      topics.subscribe(topic, "s", { protocol: "queue", endpoint: queue, notifyContentFormat: "JSON" }),
      ErrorCode.InvalidParameter,
    );
  });

  it.each([
    ["https://sink.test/hook", "an https URL"],
    ["ftp://sink.test/hook", "another scheme"],
    ["sink.test/hook", "no scheme"],
    ["http://sink.test/a b", "a blank in the path"],
    [" http://sink.test/hook", "a leading blank"],
    ["http://sink.test/hook\t", "a trailing tab"],
    ["http://sink test/hook", "a blank in the host"],
  ])("refuses the http endpoint %j (%s)", async (endpoint) => {
    const topic = await createTopic();

    await expectCode(topics.subscribe(topic, "s", { protocol: "http", endpoint }), ErrorCode.InvalidParameter);
  });

  it("refuses an http:// endpoint for an https subscription", async () => {
    const topic = await createTopic();

    await expectCode(topics.subscribe(topic, "s", { protocol: "https", endpoint: "http://sink.test/hook" }), ErrorCode.InvalidParameter);
  });

  it.each([
    ["NO_SUCH_BINDING", "an unknown name"],
    ["audit_worker", "a configured name in another case"],
    ["QUEUES", "a Durable Object namespace"],
    ["REGION", "a plain variable"],
    ["http://sink.test/hook", "a URL"],
  ])("refuses the worker endpoint %j (%s)", async (endpoint) => {
    const topic = await createTopic();

    await expectCode(topics.subscribe(topic, "s", { protocol: "worker", endpoint }), ErrorCode.InvalidParameter);
  });
});

describe("filters must fit the topic's filter type", () => {
  it("refuses binding keys on a tag topic", async () => {
    const topic = await createTopic({ filterType: "tag" });

    await expectCode(
      topics.subscribe(topic, "s", { protocol: "worker", endpoint: "AUDIT_WORKER", bindingKeys: ["a.*"] }),
      ErrorCode.InvalidParameter,
    );
  });

  it("refuses filter tags on a routingKey topic", async () => {
    const topic = await createTopic({ filterType: "routingKey" });

    await expectCode(
      topics.subscribe(topic, "s", { protocol: "worker", endpoint: "AUDIT_WORKER", filterTags: ["a"], bindingKeys: ["a"] }),
      ErrorCode.InvalidParameter,
    );
  });

  it("refuses a subscription without binding keys on a routingKey topic", async () => {
    const topic = await createTopic({ filterType: "routingKey" });

    await expectCode(topics.subscribe(topic, "s", { protocol: "worker", endpoint: "AUDIT_WORKER" }), ErrorCode.InvalidParameter);
    await expectCode(
      topics.subscribe(topic, "s", { protocol: "worker", endpoint: "AUDIT_WORKER", bindingKeys: [] }),
      ErrorCode.InvalidParameter,
    );
  });

  it("accepts binding keys with whole-word wildcards on a routingKey topic", async () => {
    const topic = await createTopic({ filterType: "routingKey" });

    const { subscription } = await topics.subscribe(topic, "s", {
      protocol: "worker",
      endpoint: "AUDIT_WORKER",
      bindingKeys: ["a.*.c", "#", "x.#"],
    });

    expect(subscription.bindingKeys).toEqual(["a.*.c", "#", "x.#"]);
  });
});

describe("subscribing twice", () => {
  it("answers created false when the same subscription is made again", async () => {
    const topic = await createTopic();
    const input = { protocol: "http" as const, endpoint: "http://sink.test/same", filterTags: ["a"], signingSecret: SecretA };
    await topics.subscribe(topic, "s", input);

    const again = await topics.subscribe(topic, "s", input);

    expect(again.created).toBe(false);
    expect((await topics.listSubscriptions(topic)).subscriptions.length).toBe(1);
  });

  it.each([
    ["another endpoint", { endpoint: "http://sink.test/other" }],
    ["other filter tags", { filterTags: ["b"] }],
    ["another strategy", { notifyStrategy: "BACKOFF_RETRY" as const }],
    ["another content format", { notifyContentFormat: "SIMPLIFIED" as const }],
    ["another signing secret", { signingSecret: SecretB }],
  ])("refuses SubscriptionAlreadyExists for the same name with %s", async (_what, change) => {
    const topic = await createTopic();
    const input = { protocol: "http" as const, endpoint: "http://sink.test/same", filterTags: ["a"], signingSecret: SecretA };
    await topics.subscribe(topic, "s", input);

    await expectCode(topics.subscribe(topic, "s", { ...input, ...change }), ErrorCode.SubscriptionAlreadyExists);
  });

  it("refuses SubscriptionAlreadyExists for a name that differs only in case", async () => {
    const topic = await createTopic();
    await topics.subscribe(topic, "sub", { protocol: "worker", endpoint: "AUDIT_WORKER" });

    await expectCode(topics.subscribe(topic, "SUB", { protocol: "worker", endpoint: "AUDIT_WORKER" }), ErrorCode.SubscriptionAlreadyExists);
  });
});

describe("the subscription limit", () => {
  it("refuses the 101st subscription with TooManySubscriptions, and still answers an identical subscribe", async () => {
    const topic = await createTopic();
    for (let i = 0; i < 100; i++) {
      await topics.subscribe(topic, `s${i}`, { protocol: "http", endpoint: `http://sink.test/limit/${i}` });
    }

    await expectCode(
      topics.subscribe(topic, "s100", { protocol: "http", endpoint: "http://sink.test/limit/100" }),
      ErrorCode.TooManySubscriptions,
    );
    expect((await topics.subscribe(topic, "s7", { protocol: "http", endpoint: "http://sink.test/limit/7" })).created).toBe(false);
    expect((await topics.getTopic(topic)).subscriptionCount).toBe(100);
  });
});

describe("reading subscriptions", () => {
  it("lists a topic's subscriptions in name order", async () => {
    const topic = await createTopic();
    for (const name of ["charlie", "Alpha", "bravo"]) {
      await topics.subscribe(topic, name, { protocol: "worker", endpoint: "AUDIT_WORKER" });
    }

    expect((await topics.listSubscriptions(topic)).subscriptions.map((sub) => sub.name)).toEqual(["Alpha", "bravo", "charlie"]);
  });

  it("finds a subscription whatever the case of its name, and refuses SubscriptionNotFound for an unknown one", async () => {
    const topic = await createTopic();
    await topics.subscribe(topic, "Mixed", { protocol: "worker", endpoint: "AUDIT_WORKER" });

    expect((await topics.getSubscription(topic, "mixed")).name).toBe("Mixed");
    await expectCode(topics.getSubscription(topic, "unknown"), ErrorCode.SubscriptionNotFound);
  });
});

describe("updating a subscription", () => {
  it("changes strategy, content format, filter tags and signing secret, keeping the endpoint", async () => {
    const topic = await createTopic();
    const { subscription: before } = await topics.subscribe(topic, "s", { protocol: "http", endpoint: "http://sink.test/upd" });

    const after = await topics.updateSubscription(topic, "s", {
      notifyStrategy: "BACKOFF_RETRY",
      notifyContentFormat: "SIMPLIFIED",
      filterTags: ["x", "y"],
      signingSecret: SecretA,
    });

    expect(after).toMatchObject({
      endpoint: "http://sink.test/upd",
      notifyStrategy: "BACKOFF_RETRY",
      notifyContentFormat: "SIMPLIFIED",
      filterTags: ["x", "y"],
      signed: true,
    });
    expect(after.modifiedAt).toBeGreaterThanOrEqual(before.modifiedAt);
    expect(await topics.getSubscription(topic, "s")).toMatchObject({ notifyStrategy: "BACKOFF_RETRY", filterTags: ["x", "y"] });
  });

  it("removes the signing secret when it is set to null", async () => {
    const topic = await createTopic();
    await topics.subscribe(topic, "s", { protocol: "http", endpoint: "http://sink.test/upd", signingSecret: SecretA });

    expect((await topics.updateSubscription(topic, "s", { signingSecret: null })).signed).toBe(false);
  });

  it("applies changed filter tags to the next publish", async () => {
    const topic = await createTopic();
    const queue = await createQueue();
    await topics.subscribe(topic, "s", { protocol: "queue", endpoint: queue, filterTags: ["old"] });

    await topics.updateSubscription(topic, "s", { filterTags: ["new"] });
    await topics.publish(topic, [{ body: "tagged old", tags: ["old"] }, { body: "tagged new", tags: ["new"] }]);
    await drained(topic);

    expect(await queueBodies(queue)).toEqual(["tagged new"]);
  });

  it("refuses the JSON content format for a queue subscription", async () => {
    const topic = await createTopic();
    const queue = await createQueue();
    await topics.subscribe(topic, "s", { protocol: "queue", endpoint: queue });

    await expectCode(topics.updateSubscription(topic, "s", { notifyContentFormat: "JSON" }), ErrorCode.InvalidParameter);
  });

  it("refuses filters that do not fit the topic's filter type", async () => {
    const tagTopic = await createTopic({ filterType: "tag" });
    const keyTopic = await createTopic({ filterType: "routingKey" });
    await topics.subscribe(tagTopic, "s", { protocol: "worker", endpoint: "AUDIT_WORKER" });
    await topics.subscribe(keyTopic, "s", { protocol: "worker", endpoint: "AUDIT_WORKER", bindingKeys: ["a"] });

    await expectCode(topics.updateSubscription(tagTopic, "s", { bindingKeys: ["a"] }), ErrorCode.InvalidParameter);
    await expectCode(topics.updateSubscription(keyTopic, "s", { filterTags: ["a"] }), ErrorCode.InvalidParameter);
    await expectCode(topics.updateSubscription(keyTopic, "s", { bindingKeys: [] }), ErrorCode.InvalidParameter);
    expect((await topics.getSubscription(keyTopic, "s")).bindingKeys).toEqual(["a"]);
  });

  it("refuses SubscriptionNotFound for an unknown subscription", async () => {
    const topic = await createTopic();

    await expectCode(topics.updateSubscription(topic, "unknown", { filterTags: [] }), ErrorCode.SubscriptionNotFound);
  });
});

describe("unsubscribing", () => {
  it("stops the subscription's pending deliveries: none stays in the outbox and none is pushed later", async () => {
    const topic = await createTopic();
    const key = `sink.test/status/500/${topic}`;
    await topics.subscribe(topic, "failing", { protocol: "http", endpoint: `http://${key}` });
    await topics.publish(topic, [{ body: "one" }, { body: "two" }]);
    await attempted(topic);
    expect((await topics.getSubscription(topic, "failing")).stats.pending).toBe(2);
    const pushed = (await sinkRecords(key)).length;

    await topics.unsubscribe(topic, "failing");
    await runDue(topic, Date.now() + 3_600_000);

    expect(await outboxRows(topic)).toEqual([]);
    expect((await sinkRecords(key)).length).toBe(pushed);
    await expectCode(topics.getSubscription(topic, "failing"), ErrorCode.SubscriptionNotFound);
  });

  it("leaves the pending deliveries of the other subscriptions", async () => {
    const topic = await createTopic();
    await topics.subscribe(topic, "a", { protocol: "http", endpoint: `http://sink.test/status/500/${topic}/a` });
    await topics.subscribe(topic, "b", { protocol: "http", endpoint: `http://sink.test/status/500/${topic}/b` });
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);

    await topics.unsubscribe(topic, "a");

    expect((await topics.getSubscription(topic, "b")).stats.pending).toBe(1);
    expect((await outboxRows(topic)).length).toBe(1);
  });

  it("gives a subscription made again under the name no pending deliveries", async () => {
    const topic = await createTopic();
    const endpoint = `http://sink.test/status/500/${topic}`;
    await topics.subscribe(topic, "s", { protocol: "http", endpoint });
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);

    await topics.unsubscribe(topic, "s");
    const { subscription } = await topics.subscribe(topic, "s", { protocol: "http", endpoint });

    expect(subscription.stats).toEqual({ delivered: 0, failed: 0, pending: 0, lastError: null, lastErrorAt: null });
  });

  it("refuses SubscriptionNotFound for a subscription that is already gone", async () => {
    const topic = await createTopic();
    await topics.subscribe(topic, "s", { protocol: "worker", endpoint: "AUDIT_WORKER" });
    await topics.unsubscribe(topic, "s");

    await expectCode(topics.unsubscribe(topic, "s"), ErrorCode.SubscriptionNotFound);
  });
});
