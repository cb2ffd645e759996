import { abortAllDurableObjects, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock";
import { ErrorCode, ServiceError } from "../../src/errors";
import { partitionObject } from "../../src/objects/keys";
import type { TopicObject } from "../../src/objects/topic-object";
import type { QueueObject } from "../../src/objects/queue-object";
import type { NotifyStrategy } from "../../src/schema/topic";
import { queues, sinkRecords, topicStub, topics, uniqueName } from "../support/topics";
import { checkProperty, propertyTimeoutMs } from "./fc-params";

/**
 * Model-based test of topic fan-out: random publishes (single and batches, with tags) to a topic
 * with queue subscriptions (one whose queue is missing for a while; queues of 1, 2 or 4 partitions,
 * raised and lowered meanwhile) and HTTP subscriptions to
 * flaky or failing endpoints (the sink Worker's /fail-first/<n>/ and /status/500/ paths), mixed with
 * time passing, due work, evictions, and aborts while deliveries are in flight. After every step:
 * each subscription's delivered + failed + pending equals the messages that matched it; a queue
 * holds only matching messages, each at most once, and at least as many as were counted delivered.
 * At the end, once every delivery has run its course: pending is 0, each queue subscription's queue
 * holds every matching message exactly once unless it was counted failed, and without a crash an
 * HTTP endpoint got each delivered message exactly once and at most the strategy's attempts.
 *
 * The topic's object reads a manual clock (set on it through runInDurableObject before every step,
 * since a restart brings a fresh object), starting two days ahead, so alarms set for it never fire
 * on their own.
 */

const DayMs = 86_400_000;
const Tags = ["a", "b", "c"] as const;

type SubscriptionSpec =
  | { kind: "queue"; filterTags: string[]; late: boolean; partitions: number }
  | { kind: "flaky"; failFirst: number; strategy: NotifyStrategy; filterTags: string[] }
  | { kind: "down"; strategy: NotifyStrategy; filterTags: string[] };

interface Config {
  msgRetentionSeconds: number;
  subscriptions: SubscriptionSpec[];
}

type Command =
  | { t: "publish"; messages: string[][]; thenAbort: boolean }
  | { t: "advance"; ms: number }
  | { t: "due" }
  | { t: "evict-topic" }
  | { t: "evict-queue"; k: number }
  | { t: "abort" }
  | { t: "crash-during-due"; afterMs: number }
  | { t: "create-late-queues" }
  | { t: "lose-outcome"; k: number; j: number }
  | { t: "resize-queue"; k: number; partitions: number };

const tagsArb = fc.subarray([...Tags], { maxLength: 2 });
/** A queue subscription's queue: mostly one partition, some spread over several. */
const partitionsArb = fc.constantFrom(1, 1, 2, 4);
const strategyArb = fc.constantFrom<NotifyStrategy>("EXPONENTIAL_DECAY_RETRY", "EXPONENTIAL_DECAY_RETRY", "BACKOFF_RETRY");

const subscriptionArb: fc.Arbitrary<SubscriptionSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("queue" as const), filterTags: tagsArb, late: fc.constant(false), partitions: partitionsArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("queue" as const), filterTags: tagsArb, late: fc.constant(true), partitions: partitionsArb }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("flaky" as const), failFirst: fc.integer({ min: 0, max: 5 }), strategy: strategyArb, filterTags: tagsArb }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("down" as const), strategy: strategyArb, filterTags: tagsArb }) },
);

const configArb: fc.Arbitrary<Config> = fc.record({
  msgRetentionSeconds: fc.integer({ min: 60, max: 300 }),
  subscriptions: fc.array(subscriptionArb, { minLength: 1, maxLength: 5 }),
});

const thenAbortArb = fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ t: fc.constant("publish" as const), messages: fc.array(tagsArb, { minLength: 1, maxLength: 1 }), thenAbort: thenAbortArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("publish" as const), messages: fc.array(tagsArb, { minLength: 2, maxLength: 16 }), thenAbort: thenAbortArb }),
  },
  {
    weight: 5,
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
      { weight: 2, arbitrary: fc.integer({ min: 1_000, max: 40_000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 30_000, max: 400_000 }) },
    ).map((ms) => ({ t: "advance" as const, ms })),
  },
  { weight: 4, arbitrary: fc.constant({ t: "due" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "evict-topic" as const }) },
  { weight: 1, arbitrary: fc.nat(10).map((k) => ({ t: "evict-queue" as const, k })) },
  { weight: 1, arbitrary: fc.constant({ t: "abort" as const }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 2, 5).map((afterMs) => ({ t: "crash-during-due" as const, afterMs })) },
  { weight: 1, arbitrary: fc.constant({ t: "create-late-queues" as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("lose-outcome" as const), k: fc.nat(10), j: fc.nat(100) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("resize-queue" as const), k: fc.nat(10), partitions: fc.constantFrom(1, 2, 4, 8) }) },
);

interface LiveSubscription {
  spec: SubscriptionSpec;
  name: string;
  /** The queue of a queue subscription; the sink key (host + path) of an HTTP one. */
  target: string;
  /** Ids of the published messages this subscription matched. */
  matched: Set<string>;
  queueExists: boolean;
}

const matches = (filterTags: readonly string[], tags: readonly string[]) =>
  filterTags.length === 0 || tags.some((tag) => filterTags.includes(tag));

const tally = {
  sequences: 0,
  commands: 0,
  published: 0,
  deliveries: 0,
  delivered: 0,
  failed: 0,
  queueCopies: 0,
  httpRequests: 0,
  crashes: 0,
  evictions: 0,
  aborts: 0,
  duplicatePushes: 0,
  lostOutcomes: 0,
  resizes: 0,
};

interface SubscriptionRow {
  name: string;
  delivered: number;
  failed: number;
  pending: number;
}

function readStats(topic: string): Promise<Map<string, SubscriptionRow>> {
  return runInDurableObject(topicStub(topic), (_object: TopicObject, state) => {
    const rows = state.storage.sql
      .exec<SubscriptionRow & { [key: string]: SqlStorageValue }>(
        `SELECT s.name AS name, s.delivered AS delivered, s.failed AS failed,
                (SELECT COUNT(*) FROM outbox o WHERE o.subscription_id = s.id) AS pending
         FROM subscriptions s`,
      )
      .toArray();
    return new Map(rows.map((row) => [row.name, { ...row }]));
  });
}

function queueObject(name: string) {
  return env.QUEUES.get(env.QUEUES.idFromName(`default/local/${name.toLowerCase()}`));
}

/** Every message id one queue object holds (none when it holds no queue). */
function objectIds(stub: DurableObjectStub<QueueObject>): Promise<{ partitions: number; ids: string[] }> {
  return runInDurableObject(stub, (object: QueueObject) => {
    if (!object.engine.meta) return { partitions: 0, ids: [] };
    const ids: string[] = [];
    for (let after = 0; ; ) {
      const page = object.engine.peek(100, after, Date.now());
      ids.push(...page.messages.map((m) => m.id));
      if (page.nextCursor === null) return { partitions: object.engine.meta.attributes.partitions, ids };
      after = Number(page.nextCursor);
    }
  });
}

/** Every message id the queue holds, in all its partitions, with the partition holding it (none when it does not exist). */
async function queueHeld(name: string): Promise<Array<{ id: string; partition: number }>> {
  const home = await objectIds(queueObject(name));
  const held = home.ids.map((id) => ({ id, partition: 0 }));
  for (let partition = 1; partition < home.partitions; partition++) {
    const { ids } = await objectIds(partitionObject(env, "default/local/", name, partition));
    held.push(...ids.map((id) => ({ id, partition })));
  }
  return held;
}

async function queueIds(name: string): Promise<string[]> {
  return (await queueHeld(name)).map((message) => message.id);
}

/** Waits for the topic's background delivery round, if one runs. */
function settle(topic: string): Promise<void> {
  return runInDurableObject(topicStub(topic), async (object: TopicObject) => {
    await (object as unknown as { delivering: Promise<void> | null }).delivering;
  });
}

async function runSequence(config: Config, commands: Command[]): Promise<void> {
  tally.sequences++;
  tally.commands += commands.length;
  await runWithClock(config, commands, new ManualClock(Date.now() + 2 * DayMs));
}

async function runWithClock(config: Config, commands: Command[], clock: ManualClock): Promise<void> {
  const advance = (ms: number) => clock.advance(ms);
  const topic = uniqueName("tm");
  /** Puts the topic's object (a fresh one after a restart) on the test's clock. */
  const useClock = () =>
    runInDurableObject(topicStub(topic), (object: TopicObject) => {
      object.clock = clock;
    });
  await useClock();
  await topics.createTopic(topic, { msgRetentionSeconds: config.msgRetentionSeconds });
  const subs: LiveSubscription[] = [];
  for (const [i, spec] of config.subscriptions.entries()) {
    const name = `s${i}`;
    if (spec.kind === "queue") {
      const queue = uniqueName("tmq");
      await queues.createQueue(queue, { partitions: spec.partitions });
      await topics.subscribe(topic, name, { protocol: "queue", endpoint: queue, filterTags: spec.filterTags });
      // A late queue disappears right after the subscription and comes back later: deliveries fail until then.
      if (spec.late) await queues.deleteQueue(queue);
      subs.push({ spec, name, target: queue, matched: new Set(), queueExists: !spec.late });
    } else {
      const path = spec.kind === "flaky" ? `/fail-first/${spec.failFirst}/${uniqueName("f")}` : `/status/500/${uniqueName("d")}`;
      await topics.subscribe(topic, name, {
        protocol: "http",
        endpoint: `http://sink.test${path}`,
        filterTags: spec.filterTags,
        notifyStrategy: spec.strategy,
      });
      subs.push({ spec, name, target: `sink.test${path}`, matched: new Set(), queueExists: false });
    }
  }
  let crashed = false;
  const log: string[] = [];

  const check = async (where: string, final = false) => {
    const stats = await readStats(topic);
    for (const sub of subs) {
      const row = stats.get(sub.name)!;
      const label = `${sub.name} ${JSON.stringify(sub.spec)} after ${where}`;
      expect(row.delivered + row.failed + row.pending, `delivered + failed + pending of ${label}`).toBe(sub.matched.size);
      if (final) expect(row.pending, `pending of ${label}`).toBe(0);
      if (sub.spec.kind === "queue") {
        const ids = await queueIds(sub.target);
        const unique = new Set(ids);
        expect(ids.length, `copies in the queue of ${label}`).toBe(unique.size);
        for (const id of unique) expect(sub.matched.has(id), `${id} in the queue of ${label}`).toBe(true);
        expect(unique.size, `queue of ${label} holds what was counted delivered`).toBeGreaterThanOrEqual(row.delivered);
        if (final) {
          // Each matching message is in the queue once, or was counted failed (then it may be there once).
          expect(unique.size, `queue of ${label}`).toBeLessThanOrEqual(sub.matched.size);
          expect(unique.size + row.failed, `queue of ${label} + failed`).toBeGreaterThanOrEqual(sub.matched.size);
          if (!sub.spec.late && !crashed) expect({ ...row, held: unique.size }, label).toEqual({ ...row, failed: 0, held: sub.matched.size });
          tally.queueCopies += ids.length;
        }
      } else if (final) {
        const records = await sinkRecords(sub.target);
        tally.httpRequests += records.length;
        const failFirst = sub.spec.kind === "flaky" ? sub.spec.failFirst : Infinity;
        const successes = new Map<string, number>();
        const attempts = new Map<string, number>();
        records.forEach((record, index) => {
          const id = record.headers["x-cmq-message-id"]!;
          expect(sub.matched.has(id), `push of ${id} to ${label}`).toBe(true);
          attempts.set(id, (attempts.get(id) ?? 0) + 1);
          if (index >= failFirst) successes.set(id, (successes.get(id) ?? 0) + 1);
        });
        expect(successes.size, `messages the endpoint of ${label} accepted`).toBeGreaterThanOrEqual(row.delivered);
        const duplicates = [...successes.values()].filter((n) => n > 1).length;
        tally.duplicatePushes += duplicates;
        if (!crashed) {
          expect(duplicates, `messages pushed twice to ${label}`).toBe(0);
          expect(successes.size, `messages the endpoint of ${label} accepted`).toBe(row.delivered);
          if (sub.spec.strategy === "BACKOFF_RETRY") {
            for (const [id, n] of attempts) expect(n, `attempts of ${id} to ${label}`).toBeLessThanOrEqual(4);
          }
          if (sub.spec.kind === "down") expect(row.delivered, label).toBe(0);
        }
      }
      if (final) {
        tally.delivered += row.delivered;
        tally.failed += row.failed;
        tally.deliveries += sub.matched.size;
      }
    }
  };

  for (const command of commands) {
    const where = `${JSON.stringify(command)} at step ${log.length}`;
    log.push(JSON.stringify(command));
    await useClock();
    switch (command.t) {
      case "publish": {
        const ids = await topics.publish(
          topic,
          command.messages.map((tags, i) => ({ body: `b${log.length}-${i}`, ...(tags.length > 0 ? { tags } : {}) })),
        );
        expect(ids).toHaveLength(command.messages.length);
        tally.published += ids.length;
        ids.forEach((id, i) => {
          for (const sub of subs) if (matches(sub.spec.filterTags, command.messages[i]!)) sub.matched.add(id);
        });
        if (command.thenAbort) {
          // The background delivery the publish started is cut wherever it is.
          await abortAllDurableObjects();
          crashed = true;
          tally.aborts++;
        }
        break;
      }
      case "advance":
        advance(command.ms);
        break;
      case "due":
        await runInDurableObject(topicStub(topic), (object: TopicObject) => object.runDue(clock.nowMs()));
        break;
      case "evict-topic": {
        // A restart with nothing in flight. (Not evictDurableObject: it waits out the 15 s timeout
        // signal of every push made, as an eviction waits for the object to go idle.)
        await settle(topic);
        await abortAllDurableObjects();
        tally.evictions++;
        break;
      }
      case "evict-queue": {
        const queueSubs = subs.filter((sub) => sub.spec.kind === "queue");
        if (queueSubs.length === 0) break;
        const stub = queueObject(queueSubs[command.k % queueSubs.length]!.target);
        await runInDurableObject(stub, () => null);
        await evictDurableObject(stub);
        tally.evictions++;
        break;
      }
      case "abort":
        await abortAllDurableObjects();
        crashed = true;
        tally.aborts++;
        break;
      case "crash-during-due": {
        const call = runInDurableObject(topicStub(topic), async (object: TopicObject) => {
          void object.runDue(clock.nowMs()).catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, command.afterMs));
        await abortAllDurableObjects();
        await call;
        crashed = true;
        tally.crashes++;
        break;
      }
      case "lose-outcome": {
        // A crash right after a delivery succeeded and before the topic recorded it: the outbox row
        // and the delivered count come back as they were (they are written together, so they are
        // lost together). The delivery is then made again; a queue must not store it twice.
        const candidates = subs.filter((sub) => sub.spec.kind === "queue" && sub.queueExists);
        if (candidates.length === 0) break;
        const sub = candidates[command.k % candidates.length]!;
        const held = await queueHeld(sub.target);
        if (held.length === 0) break;
        const { id, partition } = held[command.j % held.length]!;
        const lost = await runInDurableObject(topicStub(topic), (_object: TopicObject, state) => {
          const sql = state.storage.sql;
          const message = sql.exec<{ seq: number }>("SELECT seq FROM messages WHERE id = ?", id).toArray()[0];
          const subscription = sql.exec<{ id: number; delivered: number }>("SELECT id, delivered FROM subscriptions WHERE name = ?", sub.name).one();
          if (!message || subscription.delivered === 0) return false;
          if (sql.exec("SELECT 1 FROM outbox WHERE message_seq = ? AND subscription_id = ?", message.seq, subscription.id).toArray().length > 0) {
            return false;
          }
          // The partition the delivery chose was kept before its call, so it comes back with the row.
          sql.exec(
            "INSERT INTO outbox (message_seq, subscription_id, attempts, next_attempt_at, target_partition) VALUES (?, ?, 0, ?, ?)",
            message.seq,
            subscription.id,
            clock.nowMs(),
            partition,
          );
          sql.exec("UPDATE subscriptions SET delivered = delivered - 1 WHERE id = ?", subscription.id);
          return true;
        });
        if (lost) tally.lostOutcomes++;
        break;
      }
      case "resize-queue": {
        // Raised at any time; lowered only while the partitions to remove are empty, else refused and unchanged.
        const candidates = subs.filter((sub) => sub.spec.kind === "queue" && sub.queueExists);
        if (candidates.length === 0) break;
        const sub = candidates[command.k % candidates.length]!;
        try {
          await queues.updateQueue(sub.target, { partitions: command.partitions });
          tally.resizes++;
        } catch (error) {
          expect(error instanceof ServiceError && error.code).toBe(ErrorCode.PartitionsNotEmpty);
        }
        break;
      }
      case "create-late-queues":
        for (const sub of subs) {
          if (sub.spec.kind === "queue" && !sub.queueExists) {
            await queues.createQueue(sub.target, { partitions: sub.spec.partitions });
            sub.queueExists = true;
          }
        }
        break;
    }
    await check(where);
  }

  // The end: late queues come back, then time runs through every pending delivery's schedule.
  for (const sub of subs) {
    if (sub.spec.kind === "queue" && !sub.queueExists) {
      await queues.createQueue(sub.target, { partitions: sub.spec.partitions });
      sub.queueExists = true;
    }
  }
  await useClock();
  for (let round = 0; round < 500; round++) {
    await settle(topic);
    const next = await runInDurableObject(topicStub(topic), (_object: TopicObject, state) =>
      state.storage.sql.exec<{ m: number | null }>("SELECT MIN(next_attempt_at) AS m FROM outbox").one().m,
    );
    if (next === null) break;
    // A little past the earliest, so that deliveries due within the same second go in one round.
    if (next + 500 > clock.nowMs()) advance(next + 500 - clock.nowMs());
    await useClock();
    await runInDurableObject(topicStub(topic), (object: TopicObject) => object.runDue(clock.nowMs()));
  }
  await settle(topic);
  await check("the end", true);

  // Leave nothing behind (an account holds at most 1,000 queues and topics).
  await topics.deleteTopic(topic);
  for (const sub of subs) if (sub.spec.kind === "queue") await queues.deleteQueue(sub.target);
}

describe("topic fan-out against a reference model", () => {
  it(
    "every matching message ends delivered exactly once per queue subscription, or counted failed",
    async () => {
      await checkProperty(
        "topic model",
        fc.asyncProperty(configArb, fc.array(commandArb, { minLength: 1, maxLength: 25, size: "max" }), (config, commands) =>
          runSequence(config, commands),
        ),
        100,
      );
      console.log(`topic model tally: ${JSON.stringify(tally)}`);
    },
    propertyTimeoutMs(),
  );
});
