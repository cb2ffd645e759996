import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  counts,
  countsAt,
  createQueue,
  enqueuedAtOf,
  expectOk,
  expectParked,
  inQueue,
  peekAll,
  queueStub,
  receive,
  receiveOne,
  runDueAt,
  sendBodies,
  uniqueName,
  type QueueStub,
} from "./support";

const alarmOf = (stub: QueueStub) => inQueue(stub, (_o, state) => state.storage.getAlarm());

describe("alarm", () => {
  it("is set to the first message's retention deadline after a send", async () => {
    const { stub } = await createQueue({ msgRetentionSeconds: 600 });

    await sendBodies(stub, "m");

    expect(await alarmOf(stub)).toBe((await enqueuedAtOf(stub)) + 600_000);
  });

  it("stays at the earliest deadline when later messages arrive", async () => {
    const { stub } = await createQueue({ msgRetentionSeconds: 600 });
    await sendBodies(stub, "first");
    const deadline = (await enqueuedAtOf(stub)) + 600_000;

    await sendBodies(stub, "second");

    expect(await alarmOf(stub)).toBe(deadline);
  });

  it("is set to the visibility deadline of a received message when a dead-letter policy applies", async () => {
    const dlq = await createQueue();
    const { stub } = await createQueue({ deadLetter: { queue: dlq.name, maxReceiveCount: 3 } });
    await sendBodies(stub, "m");

    const message = await receiveOne(stub, 20);

    expect(await alarmOf(stub)).toBe(message.nextVisibleAt);
  });

  it("is set to the moment a delayed message becomes visible while a receiver is parked", async () => {
    const { stub } = await createQueue();
    expectOk(await stub.send([{ body: "later", delaySeconds: 600 }]));
    const [delayed] = await peekAll(stub);

    const pending = receive(stub, { waitSeconds: 20 });
    await expectParked(stub, 1);
    const alarm = await alarmOf(stub);
    await sendBodies(stub, "release");

    expect(alarm).toBe(delayed!.nextVisibleAt);
    expect((await pending).map((m) => m.body)).toEqual(["release"]);
  });

  it("is set to the first message's time-to-live end after a send when the queue dead-letters by age", async () => {
    const dlq = await createQueue();
    const { stub } = await createQueue({ msgRetentionSeconds: 3_600, deadLetter: { queue: dlq.name, maxTimeToLive: 300 } });

    await sendBodies(stub, "m");

    expect(await alarmOf(stub)).toBe((await enqueuedAtOf(stub)) + 300_000);
  });

  it("is set to the retention end of a message handed over by a topic or another queue", async () => {
    const { stub } = await createQueue({ msgRetentionSeconds: 600 });

    expectOk(await stub.accept([{ idempotencyKey: "k1", id: crypto.randomUUID(), body: "m", tags: [], sourceQueue: null }]));

    expect(await alarmOf(stub)).toBe((await enqueuedAtOf(stub)) + 600_000);
  });

  it("runs once and is not re-armed when nothing is left to do", async () => {
    const { stub } = await createQueue();
    await sendBodies(stub, "m");
    const message = await receiveOne(stub);
    expectOk(await stub.deleteMessages([message.receiptHandle]));

    const first = await runDurableObjectAlarm(stub);
    const second = await runDurableObjectAlarm(stub);

    expect(first).toBe(true);
    expect(second).toBe(false);
    expect(await alarmOf(stub)).toBeNull();
  });

  it("re-arms itself for the retention deadline when it runs before anything is due", async () => {
    const { stub } = await createQueue({ msgRetentionSeconds: 600 });
    await sendBodies(stub, "m");

    const ran = await runDurableObjectAlarm(stub);

    expect(ran).toBe(true);
    expect(await alarmOf(stub)).toBe((await enqueuedAtOf(stub)) + 600_000);
    expect(await counts(stub)).toMatchObject({ total: 1 });
  });

  it("does nothing and stays unarmed on a queue that does not exist", async () => {
    const missing = queueStub(uniqueName("missing"));

    await inQueue(missing, (o) => o.runDue(Date.now() + 1_000_000));

    expect(await alarmOf(missing)).toBeNull();
    expect(await runDurableObjectAlarm(missing)).toBe(false);
  });
});

describe("retention", () => {
  it("removes messages in every state once msgRetentionSeconds have passed", async () => {
    const { stub } = await createQueue({ msgRetentionSeconds: 600 });
    expectOk(await stub.send([{ body: "active" }, { body: "received" }, { body: "delayed", delaySeconds: 300 }]));
    await receiveOne(stub, 900);
    const deadline = (await enqueuedAtOf(stub)) + 600_000;

    await runDueAt(stub, deadline - 1);
    const before = await countsAt(stub, deadline - 1);
    await runDueAt(stub, deadline);
    const after = await countsAt(stub, deadline);

    expect(before).toMatchObject({ total: 3 });
    expect(after).toMatchObject({ active: 0, inactive: 0, delayed: 0, total: 0 });
    expect(await peekAll(stub)).toEqual([]);
  });

  it("frees room under maxMsgHeapNum when messages expire", async () => {
    const { stub } = await createQueue({ msgRetentionSeconds: 600, maxMsgHeapNum: 1 });
    await sendBodies(stub, "old");
    await runDueAt(stub, (await enqueuedAtOf(stub)) + 600_000);

    const sent = await stub.send([{ body: "new" }]);

    expect(sent.ok).toBe(true);
  });

  it("drops deleted messages kept for rewind once rewindSeconds have passed", async () => {
    const { stub } = await createQueue({ rewindSeconds: 120 });
    await sendBodies(stub, "m");
    const message = await receiveOne(stub);
    expectOk(await stub.deleteMessages([message.receiptHandle]));
    const expiry = message.enqueuedAt + 120_000;

    await runDueAt(stub, expiry - 1);
    const before = await countsAt(stub, expiry - 1);
    await runDueAt(stub, expiry);
    const after = await countsAt(stub, expiry);

    expect(before).toMatchObject({ total: 0, rewindable: 1 });
    expect(after).toMatchObject({ total: 0, rewindable: 0 });
  });

  it("arms the alarm for the rewind expiry of a deleted message", async () => {
    const { stub } = await createQueue({ rewindSeconds: 120 });
    await sendBodies(stub, "m");
    const message = await receiveOne(stub);

    expectOk(await stub.deleteMessages([message.receiptHandle]));

    expect(await alarmOf(stub)).toBe(message.enqueuedAt + 120_000);
  });
});
