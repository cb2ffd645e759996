// Scenario: a queue's consumer Worker (bench/consumer-worker, bound to the service as
// BENCH_CONSUMER) against the `consume` scenario's receive 16 + delete 16 over HTTP.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { runLoad } from "../lib/http.mjs";
import { makeRow } from "../lib/report.mjs";

const ConsumerQueue = "bench-consumer";

/**
 * Fills a queue while its consumer is paused, then resumes it and times until the consumer has
 * acknowledged every message (read from the consumer's own counters, every 50 ms).
 */
export async function consumer(ctx, instance, client) {
  const messages = Math.max(1_000, Math.round(ctx.opts.duration * 2_000));
  const path = `/v1/queues/${ConsumerQueue}`;
  await client.call("PUT", path, "{}", { extraHeaders: ctx.jsonHeaders });
  const settings = { binding: "BENCH_CONSUMER", batchSize: 100, maxWaitMs: 0, maxConcurrency: 4 };
  await client.call("PUT", `${path}/consumer`, JSON.stringify(settings), { extraHeaders: ctx.jsonHeaders });
  await client.call("POST", `${path}/consumer/pause`, undefined, { extraHeaders: ctx.authHeaders });

  const batch = JSON.stringify({ messages: Array.from({ length: 16 }, () => ({ body: ctx.body })) });
  await runLoad(
    { url: `${instance.url}${path}/messages`, method: "POST", headers: ctx.jsonHeaders, body: batch, connections: ctx.opts.connections, amount: Math.ceil(messages / 16) },
    [],
  );
  const filled = (await client.call("GET", path, undefined, { extraHeaders: ctx.authHeaders })).json.counts.active;
  ctx.log(`  consumer: ${filled} messages queued; resuming the consumer Worker`);

  const startedMs = performance.now();
  await client.call("POST", `${path}/consumer/resume`, undefined, { extraHeaders: ctx.authHeaders });
  const budgetMs = 120_000;
  let stats;
  for (;;) {
    stats = (await client.call("GET", `${path}/consumer`, undefined, { extraHeaders: ctx.authHeaders })).json.stats;
    if (stats.acked >= filled || performance.now() - startedMs > budgetMs) break;
    await sleep(50);
  }
  const seconds = (performance.now() - startedMs) / 1000;
  const rate = stats.acked / seconds;
  ctx.add(
    makeRow({
      scenario: "consumer",
      metric: "messages/s acknowledged by a consumer Worker (batches of 100, 4 in flight)",
      value: rate,
      unit: "msg/s",
      floor: ctx.floor.consume ?? null,
      floorMetric: "consume messages/s",
      target: 1,
      note: stats.acked < filled ? `only ${stats.acked} of ${filled} acknowledged within ${budgetMs / 1000} s` : undefined,
      detail: { messages: filled, seconds: Math.round(seconds * 100) / 100, ...stats },
    }),
  );
}
