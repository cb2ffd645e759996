// FIFO and fair queues through the REST API: how fast a FIFO queue drains with many groups and
// with one, as a ratio to a standard queue drained the same way in the same run; and how long a
// quiet tenant's messages wait on a standard queue while a noisy tenant floods it.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { makeRow } from "../lib/report.mjs";
import { summarize } from "../lib/stats.mjs";

/** Groups of the "many groups" FIFO queue. */
const ManyGroups = 64;
/** Consumers of the fairness case, each holding what it receives this long before deleting it. */
const FairConsumers = 4;
const FairProcessingMs = 100;

const messagesPath = (queue) => `/v1/queues/${queue}/messages`;

/** Runs `tasks` with at most `limit` at once. */
async function limited(tasks, limit) {
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
}

async function call(ctx, method, path, body, expect = [200, 201]) {
  const answer = await ctx.client.call(method, path, body, { extraHeaders: ctx.authHeaders });
  if (!expect.includes(answer.status)) throw new Error(`${method} ${path}: ${answer.status} ${answer.text.slice(0, 200)}`);
  return answer;
}

/** Fills a queue with `count` messages in batches of 16; `groupOf(i)` names message i's group, or none. */
async function fill(ctx, queue, count, groupOf, fifo) {
  const batches = [];
  for (let start = 0; start < count; start += 16) {
    const messages = Array.from({ length: Math.min(16, count - start) }, (_, offset) => {
      const index = start + offset;
      const group = groupOf(index);
      return { body: ctx.body, ...(group === undefined ? {} : { groupId: group }), ...(fifo ? { deduplicationId: `m${index}` } : {}) };
    });
    batches.push(() => call(ctx, "POST", messagesPath(queue), { messages }));
  }
  await limited(batches, 8);
}

/**
 * Drains `count` messages with `consumers` loops of receive 16 + delete: answers messages per
 * second from the first receive to the last delete. An empty receive (a FIFO group in flight)
 * is asked again at once, as a short-polling consumer would.
 */
async function drain(ctx, queue, count, consumers) {
  let deleted = 0;
  let emptyReceives = 0;
  const started = performance.now();
  const deadline = started + 120_000;
  const loop = async () => {
    while (deleted < count && performance.now() < deadline) {
      const received = await call(ctx, "POST", `${messagesPath(queue)}/receive`, { max: 16 });
      const handles = received.json.messages.map((message) => message.receiptHandle);
      if (handles.length === 0) {
        emptyReceives++;
        continue;
      }
      const answer = await call(ctx, "POST", `${messagesPath(queue)}/delete`, { receiptHandles: handles });
      deleted += answer.json.results.filter((result) => result.deleted).length;
    }
  };
  await Promise.all(Array.from({ length: consumers }, loop));
  const seconds = (performance.now() - started) / 1000;
  return { rate: deleted / seconds, seconds, deleted, emptyReceives };
}

/** FIFO throughput with many groups and with one, each as a ratio to a standard queue's. */
async function throughput(ctx, suffix) {
  const { opts } = ctx;
  const count = opts.smoke ? 640 : Math.max(1_600, Math.round(opts.duration * 800));
  const consumers = opts.connections;
  const cases = [
    { name: "standard", queue: `bench-fifo-standard-${suffix}`, attributes: {}, groupOf: () => undefined, fifo: false },
    { name: `FIFO, ${ManyGroups} groups`, queue: `bench-fifo-many-${suffix}.fifo`, attributes: { fifo: true }, groupOf: (i) => `g${i % ManyGroups}`, fifo: true },
    { name: "FIFO, one group", queue: `bench-fifo-one-${suffix}.fifo`, attributes: { fifo: true }, groupOf: () => "only", fifo: true },
  ];
  const results = {};
  for (const c of cases) {
    await call(ctx, "PUT", `/v1/queues/${c.queue}`, c.attributes);
    ctx.log(`  fifo: ${c.name}: filling ${count} messages`);
    const fillStart = performance.now();
    await fill(ctx, c.queue, count, c.groupOf, c.fifo);
    const sendRate = count / ((performance.now() - fillStart) / 1000);
    ctx.log(`  fifo: ${c.name}: draining with ${consumers} consumers`);
    results[c.name] = { ...(await drain(ctx, c.queue, count, consumers)), sendRate };
  }
  const standard = results.standard;
  for (const c of cases) {
    const result = results[c.name];
    ctx.add(
      makeRow({
        scenario: "fifo",
        metric: `${c.name}: messages/s, receive 16 + delete 16`,
        value: result.rate,
        unit: "msg/s",
        floor: c.name === "standard" ? null : standard.rate,
        floorMetric: c.name === "standard" ? null : "standard queue, same drain",
        note: result.deleted < count ? `drained ${result.deleted} of ${count} in the time allowed` : undefined,
        detail: { messages: count, consumers, ...result },
      }),
      makeRow({
        scenario: "fifo",
        metric: `${c.name}: messages/s, send 16 (8 in parallel)`,
        value: result.sendRate,
        unit: "msg/s",
        floor: c.name === "standard" ? null : standard.sendRate,
        floorMetric: c.name === "standard" ? null : "standard queue, same sends",
      }),
    );
  }
}

/**
 * A quiet tenant's dwell time (from its send's start to the receive that returns it) on a
 * standard queue served by consumers that each hold 16 messages for `FairProcessingMs`: alone;
 * beside a noisy tenant with a deep backlog that names itself (fair delivery); and beside the same
 * backlog sent without a tenant, which fair delivery cannot tell apart (the queue's plain order).
 */
async function dwell(ctx, suffix) {
  const { opts } = ctx;
  const samplesWanted = opts.smoke ? 5 : 30;
  const backlog = opts.smoke ? 400 : 3_000;
  const cases = [
    { name: "alone", noisy: null },
    { name: "beside a noisy tenant", noisy: "noisy" },
    { name: "beside an unnamed flood", noisy: undefined },
  ];
  const results = {};
  for (const c of cases) {
    const queue = `bench-fair-${c.name.replace(/\W+/g, "-")}-${suffix}`;
    await call(ctx, "PUT", `/v1/queues/${queue}`, { visibilityTimeout: 60 });
    if (c.noisy !== null) await fill(ctx, queue, backlog, () => c.noisy, false);
    const sentAt = new Map();
    const dwellMs = [];
    let stop = false;
    const consumer = async () => {
      while (!stop) {
        const received = await call(ctx, "POST", `${messagesPath(queue)}/receive`, { max: 16, waitSeconds: 1 });
        const now = performance.now();
        for (const message of received.json.messages) {
          if (sentAt.has(message.body)) dwellMs.push(now - sentAt.get(message.body));
        }
        if (received.json.messages.length === 0) continue;
        await sleep(FairProcessingMs);
        await call(ctx, "POST", `${messagesPath(queue)}/delete`, { receiptHandles: received.json.messages.map((message) => message.receiptHandle) });
      }
    };
    const consumers = Array.from({ length: FairConsumers }, consumer);
    ctx.log(`  fifo: quiet tenant ${c.name}: ${samplesWanted} samples`);
    const deadline = performance.now() + 60_000;
    for (let i = 0; i < samplesWanted && performance.now() < deadline; i++) {
      const body = `quiet-${i}`;
      sentAt.set(body, performance.now());
      await call(ctx, "POST", messagesPath(queue), { body, groupId: "quiet" });
      await sleep(150);
    }
    while (dwellMs.length < sentAt.size && performance.now() < deadline) await sleep(50);
    stop = true;
    await Promise.all(consumers);
    results[c.name] = { ...summarize(dwellMs), received: dwellMs.length, sent: sentAt.size };
  }
  const alone = results.alone;
  for (const c of cases) {
    const result = results[c.name];
    ctx.add(
      makeRow({
        scenario: "fifo",
        metric: `quiet tenant's p50 dwell, ${c.name}`,
        value: result.p50,
        unit: "ms",
        floor: c.name === "alone" ? null : alone.p50,
        floorMetric: c.name === "alone" ? null : "the quiet tenant alone",
        note: result.received < result.sent ? `${result.sent - result.received} of ${result.sent} not received within 60 s` : undefined,
        detail: { consumers: FairConsumers, processingMs: FairProcessingMs, backlog: c.noisy === null ? 0 : backlog, ...result },
      }),
    );
  }
}

/** The FIFO and fair-queue figures. */
export async function fifo(ctx) {
  const suffix = Math.random().toString(36).slice(2, 8);
  await throughput(ctx, suffix);
  await dwell(ctx, suffix);
}
