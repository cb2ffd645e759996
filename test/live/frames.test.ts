import { describe, expect, it } from "vitest";
import { LiveLimits } from "../../src/schema/live";
import { uniqueName } from "../support/http";
import { counts, createQueue, openLive, sendBodies } from "./support";

describe("malformed frames on a live queue socket", () => {
  it.each([
    ["text that is not JSON", "{not json", "MalformedRequest", undefined],
    ["a JSON array", "[1,2]", "InvalidParameter", undefined],
    ["a frame without a type", JSON.stringify({ messages: 1 }), "InvalidParameter", undefined],
    ["an unknown type", JSON.stringify({ type: "subscribe", id: "x1" }), "InvalidParameter", "x1"],
    ["credit of 0", JSON.stringify({ type: "credit", messages: 0 }), "InvalidParameter", undefined],
    ["credit that is not an integer", JSON.stringify({ type: "credit", messages: 1.5 }), "InvalidParameter", undefined],
    ["credit past the maximum", JSON.stringify({ type: "credit", messages: LiveLimits.creditMax + 1 }), "InvalidParameter", undefined],
    ["an ack without an id", JSON.stringify({ type: "ack", receiptHandle: "h" }), "InvalidParameter", undefined],
    ["an ack with an unknown field", JSON.stringify({ type: "ack", id: "a1", receiptHandle: "h", extra: 1 }), "InvalidParameter", "a1"],
    ["a nack with a negative delay", JSON.stringify({ type: "nack", id: "n1", receiptHandle: "h", delaySeconds: -1 }), "InvalidParameter", "n1"],
    ["an extend past 12 hours", JSON.stringify({ type: "extend", id: "e1", receiptHandle: "h", visibilityTimeout: 43_201 }), "InvalidParameter", "e1"],
    ["a send without messages", JSON.stringify({ type: "send", id: "s1", messages: [] }), "InvalidParameter", "s1"],
    ["a send of 17 messages", JSON.stringify({ type: "send", id: "s1", messages: Array.from({ length: 17 }, () => ({ body: "b" })) }), "InvalidParameter", "s1"],
    ["a send with an empty body", JSON.stringify({ type: "send", id: "s1", messages: [{ body: "" }] }), "InvalidParameter", "s1"],
    ["a send with a lone surrogate", JSON.stringify({ type: "send", id: "s1", messages: [{ body: "\ud800" }] }), "InvalidParameter", "s1"],
  ])("answers %s with an error frame and leaves the socket and the queue unharmed", async (_case, frame, code, id) => {
    const queue = await createQueue(uniqueName());
    await sendBodies(queue, "still here");
    const live = await openLive(`/v1/queues/${queue}/live`);

    live.send(frame);
    const error = await live.take("error");

    expect(error.error.code).toBe(code);
    expect(error.error.message).toEqual(expect.any(String));
    expect(error.id).toBe(id);
    expect(await counts(queue)).toMatchObject({ active: 1, inactive: 0, total: 1 });
    live.send({ type: "credit", messages: 1 });
    expect((await live.messages(1)).map((m) => m.body)).toEqual(["still here"]);
    live.close();
  });

  it("names the field at fault in a send", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);

    const error = await live.call({ type: "send", id: "s1", messages: [{ body: "ok" }, { body: "x", delaySeconds: "soon" }] });

    expect(error.error.message).toContain("frame.messages.1.delaySeconds");
    live.close();
  });

  it("answers a binary frame with MalformedRequest", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);

    live.ws.send(new Uint8Array([1, 2, 3]));

    expect((await live.take("error")).error.code).toBe("MalformedRequest");
    live.send({ type: "credit", messages: 1 });
    expect(await live.take("credited")).toMatchObject({ credit: 1 });
    live.close();
  });

  it("closes with 1009 on a frame over the size limit, changing nothing", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);

    live.send({ type: "send", id: "big", messages: [{ body: "x".repeat(LiveLimits.frameMaxBytes) }] });

    expect(await live.waitClosed()).toMatchObject({ code: 1009 });
    expect(await counts(queue)).toMatchObject({ total: 0 });
  });

  it("answers a ping with a pong", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`);

    live.send({ type: "ping" });

    expect(await live.take("pong")).toEqual({ type: "pong" });
    live.close();
  });
});
