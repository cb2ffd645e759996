import { describe, expect, it } from "vitest";
import { BackoffDelayRangeMs, ExponentialMaxDelayMs } from "../../src/delivery/retry";
import {
  attempted,
  createTopic,
  firstPublishedAt,
  inTopic,
  outboxRows,
  sinkRecords,
  statsOf,
  topics,
  uniqueName,
  type OutboxRow,
} from "../support/topics";

/**
 * How late a retry may be scheduled beyond its delay: the delay counts from the end of the failed
 * attempt, which takes a few milliseconds after the moment the round started.
 */
const AttemptSlackMs = 1_000;

/** A topic with one HTTP subscription to the sink at `path` (under a fresh id); returns the sink key. */
async function failingTopic(
  path: (id: string) => string,
  input: { notifyStrategy?: "BACKOFF_RETRY" | "EXPONENTIAL_DECAY_RETRY"; msgRetentionSeconds?: number } = {},
): Promise<{ topic: string; key: string }> {
  const topic = await createTopic(input.msgRetentionSeconds ? { msgRetentionSeconds: input.msgRetentionSeconds } : {});
  const key = `sink.test${path(uniqueName("r"))}`;
  await topics.subscribe(topic, "hook", {
    protocol: "http",
    endpoint: `http://${key}`,
    ...(input.notifyStrategy ? { notifyStrategy: input.notifyStrategy } : {}),
  });
  return { topic, key };
}

/** The topic's only outbox row, or null when the delivery has left the outbox. */
async function onlyRow(topic: string): Promise<OutboxRow | null> {
  const rows = await outboxRows(topic);
  expect(rows.length).toBeLessThanOrEqual(1);
  return rows[0] ?? null;
}

/**
 * Runs the topic's due deliveries at the moment the only pending one is due, and answers what the
 * row looked like before and after. Reading and running happen in one call into the object.
 */
function attemptWhenDue(topic: string): Promise<{ before: OutboxRow; after: OutboxRow | null }> {
  return inTopic(topic, async (object, state) => {
    const read = () => state.storage.sql.exec<OutboxRow>("SELECT * FROM outbox").toArray()[0] ?? null;
    const before = read();
    if (!before) throw new Error("no pending delivery");
    await object.runDue(before.next_attempt_at);
    return { before, after: read() };
  });
}

describe("EXPONENTIAL_DECAY_RETRY", () => {
  it("retries a failing endpoint 1 s, 2 s, 4 s ... after each failure, capped at 512 s", async () => {
    const { topic } = await failingTopic((id) => `/status/500/${id}`, { msgRetentionSeconds: 3_600 });
    await topics.publish(topic, [{ body: "m" }]);
    const [first] = await attempted(topic);
    const publishedAt = await firstPublishedAt(topic);
    expect(first!.attempts).toBe(1);
    expect(first!.next_attempt_at - publishedAt).toBeGreaterThanOrEqual(1_000);
    expect(first!.next_attempt_at - publishedAt).toBeLessThan(1_000 + AttemptSlackMs);

    const gaps: Array<{ attempts: number; gap: number }> = [];
    for (let round = 0; round < 12; round++) {
      const { before, after } = await attemptWhenDue(topic);
      expect(after!.attempts).toBe(before.attempts + 1);
      gaps.push({ attempts: after!.attempts, gap: after!.next_attempt_at - before.next_attempt_at });
    }

    for (const { attempts, gap } of gaps) {
      const delay = Math.min(1_000 * 2 ** (attempts - 1), ExponentialMaxDelayMs);
      expect(gap, `after failure ${attempts}`).toBeGreaterThanOrEqual(delay);
      expect(gap, `after failure ${attempts}`).toBeLessThan(delay + AttemptSlackMs);
    }
    // Consecutive failures, reaching the cap (the 10th failure's delay is 512 s) and staying there.
    gaps.forEach(({ attempts }, i) => expect(attempts).toBe(gaps[0]!.attempts + i));
    expect(gaps.at(-1)!.attempts).toBeGreaterThanOrEqual(13);
  });

  it("keeps the delivery pending with the last error while it retries", async () => {
    const { topic } = await failingTopic((id) => `/status/500/${id}`);
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);

    const stats = await statsOf(topic, "hook");

    expect(stats).toMatchObject({ delivered: 0, failed: 0, pending: 1, lastError: "HTTP 500" });
    expect(stats.lastErrorAt).toBeGreaterThan(0);
  });

  it("records the delivery as failed once the next retry would fall after the message's retention", async () => {
    const { topic, key } = await failingTopic((id) => `/status/500/${id}`, { msgRetentionSeconds: 600 });
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);
    const expiresAt = (await firstPublishedAt(topic)) + 600_000;

    let lastAttemptAt = 0;
    for (let round = 0; round < 20 && (await onlyRow(topic)) !== null; round++) {
      const { before } = await attemptWhenDue(topic);
      lastAttemptAt = before.next_attempt_at;
      expect(lastAttemptAt).toBeLessThan(expiresAt);
    }

    expect(await onlyRow(topic)).toBeNull();
    const stats = await statsOf(topic, "hook");
    expect(stats).toMatchObject({ delivered: 0, failed: 1, pending: 0, lastError: "HTTP 500" });
    expect(stats.lastErrorAt).toBeGreaterThanOrEqual(lastAttemptAt);
    // 1 + 2 + 4 + ... + 256 = 511 s: the 10th attempt's next retry, 512 s later, is past the 600 s retention.
    expect((await sinkRecords(key)).length).toBe(10);
  });
});

describe("BACKOFF_RETRY", () => {
  it("makes exactly 4 attempts, each retry 19 to 29 s after the previous attempt, then records the delivery as failed", async () => {
    const { topic, key } = await failingTopic((id) => `/status/500/${id}`, { notifyStrategy: "BACKOFF_RETRY" });
    await topics.publish(topic, [{ body: "m" }]);
    const [first] = await attempted(topic);
    const publishedAt = await firstPublishedAt(topic);
    const retryGaps = [first!.next_attempt_at - publishedAt];

    for (let retry = 1; retry <= 3; retry++) {
      const { before, after } = await attemptWhenDue(topic);
      if (retry < 3) retryGaps.push(after!.next_attempt_at - before.next_attempt_at);
      else expect(after).toBeNull();
    }

    expect(retryGaps).toHaveLength(3);
    for (const gap of retryGaps) {
      expect(gap).toBeGreaterThanOrEqual(BackoffDelayRangeMs.min);
      expect(gap).toBeLessThanOrEqual(BackoffDelayRangeMs.max + AttemptSlackMs);
    }
    expect((await sinkRecords(key)).length).toBe(4);
    const stats = await statsOf(topic, "hook");
    expect(stats).toMatchObject({ delivered: 0, failed: 1, pending: 0, lastError: "HTTP 500" });
    expect(stats.lastErrorAt).toBeGreaterThanOrEqual(publishedAt + 3 * BackoffDelayRangeMs.min);
  });

  it("attempts nothing more after the delivery failed", async () => {
    const { topic, key } = await failingTopic((id) => `/status/500/${id}`, { notifyStrategy: "BACKOFF_RETRY" });
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);
    for (let retry = 1; retry <= 3; retry++) await attemptWhenDue(topic);

    await inTopic(topic, (object) => object.runDue(Date.now() + 3_600_000));

    expect((await sinkRecords(key)).length).toBe(4);
    expect((await statsOf(topic, "hook")).failed).toBe(1);
  });
});

describe("recovering endpoints", () => {
  it("delivers once an endpoint that failed twice answers 2xx: delivered 1, failed 0", async () => {
    const { topic, key } = await failingTopic((id) => `/fail-first/2/${id}`);
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);

    for (let round = 0; round < 5 && (await onlyRow(topic)) !== null; round++) await attemptWhenDue(topic);

    expect(await onlyRow(topic)).toBeNull();
    expect((await sinkRecords(key)).length).toBe(3);
    expect(await statsOf(topic, "hook")).toMatchObject({ delivered: 1, failed: 0, pending: 0, lastError: "HTTP 503" });
  });

  it("treats a thrown error in the endpoint as a failure and retries it", async () => {
    const { topic } = await failingTopic((id) => `/throw/${id}`);
    await topics.publish(topic, [{ body: "m" }]);
    const [row] = await attempted(topic);

    const stats = await statsOf(topic, "hook");

    expect(row!.attempts).toBe(1);
    expect(stats).toMatchObject({ delivered: 0, failed: 0, pending: 1 });
    expect(stats.lastError).not.toBeNull();
  });

  it.each([301, 404, 429])("treats an HTTP %i answer as a failure", async (status) => {
    const { topic } = await failingTopic((id) => `/status/${status}/${id}`);
    await topics.publish(topic, [{ body: "m" }]);
    await attempted(topic);

    expect((await statsOf(topic, "hook")).lastError).toBe(`HTTP ${status}`);
  });
});
