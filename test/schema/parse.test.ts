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
