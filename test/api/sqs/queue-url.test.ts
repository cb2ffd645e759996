import { describe, expect, it } from "vitest";
import { queueNameOf } from "../../../src/api/sqs/queue-url";
import { SqsWireError } from "../../../src/api/sqs/errors";
import { ErrorCode, ServiceError } from "../../../src/errors";

const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof SqsWireError) return error.shape.code;
    if (error instanceof ServiceError) return error.code;
    throw error;
  }
  return null;
};

describe("queue URLs parsed once per isolate", () => {
  it("answer the same queue, and the same refusals, every time a URL comes back", () => {
    const url = "http://localhost:8787/acct-1/orders%20eu";
    for (let round = 0; round < 3; round++) {
      expect(queueNameOf(url, "acct-1")).toBe("orders eu");
      // A URL kept for one account names no queue of another's.
      expect(codeOf(() => queueNameOf(url, "acct-2"))).toBe(ErrorCode.QueueNotFound);
      expect(codeOf(() => queueNameOf("not a url", "acct-1"))).toBe("InvalidAddress");
      expect(codeOf(() => queueNameOf("http://localhost:8787/acct-1/%E0%A4%A", "acct-1"))).toBe("InvalidAddress");
      expect(codeOf(() => queueNameOf("http://localhost:8787/acct-1", "acct-1"))).toBe("InvalidAddress");
    }
  });

  it("parses URLs past the cache's bound and past its length limit as well", () => {
    for (let index = 0; index < 1_100; index++) expect(queueNameOf(`http://localhost:8787/acct-1/q${index}`, "acct-1")).toBe(`q${index}`);
    const longName = "q".repeat(3_000);
    expect(queueNameOf(`http://localhost:8787/acct-1/${longName}`, "acct-1")).toBe(longName);
    expect(queueNameOf(`http://localhost:8787/acct-1/${longName}`, "acct-1")).toBe(longName);
    expect(queueNameOf("http://localhost:8787/acct-1/q0", "acct-1")).toBe("q0");
  });
});
