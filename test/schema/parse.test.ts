import { describe, expect, it } from "vitest";
import { ErrorCode, ServiceError } from "../../src/errors";
import { parseOneOrBatch } from "../../src/schema/parse";
import { OutgoingMessage, SendBatchBody } from "../../src/schema/queue";

function refusal(input: unknown): ServiceError {
  try {
    parseOneOrBatch(OutgoingMessage, SendBatchBody, input);
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe("a body that is one message or a batch", () => {
  it("is one message when it has no messages field", () => {
    expect(parseOneOrBatch(OutgoingMessage, SendBatchBody, { body: "a", delaySeconds: 5 })).toEqual({
      batch: false,
      messages: [{ body: "a", delaySeconds: 5 }],
    });
  });

  it("is a batch when it has a messages field, kept in order", () => {
    expect(parseOneOrBatch(OutgoingMessage, SendBatchBody, { messages: [{ body: "a" }, { body: "b", tags: ["t"] }] })).toEqual({
      batch: true,
      messages: [{ body: "a" }, { body: "b", tags: ["t"] }],
    });
  });

  it("names the field of a single message that is wrong", () => {
    const error = refusal({ body: "a", delaySeconds: -1 });
    expect(error.code).toBe(ErrorCode.InvalidParameter);
    expect(error.message).toMatch(/^body\.delaySeconds: /);
  });

  it("names the message of a batch that is wrong", () => {
    const error = refusal({ messages: [{ body: "a" }, { body: "" }] });
    expect(error.code).toBe(ErrorCode.InvalidParameter);
    expect(error.message).toMatch(/^body\.messages\.1\.body: /);
  });

  it("refuses a batch with a field beside messages, an empty batch, an array and a string", () => {
    for (const input of [{ messages: [{ body: "a" }], body: "b" }, { messages: [] }, [{ body: "a" }], "a"]) {
      expect(refusal(input).code, JSON.stringify(input)).toBe(ErrorCode.InvalidParameter);
    }
  });
});

describe("text that is not well-formed Unicode", () => {
  it.each([
    ["a lone high surrogate in a body", { body: "ab\ud800cd" }, "body.body"],
    ["a lone low surrogate in a body", { body: "\udc00" }, "body.body"],
    ["a reversed pair in a tag", { body: "x", tags: ["ok", "\ude00\ud83d"] }, "body.tags.1"],
    ["a lone surrogate in a batch", { messages: [{ body: "x" }, { body: "y\ud800" }] }, "body.messages.1.body"],
    ["a lone surrogate in an unknown key", { body: "x", ["k\ud800"]: 1 }, "body.k"],
  ])("refuses %s with InvalidParameter naming where", (_, input, where) => {
    const error = refusal(input);

    expect(error.code).toBe(ErrorCode.InvalidParameter);
    expect(error.message).toContain(where);
    expect(error.message).toContain("well-formed Unicode");
  });

  it("accepts surrogate pairs (emoji) and returns the body unchanged", () => {
    expect(parseOneOrBatch(OutgoingMessage, SendBatchBody, { body: "a😀b", tags: ["😀"] }).messages).toEqual([{ body: "a😀b", tags: ["😀"] }]);
  });
});
