import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock";
import { createQueue, expectOk, inQueue, peekAll, sendBodies } from "./support";
import { createTopic, firstPublishedAt, inTopic, topics } from "../support/topics";

const Far = Date.UTC(2031, 0, 1);

describe("the injected clock", () => {
  it("moves a manual clock only when told to", () => {
    const clock = new ManualClock(1_000);

    clock.advance(500);

    expect(clock.nowMs()).toBe(1_500);
  });

  it("stamps a queue's messages and counts with the object's clock", async () => {
    const { stub } = await createQueue({ visibilityTimeout: 30 });
    const clock = new ManualClock(Far);
    await inQueue(stub, (object) => {
      object.clock = clock;
    });

    await sendBodies(stub, "m");
    const [received] = expectOk(await stub.receive({ max: 1, waitSeconds: 0, visibilityTimeout: undefined }));
    clock.advance(31_000);

    expect((await peekAll(stub))[0]).toMatchObject({ enqueuedAt: Far, state: "active" });
    expect(received!.nextVisibleAt).toBe(Far + 30_000);
  });

  it("stamps a topic's publishes with the object's clock", async () => {
    const topic = await createTopic();
    await inTopic(topic, (object) => {
      object.clock = new ManualClock(Far);
    });

    await topics.publish(topic, [{ body: "m" }]);

    expect(await firstPublishedAt(topic)).toBe(Far);
  });
});
