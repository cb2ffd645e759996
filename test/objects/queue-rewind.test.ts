import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors";
import { counts, createQueue, expectError, expectOk, inQueue, receive, receiveOne, sendBodies } from "./support";

describe("rewind", () => {
  it("makes deleted messages receivable again, as if never received", async () => {
    const { stub } = await createQueue({ rewindSeconds: 3_600 });
    const since = Date.now();
    const ids = await sendBodies(stub, "a", "b", "c");
    const received = await receive(stub, { max: 3 });
    expectOk(await stub.deleteMessages(received.map((m) => m.receiptHandle)));

    const result = expectOk(await stub.rewind(since));
    const again = await receive(stub, { max: 3 });

    expect(result).toEqual({ rewound: 3 });
    expect(again.map((m) => m.id)).toEqual(ids);
    expect(again.every((m) => m.receiveCount === 1)).toBe(true);
  });

  it("keeps deleted messages as rewindable, outside the queue's counts", async () => {
    const { stub } = await createQueue({ rewindSeconds: 3_600 });
    await sendBodies(stub, "a");
    const message = await receiveOne(stub);

    expectOk(await stub.deleteMessages([message.receiptHandle]));

    expect(await counts(stub)).toMatchObject({ active: 0, inactive: 0, total: 0, rewindable: 1 });
    expect(await receive(stub)).toEqual([]);
  });

  it("brings back only messages enqueued since the given time", async () => {
    const { stub } = await createQueue({ rewindSeconds: 3_600 });
    const t0 = Date.now();

    const rewound = await inQueue(stub, (o) => {
      o.engine.send([{ body: "old" }], t0).value;
      o.engine.send([{ body: "new" }], t0 + 10_000).value;
      const handles = o.engine.claim(2, 30, t0 + 20_000).value.map((m) => m.receiptHandle);
      o.engine.deleteMessages(handles, t0 + 20_000).value;
      const result = o.engine.rewind(t0 + 5_000, t0 + 30_000).value;
      return { result, bodies: o.engine.claim(2, 30, t0 + 30_000).value.map((m) => m.body) };
    });

    expect(rewound).toEqual({ result: { rewound: 1 }, bodies: ["new"] });
  });

  it("leaves messages that were not deleted as they are", async () => {
    const { stub } = await createQueue({ rewindSeconds: 3_600 });
    const since = Date.now();
    await sendBodies(stub, "deleted", "held", "waiting");
    const [deleted, held] = await receive(stub, { max: 2 });
    expectOk(await stub.deleteMessages([deleted!.receiptHandle]));

    const result = expectOk(await stub.rewind(since));

    expect(result).toEqual({ rewound: 1 });
    expect(await counts(stub)).toMatchObject({ active: 2, inactive: 1, total: 3, rewindable: 0 });
    expect(expectOk(await stub.deleteMessages([held!.receiptHandle]))[0]).toMatchObject({ deleted: true });
  });

  it("is refused with RewindNotEnabled when rewindSeconds is 0", async () => {
    const { stub } = await createQueue({ rewindSeconds: 0 });

    const result = await stub.rewind(Date.now());

    expectError(result, ErrorCode.RewindNotEnabled);
  });

  it("is refused with InvalidRewindTime before the rewind window", async () => {
    const { stub } = await createQueue({ rewindSeconds: 3_600 });

    const result = await stub.rewind(Date.now() - 3_600_000 - 60_000);

    expectError(result, ErrorCode.InvalidRewindTime);
  });

  it("is refused with InvalidRewindTime in the future", async () => {
    const { stub } = await createQueue({ rewindSeconds: 3_600 });

    const result = await stub.rewind(Date.now() + 60_000);

    expectError(result, ErrorCode.InvalidRewindTime);
  });
});
