import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import {
  counts,
  countsAt,
  createQueue,
  deadLetters,
  enqueuedAtOf,
  expectOk,
  inQueue,
  peekAll,
  queueStub,
  receiveOne,
  runDueAt,
  sendBodies,
  uniqueName,
  type QueueStub,
} from "./support";

/** A source queue whose messages move to a fresh dead-letter queue after `maxReceiveCount` receives. */
async function withDeadLetterQueue(maxReceiveCount: number) {
  const dlq = await createQueue({}, uniqueName("dlq"));
  const source = await createQueue({ visibilityTimeout: 30, deadLetter: { queue: dlq.name, maxReceiveCount } });
  return { dlq, source };
}

/** Receives the queue's only message `times` times, each after the previous visibility ended; returns the last. */
async function receiveTimes(stub: QueueStub, times: number) {
  let message = await receiveOne(stub);
  for (let i = 1; i < times; i++) {
    const at = message.nextVisibleAt;
    const [next] = await inQueue(stub, (o) => o.engine.claim(1, undefined, at).value);
    message = next!;
  }
  return message;
}

describe("dead-letter moves by receive count", () => {
  it("moves a message received maxReceiveCount times to the dead-letter queue once its visibility ends", async () => {
    const { dlq, source } = await withDeadLetterQueue(2);
    const [id] = await sendBodies(source.stub, "poison");
    const last = await receiveTimes(source.stub, 2);

    await runDueAt(source.stub, last.nextVisibleAt);

    const moved = await peekAll(dlq.stub);
    expect(moved).toHaveLength(1);
    expect(moved[0]).toMatchObject({ id, body: "poison", sourceQueue: source.name, state: "active", receiveCount: 0 });
    expect(await peekAll(source.stub)).toEqual([]);
    expect(await countsAt(source.stub, last.nextVisibleAt)).toMatchObject({ total: 0 });
  });

  it("does not move a message before its last visibility timeout ends", async () => {
    const { dlq, source } = await withDeadLetterQueue(2);
    await sendBodies(source.stub, "poison");
    const last = await receiveTimes(source.stub, 2);

    await runDueAt(source.stub, last.nextVisibleAt - 1);

    expect(await peekAll(dlq.stub)).toEqual([]);
    expect(await counts(source.stub)).toMatchObject({ inactive: 1, total: 1 });
  });

  it("does not move a message received fewer than maxReceiveCount times", async () => {
    const { dlq, source } = await withDeadLetterQueue(3);
    await sendBodies(source.stub, "m");
    const last = await receiveTimes(source.stub, 2);

    await runDueAt(source.stub, last.nextVisibleAt);

    expect(await peekAll(dlq.stub)).toEqual([]);
    expect((await peekAll(source.stub))[0]).toMatchObject({ receiveCount: 2 });
  });

  it("does not hand a message that reached maxReceiveCount to receivers", async () => {
    const { source } = await withDeadLetterQueue(2);
    await sendBodies(source.stub, "poison");
    const last = await receiveTimes(source.stub, 2);

    const offered = await inQueue(source.stub, (o) => ({
      claimed: o.engine.claim(1, undefined, last.nextVisibleAt).value,
      claimable: o.engine.hasClaimable(last.nextVisibleAt),
    }));

    expect(offered).toEqual({ claimed: [], claimable: false });
  });

  it("arms the alarm for the move at once when a message at maxReceiveCount is made visible again", async () => {
    const { source } = await withDeadLetterQueue(1);
    await sendBodies(source.stub, "nacked");
    const message = await receiveOne(source.stub, 3_600);

    // Called inside the object, so the alarm cannot fire between the change and the read.
    const { changed, alarm } = await inQueue(source.stub, async (o, state) => ({
      changed: await o.changeVisibility(message.receiptHandle, 0),
      alarm: await state.storage.getAlarm(),
    }));

    expect(changed.ok).toBe(true);
    expect(alarm).toBeLessThanOrEqual(Date.now());
  });

  it("does not move a message that was deleted", async () => {
    const { dlq, source } = await withDeadLetterQueue(1);
    await sendBodies(source.stub, "done");
    const message = await receiveOne(source.stub);
    expectOk(await source.stub.deleteMessages([message.receiptHandle]));

    await runDueAt(source.stub, message.nextVisibleAt);

    expect(await peekAll(dlq.stub)).toEqual([]);
  });

  it("moves a message once when the due work runs twice", async () => {
    const { dlq, source } = await withDeadLetterQueue(1);
    await sendBodies(source.stub, "poison");
    const message = await receiveOne(source.stub);

    await runDueAt(source.stub, message.nextVisibleAt);
    await runDueAt(source.stub, message.nextVisibleAt + 1_000);

    expect(await peekAll(dlq.stub)).toHaveLength(1);
    expect(await peekAll(source.stub)).toEqual([]);
  });

  it("moves a message once when two runs of the due work overlap", async () => {
    const { dlq, source } = await withDeadLetterQueue(1);
    await sendBodies(source.stub, "poison");
    const message = await receiveOne(source.stub);

    await inQueue(source.stub, (o) =>
      Promise.all([o.runDue(message.nextVisibleAt), o.runDue(message.nextVisibleAt)]),
    );

    expect(await peekAll(dlq.stub)).toHaveLength(1);
    expect(await peekAll(source.stub)).toEqual([]);
  });

  it("moves a message once when the source restarts after the hand-over but before recording it", async () => {
    const { dlq, source } = await withDeadLetterQueue(1);
    await sendBodies(source.stub, "poison");
    const message = await receiveOne(source.stub);
    const at = message.nextVisibleAt;
    // The hand-over reaches the dead-letter queue, then the source crashes before it notes the success.
    const messages = await inQueue(source.stub, (o) => o.engine.moveMessages(o.engine.takeDueMoves(at)[0]!));
    expectOk(await dlq.stub.accept(messages));
    await abortAllDurableObjects();

    await runDueAt(queueStub(source.name), at);

    expect(await peekAll(queueStub(dlq.name))).toHaveLength(1);
    expect(await peekAll(queueStub(source.name))).toEqual([]);
  });

  it("moves a message once when the due work is re-run after a restart", async () => {
    const { dlq, source } = await withDeadLetterQueue(1);
    await sendBodies(source.stub, "poison");
    const message = await receiveOne(source.stub);
    await runDueAt(source.stub, message.nextVisibleAt);

    await abortAllDurableObjects();
    await runDueAt(queueStub(source.name), message.nextVisibleAt + 60_000);

    expect(await peekAll(queueStub(dlq.name))).toHaveLength(1);
    expect(await peekAll(queueStub(source.name))).toEqual([]);
  });

  it("keeps a message and retries the move later while the dead-letter queue does not exist", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const dlqName = uniqueName("dlq");
    const source = await createQueue({ visibilityTimeout: 30, deadLetter: { queue: dlqName, maxReceiveCount: 1 } });
    const [id] = await sendBodies(source.stub, "poison");
    const message = await receiveOne(source.stub);
    const at = message.nextVisibleAt;

    await runDueAt(source.stub, at);
    const waiting = await peekAll(source.stub);
    const dlq = await createQueue({}, dlqName);
    await runDueAt(source.stub, at + 29_000);
    const beforeRetry = await peekAll(dlq.stub);
    await runDueAt(source.stub, at + 30_000);

    expect(waiting.map((m) => [m.id, m.state])).toEqual([[id, "inactive"]]);
    expect(beforeRetry).toEqual([]);
    expect((await peekAll(dlq.stub)).map((m) => [m.id, m.sourceQueue])).toEqual([[id, source.name]]);
    expect(await peekAll(source.stub)).toEqual([]);
    // The failed attempt is reported once, as a retry.
    expect(warn.mock.calls).toEqual([[expect.stringMatching(new RegExp(`^dead-letter move to ${dlqName} failed, retrying: .*QueueNotFound`))]]);
    warn.mockRestore();
  });
});

describe("accepting transferred messages", () => {
  it("stores a transferred message once per idempotency key", async () => {
    const { stub } = await createQueue();
    const [message] = deadLetters("origin", "once");

    const first = expectOk(await stub.accept([message!]));
    const again = expectOk(await stub.accept([message!, { ...message!, idempotencyKey: "other-key" }]));

    expect(first).toEqual({ stored: 1 });
    expect(again).toEqual({ stored: 1 });
    expect((await peekAll(stub)).map((m) => [m.id, m.sourceQueue])).toEqual([
      [message!.id, "origin"],
      [message!.id, "origin"],
    ]);
  });

  it("remembers idempotency keys across a restart", async () => {
    const { name, stub } = await createQueue();
    const messages = deadLetters("origin", "a", "b");
    expectOk(await stub.accept(messages));

    await abortAllDurableObjects();
    const again = expectOk(await queueStub(name).accept(messages));

    expect(again).toEqual({ stored: 0 });
    expect(await counts(queueStub(name))).toMatchObject({ total: 2 });
  });
});

describe("dead-letter moves by time to live", () => {
  async function withTtl() {
    const dlq = await createQueue({}, uniqueName("dlq"));
    const source = await createQueue({ deadLetter: { queue: dlq.name, maxTimeToLive: 300 } });
    return { dlq, source };
  }

  it("moves a message not deleted maxTimeToLive seconds after it was enqueued", async () => {
    const { dlq, source } = await withTtl();
    const [id] = await sendBodies(source.stub, "stale");
    const enqueuedAt = await enqueuedAtOf(source.stub);

    await runDueAt(source.stub, enqueuedAt + 300_000 - 1);
    const before = await peekAll(dlq.stub);
    await runDueAt(source.stub, enqueuedAt + 300_000);

    expect(before).toEqual([]);
    expect((await peekAll(dlq.stub)).map((m) => [m.id, m.sourceQueue])).toEqual([[id, source.name]]);
    expect(await peekAll(source.stub)).toEqual([]);
  });

  it("waits until a message past its time to live is visible before moving it", async () => {
    const { dlq, source } = await withTtl();
    await sendBodies(source.stub, "in flight");
    const message = await receiveOne(source.stub, 600);

    await runDueAt(source.stub, message.enqueuedAt + 300_000);
    const whileInFlight = await peekAll(dlq.stub);
    await runDueAt(source.stub, message.nextVisibleAt);

    expect(whileInFlight).toEqual([]);
    expect(await peekAll(dlq.stub)).toHaveLength(1);
  });

  it("does not hand a message past its time to live to receivers", async () => {
    const { source } = await withTtl();
    await sendBodies(source.stub, "stale");
    const enqueuedAt = await enqueuedAtOf(source.stub);

    const claimed = await inQueue(source.stub, (o) => o.engine.claim(1, undefined, enqueuedAt + 300_000).value);

    expect(claimed).toEqual([]);
  });
});
