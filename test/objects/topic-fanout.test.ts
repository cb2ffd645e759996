import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DeliveryWatchdogMs } from "../../src/objects/topic-object";
import {
  createQueue,
  createTopic,
  drained,
  eventually,
  firstPublishedAt,
  inTopic,
  outboxRows,
  queueContents,
  queues,
  runDue,
  topicStub,
  topics,
  type OutboxRow,
} from "../support/topics";

const Fanout = 25;

/** A topic with `Fanout` queue subscriptions, each to its own queue. */
async function fanoutTopic(): Promise<{ topic: string; queueNames: string[] }> {
  const topic = await createTopic();
  const queueNames: string[] = [];
  for (let i = 0; i < Fanout; i++) {
    const queue = await createQueue();
    queueNames.push(queue);
    await topics.subscribe(topic, `sub-${String(i).padStart(2, "0")}`, { protocol: "queue", endpoint: queue });
  }
  return { topic, queueNames };
}

/** Asserts that every queue holds exactly the published messages, each once, by id. */
async function expectEachQueueHoldsEachOnce(queueNames: string[], ids: string[]): Promise<void> {
  for (const queue of queueNames) {
    const held = (await queueContents(queue)).map((message) => message.id).sort();
    expect(held, `queue ${queue}`).toEqual([...ids].sort());
  }
}

/** Puts outbox rows back as they were before delivery, due at `dueAtMs`: a crash between accept and the outbox delete. */
function reinsertOutbox(topic: string, dueAtMs: number): Promise<number> {
  return inTopic(topic, (_object, state) => {
    const sql = state.storage.sql;
    sql.exec(
      `INSERT INTO outbox (message_seq, subscription_id, attempts, next_attempt_at)
       SELECT m.seq, s.id, 0, ? FROM messages m CROSS JOIN subscriptions s`,
      dueAtMs,
    );
    return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
  });
}

const alarmOf = (topic: string) => inTopic(topic, (_object, state) => state.storage.getAlarm());

describe("fan-out to queue subscriptions", () => {
  it("delivers each message to each of 25 queues exactly once", async () => {
    const { topic, queueNames } = await fanoutTopic();

    const ids = await topics.publish(topic, [{ body: "one" }, { body: "two" }, { body: "three" }]);
    await drained(topic);

    await expectEachQueueHoldsEachOnce(queueNames, ids);
    for (const sub of (await topics.listSubscriptions(topic)).subscriptions) {
      expect(sub.stats, sub.name).toEqual({ delivered: 3, failed: 0, pending: 0, lastError: null, lastErrorAt: null });
    }
  });

  it("delivers each message to each of 25 queues exactly once when the topic's object is aborted right after publish", async () => {
    const { topic, queueNames } = await fanoutTopic();

    const ids = await topics.publish(topic, [{ body: "one" }, { body: "two" }]);
    await abortAllDurableObjects();
    await runDue(topic, Date.now());

    expect(await outboxRows(topic)).toEqual([]);
    await expectEachQueueHoldsEachOnce(queueNames, ids);
    for (const sub of (await topics.listSubscriptions(topic)).subscriptions) {
      expect(sub.stats, sub.name).toMatchObject({ delivered: 2, failed: 0, pending: 0 });
    }
  });

  it("delivers each message to each of 25 queues exactly once when the object is aborted while delivering", async () => {
    const { topic, queueNames } = await fanoutTopic();

    const ids = await topics.publish(topic, [{ body: "one" }, { body: "two" }]);
    // Abort as soon as the first queue holds a copy: some deliveries are done, others in flight or not yet deleted.
    await eventually(
      () => queueContents(queueNames[0]!),
      (held) => held.length > 0,
      200,
      5,
    );
    await abortAllDurableObjects();
    await runDue(topic, Date.now());

    expect(await outboxRows(topic)).toEqual([]);
    await expectEachQueueHoldsEachOnce(queueNames, ids);
  });

  it("has its alarm armed no later than the watchdog's end when the object is aborted right after publish", async () => {
    const { topic } = await fanoutTopic();

    await topics.publish(topic, [{ body: "m" }]);
    await abortAllDurableObjects();

    const alarm = await alarmOf(topic);
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual((await firstPublishedAt(topic)) + DeliveryWatchdogMs + 1_000);
  });

  it("keeps one copy in each queue when the alarm runs again after an abort", async () => {
    const { topic, queueNames } = await fanoutTopic();
    const ids = await topics.publish(topic, [{ body: "m" }]);
    await abortAllDurableObjects();

    // The new instance released the dead one's leases: the alarm attempts them, and a second round finds nothing.
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);
    await runDue(topic, Date.now());

    expect(await outboxRows(topic)).toEqual([]);
    await expectEachQueueHoldsEachOnce(queueNames, ids);
  });

  it("keeps one copy in each queue when delivered outbox rows come back due (a crash between delivery and outbox delete)", async () => {
    const { topic, queueNames } = await fanoutTopic();
    const ids = await topics.publish(topic, [{ body: "one" }, { body: "two" }]);
    await drained(topic);
    await expectEachQueueHoldsEachOnce(queueNames, ids);

    expect(await reinsertOutbox(topic, 0)).toBe(2 * Fanout);
    await runDue(topic, Date.now());

    expect(await outboxRows(topic)).toEqual([]);
    await expectEachQueueHoldsEachOnce(queueNames, ids);
  });

  it("does not attempt a delivery leased by the live instance, however late; a new instance attempts it at once", async () => {
    const { topic, queueNames } = await fanoutTopic();
    const ids = await topics.publish(topic, [{ body: "m" }]);
    await drained(topic);
    const nowMs = Date.now();
    await reinsertOutbox(topic, nowMs);
    await inTopic(topic, (_object, state) => {
      state.storage.sql.exec("UPDATE outbox SET leased = 1");
    });

    await runDue(topic, nowMs + 3_600_000);
    const whileLeased = await outboxRows(topic);
    await abortAllDurableObjects();
    await runDue(topic, nowMs);

    expect(whileLeased.map((row: OutboxRow) => [row.attempts, row.leased])).toEqual(Array(Fanout).fill([0, 1]));
    expect(await outboxRows(topic)).toEqual([]);
    await expectEachQueueHoldsEachOnce(queueNames, ids);
  });

  it("delivers all of a backlog larger than one delivery round (32 queues x 16 messages)", async () => {
    const topic = await createTopic();
    const queueNames: string[] = [];
    for (let i = 0; i < 32; i++) {
      queueNames.push(await createQueue());
      await topics.subscribe(topic, `sub-${i}`, { protocol: "queue", endpoint: queueNames[i]! });
    }

    const ids = await topics.publish(
      topic,
      Array.from({ length: 16 }, (_, i) => ({ body: `m${i}` })),
    );
    await eventually(
      () => outboxRows(topic),
      (rows) => rows.length === 0,
      200,
    );

    await expectEachQueueHoldsEachOnce(queueNames, ids);
  });

  it("stores each delivery in the queue under the key topic:<prefix><topic>:<subscriptionId>:<messageId>", async () => {
    const topic = await createTopic();
    const queue = await createQueue();
    await topics.subscribe(topic, "s", { protocol: "queue", endpoint: queue });
    const [id] = await topics.publish(topic, [{ body: "m" }]);
    await drained(topic);

    const subscriptionId = await inTopic(
      topic,
      (_object, state) => state.storage.sql.exec<{ id: number }>("SELECT id FROM subscriptions").one().id,
    );
    const queueStub = env.QUEUES.get(env.QUEUES.idFromName(`default/local/${queue}`));
    const keys = await runInDurableObject(queueStub, (_object, state) =>
      state.storage.sql.exec<{ key: string }>("SELECT key FROM idempotency_keys").toArray().map((row) => row.key),
    );

    expect(keys).toEqual([`topic:default/local/${topic}:${subscriptionId}:${id}`]);
  });

  it("gives each of two subscriptions to the same queue its own copy", async () => {
    const topic = await createTopic();
    const queue = await createQueue();
    await topics.subscribe(topic, "first", { protocol: "queue", endpoint: queue });
    await topics.subscribe(topic, "second", { protocol: "queue", endpoint: queue });

    const [id] = await topics.publish(topic, [{ body: "m" }]);
    await drained(topic);

    expect((await queueContents(queue)).map((message) => message.id)).toEqual([id, id]);
  });
});

describe("what a queue receives", () => {
  it("carries the message's tags and id into the queue", async () => {
    const topic = await createTopic();
    const queue = await createQueue();
    await topics.subscribe(topic, "s", { protocol: "queue", endpoint: queue, filterTags: ["x"] });

    const [id] = await topics.publish(topic, [{ body: "tagged", tags: ["x", "y"] }]);
    await drained(topic);

    expect(await queueContents(queue)).toEqual([{ id, body: "tagged", tags: ["x", "y"] }]);
  });

  it("delivers a message the queue's long poll is waiting for", async () => {
    const topic = await createTopic();
    const queue = await createQueue();
    await topics.subscribe(topic, "s", { protocol: "queue", endpoint: queue });
    const receiving = queues.receive(queue, {
      max: 1,
      waitSeconds: 5,
      visibilityTimeout: undefined,
    });

    await topics.publish(topic, [{ body: "awaited" }]);

    expect((await receiving).map((message) => message.body)).toEqual(["awaited"]);
  });

  it("retries a delivery to a deleted queue and records the error", async () => {
    const topic = await createTopic();
    const queue = await createQueue();
    await topics.subscribe(topic, "s", { protocol: "queue", endpoint: queue });
    await queues.deleteQueue(queue);

    await topics.publish(topic, [{ body: "m" }]);
    const stats = await eventually(
      () => topics.getSubscription(topic, "s").then((sub) => sub.stats),
      (value) => value.lastError !== null,
    );

    expect(stats).toMatchObject({ delivered: 0, failed: 0, pending: 1 });
    expect(stats.lastError).toContain("QueueNotFound");
  });
});

describe("an outbox stored before leases had their own column", () => {
  it("gets the column on the next start and its pending deliveries are delivered", async () => {
    const topic = await createTopic();
    const queue = await createQueue();
    await topics.subscribe(topic, "s", { protocol: "queue", endpoint: queue });
    const [id] = await topics.publish(topic, [{ body: "m" }]);
    await drained(topic);
    await inTopic(topic, (_object, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE outbox");
      sql.exec(`CREATE TABLE outbox (
        message_seq INTEGER NOT NULL, subscription_id INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
        PRIMARY KEY (message_seq, subscription_id))`);
      sql.exec("CREATE INDEX outbox_by_due ON outbox (next_attempt_at)");
      sql.exec("INSERT INTO outbox SELECT m.seq, s.id, 0, 0 FROM messages m CROSS JOIN subscriptions s");
    });

    await abortAllDurableObjects();
    await runDue(topic, Date.now());

    const indexes = await inTopic(topic, (_object, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox' AND sql IS NOT NULL ORDER BY name").toArray(),
    );
    expect(indexes.map((index) => index.name)).toEqual(["outbox_by_lease_and_due", "outbox_by_subscription"]);
    expect(await outboxRows(topic)).toEqual([]);
    expect((await queueContents(queue)).map((message) => message.id)).toEqual([id]);
  });
});
