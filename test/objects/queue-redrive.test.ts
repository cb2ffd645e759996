import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors";
import type { RedriveRequest } from "../../src/objects/queue/redrive";
import {
  createQueue,
  deadLetters,
  expectError,
  expectOk,
  inQueue,
  peekAll,
  runDueAt,
  uniqueName,
  type QueueStub,
} from "./support";

/**
 * Redrive steps run at `T0 + n s`, an hour ahead of the clock: the alarm each step arms lies that
 * far ahead too, so no real alarm takes a step while a test is counting them.
 */
const T0 = () => Date.now() + 3_600_000;

/** A source queue and its dead-letter queue holding `count` dead letters from it. */
async function deadLetterQueueWith(count: number) {
  const source = await createQueue({}, uniqueName("src"));
  const dlq = await createQueue({}, uniqueName("dlq"));
  const bodies = Array.from({ length: count }, (_, i) => `dead-${i}`);
  expectOk(await dlq.stub.accept(deadLetters(source.name, ...bodies)));
  return { source, dlq, bodies };
}

function startAt(stub: QueueStub, request: Partial<RedriveRequest>, nowMs: number) {
  return inQueue(stub, (o) =>
    o.redrives.start({ destination: null, maxPerSecond: undefined, maxMessages: undefined, ...request }, nowMs),
  );
}

const statusOf = async (stub: QueueStub) => expectOk(await stub.getRedrive());
const bodiesOf = async (stub: QueueStub) => (await peekAll(stub)).map((m) => m.body);

describe("redrive", () => {
  it("moves maxPerSecond messages back to their source queue each second until none is left", async () => {
    const { source, dlq, bodies } = await deadLetterQueueWith(5);
    const t0 = T0();
    await startAt(dlq.stub, { maxPerSecond: 2 }, t0);

    await runDueAt(dlq.stub, t0);
    const afterFirst = await statusOf(dlq.stub);
    const sourceAfterFirst = await bodiesOf(source.stub);
    await runDueAt(dlq.stub, t0 + 1_000);
    const afterSecond = await statusOf(dlq.stub);
    await runDueAt(dlq.stub, t0 + 2_000);
    const afterThird = await statusOf(dlq.stub);

    expect(afterFirst).toMatchObject({ status: "running", moved: 2, remaining: 3, endedAt: null });
    expect(sourceAfterFirst).toEqual(bodies.slice(0, 2));
    expect(afterSecond).toMatchObject({ status: "running", moved: 4, remaining: 1 });
    expect(afterThird).toMatchObject({ status: "completed", moved: 5, remaining: 0, endedAt: t0 + 2_000 });
    expect(await bodiesOf(source.stub)).toEqual(bodies);
    expect(await peekAll(dlq.stub)).toEqual([]);
  });

  it("delivers redriven messages to the source as ordinary messages, without a sourceQueue", async () => {
    const { source, dlq } = await deadLetterQueueWith(1);
    const t0 = T0();
    await startAt(dlq.stub, {}, t0);

    await runDueAt(dlq.stub, t0);

    const [message] = await peekAll(source.stub);
    expect(message).toMatchObject({ body: "dead-0", state: "active", receiveCount: 0 });
    expect(message).not.toHaveProperty("sourceQueue");
  });

  it("takes no second step within the same second", async () => {
    const { dlq } = await deadLetterQueueWith(5);
    const t0 = T0();
    await startAt(dlq.stub, { maxPerSecond: 2 }, t0);

    await runDueAt(dlq.stub, t0);
    await runDueAt(dlq.stub, t0 + 999);

    expect(await statusOf(dlq.stub)).toMatchObject({ status: "running", moved: 2, remaining: 3 });
  });

  it("counts each message once when two runs of the due work overlap", async () => {
    const { source, dlq, bodies } = await deadLetterQueueWith(5);
    const t0 = T0();
    await startAt(dlq.stub, { maxPerSecond: 2 }, t0);

    await inQueue(dlq.stub, (o) => Promise.all([o.runDue(t0), o.runDue(t0)]));

    expect(await statusOf(dlq.stub)).toMatchObject({ status: "running", moved: 2, remaining: 3 });
    expect(await bodiesOf(source.stub)).toEqual(bodies.slice(0, 2));
  });

  it("arms the alarm for its next step", async () => {
    const { dlq } = await deadLetterQueueWith(5);
    const t0 = T0();
    await startAt(dlq.stub, { maxPerSecond: 2 }, t0);

    await runDueAt(dlq.stub, t0);

    expect(await inQueue(dlq.stub, (_o, state) => state.storage.getAlarm())).toBe(t0 + 1_000);
  });

  it("stops after maxMessages messages", async () => {
    const { source, dlq, bodies } = await deadLetterQueueWith(5);
    const t0 = T0();
    await startAt(dlq.stub, { maxPerSecond: 2, maxMessages: 3 }, t0);

    await runDueAt(dlq.stub, t0);
    await runDueAt(dlq.stub, t0 + 1_000);
    const status = await statusOf(dlq.stub);
    await runDueAt(dlq.stub, t0 + 2_000);

    expect(status).toMatchObject({ status: "completed", moved: 3, remaining: 2, maxMessages: 3 });
    expect(await bodiesOf(source.stub)).toEqual(bodies.slice(0, 3));
    expect(await bodiesOf(dlq.stub)).toEqual(bodies.slice(3));
  });

  it("reports as remaining no more than maxMessages leaves to move", async () => {
    const { dlq } = await deadLetterQueueWith(5);
    const t0 = T0();
    const started = await startAt(dlq.stub, { maxPerSecond: 1, maxMessages: 2 }, t0);

    await runDueAt(dlq.stub, t0);
    const afterFirst = await statusOf(dlq.stub);

    expect(started).toMatchObject({ status: "running", moved: 0, remaining: 2, maxMessages: 2 });
    expect(afterFirst).toMatchObject({ status: "running", moved: 1, remaining: 1 });
  });

  it("moves messages to a named destination instead of their source", async () => {
    const { source, dlq, bodies } = await deadLetterQueueWith(3);
    const destination = await createQueue({}, uniqueName("dest"));
    const t0 = T0();
    await startAt(dlq.stub, { destination: destination.name }, t0);

    await runDueAt(dlq.stub, t0);

    expect(await statusOf(dlq.stub)).toMatchObject({ status: "completed", destination: destination.name, moved: 3 });
    expect(await bodiesOf(destination.stub)).toEqual(bodies);
    expect(await peekAll(source.stub)).toEqual([]);
  });

  it("leaves messages that name no source queue where they are", async () => {
    const { source, dlq } = await deadLetterQueueWith(0);
    expectOk(await dlq.stub.send([{ body: "sent here" }]));
    expectOk(await dlq.stub.accept(deadLetters(source.name, "dead-0", "dead-1")));
    const t0 = T0();
    await startAt(dlq.stub, { maxPerSecond: 1 }, t0);

    await runDueAt(dlq.stub, t0);
    await runDueAt(dlq.stub, t0 + 1_000);

    expect(await statusOf(dlq.stub)).toMatchObject({ status: "completed", moved: 2, remaining: 0 });
    expect(await bodiesOf(source.stub)).toEqual(["dead-0", "dead-1"]);
    expect(await bodiesOf(dlq.stub)).toEqual(["sent here"]);
  });

  it("fails and keeps its messages when the destination does not exist", async () => {
    const { dlq, bodies } = await deadLetterQueueWith(3);
    const t0 = T0();
    await startAt(dlq.stub, { destination: uniqueName("missing") }, t0);

    await runDueAt(dlq.stub, t0);

    const status = await statusOf(dlq.stub);
    expect(status).toMatchObject({ status: "failed", moved: 0, endedAt: t0 });
    expect(status.lastError).toContain(ErrorCode.QueueNotFound);
    const returned = await inQueue(dlq.stub, (o) => o.engine.peek(100, 0, t0).messages);
    expect(returned.map((m) => [m.body, m.state])).toEqual(bodies.map((body) => [body, "active"]));
  });

  it("reports a new task as running with nothing moved yet", async () => {
    const { dlq } = await deadLetterQueueWith(3);

    const status = expectOk(await dlq.stub.startRedrive({ destination: null, maxPerSecond: 1, maxMessages: undefined }));
    await dlq.stub.cancelRedrive();

    expect(status).toMatchObject({ status: "running", moved: 0, remaining: 3, maxPerSecond: 1, maxMessages: null });
  });

  it("uses 100 messages per second when no rate is given", async () => {
    const { dlq } = await deadLetterQueueWith(1);

    const status = await startAt(dlq.stub, {}, T0());

    expect(status.maxPerSecond).toBe(100);
  });

  it("refuses a second task with RedriveInProgress while one runs", async () => {
    const { dlq } = await deadLetterQueueWith(5);
    const request = { destination: null, maxPerSecond: 1, maxMessages: undefined };
    expectOk(await dlq.stub.startRedrive(request));

    const second = await dlq.stub.startRedrive(request);
    await dlq.stub.cancelRedrive();

    expectError(second, ErrorCode.RedriveInProgress);
  });

  it("takes no further step once cancelled", async () => {
    const { source, dlq, bodies } = await deadLetterQueueWith(5);
    const t0 = T0();
    await startAt(dlq.stub, { maxPerSecond: 2 }, t0);
    await runDueAt(dlq.stub, t0);

    const cancelled = expectOk(await dlq.stub.cancelRedrive());
    await runDueAt(dlq.stub, t0 + 1_000);
    await runDueAt(dlq.stub, t0 + 2_000);

    expect(cancelled).toMatchObject({ status: "cancelled", moved: 2, remaining: 3 });
    expect(await statusOf(dlq.stub)).toMatchObject({ status: "cancelled", moved: 2, remaining: 3 });
    expect(await bodiesOf(source.stub)).toEqual(bodies.slice(0, 2));
    expect(await bodiesOf(dlq.stub)).toEqual(bodies.slice(2));
  });

  it("may start again after a cancel", async () => {
    const { dlq } = await deadLetterQueueWith(2);
    await startAt(dlq.stub, { maxPerSecond: 1 }, T0());
    expectOk(await dlq.stub.cancelRedrive());

    const restarted = await startAt(dlq.stub, { maxPerSecond: 1 }, T0());

    expect(restarted).toMatchObject({ status: "running", moved: 0, remaining: 2 });
  });

  it("answers RedriveNotFound when no task has run or none runs to cancel", async () => {
    const { stub } = await createQueue();

    expectError(await stub.getRedrive(), ErrorCode.RedriveNotFound);
    expectError(await stub.cancelRedrive(), ErrorCode.RedriveNotFound);
  });
});
