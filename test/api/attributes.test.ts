import { beforeAll, describe, expect, it } from "vitest";
import { LocationHints, QueueLimits } from "../../src/schema/queue";
import { api, uniqueName } from "../support/http";
import { createQueue, expectError, expectStatus, snapshot } from "./helpers";

interface Range {
  field: string;
  min: number;
  max: number;
  default: number;
  /** Other attributes a value needs beside it (rewindSeconds may not exceed msgRetentionSeconds). */
  withMax?: Record<string, number>;
}

/** The documented ranges, written out so that a change to QueueLimits shows up here. */
const ranges: Range[] = [
  { field: "visibilityTimeout", min: 1, max: 43_200, default: 30 },
  { field: "pollingWaitSeconds", min: 0, max: 30, default: 0 },
  { field: "maxMsgSize", min: 1_024, max: 1_048_576, default: 65_536 },
  { field: "msgRetentionSeconds", min: 60, max: 1_296_000, default: 345_600 },
  { field: "rewindSeconds", min: 0, max: 1_296_000, default: 0, withMax: { msgRetentionSeconds: 1_296_000 } },
  { field: "maxMsgHeapNum", min: 1, max: 1_000_000_000, default: 100_000_000 },
];

const validCases = ranges.flatMap((range) => [
  { field: range.field, label: "min", value: range.min, extra: {} as Record<string, number> },
  { field: range.field, label: "max", value: range.max, extra: range.withMax ?? {} },
]);

const invalidCases = ranges.flatMap((range) => [
  { field: range.field, label: "below min", value: range.min - 1 as unknown },
  { field: range.field, label: "above max", value: range.max + 1 },
  { field: range.field, label: "far above max", value: 1e12 },
  { field: range.field, label: "non-integer", value: range.min + 0.5 },
  { field: range.field, label: "numeric string", value: String(range.min) },
  { field: range.field, label: "boolean", value: true },
  { field: range.field, label: "null", value: null },
  { field: range.field, label: "array", value: [range.min] },
  { field: range.field, label: "object", value: { value: range.min } },
]);

/** Asserts a queue name is known nowhere: GET answers 404 and the list does not hold it. */
async function expectNoQueue(name: string): Promise<void> {
  expectError(await api("GET", `/v1/queues/${name}`), "QueueNotFound");
  expect((await api("GET", `/v1/queues?prefix=${name}`)).body.queues).toEqual([]);
}

describe("documented ranges", () => {
  it("match QueueLimits", () => {
    const byField: Record<string, { min: number; max: number; default: number }> = {
      visibilityTimeout: QueueLimits.visibilityTimeoutSeconds,
      pollingWaitSeconds: QueueLimits.pollingWaitSeconds,
      maxMsgSize: QueueLimits.maxMsgSizeBytes,
      msgRetentionSeconds: QueueLimits.msgRetentionSeconds,
      rewindSeconds: QueueLimits.rewindSeconds,
      maxMsgHeapNum: QueueLimits.maxMsgHeapNum,
    };
    for (const range of ranges) {
      expect(byField[range.field], range.field).toEqual({ min: range.min, max: range.max, default: range.default });
    }
  });

  it("a queue created without attributes has every default", async () => {
    const name = await createQueue(uniqueName("attr"));
    const info: any = await snapshot(name);
    for (const range of ranges) expect(info[range.field], range.field).toBe(range.default);
    expect(info.deadLetter).toBeNull();
    expect(info.locationHint).toBeNull();
  });
});

describe("create", () => {
  it.each(validCases)("accepts $field at $label ($value)", async ({ field, value, extra }) => {
    const name = uniqueName("attr");
    const created = await api("PUT", `/v1/queues/${name}`, { ...extra, [field]: value });
    expectStatus(created, 201);
    expect(created.body[field]).toBe(value);
    expect(((await snapshot(name)) as any)[field]).toBe(value);
  });

  it.each(invalidCases)("refuses $field $label with 400 InvalidParameter and creates nothing", async ({ field, value }) => {
    const name = uniqueName("attr");
    expectError(await api("PUT", `/v1/queues/${name}`, { [field]: value }), "InvalidParameter", field);
    await expectNoQueue(name);
  });

  it("refuses an unknown attribute, and one misspelled by case", async () => {
    const name = uniqueName("attr");
    expectError(await api("PUT", `/v1/queues/${name}`, { visibilityTimeout: 30, retention: 60 }), "InvalidParameter", "retention");
    expectError(await api("PUT", `/v1/queues/${name}`, { VisibilityTimeout: 30 }), "InvalidParameter", "VisibilityTimeout");
    await expectNoQueue(name);
  });
});

describe("PATCH", () => {
  let shared: string;
  let before: unknown;

  beforeAll(async () => {
    shared = await createQueue(uniqueName("attr"), { visibilityTimeout: 77, rewindSeconds: 120 });
    before = await snapshot(shared);
  });

  it.each(validCases)("sets $field to its $label ($value)", async ({ field, value, extra }) => {
    const name = await createQueue(uniqueName("attr"));
    const patched = await api("PATCH", `/v1/queues/${name}`, { ...extra, [field]: value });
    expectStatus(patched, 200);
    expect(patched.body[field]).toBe(value);
    const after: any = await snapshot(name);
    expect(after[field]).toBe(value);
    expect(after).toEqual(patched.body);
  });

  it.each(invalidCases)("refuses $field $label with 400 InvalidParameter and changes nothing", async ({ field, value }) => {
    expectError(await api("PATCH", `/v1/queues/${shared}`, { [field]: value }), "InvalidParameter", field);
    expect(await snapshot(shared)).toEqual(before);
  });

  it("refuses a whole patch when one field of it is out of range", async () => {
    expectError(
      await api("PATCH", `/v1/queues/${shared}`, { visibilityTimeout: 10, maxMsgSize: 1023 }),
      "InvalidParameter",
      "maxMsgSize",
    );
    expect(await snapshot(shared)).toEqual(before);
  });

  it("refuses locationHint (create only) and unknown fields", async () => {
    expectError(await api("PATCH", `/v1/queues/${shared}`, { locationHint: "weur" }), "InvalidParameter", "locationHint");
    expectError(await api("PATCH", `/v1/queues/${shared}`, { name: "other" }), "InvalidParameter", "name");
    expectError(await api("PATCH", `/v1/queues/${shared}`, { counts: {} }), "InvalidParameter", "counts");
    expect(await snapshot(shared)).toEqual(before);
  });

  it("an empty patch keeps every attribute", async () => {
    const patched = await api("PATCH", `/v1/queues/${shared}`, {});
    expectStatus(patched, 200);
    const { modifiedAt: _a, ...kept } = before as Record<string, unknown>;
    const { modifiedAt: _b, ...now } = patched.body;
    expect(now).toEqual(kept);
    before = await snapshot(shared);
  });
});

describe("cross-field rules", () => {
  it("create: rewindSeconds may equal msgRetentionSeconds but not exceed it", async () => {
    const ok = await api("PUT", `/v1/queues/${uniqueName("attr")}`, { rewindSeconds: 60, msgRetentionSeconds: 60 });
    expectStatus(ok, 201);
    const name = uniqueName("attr");
    expectError(await api("PUT", `/v1/queues/${name}`, { rewindSeconds: 61, msgRetentionSeconds: 60 }), "InvalidParameter", "rewindSeconds");
    // Against the default retention (345600 s).
    expectError(await api("PUT", `/v1/queues/${name}`, { rewindSeconds: 345_601 }), "InvalidParameter", "rewindSeconds");
    await expectNoQueue(name);
  });

  it("PATCH: lowering msgRetentionSeconds below rewindSeconds, or raising rewindSeconds above it, is refused", async () => {
    const name = await createQueue(uniqueName("attr"), { rewindSeconds: 3_600, msgRetentionSeconds: 7_200 });
    const before = await snapshot(name);
    expectError(await api("PATCH", `/v1/queues/${name}`, { msgRetentionSeconds: 3_599 }), "InvalidParameter", "rewindSeconds");
    expectError(await api("PATCH", `/v1/queues/${name}`, { rewindSeconds: 7_201 }), "InvalidParameter", "rewindSeconds");
    expectError(
      await api("PATCH", `/v1/queues/${name}`, { rewindSeconds: 100, msgRetentionSeconds: 99 }),
      "InvalidParameter",
      "rewindSeconds",
    );
    expect(await snapshot(name)).toEqual(before);
    const both = await api("PATCH", `/v1/queues/${name}`, { rewindSeconds: 60, msgRetentionSeconds: 60 });
    expectStatus(both, 200);
    expect(both.body).toMatchObject({ rewindSeconds: 60, msgRetentionSeconds: 60 });
  });

  it("create: deadLetter.maxTimeToLive must be less than msgRetentionSeconds", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const name = uniqueName("attr");
    expectError(
      await api("PUT", `/v1/queues/${name}`, { msgRetentionSeconds: 600, deadLetter: { queue: dlq, maxTimeToLive: 600 } }),
      "InvalidParameter",
      "maxTimeToLive",
    );
    await expectNoQueue(name);
    const created = await api("PUT", `/v1/queues/${name}`, {
      msgRetentionSeconds: 600,
      deadLetter: { queue: dlq, maxTimeToLive: 599 },
    });
    expectStatus(created, 201);
    expect(created.body.deadLetter).toEqual({ queue: dlq, maxTimeToLive: 599 });
  });

  it("PATCH: msgRetentionSeconds may not drop to a dead-letter maxTimeToLive, nor maxTimeToLive rise to it", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const name = await createQueue(uniqueName("attr"), {
      msgRetentionSeconds: 3_600,
      deadLetter: { queue: dlq, maxTimeToLive: 1_800 },
    });
    const before = await snapshot(name);
    expectError(await api("PATCH", `/v1/queues/${name}`, { msgRetentionSeconds: 1_800 }), "InvalidParameter", "maxTimeToLive");
    expectError(
      await api("PATCH", `/v1/queues/${name}`, { deadLetter: { queue: dlq, maxTimeToLive: 3_600 } }),
      "InvalidParameter",
      "maxTimeToLive",
    );
    expect(await snapshot(name)).toEqual(before);
    expectStatus(await api("PATCH", `/v1/queues/${name}`, { msgRetentionSeconds: 1_801 }), 200);
  });

  it("a maxReceiveCount policy has no bound from msgRetentionSeconds", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const created = await api("PUT", `/v1/queues/${uniqueName("attr")}`, {
      msgRetentionSeconds: 60,
      deadLetter: { queue: dlq, maxReceiveCount: 1_000 },
    });
    expectStatus(created, 201);
  });
});

describe("locationHint", () => {
  it.each(LocationHints.map((hint) => [hint]))("accepts %s on create and keeps it", async (hint) => {
    const name = uniqueName("loc");
    const created = await api("PUT", `/v1/queues/${name}`, { locationHint: hint });
    expectStatus(created, 201);
    expect(created.body.locationHint).toBe(hint);
    expect(((await snapshot(name)) as any).locationHint).toBe(hint);
    expectStatus(await api("POST", `/v1/queues/${name}/messages`, { body: "placed" }), 200);
    expectStatus(await api("PUT", `/v1/queues/${name}`, { locationHint: hint }), 200);
  });

  it.each([["WNAM"], ["eu"], [""], ["auto"], [1], [null], [["weur"]]])(
    "refuses %j with 400 InvalidParameter and creates nothing",
    async (hint) => {
      const name = uniqueName("loc");
      expectError(await api("PUT", `/v1/queues/${name}`, { locationHint: hint }), "InvalidParameter", "locationHint");
      await expectNoQueue(name);
    },
  );
});
