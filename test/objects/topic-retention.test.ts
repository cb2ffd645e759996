import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { DeliveryWatchdogMs } from "../../src/objects/topic-object";
import { describe, expect, it } from "vitest";
import {
  attempted,
  createQueue,
  createTopic,
  drained,
  eventually,
  firstPublishedAt,
  inTopic,
  outboxRows,
  queueBodies,
  runDue,
  sinkRecords,
  statsOf,
  topicStub,
  topics,
  uniqueName,
} from "../support/topics";

const RetentionSeconds = 60;
const RetentionMs = RetentionSeconds * 1000;

const messageCount = async (topic: string) => (await topics.getTopic(topic)).messageCount;

/** Moves every pending delivery's next attempt to `atMs`, as a retry scheduled past the end of retention would. */
const postponeUntil = (topic: string, atMs: number) =>
  inTopic(topic, (_object, state) => {
    state.storage.sql.exec("UPDATE outbox SET next_attempt_at = ?", atMs);
  });

/** A topic with short retention and one HTTP subscription at a fresh sink path; returns the sink key. */
async function pushTopic(path: string): Promise<{ topic: string; key: string }> {
  const topic = await createTopic({ msgRetentionSeconds: RetentionSeconds });
  const key = `sink.test${path}/${uniqueName("ret")}`;
  await topics.subscribe(topic, "hook", { protocol: "http", endpoint: `http://${key}` });
  return { topic, key };
}

describe("the topic's own copy of a message", () => {
  it("is kept after delivery until msgRetentionSeconds have passed, then dropped", async () => {
    const topic = await createTopic({ msgRetentionSeconds: RetentionSeconds });
    const queue = await createQueue();
    await topics.subscribe(topic, "s", { protocol: "queue", endpoint: queue });
    await topics.publish(topic, [{ body: "m" }]);
    await drained(topic);
    const publishedAt = await firstPublishedAt(topic);

    await runDue(topic, publishedAt + RetentionMs - 1);
    const beforeEnd = await messageCount(topic);
    await runDue(topic, publishedAt + RetentionMs);

    expect(beforeEnd).toBe(1);
    expect(await messageCount(topic)).toBe(0);
    expect(await queueBodies(queue)).toEqual(["m"]);
    expect(await statsOf(topic, "s")).toMatchObject({ delivered: 1, failed: 0 });
  });

  it("is dropped only for messages whose retention ended, not for later ones", async () => {
    const topic = await createTopic({ msgRetentionSeconds: RetentionSeconds });
    await topics.publish(topic, [{ body: "older" }]);
    await topics.publish(topic, [{ body: "newer" }]);
    const publishedAt = await firstPublishedAt(topic);
    await inTopic(topic, (_object, state) => {
      state.storage.sql.exec("UPDATE messages SET published_at = ? WHERE body = 'older'", publishedAt - 30_000);
    });

    await runDue(topic, publishedAt - 30_000 + RetentionMs);

    const bodies = await inTopic(topic, (_object, state) =>
      state.storage.sql.exec<{ body: string }>("SELECT body FROM messages").toArray().map((row) => row.body),
    );
    expect(bodies).toEqual(["newer"]);
  });

  it("arms the alarm for the retention end once its deliveries are done", async () => {
    const topic = await createTopic({ msgRetentionSeconds: RetentionSeconds });
    await topics.subscribe(topic, "s", { protocol: "worker", endpoint: "AUDIT_WORKER" });
    await topics.publish(topic, [{ body: "m" }]);
    await drained(topic);

    // Whatever the alarm was armed for while delivering, once it has run it comes back for the retention end.
    await runDurableObjectAlarm(topicStub(topic));

    expect(await inTopic(topic, (_object, state) => state.storage.getAlarm())).toBe((await firstPublishedAt(topic)) + RetentionMs);
  });

  it("re-arms the alarm for the new retention end when msgRetentionSeconds is shortened", async () => {
    const topic = await createTopic({ msgRetentionSeconds: 86_400 });
    await topics.publish(topic, [{ body: "m" }]);
    const publishedAt = await firstPublishedAt(topic);

    await topics.updateTopic(topic, { msgRetentionSeconds: RetentionSeconds });

    expect(await inTopic(topic, (_object, state) => state.storage.getAlarm())).toBe(publishedAt + RetentionMs);
  });
});

describe("unfinished deliveries when retention ends", () => {
  it("drops a delivery still waiting when retention ends and counts it failed", async () => {
    const { topic, key } = await pushTopic("/status/500");
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);
    const publishedAt = await firstPublishedAt(topic);
    await postponeUntil(topic, publishedAt + RetentionMs + 60_000);
    const pushed = (await sinkRecords(key)).length;

    await runDue(topic, publishedAt + RetentionMs);

    const stats = await statsOf(topic, "hook");
    expect(stats).toMatchObject({ delivered: 0, failed: 1, pending: 0, lastError: "message retention ended before delivery" });
    expect(stats.lastErrorAt).toBe(publishedAt + RetentionMs);
    expect(await outboxRows(topic)).toEqual([]);
    expect(await messageCount(topic)).toBe(0);
    expect((await sinkRecords(key)).length).toBe(pushed);
  });

  it("pushes nothing more for a dropped delivery, however late the next round runs", async () => {
    const { topic, key } = await pushTopic("/status/500");
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);
    const publishedAt = await firstPublishedAt(topic);
    await postponeUntil(topic, publishedAt + RetentionMs + 60_000);
    await runDue(topic, publishedAt + RetentionMs);
    const pushed = (await sinkRecords(key)).length;

    await runDue(topic, publishedAt + RetentionMs + 3_600_000);

    expect((await sinkRecords(key)).length).toBe(pushed);
    expect((await statsOf(topic, "hook")).failed).toBe(1);
  });

  it("counts each subscription's own dropped deliveries as its failures", async () => {
    const topic = await createTopic({ msgRetentionSeconds: RetentionSeconds });
    const base = `http://sink.test/status/500/${uniqueName("ret")}`;
    await topics.subscribe(topic, "all", { protocol: "http", endpoint: `${base}/all` });
    await topics.subscribe(topic, "only-a", { protocol: "http", endpoint: `${base}/a`, filterTags: ["a"] });
    await topics.publish(topic, [{ body: "1", tags: ["a"] }, { body: "2" }, { body: "3" }]);
    await attempted(topic);
    const publishedAt = await firstPublishedAt(topic);
    await postponeUntil(topic, publishedAt + RetentionMs + 60_000);

    await runDue(topic, publishedAt + RetentionMs);

    expect(await statsOf(topic, "all")).toMatchObject({ failed: 3, pending: 0 });
    expect(await statsOf(topic, "only-a")).toMatchObject({ failed: 1, pending: 0 });
  });

  it("counts a delivery failed once when its last attempt and the end of retention fall in the same round", async () => {
    const { topic, key } = await pushTopic("/status/500");
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);
    const publishedAt = await firstPublishedAt(topic);
    const pushed = (await sinkRecords(key)).length;

    await runDue(topic, publishedAt + RetentionMs);

    expect((await sinkRecords(key)).length).toBe(pushed + 1);
    expect(await statsOf(topic, "hook")).toMatchObject({ delivered: 0, failed: 1, pending: 0 });
    expect(await messageCount(topic)).toBe(0);
  });

  it("leaves the deliveries of a message whose retention has not ended", async () => {
    const { topic } = await pushTopic("/status/500");
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);
    const publishedAt = await firstPublishedAt(topic);
    await postponeUntil(topic, publishedAt + RetentionMs + 60_000);

    await runDue(topic, publishedAt + RetentionMs - 1);

    expect(await statsOf(topic, "hook")).toMatchObject({ failed: 0, pending: 1 });
    expect(await messageCount(topic)).toBe(1);
  });
});

describe("a delivery cut short by a crash, with the shortest retention", () => {
  /** Publishes to an endpoint that leaves the first push unanswered and waits until that push is in flight. */
  async function pushInFlight(): Promise<{ topic: string; key: string; publishedAt: number }> {
    const { topic, key } = await pushTopic("/hang-first");
    await topics.publish(topic, [{ body: "m" }]);
    await eventually(
      () => sinkRecords(key),
      (records) => records.length === 1,
    );
    return { topic, key, publishedAt: await firstPublishedAt(topic) };
  }

  it("keeps the watchdog alarm armed while the push is in flight, and the live instance does not push again", async () => {
    const { topic, key, publishedAt } = await pushInFlight();

    const alarm = await inTopic(topic, (_object, state) => state.storage.getAlarm());
    await runDue(topic, publishedAt + RetentionMs - 1);

    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(Date.now() + DeliveryWatchdogMs);
    expect(await sinkRecords(key)).toHaveLength(1);
    expect((await outboxRows(topic)).map((row) => row.leased)).toEqual([1]);
    await abortAllDurableObjects();
  });

  it("is pushed again by the next instance within the watchdog and counted delivered, not failed at the end of retention", async () => {
    const { topic, key, publishedAt } = await pushInFlight();

    await abortAllDurableObjects();
    // What the dead instance left armed: the watchdog, well before the end of retention.
    const alarm = await inTopic(topic, (_object, state) => state.storage.getAlarm());
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);
    await drained(topic);
    await runDue(topic, publishedAt + RetentionMs);

    expect(alarm!).toBeLessThan(publishedAt + RetentionMs);
    expect(await sinkRecords(key)).toHaveLength(2);
    expect(await statsOf(topic, "hook")).toMatchObject({ delivered: 1, failed: 0, pending: 0 });
  });

  it("is pushed again when the next instance starts for any other reason", async () => {
    const { topic, key } = await pushInFlight();

    await abortAllDurableObjects();
    await topics.getTopic(topic);

    await eventually(
      () => sinkRecords(key),
      (records) => records.length === 2,
    );
    await drained(topic);
    expect(await statsOf(topic, "hook")).toMatchObject({ delivered: 1, failed: 0, pending: 0 });
  });
});
