import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { partitionCounts } from "../../src/objects/partition-counts";
import { handOverToQueue } from "../../src/objects/partition-hand-over";
import { MoveRetryDelayMs } from "../../src/objects/queue/moves";
import { SettleCheckIntervalMs } from "../../src/objects/queue/partition-epoch";
import { FifoLimits } from "../../src/schema/queue";
import { systemClock } from "../../src/clock";
import { QueueObject } from "../../src/objects/queue-object";
import { PartitionedLivePort } from "../../src/objects/queue/live-partitions";
import { partitionOfGroup } from "../../src/schema/partitions";
import { expectStatus } from "../api/helpers";
import { api, uniqueName } from "../support/http";
import { createTopic, drained, topics } from "../support/topics";
import { openLive } from "../live/support";
import { deleteHandles, drain, partition, partitionedQueue, partitionOfHandle, Prefix, receive, sendBatch } from "./support";

/** Seconds after which the dead-letter policies below move a message, received or not. */
const TimeToLiveSeconds = 300;
/** A moment by which every message sent now is past `TimeToLiveSeconds`. */
const expiredAt = () => Date.now() + TimeToLiveSeconds * 1000 + 1_000;

/** A group that lives in partition 0 under one partition and in partition 3 under four. */
const groupId = (() => {
  for (let index = 0; ; index++) if (partitionOfGroup(`moved-${index}`, 4) === 3) return `moved-${index}`;
})();

function message(body: string) {
  return { body, groupId, deduplicationId: body };
}

/** Messages each of the queue's four partitions holds, in any state. */
async function totals(name: string): Promise<number[]> {
  return Promise.all(
    [0, 1, 2, 3].map(async (index) => {
      const info = await partition(name, index).getInfo();
      return info.ok ? info.value.counts.total : -1;
    }),
  );
}

/**
 * A FIFO queue raised from one partition to four while `groupId` has a message (`head`) in
 * partition 0: the group settles there until it drains, then belongs to partition 3.
 */
async function settlingQueue(): Promise<string> {
  const name = await partitionedQueue(1, { fifo: true }, `${uniqueName("settle")}.fifo`);
  await sendBatch(name, [message("head")]);
  const raised = await api("PATCH", `/v1/queues/${name}`, { partitions: 4 });
  expectStatus(raised, 200);
  expect(await runInDurableObject(partition(name, 0), (object: QueueObject) => object.routing.view())).toEqual({ epoch: 1, settling: [1] });
  return name;
}

/** Bodies received, in order, with the partition each came from. */
async function drainPlaced(name: string): Promise<Array<[string, number]>> {
  return (await drain(name)).map((received) => [received.body, partitionOfHandle(received.receiptHandle)]);
}

/** A FIFO source whose dead letters (by age) go to `deadLetters`. */
async function deadLetterSource(deadLetters: string): Promise<string> {
  return partitionedQueue(1, { fifo: true, deadLetter: { queue: deadLetters, maxTimeToLive: TimeToLiveSeconds } }, `${uniqueName("src")}.fifo`);
}

async function expireInto(source: string, bodies: string[], dueAt = expiredAt()): Promise<void> {
  await sendBatch(source, bodies.map(message));
  await runInDurableObject(partition(source, 0), (object: QueueObject) => object.runDue(dueAt));
}

describe("every way into a FIFO queue whose partition count settles follows the sends' routing", () => {
  it("puts a live socket's send frame of a settling group in its old partition, in order, and in its new one once it drained", async () => {
    const name = await settlingQueue();
    const live = await openLive(`/v1/queues/${name}/live`);

    const answers = await Promise.all(["b", "c"].map((body) => live.call({ type: "send", id: body, messages: [message(body)] })));
    for (const answer of answers) expect(answer).toMatchObject({ type: "sent", ids: [expect.any(String)] });
    expect(await totals(name)).toEqual([3, 0, 0, 0]);
    expect(await drainPlaced(name)).toEqual([
      ["head", 0],
      ["b", 0],
      ["c", 0],
    ]);

    expect(await live.call({ type: "send", id: "d", messages: [message("d")] })).toMatchObject({ type: "sent", ids: [expect.any(String)] });
    expect(await totals(name)).toEqual([0, 0, 0, 1]);
    expect(await drainPlaced(name)).toEqual([["d", 3]]);
    live.close();
  });

  it("keeps a frame whose groups differ answered on its own, each group where it lives", async () => {
    const name = await settlingQueue();
    const other = (() => {
      for (let index = 0; ; index++) if (partitionOfGroup(`other-${index}`, 4) === 2) return `other-${index}`;
    })();
    const live = await openLive(`/v1/queues/${name}/live`);

    const [mixed, bad] = await Promise.all([
      live.call({ type: "send", id: "mixed", messages: [message("b"), { body: "o1", groupId: other, deduplicationId: "o1" }] }),
      live.call({ type: "send", id: "bad", messages: [{ ...message("big"), body: "x".repeat(70_000) }] }),
    ]);
    expect(mixed).toMatchObject({ type: "sent", id: "mixed", ids: [expect.any(String), expect.any(String)] });
    expect(bad).toMatchObject({ type: "error", id: "bad", error: { code: "MessageTooLarge" } });
    expect(await totals(name)).toEqual([2, 0, 1, 0]);
    live.close();
  });

  it("stores frames of different groups bound for one partition in one call to it, and a group's frames in order", async () => {
    const name = await partitionedQueue(4, { fifo: true }, `${uniqueName("gather")}.fifo`);
    // RPC calls the class's own method: wrapped for the test, it counts the calls partition 2 takes.
    const batches: number[] = [];
    const sendRoutedEach = QueueObject.prototype.sendRoutedEach;
    QueueObject.prototype.sendRoutedEach = function (this: QueueObject, ...args) {
      if (this.partitions.partition === 2 && this.engine.meta?.name === name) batches.push(args[0].length);
      return sendRoutedEach.apply(this, args);
    };
    onTestFinished(() => {
      QueueObject.prototype.sendRoutedEach = sendRoutedEach;
    });
    const groups: string[] = [];
    for (let index = 0; groups.length < 6; index++) if (partitionOfGroup(`two-${index}`, 4) === 2) groups.push(`two-${index}`);
    const live = await openLive(`/v1/queues/${name}/live`);

    const frames = [...groups.map((group) => ({ group, body: `${group}:0` })), { group: groups[0]!, body: `${groups[0]}:1` }];
    const answers = await Promise.all(
      frames.map(({ group, body }) => live.call({ type: "send", id: body, messages: [{ body, groupId: group, deduplicationId: body }] })),
    );
    for (const answer of answers) expect(answer).toMatchObject({ type: "sent", ids: [expect.any(String)] });
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(7);
    expect(batches.length).toBeLessThan(7);
    const drained = await drain(name);
    expect(drained.every((received) => partitionOfHandle(received.receiptHandle) === 2)).toBe(true);
    expect(drained.filter((received) => received.groupId === groups[0]).map((received) => received.body)).toEqual([`${groups[0]}:0`, `${groups[0]}:1`]);
    live.close();
  });

  it("stores a group's frame only after the group's frame of an earlier turn is stored", async () => {
    const name = await partitionedQueue(4, { fifo: true }, `${uniqueName("turns")}.fifo`);
    const group = (() => {
      for (let index = 0; ; index++) if (partitionOfGroup(`turn-${index}`, 4) === 2) return `turn-${index}`;
    })();
    // Partition 2 holds its first call until the test lets it go, recording when each call starts and ends.
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const sendRoutedEach = QueueObject.prototype.sendRoutedEach;
    QueueObject.prototype.sendRoutedEach = async function (this: QueueObject, ...args) {
      if (this.partitions.partition !== 2 || this.engine.meta?.name !== name) return sendRoutedEach.apply(this, args);
      const bodies = args[0].flatMap((send) => send.messages.map((sent) => sent.body)).join();
      events.push(`start ${bodies}`);
      if (events.length === 1) await held;
      const answer = await sendRoutedEach.apply(this, args);
      events.push(`end ${bodies}`);
      return answer;
    };
    // The frames the home object has been handed, in order.
    const handed: string[] = [];
    const portSendEach = PartitionedLivePort.prototype.sendEach;
    PartitionedLivePort.prototype.sendEach = function (this: PartitionedLivePort, sends) {
      handed.push(...sends.flatMap((send) => send.messages.map((sent) => sent.body)));
      return portSendEach.call(this, sends);
    };
    onTestFinished(() => {
      QueueObject.prototype.sendRoutedEach = sendRoutedEach;
      PartitionedLivePort.prototype.sendEach = portSendEach;
    });
    const live = await openLive(`/v1/queues/${name}/live`);

    const first = live.call({ type: "send", id: "first", messages: [{ body: "first", groupId: group, deduplicationId: "first" }] });
    await vi.waitFor(() => expect(events).toEqual(["start first"]));
    const second = live.call({ type: "send", id: "second", messages: [{ body: "second", groupId: group, deduplicationId: "second" }] });
    await vi.waitFor(() => expect(handed).toEqual(["first", "second"]));
    // Routing the second frame takes only the home object's own turns and one call: were it not
    // held back, its call would show within this bound (it is not waited for otherwise).
    await vi.waitFor(() => expect(events.length).toBeGreaterThan(1), { timeout: 300, interval: 10 }).catch(() => undefined);
    expect(events).toEqual(["start first"]);
    release();

    expect(await first).toMatchObject({ type: "sent", id: "first" });
    expect(await second).toMatchObject({ type: "sent", id: "second" });
    expect(events).toEqual(["start first", "end first", "start second", "end second"]);
    expect((await drain(name)).map((received) => received.body)).toEqual(["first", "second"]);
    live.close();
  });

  it("puts a dead letter of a settling group in its old partition, in order, and in its new one once it drained", async () => {
    const deadLetters = await settlingQueue();
    const source = await deadLetterSource(deadLetters);

    await expireInto(source, ["x1", "x2"]);
    expect(await totals(deadLetters)).toEqual([3, 0, 0, 0]);
    expect(await drainPlaced(deadLetters)).toEqual([
      ["head", 0],
      ["x1", 0],
      ["x2", 0],
    ]);

    await expireInto(source, ["x3"]);
    expect(await totals(deadLetters)).toEqual([0, 0, 0, 1]);
    expect(await drainPlaced(deadLetters)).toEqual([["x3", 3]]);
  });

  it("puts a topic's delivery of a settling group in its old partition, in order, and in its new one once it drained", async () => {
    const queue = await settlingQueue();
    const topic = await createTopic();
    await topics.subscribe(topic, "settling", { protocol: "queue", endpoint: queue });

    await topics.publish(topic, [message("t1"), message("t2")]);
    await drained(topic);
    expect(await totals(queue)).toEqual([3, 0, 0, 0]);
    expect(await drainPlaced(queue)).toEqual([
      ["head", 0],
      ["t1", 0],
      ["t2", 0],
    ]);

    await topics.publish(topic, [message("t3")]);
    await drained(topic);
    expect(await totals(queue)).toEqual([0, 0, 0, 1]);
    expect(await drainPlaced(queue)).toEqual([["t3", 3]]);
    expect((await topics.getSubscription(topic, "settling")).stats).toMatchObject({ delivered: 3, failed: 0, pending: 0 });
  });

  it("puts a redriven message of a settling group in its old partition, in order, and in its new one once it drained", async () => {
    const deadLetters = await partitionedQueue(1, { fifo: true }, `${uniqueName("dlq")}.fifo`);
    const source = await deadLetterSource(deadLetters);
    await expireInto(source, ["r1", "r2"]);
    const target = await settlingQueue();

    const redrive = async () => {
      expectStatus(await api("POST", `/v1/queues/${deadLetters}/redrive`, { destination: target }), 202);
      for (let round = 0; round < 5 && (await api("GET", `/v1/queues/${deadLetters}/redrive`)).body.status === "running"; round++) {
        await runInDurableObject(partition(deadLetters, 0), (object: QueueObject) => object.runDue(Date.now() + round * 1_000));
      }
      expect((await api("GET", `/v1/queues/${deadLetters}/redrive`)).body).toMatchObject({ status: "completed", remaining: 0 });
    };
    await redrive();
    expect(await totals(target)).toEqual([3, 0, 0, 0]);
    expect(await drainPlaced(target)).toEqual([
      ["head", 0],
      ["r1", 0],
      ["r2", 0],
    ]);

    await expireInto(source, ["r3"]);
    await redrive();
    expect(await totals(target)).toEqual([0, 0, 0, 1]);
    expect(await drainPlaced(target)).toEqual([["r3", 3]]);
  });

  it("refuses a hand-over routed under a stale epoch, storing nothing, and routes it again", async () => {
    const deadLetters = await settlingQueue();
    const [head] = await receive(deadLetters);
    await deleteHandles(deadLetters, [head.receiptHandle]);
    const source = await deadLetterSource(deadLetters);
    // RPC calls the class's own method: wrapped for the test, it records what each partition answered.
    const answers: Array<[number, boolean]> = [];
    const acceptRouted = QueueObject.prototype.acceptRouted;
    QueueObject.prototype.acceptRouted = async function (this: QueueObject, ...args) {
      const answer = await acceptRouted.apply(this, args);
      if (this.engine.meta?.name === deadLetters && answer.ok) answers.push([this.partitions.partition, answer.value.stale]);
      return answer;
    };
    onTestFinished(() => {
      QueueObject.prototype.acceptRouted = acceptRouted;
    });

    // The source's isolate still trusts the count and epoch it saw before the raise.
    await runInDurableObject(partition(source, 0), () => {
      partitionCounts.remember(Prefix, deadLetters, { partitions: 1, fifo: true, routing: { epoch: 0, settling: [] } }, Date.now());
    });
    await expireInto(source, ["late"]);

    expect(answers[0]).toEqual([0, true]);
    expect(answers.slice(1)).toEqual([
      [0, false],
      [3, false],
    ]);
    expect(await totals(deadLetters)).toEqual([0, 0, 0, 1]);
    expect(await drainPlaced(deadLetters)).toEqual([["late", 3]]);
  });

  it("stores a retried dead letter once when its first attempt's answer was lost, even after its group left that partition", async () => {
    const deadLetters = await settlingQueue();
    const source = await deadLetterSource(deadLetters);
    await sendBatch(source, [message("lost")]);
    const dueAt = expiredAt();

    // The first attempt, as the object makes it, whose answer never comes back: the row stays moving.
    const recorded = await runInDurableObject(partition(source, 0), async (object: QueueObject) => {
      const moves = object.engine.moves;
      const [batch] = object.engine.takeDueMoves(dueAt);
      const outcomes = await handOverToQueue(env, Prefix, deadLetters, {
        items: () => moves.moveItems(batch!),
        record: (seqs, chosen) => moves.recordMovePartition(seqs, chosen),
        nowMs: () => dueAt,
      });
      expect(outcomes).toEqual([{ keys: batch!.seqs, error: null }]);
      return moves.moveItems(batch!).map((item) => item.partition);
    });
    expect(recorded).toEqual([0]);
    expect(await totals(deadLetters)).toEqual([2, 0, 0, 0]);
    // The group drains from partition 0: chosen afresh, the retry would go to partition 3.
    expect(await drainPlaced(deadLetters)).toEqual([
      ["head", 0],
      ["lost", 0],
    ]);

    await runInDurableObject(partition(source, 0), (object: QueueObject) => object.runDue(dueAt + MoveRetryDelayMs));
    expect(await runInDurableObject(partition(source, 0), (object: QueueObject) => object.engine.info(Date.now()).counts.total)).toBe(0);
    expect(await totals(deadLetters)).toEqual([0, 0, 0, 0]);
  });

  it("asks a retried dead letter's first partition again after a stale refusal there, and stores it once", async () => {
    const deadLetters = await partitionedQueue(1, { fifo: true }, `${uniqueName("dlq")}.fifo`);
    const source = await deadLetterSource(deadLetters);
    // Its partition under 4 is 3, and under 8 another.
    const group = (() => {
      for (let index = 0; ; index++) {
        const candidate = `again-${index}`;
        if (partitionOfGroup(candidate, 4) === 3 && partitionOfGroup(candidate, 8) !== 3) return candidate;
      }
    })();
    const settle = async (checks: number[]) => {
      for (const offsetMs of checks) {
        await runInDurableObject(partition(deadLetters, 0), async (object: QueueObject) => {
          object.clock = { nowMs: () => Date.now() + offsetMs };
          await object.runDue(Date.now() + offsetMs);
          object.clock = systemClock;
        });
      }
    };
    const window = FifoLimits.deduplicationWindowMs;
    expectStatus(await api("PATCH", `/v1/queues/${deadLetters}`, { partitions: 4 }), 200);
    await settle([SettleCheckIntervalMs, SettleCheckIntervalMs * 2 + window]);
    expect(await runInDurableObject(partition(deadLetters, 0), (object: QueueObject) => object.routing.view())).toEqual({ epoch: 1, settling: [] });

    // The first attempt stores the dead letter in partition 3; its answer is lost.
    await sendBatch(source, [{ body: "lost", groupId: group, deduplicationId: "lost" }]);
    const dueAt = expiredAt();
    await runInDurableObject(partition(source, 0), async (object: QueueObject) => {
      const moves = object.engine.moves;
      const [batch] = object.engine.takeDueMoves(dueAt);
      expect(await handOverToQueue(env, Prefix, deadLetters, {
        items: () => moves.moveItems(batch!),
        record: (seqs, chosen) => moves.recordMovePartition(seqs, chosen),
        nowMs: () => dueAt,
      })).toEqual([{ keys: batch!.seqs, error: null }]);
    });
    expect(await drainPlaced(deadLetters)).toEqual([["lost", 3]]);
    // Raised again and settled: no routing asks partition 3 about the group any more.
    expectStatus(await api("PATCH", `/v1/queues/${deadLetters}`, { partitions: 8 }), 200);
    await settle([SettleCheckIntervalMs * 3 + window, SettleCheckIntervalMs * 4 + window * 2]);
    expect(await runInDurableObject(partition(deadLetters, 0), (object: QueueObject) => object.routing.view())).toEqual({ epoch: 2, settling: [] });

    // The retry is first routed by the count and epoch of before: partition 3 refuses it as stale.
    await runInDurableObject(partition(source, 0), () => {
      partitionCounts.remember(Prefix, deadLetters, { partitions: 4, fifo: true, routing: { epoch: 1, settling: [] } }, Date.now());
    });
    await runInDurableObject(partition(source, 0), (object: QueueObject) => object.runDue(dueAt + MoveRetryDelayMs));
    expect(await runInDurableObject(partition(source, 0), (object: QueueObject) => object.engine.info(Date.now()).counts.total)).toBe(0);
    const held = await Promise.all(Array.from({ length: 8 }, async (_, index) => (await partition(deadLetters, index).getInfo()).ok));
    expect(held).toEqual(new Array(8).fill(true));
    expect((await drain(deadLetters)).map((received) => received.body)).toEqual([]);
  });
});
