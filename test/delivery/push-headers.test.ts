import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { buildPushRequest, type PushMessage } from "../../src/delivery/push";
import { OutgoingMessage } from "../../src/schema/queue";
import { CreateSubscriptionBody, PublishedMessage } from "../../src/schema/topic";

/** Characters that break headers, mixed with ordinary ones (ASCII, Latin-1, CJK, an emoji). */
const awkwardText = fc.string({ unit: fc.constantFrom(..."ab.#*- ,\r\n\u0000\t\u0001\u001f\u007f\u00e9日😀"), minLength: 1, maxLength: 12 });

const message = (tags: string[], routingKey: string | null): PushMessage => ({
  account: "default",
  topic: "orders",
  subscription: "hook",
  messageId: crypto.randomUUID(),
  body: "x",
  tags,
  routingKey,
  publishedAt: 0,
});

const build = (tags: string[], routingKey: string | null) =>
  buildPushRequest("https://hooks.example/in", message(tags, routingKey), "JSON", "a-long-shared-secret", 0);

describe("values that travel in push headers", () => {
  it("every tag and routing key publish accepts builds a push request", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(awkwardText, { maxLength: 3 }), fc.option(awkwardText, { nil: undefined }), async (tags, routingKey) => {
        const input = { body: "x", tags, ...(routingKey === undefined ? {} : { routingKey }) };
        fc.pre(v.safeParse(PublishedMessage, input).success);

        const request = await build(tags, routingKey ?? null);

        expect(request.headers.get("x-cmq-topic")).toBe("orders");
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ["CR LF", "eu\r\nx-injected: 1"],
    ["LF", "\n"],
    ["NUL", "a\u0000b"],
    ["DEL", "a\u007f"],
    ["tab", "a\tb"],
  ])("refuses a tag, routing key, filter tag or binding key with %s", (_, text) => {
    expect(v.safeParse(OutgoingMessage, { body: "x", tags: [text] }).success).toBe(false);
    expect(v.safeParse(PublishedMessage, { body: "x", tags: [text] }).success).toBe(false);
    expect(v.safeParse(PublishedMessage, { body: "x", routingKey: `order.${text}` }).success).toBe(false);
    expect(v.safeParse(CreateSubscriptionBody, { protocol: "http", endpoint: "http://h/", filterTags: [text] }).success).toBe(false);
    expect(v.safeParse(CreateSubscriptionBody, { protocol: "http", endpoint: "http://h/", bindingKeys: [`order.${text}`] }).success).toBe(false);
  });

  it("still accepts tags and keys of letters, digits, blanks and non-ASCII text", () => {
    expect(v.safeParse(OutgoingMessage, { body: "x", tags: ["eu west", "日本", "é", "😀"] }).success).toBe(true);
    expect(v.safeParse(PublishedMessage, { body: "x", tags: ["eu west"], routingKey: "order.日本.new" }).success).toBe(true);
  });
});
