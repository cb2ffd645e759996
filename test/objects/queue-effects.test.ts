import { describe, expect, it } from "vitest";
import { createQueue, inQueue, uniqueName } from "./support";

const T0 = Date.UTC(2031, 0, 1);
const RetentionMs = 345_600_000;

describe("engine effects", () => {
  it("asks to wake waiters and arms retention for a message visible now", async () => {
    const { stub } = await createQueue();

    const sent = await inQueue(stub, (o) => o.engine.send([{ body: "m" }], T0).effects);

    expect(sent).toEqual({ wake: true, deadlines: [T0 + RetentionMs], visibleAt: [], rescan: false, counted: { sent: 1, received: 0, deleted: 0 } });
  });

  it("reports when a delayed message becomes visible, without a wake", async () => {
    const { stub } = await createQueue();

    const sent = await inQueue(stub, (o) => o.engine.send([{ body: "m", delaySeconds: 10 }], T0).effects);

    expect(sent).toMatchObject({ wake: false, visibleAt: [T0 + 10_000] });
  });

  it("reports a claim's visibility deadline as a deadline only on a queue with a dead-letter queue", async () => {
    const dlq = await createQueue({}, uniqueName("dlq"));
    const plain = await createQueue({ visibilityTimeout: 30 });
    const guarded = await createQueue({ visibilityTimeout: 30, deadLetter: { queue: dlq.name, maxReceiveCount: 3 } });
    const claimEffects = (stub: typeof plain.stub) =>
      inQueue(stub, (o) => {
        o.engine.send([{ body: "m" }], T0);
        return o.engine.claim(1, undefined, T0).effects;
      });

    const plainEffects = await claimEffects(plain.stub);
    const guardedEffects = await claimEffects(guarded.stub);

    expect(plainEffects).toMatchObject({ deadlines: [], visibleAt: [T0 + 30_000] });
    expect(guardedEffects).toMatchObject({ deadlines: [T0 + 30_000], visibleAt: [T0 + 30_000] });
  });
});
