import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors";
import {
  createQueue,
  createTopic,
  drained,
  expectCode,
  outboxRows,
  queueBodies,
  queueContents,
  topics,
} from "../support/topics";

/** A topic with one queue subscription per entry of `filters`, each to its own new queue. */
async function topicWithQueues(
  filterType: "tag" | "routingKey",
  filters: Record<string, string[]>,
): Promise<{ topic: string; queueOf: Record<string, string> }> {
  const topic = await createTopic({ filterType });
  const queueOf: Record<string, string> = {};
  for (const [name, filter] of Object.entries(filters)) {
    queueOf[name] = await createQueue();
    await topics.subscribe(topic, name, {
      protocol: "queue",
      endpoint: queueOf[name],
      ...(filterType === "tag" ? { filterTags: filter } : { bindingKeys: filter }),
    });
  }
  return { topic, queueOf };
}

describe("publishing", () => {
  it("publishes one message and the queue stores it under the id publish returned", async () => {
    const { topic, queueOf } = await topicWithQueues("tag", { all: [] });

    const ids = await topics.publish(topic, [{ body: "hello" }]);
    await drained(topic);

    expect(ids).toHaveLength(1);
    expect(await queueContents(queueOf.all!)).toEqual([{ id: ids[0], body: "hello", tags: [] }]);
  });

  it("publishes a batch of 16 messages with 16 distinct ids, each delivered once", async () => {
    const { topic, queueOf } = await topicWithQueues("tag", { all: [] });
    const bodies = Array.from({ length: 16 }, (_, i) => `m${String(i).padStart(2, "0")}`);

    const ids = await topics.publish(
      topic,
      bodies.map((body) => ({ body })),
    );
    await drained(topic);

    expect(new Set(ids).size).toBe(16);
    expect(await queueBodies(queueOf.all!)).toEqual(bodies);
    expect((await topics.getSubscription(topic, "all")).stats).toMatchObject({ delivered: 16, failed: 0, pending: 0 });
  });

  it("keeps a published message even when no subscription matches it", async () => {
    const topic = await createTopic();

    await topics.publish(topic, [{ body: "nobody listens" }]);

    expect((await topics.getTopic(topic)).messageCount).toBe(1);
    expect(await outboxRows(topic)).toEqual([]);
  });

  it("refuses TopicNotFound on a topic that does not exist", async () => {
    await expectCode(topics.publish("t-never-created", [{ body: "m" }]), ErrorCode.TopicNotFound);
  });
});

describe("message size", () => {
  it("accepts a body of exactly maxMsgSize bytes", async () => {
    const topic = await createTopic({ maxMsgSize: 1024 });

    expect(await topics.publish(topic, [{ body: "x".repeat(1024) }])).toHaveLength(1);
  });

  it("refuses MessageTooLarge one byte above maxMsgSize", async () => {
    const topic = await createTopic({ maxMsgSize: 1024 });

    await expectCode(topics.publish(topic, [{ body: "x".repeat(1025) }]), ErrorCode.MessageTooLarge);
  });

  it("measures the body in UTF-8 bytes, not characters", async () => {
    const topic = await createTopic({ maxMsgSize: 1024 });

    await expectCode(topics.publish(topic, [{ body: "é".repeat(513) }]), ErrorCode.MessageTooLarge);
  });

  it("refuses the whole batch when one message is too large, storing none of it", async () => {
    const topic = await createTopic({ maxMsgSize: 1024 });

    await expectCode(topics.publish(topic, [{ body: "small" }, { body: "x".repeat(1025) }]), ErrorCode.MessageTooLarge);

    expect((await topics.getTopic(topic)).messageCount).toBe(0);
  });

  it("applies a maxMsgSize changed after creation", async () => {
    const topic = await createTopic({ maxMsgSize: 4096 });

    await topics.updateTopic(topic, { maxMsgSize: 1024 });

    await expectCode(topics.publish(topic, [{ body: "x".repeat(2000) }]), ErrorCode.MessageTooLarge);
  });
});

describe("routing keys", () => {
  it("refuses a message without a routing key on a routingKey topic", async () => {
    const topic = await createTopic({ filterType: "routingKey" });

    await expectCode(topics.publish(topic, [{ body: "m" }]), ErrorCode.InvalidParameter);
  });

  it("refuses the whole batch when one message lacks a routing key, storing none of it", async () => {
    const topic = await createTopic({ filterType: "routingKey" });

    await expectCode(topics.publish(topic, [{ body: "a", routingKey: "a" }, { body: "b" }]), ErrorCode.InvalidParameter);

    expect((await topics.getTopic(topic)).messageCount).toBe(0);
  });

  it("delivers each message to the queues whose binding keys match its routing key", async () => {
    const { topic, queueOf } = await topicWithQueues("routingKey", {
      exact: ["order.created"],
      star: ["order.*"],
      hash: ["order.#"],
      middle: ["order.#.created"],
      all: ["#"],
      either: ["*.eu.*", "audit"],
    });
    const keys = ["order", "order.created", "order.eu.created", "audit", "other.thing"];

    await topics.publish(
      topic,
      keys.map((routingKey) => ({ body: routingKey, routingKey })),
    );
    await drained(topic);

    expect(await queueBodies(queueOf.exact!)).toEqual(["order.created"]);
    expect(await queueBodies(queueOf.star!)).toEqual(["order.created"]);
    expect(await queueBodies(queueOf.hash!)).toEqual(["order", "order.created", "order.eu.created"]);
    expect(await queueBodies(queueOf.middle!)).toEqual(["order.created", "order.eu.created"]);
    expect(await queueBodies(queueOf.all!)).toEqual([...keys].sort());
    expect(await queueBodies(queueOf.either!)).toEqual(["audit", "order.eu.created"]);
  });

  it("lets '#' match zero words: a.# takes a, and a.#.b takes a.b", async () => {
    const { topic, queueOf } = await topicWithQueues("routingKey", { tail: ["a.#"], inner: ["a.#.b"] });

    await topics.publish(topic, [
      { body: "a", routingKey: "a" },
      { body: "a.b", routingKey: "a.b" },
    ]);
    await drained(topic);

    expect(await queueBodies(queueOf.tail!)).toEqual(["a", "a.b"]);
    expect(await queueBodies(queueOf.inner!)).toEqual(["a.b"]);
  });

  it("lets '*' match exactly one word: a.* takes a.b but neither a nor a.b.c", async () => {
    const { topic, queueOf } = await topicWithQueues("routingKey", { one: ["a.*"], lead: ["*.c"] });

    await topics.publish(topic, [
      { body: "a", routingKey: "a" },
      { body: "a.b", routingKey: "a.b" },
      { body: "a.b.c", routingKey: "a.b.c" },
      { body: "b.c", routingKey: "b.c" },
    ]);
    await drained(topic);

    expect(await queueBodies(queueOf.one!)).toEqual(["a.b"]);
    expect(await queueBodies(queueOf.lead!)).toEqual(["b.c"]);
  });

  it("creates no delivery for a routing key no binding key matches", async () => {
    const { topic } = await topicWithQueues("routingKey", { one: ["a.*"] });

    await topics.publish(topic, [{ body: "m", routingKey: "b.c" }]);

    expect(await outboxRows(topic)).toEqual([]);
    expect((await topics.getTopic(topic)).messageCount).toBe(1);
  });
});

describe("tags", () => {
  it("delivers each message to the queues whose filter tags share a tag with it, and to those without filter tags", async () => {
    const { topic, queueOf } = await topicWithQueues("tag", { none: [], a: ["a"], ab: ["a", "b"], c: ["c"] });

    await topics.publish(topic, [
      { body: "untagged" },
      { body: "a", tags: ["a"] },
      { body: "b", tags: ["b"] },
      { body: "ac", tags: ["a", "c"] },
      { body: "d", tags: ["d"] },
    ]);
    await drained(topic);

    expect(await queueBodies(queueOf.none!)).toEqual(["a", "ac", "b", "d", "untagged"]);
    expect(await queueBodies(queueOf.a!)).toEqual(["a", "ac"]);
    expect(await queueBodies(queueOf.ab!)).toEqual(["a", "ac", "b"]);
    expect(await queueBodies(queueOf.c!)).toEqual(["ac"]);
  });

  it("matches tags case-sensitively", async () => {
    const { topic, queueOf } = await topicWithQueues("tag", { lower: ["red"] });

    await topics.publish(topic, [{ body: "upper", tags: ["RED"] }, { body: "lower", tags: ["red"] }]);
    await drained(topic);

    expect(await queueBodies(queueOf.lower!)).toEqual(["lower"]);
  });

  it("ignores a routing key on a tag topic", async () => {
    const { topic, queueOf } = await topicWithQueues("tag", { a: ["a"] });

    await topics.publish(topic, [{ body: "m", tags: ["a"], routingKey: "x.y" }]);
    await drained(topic);

    expect(await queueBodies(queueOf.a!)).toEqual(["m"]);
  });
});
