import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock";
import { ExponentialFirstDelayMs } from "../../src/delivery/retry";
import type { TopicEngine } from "../../src/objects/topic/engine";
import type { TopicEffects } from "../../src/objects/topic/effects";
import type { TopicObject } from "../../src/objects/topic-object";
import { createTopic, inTopic, topics, uniqueName, type OutboxRow } from "../support/topics";

/** Far ahead of real time, so that no alarm armed here fires during the test. */
const T0 = Date.UTC(2031, 0, 1);
const RetentionSeconds = 3_600;
const RetentionMs = RetentionSeconds * 1000;
const NoEffects: TopicEffects = { deliverNow: false, deadlines: [], rescan: false };

/** A topic with one HTTP subscription ("hook") whose endpoint always answers 500. */
async function failingTopic(): Promise<string> {
  const topic = await createTopic({ msgRetentionSeconds: RetentionSeconds });
  await topics.subscribe(topic, "hook", { protocol: "http", endpoint: `http://sink.test/status/500/${uniqueName("fx")}` });
  return topic;
}

/** Waits for the delivery round a publish started in the background, if one runs. */
function roundOf(object: TopicObject): Promise<void> | null {
  return (object as unknown as { delivering: Promise<void> | null }).delivering;
}

const onlySubscription = (engine: TopicEngine) => [...engine.subscriptions.values()][0]!;

describe("topic effects", () => {
  it("asks a publish to start a delivery round and to arm its messages' retention end", async () => {
    const topic = await createTopic({ msgRetentionSeconds: RetentionSeconds });

    const published = await inTopic(topic, (object) => object.engine.publish([{ body: "m" }], T0).effects);

    expect(published).toEqual({ deliverNow: true, deadlines: [T0 + RetentionMs], rescan: false });
  });

  it("arms the alarm at a publish's retention end when nothing else is due earlier", async () => {
    const topic = await createTopic({ msgRetentionSeconds: RetentionSeconds });

    const alarm = await inTopic(topic, async (object, state) => {
      object.clock = new ManualClock(T0);
      await object.publish([{ body: "m" }]);
      await roundOf(object);
      return state.storage.getAlarm();
    });

    expect(alarm).toBe(T0 + RetentionMs);
  });

  it("starts delivery on publish and arms the alarm at the failed push's retry, before the retention end", async () => {
    const topic = await failingTopic();

    const { rows, alarm } = await inTopic(topic, async (object, state) => {
      object.clock = new ManualClock(T0);
      await object.publish([{ body: "m" }]);
      await roundOf(object);
      return { rows: state.storage.sql.exec<OutboxRow>("SELECT * FROM outbox").toArray(), alarm: await state.storage.getAlarm() };
    });

    expect(rows).toMatchObject([{ attempts: 1, next_attempt_at: T0 + ExponentialFirstDelayMs, leased: 0 }]);
    expect(alarm).toBe(T0 + ExponentialFirstDelayMs);
  });

  it("answers a failed push with its retry as a deadline", async () => {
    const topic = await failingTopic();

    const attempt = await inTopic(topic, (object) => {
      const { engine } = object;
      engine.publish([{ body: "m" }], T0);
      const [row] = engine.takeDue(T0).value;
      return engine.recordAttempt(onlySubscription(engine), row!, "HTTP 500", T0);
    });

    expect(attempt).toEqual({ value: T0 + ExponentialFirstDelayMs, effects: { ...NoEffects, deadlines: [T0 + ExponentialFirstDelayMs] } });
  });

  it("asks for a rescan when deliveries are leased, and when leases are released", async () => {
    const topic = await failingTopic();

    const { taken, released } = await inTopic(topic, (object) => {
      object.engine.publish([{ body: "m" }], T0);
      return { taken: object.engine.takeDue(T0), released: object.engine.releaseLeases() };
    });

    expect(taken.value).toHaveLength(1);
    expect(taken.effects).toEqual({ ...NoEffects, rescan: true });
    expect(released).toEqual({ value: 1, effects: { ...NoEffects, rescan: true } });
  });

  it("asks for a rescan when a change of retention may move the next deadline", async () => {
    const topic = await createTopic({ msgRetentionSeconds: RetentionSeconds });

    const changed = await inTopic(topic, (object) => object.engine.updateAttributes({ msgRetentionSeconds: 60 }, T0).effects);

    expect(changed).toEqual({ ...NoEffects, rescan: true });
  });

  it("asks for a rescan when retention drops messages", async () => {
    const topic = await failingTopic();

    const purged = await inTopic(topic, (object) => {
      object.engine.publish([{ body: "m" }], T0);
      return object.engine.purgeExpired(T0 + RetentionMs);
    });

    expect(purged).toEqual({ value: 1, effects: { ...NoEffects, rescan: true } });
  });

  it.each<[string, (engine: TopicEngine) => TopicEffects]>([
    ["a new subscription", (engine) => engine.subscribe("other", onlySubscription(engine).attributes, T0).effects],
    ["a subscription update", (engine) => engine.updateSubscription("hook", { notifyStrategy: "BACKOFF_RETRY" }, T0).effects],
    ["an unsubscribe", (engine) => engine.unsubscribe("hook").effects],
    ["an attribute update that changes nothing", (engine) => engine.updateAttributes({ msgRetentionSeconds: RetentionSeconds }, T0).effects],
    ["a successful delivery", (engine) => {
      engine.publish([{ body: "m" }], T0);
      const [row] = engine.takeDue(T0).value;
      return engine.recordAttempt(onlySubscription(engine), row!, null, T0).effects;
    }],
    ["a look for due deliveries that finds none", (engine) => engine.takeDue(T0).effects],
    ["a lease release with no lease held", (engine) => engine.releaseLeases().effects],
    ["a retention purge that drops nothing", (engine) => engine.purgeExpired(T0).effects],
  ])("reports no effects for %s", async (_name, operation) => {
    const topic = await failingTopic();

    const reported = await inTopic(topic, (object) => operation(object.engine));

    expect(reported).toEqual(NoEffects);
  });
});
