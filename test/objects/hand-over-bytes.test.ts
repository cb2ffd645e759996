import { describe, expect, it } from "vitest";
import {
  createQueue,
  counts,
  countsAt,
  deadLetters,
  expectOk,
  inQueue,
  receive,
  runDueAt,
  uniqueName,
} from "./support";
import { storePublished } from "../../src/objects/topic/publish";
import { createQueue as createQueueNamed, createTopic, inTopic, queues, runDue, statsOf, topics } from "../support/topics";

/** Issue 11.2: 40 bodies of 1 MiB are 40 MiB, past the runtime's 32 MiB bound on one RPC's arguments. */
const OneMiB = 1_048_576;
const LargeCount = 40;
const largeBody = (i: number) => String(i % 10).repeat(OneMiB);

describe("hand-overs of large messages between objects", () => {
  it("moves 40 dead letters of 1 MiB that come due together", async () => {
    const dlq = await createQueue({ maxMsgSize: OneMiB }, uniqueName("dlq"));
    const source = await createQueue({ maxMsgSize: OneMiB, deadLetter: { queue: dlq.name, maxReceiveCount: 1 } });
    for (let i = 0; i < LargeCount; i++) expectOk(await source.stub.send([{ body: largeBody(i) }]));
    let received = 0;
    while (received < LargeCount) received += (await receive(source.stub, { max: 8, visibilityTimeout: 30 })).length;

    await runDueAt(source.stub, Date.now() + 31_000);

    expect(await countsAt(source.stub, Date.now() + 31_000)).toMatchObject({ total: 0, inactive: 0 });
    expect(await counts(dlq.stub)).toMatchObject({ active: LargeCount, total: LargeCount });
  });

  it("redrives 40 messages of 1 MiB", async () => {
    const source = await createQueue({ maxMsgSize: OneMiB }, uniqueName("src"));
    const dlq = await createQueue({ maxMsgSize: OneMiB }, uniqueName("dlq"));
    for (let i = 0; i < LargeCount; i += 8) {
      const bodies = Array.from({ length: 8 }, (_, j) => largeBody(i + j));
      expectOk(await dlq.stub.accept(deadLetters(source.name, ...bodies)));
    }
    const t0 = Date.now() + 3_600_000;
    await inQueue(dlq.stub, (o) => o.redrives.start({ destination: null, maxPerSecond: 100, maxMessages: undefined }, t0));

    await runDueAt(dlq.stub, t0);

    expect(expectOk(await dlq.stub.getRedrive())).toMatchObject({ status: "completed", moved: LargeCount, lastError: null });
    expect(await counts(source.stub)).toMatchObject({ active: LargeCount });
  });

  it("fans 40 messages of 1 MiB out to a queue subscription", async () => {
    const topic = await createTopic({ maxMsgSize: OneMiB });
    const queue = await createQueueNamed();
    await topics.subscribe(topic, "s", { protocol: "queue", endpoint: queue });
    // Published while delivery is held back (a later `now`), so that all 40 are due in one round.
    const publishAtMs = Date.now() + 3_600_000;
    await inTopic(topic, (object, state) => {
      const { meta, subscriptions } = object.engine;
      for (let i = 0; i < LargeCount; i++) storePublished(state.storage, meta!, subscriptions.values(), [{ body: largeBody(i) }], publishAtMs);
    });

    // A round holds at most DeliveryRoundMaxBytes of bodies: the rest goes in the next one.
    await runDue(topic, publishAtMs);
    await runDue(topic, publishAtMs);

    expect(await statsOf(topic, "s")).toMatchObject({ delivered: LargeCount, failed: 0, pending: 0, lastError: null });
    expect((await queues.getQueue(queue)).counts).toMatchObject({ active: LargeCount });
  });
});
