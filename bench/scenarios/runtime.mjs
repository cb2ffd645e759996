// Scenarios that run code inside workerd: the queue object's engine against raw SQLite (9), and
// this service's binding against Cloudflare Queues' producer binding from one Worker (10).
import { makeRow } from "../lib/report.mjs";
import { median } from "../lib/stats.mjs";

async function getJson(url, timeoutMs) {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  if (response.status !== 200 || json.error) throw new Error(`${url} answered ${response.status}: ${json.error ?? text.slice(0, 300)}`);
  return json;
}

/**
 * Scenario 9, against `bench/engine-worker`: in one Durable Object (a QueueObject subclass), N
 * messages sent, received and deleted in batches of 100 through the object's methods, against N
 * raw inserts of the same bodies into a table of the same object; every batch is its own commit.
 */
export async function engine(ctx, instance) {
  const { opts } = ctx;
  const query = new URLSearchParams({
    messages: String(opts.engineMessages),
    batch: "100",
    bytes: String(ctx.body.length),
    rounds: String(opts.engineRounds),
    commit: "1",
  });
  ctx.log(`  engine: ${opts.engineRounds} round(s) of ${opts.engineMessages.toLocaleString("en-US")} messages`);
  const result = await getJson(`${instance.url}/run?${query}`, 600_000);
  if (result.clockCheckMs < 15) throw new Error(`the runtime's clock did not advance across I/O (a 20 ms spin read ${result.clockCheckMs} ms)`);
  const phaseMs = (name) => median(result.phases.filter((phase) => phase.name === name).map((phase) => phase.ms));
  const messagesOf = (name) => result.phases.find((phase) => phase.name === name).messages;
  const rate = (name) => (messagesOf(name) * 1000) / phaseMs(name);
  const raw = rate("raw-insert");
  const operations = messagesOf("send") + messagesOf("receive") + messagesOf("delete");
  const opsRate = (operations * 1000) / (phaseMs("send") + phaseMs("receive") + phaseMs("delete"));
  const detail = { phases: result.phases, options: result.options, clockCheckMs: result.clockCheckMs };
  const rawMetric = "raw SQLite inserts/s, same object";
  ctx.add(
    makeRow({ scenario: "engine", metric: "raw SQLite inserts/s (100 per commit)", value: raw, unit: "rows/s", detail }),
    makeRow({ scenario: "engine", metric: "send, messages/s (100 per call)", value: rate("send"), unit: "msg/s", floor: raw, floorMetric: rawMetric }),
    makeRow({ scenario: "engine", metric: "receive, messages/s (100 per call)", value: rate("receive"), unit: "msg/s", floor: raw, floorMetric: rawMetric }),
    makeRow({ scenario: "engine", metric: "delete, messages/s (100 per call)", value: rate("delete"), unit: "msg/s", floor: raw, floorMetric: rawMetric }),
    makeRow({
      scenario: "engine",
      metric: "queue operations/s (send, receive, delete)",
      value: opsRate,
      unit: "ops/s",
      floor: raw,
      floorMetric: rawMetric,
      target: 0.5,
    }),
  );
}

/**
 * Scenario 10, against `bench/peer-worker` (primary) and the service (auxiliary) in one wrangler:
 * the driver Worker sends for a fixed time with `connections` sends in flight, through
 * `env.CMQ.send/sendBatch` and through `env.PEER.send/sendBatch`, taking turns.
 */
export async function peer(ctx, instance) {
  const { opts } = ctx;
  const slice = Math.max(1, Math.round(opts.duration / opts.rounds));
  const run = (target, batch, seconds) =>
    getJson(
      `${instance.url}/run?${new URLSearchParams({
        target,
        batch: String(batch),
        bytes: String(ctx.body.length),
        concurrency: String(opts.connections),
        seconds: String(seconds),
      })}`,
      (seconds + 60) * 1000,
    );
  // Warm both paths: the queue's object, the queue broker, the consumer.
  for (const target of ["cmq", "peer"]) for (const batch of [1, 16]) await run(target, batch, 1);
  const runs = { cmq: { 1: [], 16: [] }, peer: { 1: [], 16: [] } };
  for (let round = 0; round < opts.rounds; round++) {
    for (const batch of [1, 16]) {
      for (const target of round % 2 === 0 ? ["cmq", "peer"] : ["peer", "cmq"]) {
        ctx.log(`  peer: ${target} batch ${batch}, round ${round + 1}/${opts.rounds}, ${slice} s`);
        runs[target][batch].push(await run(target, batch, slice));
      }
    }
  }
  const rate = (list) => (list.reduce((sum, r) => sum + r.messages, 0) * 1000) / list.reduce((sum, r) => sum + r.elapsedMs, 0);
  const errors = (list) => list.reduce((sum, r) => sum + r.errors, 0);
  const firstError = (list) => list.find((r) => r.firstError)?.firstError;
  const delivered = await getJson(`${instance.url}/delivered`, 10_000).catch(() => null);
  for (const batch of [1, 16]) {
    const cmq = runs.cmq[batch];
    const queues = runs.peer[batch];
    const failures = [
      errors(cmq) ? `CMQ: ${errors(cmq)} failed sends (${firstError(cmq)})` : null,
      errors(queues) ? `Queues: ${errors(queues)} failed sends (${firstError(queues)})` : null,
    ].filter(Boolean);
    ctx.add(
      makeRow({
        scenario: "peer",
        metric: batch === 1 ? "messages/s, env.CMQ.send vs env.PEER.send" : "messages/s, env.CMQ.sendBatch(16) vs env.PEER.sendBatch(16)",
        value: rate(cmq),
        unit: "msg/s",
        floor: rate(queues),
        floorMetric: batch === 1 ? "Cloudflare Queues send messages/s" : "Cloudflare Queues sendBatch messages/s",
        target: 1.0,
        note: failures.join("; ") || undefined,
        detail: { cmq, queues, queuesConsumerDelivered: delivered?.delivered ?? null },
      }),
    );
  }
}
