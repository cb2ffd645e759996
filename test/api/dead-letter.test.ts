import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { createQueue, expectError, expectStatus, snapshot } from "./helpers";

async function expectNoQueue(name: string): Promise<void> {
  expectError(await api("GET", `/v1/queues/${name}`), "QueueNotFound");
  expect((await api("GET", `/v1/queues?prefix=${name}`)).body.queues).toEqual([]);
}

describe("deadLetter policy shape", () => {
  it.each([
    ["maxReceiveCount min", { maxReceiveCount: 1 }],
    ["maxReceiveCount max", { maxReceiveCount: 1_000 }],
    ["maxTimeToLive min", { maxTimeToLive: 300 }],
    ["maxTimeToLive max", { maxTimeToLive: 43_200 }],
  ])("accepts %s on create and on PATCH", async (_label, rule) => {
    const dlq = await createQueue(uniqueName("dlq"));
    const created = await api("PUT", `/v1/queues/${uniqueName("src")}`, { deadLetter: { queue: dlq, ...rule } });
    expectStatus(created, 201);
    expect(created.body.deadLetter).toEqual({ queue: dlq, ...rule });

    const patchedName = await createQueue(uniqueName("src"));
    const patched = await api("PATCH", `/v1/queues/${patchedName}`, { deadLetter: { queue: dlq, ...rule } });
    expectStatus(patched, 200);
    expect(((await snapshot(patchedName)) as any).deadLetter).toEqual({ queue: dlq, ...rule });
  });

  it.each([
    ["maxReceiveCount 0", { maxReceiveCount: 0 }, "deadLetter.maxReceiveCount"],
    ["maxReceiveCount 1001", { maxReceiveCount: 1_001 }, "deadLetter.maxReceiveCount"],
    ["maxReceiveCount 1.5", { maxReceiveCount: 1.5 }, "deadLetter.maxReceiveCount"],
    ["maxReceiveCount as string", { maxReceiveCount: "3" }, "deadLetter.maxReceiveCount"],
    ["maxTimeToLive 299", { maxTimeToLive: 299 }, "deadLetter.maxTimeToLive"],
    ["maxTimeToLive 43201", { maxTimeToLive: 43_201 }, "deadLetter.maxTimeToLive"],
    ["maxTimeToLive 300.5", { maxTimeToLive: 300.5 }, "deadLetter.maxTimeToLive"],
    ["both rules", { maxReceiveCount: 3, maxTimeToLive: 300 }, "deadLetter."],
    ["no rule", {}, "deadLetter."],
    ["an unknown field", { maxReceiveCount: 3, extra: true }, "deadLetter.extra"],
  ])("refuses %s with 400 InvalidParameter naming the field, on create and PATCH", async (_label, rule, field) => {
    const dlq = await createQueue(uniqueName("dlq"));
    const name = uniqueName("src");
    expectError(await api("PUT", `/v1/queues/${name}`, { deadLetter: { queue: dlq, ...rule } }), "InvalidParameter", field);
    await expectNoQueue(name);
    await createQueue(name);
    const before = await snapshot(name);
    expectError(await api("PATCH", `/v1/queues/${name}`, { deadLetter: { queue: dlq, ...rule } }), "InvalidParameter", field);
    expect(await snapshot(name)).toEqual(before);
  });

  it.each([
    ["a string", "dlq"],
    ["a number", 1],
    ["an array", []],
    ["without queue", { maxReceiveCount: 3 }],
    ["with a malformed queue name", { queue: "1bad", maxReceiveCount: 3 }],
    ["with a queue name of 65 chars", { queue: `q${"x".repeat(64)}`, maxReceiveCount: 3 }],
  ])("refuses a deadLetter that is %s", async (_label, deadLetter) => {
    const name = uniqueName("src");
    expectError(await api("PUT", `/v1/queues/${name}`, { deadLetter }), "InvalidParameter", "deadLetter");
    await expectNoQueue(name);
  });
});

describe("deadLetter target rules", () => {
  it("the dead-letter queue must exist", async () => {
    const name = uniqueName("src");
    const missing = uniqueName("nodlq");
    expectError(
      await api("PUT", `/v1/queues/${name}`, { deadLetter: { queue: missing, maxReceiveCount: 3 } }),
      "InvalidDeadLetterQueue",
      missing,
    );
    await expectNoQueue(name);
    await expectNoQueue(missing);
    await createQueue(name);
    const before = await snapshot(name);
    expectError(
      await api("PATCH", `/v1/queues/${name}`, { deadLetter: { queue: missing, maxReceiveCount: 3 } }),
      "InvalidDeadLetterQueue",
    );
    expect(await snapshot(name)).toEqual(before);
  });

  it("a queue cannot be its own dead-letter queue, whatever the case", async () => {
    const name = `Self-${crypto.randomUUID().slice(0, 8)}`;
    expectError(
      await api("PUT", `/v1/queues/${name}`, { deadLetter: { queue: name, maxReceiveCount: 3 } }),
      "InvalidDeadLetterQueue",
    );
    await expectNoQueue(name);
    await createQueue(name);
    const before = await snapshot(name);
    for (const variant of [name, name.toLowerCase(), name.toUpperCase()]) {
      expectError(
        await api("PATCH", `/v1/queues/${name}`, { deadLetter: { queue: variant, maxReceiveCount: 3 } }),
        "InvalidDeadLetterQueue",
      );
    }
    expect(await snapshot(name)).toEqual(before);
  });

  it("the dead-letter queue is found without regard to case", async () => {
    const dlq = await createQueue(`Dlq-${crypto.randomUUID().slice(0, 8)}`);
    const source = uniqueName("src");
    expectStatus(await api("PUT", `/v1/queues/${source}`, { deadLetter: { queue: dlq.toLowerCase(), maxReceiveCount: 2 } }), 201);
    // The policy makes the target a dead-letter queue in use, by any case.
    expectError(await api("DELETE", `/v1/queues/${dlq}`), "QueueInUse", source);
  });

  it("dead-letter queues do not nest: the target may not have one, a dead-letter queue may not get one", async () => {
    const final = await createQueue(uniqueName("dlq"));
    const middle = await createQueue(uniqueName("mid"), { deadLetter: { queue: final, maxReceiveCount: 3 } });
    const name = uniqueName("src");
    expectError(
      await api("PUT", `/v1/queues/${name}`, { deadLetter: { queue: middle, maxReceiveCount: 3 } }),
      "InvalidDeadLetterQueue",
      "nest",
    );
    await expectNoQueue(name);

    // `final` serves `middle`, so it may not get a dead-letter queue of its own.
    const other = await createQueue(uniqueName("dlq"));
    const before = await snapshot(final);
    expectError(
      await api("PATCH", `/v1/queues/${final}`, { deadLetter: { queue: other, maxReceiveCount: 3 } }),
      "InvalidDeadLetterQueue",
      "nest",
    );
    expect(await snapshot(final)).toEqual(before);

    // Once `middle` drops its policy, `final` is a plain queue again.
    expectStatus(await api("PATCH", `/v1/queues/${middle}`, { deadLetter: null }), 200);
    expectStatus(await api("PATCH", `/v1/queues/${final}`, { deadLetter: { queue: other, maxReceiveCount: 3 } }), 200);
  });

  it("a dead-letter queue serves at most 6 source queues, on create and on PATCH", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const sources: string[] = [];
    for (let i = 0; i < 6; i++) {
      sources.push(await createQueue(uniqueName(`src${i}`), { deadLetter: { queue: dlq, maxReceiveCount: 5 } }));
    }
    const seventh = uniqueName("src6");
    expectError(
      await api("PUT", `/v1/queues/${seventh}`, { deadLetter: { queue: dlq, maxReceiveCount: 5 } }),
      "InvalidDeadLetterQueue",
      "6",
    );
    await expectNoQueue(seventh);

    await createQueue(seventh);
    const before = await snapshot(seventh);
    expectError(
      await api("PATCH", `/v1/queues/${seventh}`, { deadLetter: { queue: dlq, maxReceiveCount: 5 } }),
      "InvalidDeadLetterQueue",
    );
    expect(await snapshot(seventh)).toEqual(before);

    // A source already counted may change its own policy against the full queue.
    const changed = await api("PATCH", `/v1/queues/${sources[0]}`, { deadLetter: { queue: dlq, maxReceiveCount: 9 } });
    expectStatus(changed, 200);
    expect(changed.body.deadLetter).toEqual({ queue: dlq, maxReceiveCount: 9 });
    // An identical create of a counted source is still 200.
    expectStatus(await api("PUT", `/v1/queues/${sources[1]}`, { deadLetter: { queue: dlq, maxReceiveCount: 5 } }), 200);

    // Freeing one place lets the seventh in.
    expectStatus(await api("DELETE", `/v1/queues/${sources[5]}`), 204);
    expectStatus(await api("PATCH", `/v1/queues/${seventh}`, { deadLetter: { queue: dlq, maxReceiveCount: 5 } }), 200);
  });
});

describe("QueueInUse", () => {
  it("a dead-letter queue in use cannot be deleted; it can once no source points at it", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const a = await createQueue(uniqueName("srca"), { deadLetter: { queue: dlq, maxReceiveCount: 3 } });
    const b = await createQueue(uniqueName("srcb"), { deadLetter: { queue: dlq, maxTimeToLive: 300 } });
    await api("POST", `/v1/queues/${dlq}/messages`, { body: "dead letter" });
    const before = await snapshot(dlq);

    expectError(await api("DELETE", `/v1/queues/${dlq}`), "QueueInUse", a);
    expect(await snapshot(dlq)).toEqual(before);
    expect((await api("GET", `/v1/queues?prefix=${dlq}`)).body.queues).toHaveLength(1);

    // Removing one policy is not enough.
    expectStatus(await api("PATCH", `/v1/queues/${a}`, { deadLetter: null }), 200);
    expect(((await snapshot(a)) as any).deadLetter).toBeNull();
    expectError(await api("DELETE", `/v1/queues/${dlq}`), "QueueInUse", b);

    // Deleting the last source frees it.
    expectStatus(await api("DELETE", `/v1/queues/${b}`), 204);
    expectStatus(await api("DELETE", `/v1/queues/${dlq}`), 204);
    await expectNoQueue(dlq);
  });

  it("moving a source to another dead-letter queue frees the first", async () => {
    const first = await createQueue(uniqueName("dlq"));
    const second = await createQueue(uniqueName("dlq"));
    const source = await createQueue(uniqueName("src"), { deadLetter: { queue: first, maxReceiveCount: 3 } });
    expectError(await api("DELETE", `/v1/queues/${first}`), "QueueInUse");
    expectStatus(await api("PATCH", `/v1/queues/${source}`, { deadLetter: { queue: second, maxReceiveCount: 3 } }), 200);
    expectStatus(await api("DELETE", `/v1/queues/${first}`), 204);
    expectError(await api("DELETE", `/v1/queues/${second}`), "QueueInUse", source);
  });

  it("a refused policy change leaves the relation as it was", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const source = await createQueue(uniqueName("src"), { deadLetter: { queue: dlq, maxReceiveCount: 3 } });
    expectError(
      await api("PATCH", `/v1/queues/${source}`, { deadLetter: { queue: uniqueName("nodlq"), maxReceiveCount: 3 } }),
      "InvalidDeadLetterQueue",
    );
    expectError(await api("PATCH", `/v1/queues/${source}`, { deadLetter: { queue: dlq, maxReceiveCount: 0 } }), "InvalidParameter");
    expectError(await api("DELETE", `/v1/queues/${dlq}`), "QueueInUse", source);
    const listed = await api("GET", `/v1/queues?prefix=${source}`);
    expect(listed.body.queues[0].deadLetter).toEqual({ queue: dlq, maxReceiveCount: 3 });
  });
});
