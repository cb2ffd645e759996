import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handOverPartition, partitionCounts } from "../../src/objects/partition-counts";
import { handOverToQueue } from "../../src/objects/partition-hand-over";
import { MoveRetryDelayMs } from "../../src/objects/queue/moves";
import { migrateSchema } from "../../src/objects/queue/storage";
import { migrate as migrateTopic } from "../../src/objects/topic/storage";
import { deliverToQueue } from "../../src/objects/topic/delivery";
import type { QueueObject } from "../../src/objects/queue-object";
import { partitionOfGroup } from "../../src/schema/partitions";
import { expectStatus } from "../api/helpers";
import { api, uniqueName } from "../support/http";
import { attempted, createTopic, drained, inTopic, outboxRows, topics } from "../support/topics";
import { countsOf, drain, partition, partitionedQueue, partitionOfHandle, Prefix, sendBatch } from "./support";

/** Seconds after which the dead-letter policies below move a message, received or not. */
const TimeToLiveSeconds = 300;
/** A moment by which every message sent now is past `TimeToLiveSeconds`. */
const expiredAt = () => Date.now() + TimeToLiveSeconds * 1000 + 1_000;

/** Each partition's total of messages held, in partition order. */
async function shares(name: string, partitions: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: partitions }, async (_, index) => {
      const info = await partition(name, index).getInfo();
      if (!info.ok) throw new Error(`partition ${index}: ${info.error.code}`);
      return info.value.counts.total;
    }),
  );
}

/** Runs the due work of every partition of a queue at `nowMs` (dead-letter moves, a redrive's step). */
async function runDue(name: string, partitions: number, nowMs: number): Promise<void> {
  for (let index = 0; index < partitions; index++) await runInDurableObject(partition(name, index), (object: QueueObject) => object.runDue(nowMs));
}

async function sendMany(name: string, count: number, message: (index: number) => Record<string, unknown> = (index) => ({ body: `m${index}` })): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < count; from += 16) {
    ids.push(...(await sendBatch(name, Array.from({ length: Math.min(16, count - from) }, (_, offset) => message(from + offset)))));
  }
  return ids;
}

async function patchPartitions(name: string, partitions: number): Promise<void> {
  const changed = await api("PATCH", `/v1/queues/${name}`, { partitions });
  expectStatus(changed, 200);
  expect(changed.body.partitions).toBe(partitions);
}

describe("dead letters into a partitioned queue", () => {
  it("spread over a standard dead-letter queue's partitions, each stored once and naming its source", async () => {
    const deadLetters = await partitionedQueue(4);
    const source = await partitionedQueue(1, { deadLetter: { queue: deadLetters, maxTimeToLive: TimeToLiveSeconds } });
    const ids = await sendMany(source, 40);
    await runDue(source, 1, expiredAt());

    const each = await shares(deadLetters, 4);
    expect(each.reduce((sum, count) => sum + count, 0)).toBe(40);
    // A hash of each message's idempotency key spreads them: every partition holds some.
    for (const count of each) expect(count).toBeGreaterThan(0);
    expect(await countsOf(source)).toMatchObject({ total: 0 });
    const dead = await drain(deadLetters);
    expect(dead.map((message) => message.id).sort()).toEqual([...ids].sort());
    expect(new Set(dead.map((message) => message.sourceQueue))).toEqual(new Set([source]));
  });

  it("puts each group in its own partition of a FIFO dead-letter queue, in order", async () => {
    const deadLetters = await partitionedQueue(4, { fifo: true }, `${uniqueName("dlq")}.fifo`);
    const source = await partitionedQueue(2, { fifo: true, deadLetter: { queue: deadLetters, maxTimeToLive: TimeToLiveSeconds } }, `${uniqueName("src")}.fifo`);
    const groups = Array.from({ length: 8 }, (_, index) => `group-${index}`);
    for (let round = 0; round < 5; round++) {
      await sendBatch(source, groups.map((groupId) => ({ body: `${groupId}:${round}`, groupId, deduplicationId: `${groupId}-${round}` })));
    }
    await runDue(source, 2, expiredAt());

    expect(await countsOf(source)).toMatchObject({ total: 0 });
    const dead = await drain(deadLetters);
    expect(dead).toHaveLength(40);
    for (const groupId of groups) {
      const own = dead.filter((message) => message.groupId === groupId);
      expect(own.map((message) => message.body)).toEqual([0, 1, 2, 3, 4].map((round) => `${groupId}:${round}`));
      expect(new Set(own.map((message) => partitionOfHandle(message.receiptHandle)))).toEqual(new Set([partitionOfGroup(groupId, 4)]));
    }
  });

  it("keeps the receive count's verdict and the source when the dead-letter queue is partitioned", async () => {
    const deadLetters = await partitionedQueue(3);
    const source = await partitionedQueue(1, { deadLetter: { queue: deadLetters, maxReceiveCount: 2 } });
    const ids = await sendMany(source, 12);
    // Received twice without a delete, each time given up at once: due for the move after the second.
    for (let time = 0; time < 2; time++) {
      const received = await api("POST", `/v1/queues/${source}/messages/receive`, { max: 16, waitSeconds: 0 });
      expect(received.body.messages).toHaveLength(12);
      await runDue(source, 1, Date.now());
      expect(await countsOf(deadLetters)).toMatchObject({ total: 0 });
      for (const message of received.body.messages) {
        expectStatus(await api("POST", `/v1/queues/${source}/messages/visibility`, { receiptHandle: message.receiptHandle, visibilityTimeout: 0 }), 200);
      }
    }
    await runDue(source, 1, Date.now() + 1_000);
    expect(await countsOf(source)).toMatchObject({ total: 0 });
    const dead = await drain(deadLetters);
    expect(dead.map((message) => message.id).sort()).toEqual([...ids].sort());
    expect(dead.every((message) => message.sourceQueue === source)).toBe(true);
  });
});

describe("redrive into a partitioned queue", () => {
  it("spreads messages redriven from a partitioned dead-letter queue over their partitioned source, counting each once", async () => {
    const deadLetters = await partitionedQueue(2);
    const source = await partitionedQueue(4, { deadLetter: { queue: deadLetters, maxTimeToLive: TimeToLiveSeconds } });
    // All in partition 0 of the source (one tenant): the redrive must spread them, not put them back where they were.
    const ids = await sendMany(source, 48);
    await runDue(source, 4, expiredAt());
    expect(await countsOf(deadLetters)).toMatchObject({ total: 48 });

    const started = await api("POST", `/v1/queues/${deadLetters}/redrive`, {});
    expectStatus(started, 202);
    for (let round = 0; round < 5 && (await api("GET", `/v1/queues/${deadLetters}/redrive`)).body.status === "running"; round++) {
      await runDue(deadLetters, 2, Date.now() + round * 1_000);
    }
    expect((await api("GET", `/v1/queues/${deadLetters}/redrive`)).body).toMatchObject({ status: "completed", moved: 48, remaining: 0 });
    const each = await shares(source, 4);
    expect(each.reduce((sum, count) => sum + count, 0)).toBe(48);
    for (const count of each) expect(count).toBeGreaterThan(0);
    const back = await drain(source);
    expect(back.map((message) => message.id).sort()).toEqual([...ids].sort());
    // Home again: a redriven message names no source (REST leaves the field out).
    expect(back.filter((message) => message.sourceQueue !== undefined).map((message) => message.sourceQueue)).toEqual([]);
  });
});

describe("FIFO redrive into a partitioned queue", () => {
  it("puts each group redriven back to its partitioned FIFO source in its group's partition, in order", async () => {
    const deadLetters = await partitionedQueue(2, { fifo: true }, `${uniqueName("dlq")}.fifo`);
    const source = await partitionedQueue(4, { fifo: true, deadLetter: { queue: deadLetters, maxTimeToLive: TimeToLiveSeconds } }, `${uniqueName("src")}.fifo`);
    const groups = Array.from({ length: 6 }, (_, index) => `group-${index}`);
    for (let round = 0; round < 4; round++) {
      await sendBatch(source, groups.map((groupId) => ({ body: `${groupId}:${round}`, groupId, deduplicationId: `${groupId}-${round}` })));
    }
    await runDue(source, 4, expiredAt());
    expect(await countsOf(deadLetters)).toMatchObject({ total: 24 });

    expectStatus(await api("POST", `/v1/queues/${deadLetters}/redrive`, {}), 202);
    for (let round = 0; round < 5 && (await api("GET", `/v1/queues/${deadLetters}/redrive`)).body.status === "running"; round++) {
      await runDue(deadLetters, 2, Date.now() + round * 1_000);
    }
    expect((await api("GET", `/v1/queues/${deadLetters}/redrive`)).body).toMatchObject({ status: "completed", moved: 24 });
    const back = await drain(source);
    expect(back).toHaveLength(24);
    for (const groupId of groups) {
      const own = back.filter((message) => message.groupId === groupId);
      expect(own.map((message) => message.body)).toEqual([0, 1, 2, 3].map((round) => `${groupId}:${round}`));
      expect(new Set(own.map((message) => partitionOfHandle(message.receiptHandle)))).toEqual(new Set([partitionOfGroup(groupId, 4)]));
    }
  });
});

describe("topic deliveries to a partitioned queue", () => {
  it("spread over an 8-partition queue, each message stored once", async () => {
    const queue = await partitionedQueue(8);
    const topic = await createTopic();
    await topics.subscribe(topic, "wide", { protocol: "queue", endpoint: queue });
    const ids: string[] = [];
    for (let from = 0; from < 96; from += 16) {
      ids.push(...(await topics.publish(topic, Array.from({ length: 16 }, (_, index) => ({ body: `p${from + index}` })))));
    }
    await drained(topic);

    const each = await shares(queue, 8);
    expect(each.reduce((sum, count) => sum + count, 0)).toBe(96);
    for (const count of each) expect(count).toBeGreaterThan(0);
    expect((await drain(queue)).map((message) => message.id).sort()).toEqual([...ids].sort());
    expect((await topics.getSubscription(topic, "wide")).stats).toMatchObject({ delivered: 96, failed: 0, pending: 0 });
  });

  it("keeps each group's order in a partitioned FIFO queue, each group in its partition", async () => {
    const queue = await partitionedQueue(4, { fifo: true }, `${uniqueName("sub")}.fifo`);
    const topic = await createTopic();
    await topics.subscribe(topic, "ordered", { protocol: "queue", endpoint: queue });
    const groups = Array.from({ length: 6 }, (_, index) => `g${index}`);
    for (let round = 0; round < 4; round++) {
      await topics.publish(topic, groups.map((groupId) => ({ body: `${groupId}:${round}`, groupId, deduplicationId: `${groupId}-${round}` })));
      await drained(topic);
    }
    const received = await drain(queue);
    expect(received).toHaveLength(24);
    for (const groupId of groups) {
      const own = received.filter((message) => message.groupId === groupId);
      expect(own.map((message) => message.body)).toEqual([0, 1, 2, 3].map((round) => `${groupId}:${round}`));
      expect(new Set(own.map((message) => partitionOfHandle(message.receiptHandle)))).toEqual(new Set([partitionOfGroup(groupId, 4)]));
    }
  });
});

describe("a hand-over retried after its target's count changed", () => {
  it("stores each dead letter once when the first attempt's answer was lost and the target was raised before the retry", async () => {
    const deadLetters = await partitionedQueue(2);
    const source = await partitionedQueue(1, { deadLetter: { queue: deadLetters, maxTimeToLive: TimeToLiveSeconds } });
    const ids = await sendMany(source, 32);
    const dueAt = expiredAt();

    // The first attempt, as the object makes it, whose answer never comes back: the rows stay moving.
    const firstChoices = await runInDurableObject(partition(source, 0), async (object: QueueObject) => {
      const moves = object.engine.moves;
      const [batch] = object.engine.takeDueMoves(dueAt);
      const outcomes = await handOverToQueue(env, Prefix, deadLetters, {
        items: () => moves.moveItems(batch!),
        record: (seqs, chosen) => moves.recordMovePartition(seqs, chosen),
        nowMs: () => dueAt,
      });
      expect(outcomes.every((outcome) => outcome.error === null)).toBe(true);
      return moves.moveItems(batch!);
    });
    expect(firstChoices).toHaveLength(32);
    expect(await countsOf(deadLetters)).toMatchObject({ total: 32 });

    await patchPartitions(deadLetters, 8);
    // Chosen afresh under 8 partitions, some messages would land elsewhere and be stored twice.
    const moved = firstChoices.filter((item) => handOverPartition(item.message, { partitions: 8, fifo: false }) !== item.partition);
    expect(moved.length).toBeGreaterThan(0);

    // The retry goes where the first attempt went, and the target's idempotency keys store nothing again.
    await runDue(source, 1, dueAt + MoveRetryDelayMs);
    expect(await countsOf(source)).toMatchObject({ total: 0 });
    expect(await countsOf(deadLetters)).toMatchObject({ total: 32 });
    const dead = await drain(deadLetters);
    expect(dead.map((message) => message.id).sort()).toEqual([...ids].sort());
  });

  it("stores each dead letter once when the source is cut off during its hand-over and the target raised before the retry", async () => {
    for (const afterMs of [0, 2, 5, 20]) {
      const deadLetters = await partitionedQueue(2);
      const source = await partitionedQueue(1, { deadLetter: { queue: deadLetters, maxTimeToLive: TimeToLiveSeconds } });
      const ids = await sendMany(source, 24);
      const dueAt = expiredAt();
      // The hand-over runs, and every object is cut off wherever it is: before, during or after the target stored.
      const running = runInDurableObject(partition(source, 0), async (object: QueueObject) => {
        void object.runDue(dueAt).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, afterMs));
      await abortAllDurableObjects();
      await running;

      await patchPartitions(deadLetters, 8);
      await runDue(source, 1, dueAt + MoveRetryDelayMs);
      expect(await countsOf(source), `cut off after ${afterMs} ms`).toMatchObject({ total: 0 });
      expect(await countsOf(deadLetters), `cut off after ${afterMs} ms`).toMatchObject({ total: 24 });
      expect((await drain(deadLetters)).map((message) => message.id).sort()).toEqual([...ids].sort());
    }
  });

  it("stores each topic delivery once when the first attempt's answer was lost and the queue was raised before the retry", async () => {
    const queue = uniqueName("late");
    expectStatus(await api("PUT", `/v1/queues/${queue}`, {}), 201);
    const topic = await createTopic();
    await topics.subscribe(topic, "late", { protocol: "queue", endpoint: queue });
    // The queue goes away, so the deliveries fail and wait for their retry; it comes back partitioned.
    expectStatus(await api("DELETE", `/v1/queues/${queue}`), 204);
    const ids = await topics.publish(topic, Array.from({ length: 16 }, (_, index) => ({ body: `late ${index}` })));
    await attempted(topic);
    expect((await outboxRows(topic)).every((row) => row.target_partition === null)).toBe(true);
    expectStatus(await api("PUT", `/v1/queues/${queue}`, { partitions: 2 }), 201);
    partitionCounts.forget(Prefix, queue);

    const retryAt = Date.now() + 3_600_000;
    await inTopic(topic, async (object, state) => {
      const meta = object.engine.meta!;
      const sub = [...object.engine.subscriptions.values()][0]!;
      const rows = object.engine.takeDue(retryAt).value;
      expect(rows).toHaveLength(16);
      const outcomes = await deliverToQueue(env, state.storage, meta, sub, rows, { nowMs: () => retryAt }, () => true);
      expect(outcomes.every((outcome) => outcome.error === null)).toBe(true);
      // Its answer lost: the rows stay leased, with the partitions chosen kept.
    });
    const kept = await outboxRows(topic);
    expect(kept.every((row) => row.target_partition === 0 || row.target_partition === 1)).toBe(true);
    expect(await countsOf(queue)).toMatchObject({ total: 16 });

    await patchPartitions(queue, 8);
    await inTopic(topic, async (object) => {
      // As at a restart: the leases of the attempt that never answered are released, and the round runs again.
      object.engine.releaseLeases();
      await object.runDue(retryAt);
    });
    expect(await outboxRows(topic)).toEqual([]);
    expect(await countsOf(queue)).toMatchObject({ total: 16 });
    expect((await drain(queue)).map((message) => message.id).sort()).toEqual([...ids].sort());
  });

  it("chooses again among the remaining partitions when the one first chosen was removed by a lowering", async () => {
    const deadLetters = await partitionedQueue(4);
    const source = await partitionedQueue(1, { deadLetter: { queue: deadLetters, maxTimeToLive: TimeToLiveSeconds } });
    const ids = await sendMany(source, 12);
    const dueAt = expiredAt();
    // A first attempt chose partition 3 and failed before the target stored anything (it was unreachable).
    await runInDurableObject(partition(source, 0), (object: QueueObject) => {
      const [batch] = object.engine.takeDueMoves(dueAt);
      object.engine.moves.recordMovePartition(batch!.seqs, 3);
      object.engine.moves.moveFailed(batch!, dueAt);
    });
    await patchPartitions(deadLetters, 2);

    await runDue(source, 1, dueAt + MoveRetryDelayMs);
    expect(await countsOf(source)).toMatchObject({ total: 0 });
    expect(await shares(deadLetters, 2).then((each) => each.reduce((sum, count) => sum + count, 0))).toBe(12);
    const dead = await drain(deadLetters);
    expect(dead.map((message) => message.id).sort()).toEqual([...ids].sort());
    expect(dead.every((message) => partitionOfHandle(message.receiptHandle) < 2)).toBe(true);
  });

  it("retries only the part of a batch whose partition failed", async () => {
    const deadLetters = await partitionedQueue(2);
    const source = await partitionedQueue(1, { deadLetter: { queue: deadLetters, maxTimeToLive: TimeToLiveSeconds } });
    const ids = await sendMany(source, 32);
    const dueAt = expiredAt();
    // Partition 1 goes away while the home object still counts it: every call to it fails.
    const attributes = (await api("GET", `/v1/queues/${deadLetters}`)).body;
    expect(await partition(deadLetters, 1).destroy()).toMatchObject({ ok: true });

    await runDue(source, 1, dueAt);
    const stored = (await countsOf(deadLetters)).total;
    const waiting = await runInDurableObject(partition(source, 0), (_object: QueueObject, state) =>
      state.storage.sql.exec<{ move_partition: number; n: number }>("SELECT move_partition, COUNT(*) AS n FROM messages WHERE state = 3 GROUP BY move_partition").toArray(),
    );
    // The part for partition 0 is stored and gone from the source; the rest wait for their retry, still bound for partition 1.
    expect(stored).toBeGreaterThan(0);
    expect(waiting).toEqual([{ move_partition: 1, n: 32 - stored }]);

    const { name: _name, createdAt: _created, modifiedAt: _modified, counts: _counts, oldestMessageAt: _oldest, ...kept } = attributes;
    expect(await partition(deadLetters, 1).syncPartition(deadLetters, Prefix, kept, 1)).toMatchObject({ ok: true });
    await runDue(source, 1, dueAt + MoveRetryDelayMs);
    expect(await countsOf(deadLetters)).toMatchObject({ total: 32 });
    expect(await shares(deadLetters, 2)).toEqual([stored, 32 - stored]);
    expect((await drain(deadLetters)).map((message) => message.id).sort()).toEqual([...ids].sort());
  });
});

describe("hand-overs under way when partitioned targets arrived", () => {
  it("sends the moves an earlier release had started to the destination's own object, where their first attempts went", async () => {
    const deadLetters = await partitionedQueue(1);
    const source = await partitionedQueue(1, { deadLetter: { queue: deadLetters, maxTimeToLive: TimeToLiveSeconds } });
    await sendMany(source, 3);
    const rows = await runInDurableObject(partition(source, 0), (object: QueueObject, state) => {
      const sql = state.storage.sql;
      object.engine.takeDueMoves(expiredAt());
      // The row still in the queue was not moving: it chooses a partition at its first attempt.
      sql.exec("UPDATE messages SET state = 0, move_kind = NULL, move_to = NULL, move_key = NULL WHERE seq = (SELECT MAX(seq) FROM messages)");
      sql.exec("ALTER TABLE messages DROP COLUMN move_partition");
      migrateSchema(sql);
      migrateSchema(sql);
      return sql.exec<{ state: number; move_partition: number | null }>("SELECT state, move_partition FROM messages ORDER BY seq").toArray();
    });
    expect(rows).toEqual([
      { state: 3, move_partition: 0 },
      { state: 3, move_partition: 0 },
      { state: 0, move_partition: null },
    ]);
  });

  it("sends the topic deliveries an earlier release had attempted to the queue's own object", async () => {
    const queue = uniqueName("old");
    expectStatus(await api("PUT", `/v1/queues/${queue}`, {}), 201);
    const topic = await createTopic();
    await topics.subscribe(topic, "old", { protocol: "queue", endpoint: queue });
    await topics.publish(topic, [{ body: "one" }, { body: "two" }, { body: "three" }]);
    await drained(topic);
    const rows = await inTopic(topic, (_object, state) => {
      const sql = state.storage.sql;
      sql.exec("ALTER TABLE outbox DROP COLUMN target_partition");
      // Attempted and failed, attempted by an instance that died (leased), never attempted.
      sql.exec("INSERT INTO outbox (message_seq, subscription_id, attempts, next_attempt_at, leased) VALUES (1, 1, 2, 0, 0), (2, 1, 0, 0, 1), (3, 1, 0, 0, 0)");
      migrateTopic(sql);
      migrateTopic(sql);
      const kept = sql.exec<{ message_seq: number; target_partition: number | null }>("SELECT message_seq, target_partition FROM outbox ORDER BY message_seq").toArray();
      sql.exec("DELETE FROM outbox");
      return kept;
    });
    expect(rows).toEqual([
      { message_seq: 1, target_partition: 0 },
      { message_seq: 2, target_partition: 0 },
      { message_seq: 3, target_partition: null },
    ]);
  });
});
