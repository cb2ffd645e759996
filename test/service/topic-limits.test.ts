// Limits on the shape of subscription and publish bodies live in the valibot schemas that every
// adapter parses with before it calls TopicOperations (as for queues); these tests check them there.
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors";
import { parse } from "../../src/schema/parse";
import { CreateSubscriptionBody, PublishBody, TopicLimits, UpdateSubscriptionBody } from "../../src/schema/topic";
import { expectCode } from "../support/topics";

const worker = { protocol: "worker", endpoint: "AUDIT_WORKER" } as const;
const refused = (schema: Parameters<typeof parse>[0], input: unknown) =>
  expectCode(() => parse(schema, input), ErrorCode.InvalidParameter);

describe("filter tags of a subscription", () => {
  it("accepts 5 tags of 16 characters", () => {
    const filterTags = ["a", "b", "c", "d", "t".repeat(16)];

    expect(parse(CreateSubscriptionBody, { ...worker, filterTags }).filterTags).toEqual(filterTags);
  });

  it("refuses a 6th tag", async () => {
    await refused(CreateSubscriptionBody, { ...worker, filterTags: ["a", "b", "c", "d", "e", "f"] });
    await refused(UpdateSubscriptionBody, { filterTags: ["a", "b", "c", "d", "e", "f"] });
  });

  it("refuses a tag of 17 characters", async () => {
    await refused(CreateSubscriptionBody, { ...worker, filterTags: ["t".repeat(17)] });
  });

  it("refuses an empty tag", async () => {
    await refused(CreateSubscriptionBody, { ...worker, filterTags: [""] });
  });
});

describe("binding keys of a subscription", () => {
  it("accepts a key of 64 bytes with 15 dots", () => {
    const key = `${"a.".repeat(15)}${"b".repeat(64 - 30)}`;
    expect(new TextEncoder().encode(key).byteLength).toBe(64);

    expect(parse(CreateSubscriptionBody, { ...worker, bindingKeys: [key] }).bindingKeys).toEqual([key]);
  });

  it("refuses a key of 65 bytes", async () => {
    await refused(CreateSubscriptionBody, { ...worker, bindingKeys: ["k".repeat(65)] });
  });

  it("counts bytes, not characters: 33 two-byte characters are refused", async () => {
    await refused(CreateSubscriptionBody, { ...worker, bindingKeys: ["é".repeat(33)] });
  });

  it("refuses a key with 16 dots", async () => {
    await refused(CreateSubscriptionBody, { ...worker, bindingKeys: ["a.".repeat(16) + "a"] });
  });

  it("refuses a 6th key", async () => {
    await refused(CreateSubscriptionBody, { ...worker, bindingKeys: ["a", "b", "c", "d", "e", "f"] });
  });

  it.each(["a*", "a.b#", "#a.b", ".a", "a.", "a..b", ""])("refuses the key %j", async (key) => {
    await refused(CreateSubscriptionBody, { ...worker, bindingKeys: [key] });
  });

  it("accepts '*' and '#' as whole words", () => {
    expect(parse(CreateSubscriptionBody, { ...worker, bindingKeys: ["*.#", "#", "a.*.b"] }).bindingKeys).toHaveLength(3);
  });
});

describe("other subscription fields", () => {
  it("refuses an unknown protocol and an unknown field", async () => {
    await refused(CreateSubscriptionBody, { protocol: "smtp", endpoint: "x" });
    await refused(CreateSubscriptionBody, { ...worker, colour: "red" });
  });

  it("refuses a signing secret shorter than 16 characters", async () => {
    await refused(CreateSubscriptionBody, { ...worker, signingSecret: "short" });
  });

  it("refuses an endpoint longer than 500 characters", async () => {
    await refused(CreateSubscriptionBody, { protocol: "http", endpoint: `http://sink.test/${"p".repeat(500)}` });
  });
});

describe("publish bodies", () => {
  it("accepts a single message and a batch of 16", () => {
    expect(parse(PublishBody, { body: "one", tags: ["a"] })).toEqual({ body: "one", tags: ["a"] });
    const messages = Array.from({ length: TopicLimits.batchMax }, (_, i) => ({ body: `m${i}` }));
    expect(parse(PublishBody, { messages })).toEqual({ messages });
  });

  it("refuses a batch of 17 messages", async () => {
    const messages = Array.from({ length: 17 }, (_, i) => ({ body: `m${i}` }));

    const error = await refused(PublishBody, { messages });

    expect(error.message).toContain("16");
  });

  it("refuses an empty batch and an empty body", async () => {
    await refused(PublishBody, { messages: [] });
    await refused(PublishBody, { body: "" });
  });

  it("refuses a message with 6 tags or a tag of 17 characters", async () => {
    await refused(PublishBody, { body: "m", tags: ["a", "b", "c", "d", "e", "f"] });
    await refused(PublishBody, { body: "m", tags: ["t".repeat(17)] });
  });

  it("refuses a routing key with a wildcard, 16 dots or 65 bytes", async () => {
    await refused(PublishBody, { body: "m", routingKey: "a.*" });
    await refused(PublishBody, { body: "m", routingKey: "a.".repeat(16) + "a" });
    await refused(PublishBody, { body: "m", routingKey: "r".repeat(65) });
  });
});
