// Scenarios against the service's REST API through `wrangler dev`: the floor, sends, consume, wake
// latency, fan-out, spread over queues, and receive latency under a large backlog.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { combineLoads, runLoad } from "../lib/http.mjs";
import { cpuMeter, memory } from "../lib/processes.mjs";
import { makeRow } from "../lib/report.mjs";
import { summarize } from "../lib/stats.mjs";

const LoadQueue = "bench-load";
const WakeQueue = "bench-wake";

/** Mean CPU milliseconds per role over several meter readings. */
function averageCpu(readings) {
  const roles = ["proxy", "runtime", "client"];
  return Object.fromEntries(
    roles.map((role) => [role, readings.length ? Math.round((readings.reduce((sum, r) => sum + (r[role] ?? 0), 0) / readings.length) * 100) / 100 : null]),
  );
}

/** Runs `tasks` with at most `limit` at once. */
async function limited(tasks, limit) {
  let next = 0;
  const results = new Array(tasks.length);
  const lane = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}

async function createQueues(ctx, names) {
  await limited(
    names.map((name) => () => ctx.client.call("PUT", `/v1/queues/${name}`, {})),
    8,
  );
}

/** autocannon options; a top-level `path` goes into the URL (autocannon reads the path from there). */
function loadOptions(ctx, { path: urlPath, ...extra }) {
  return { url: `${ctx.service.url}${urlPath ?? ""}`, connections: ctx.opts.connections, headers: ctx.jsonHeaders, ...extra };
}

const messagePath = (queue) => `/v1/queues/${queue}/messages`;

function loadDetail(load) {
  return {
    seconds: Math.round(load.seconds * 100) / 100,
    requests: load.ok,
    non2xx: load.non2xx,
    errors: load.errors + load.timeouts,
    latencyMs: load.latency,
    cpuMsPerRequest: load.cpuMsPerRequest,
    cpuBusy: load.cpuBusy,
    rounds: load.rounds,
  };
}

function failureNote(load) {
  const failed = load.non2xx + load.errors + load.timeouts;
  return failed > 0 ? `${failed} of ${load.ok + failed} requests failed` : undefined;
}

/**
 * Scenarios 1–3 measured together, interleaved round by round (floor, send-1, send-16, floor, ...),
 * so that load from elsewhere on the machine falls on all of them alike.
 */
export async function throughputTrio(ctx, selected) {
  const { opts } = ctx;
  const slice = Math.max(1, Math.round(opts.duration / opts.rounds));
  await ctx.client.call("PUT", `/v1/queues/${LoadQueue}`, {});
  const one = JSON.stringify({ body: ctx.body });
  const batch = JSON.stringify({ messages: Array.from({ length: 16 }, () => ({ body: ctx.body })) });
  const cases = [
    selected.has("floor") && { name: "floor", options: { method: "GET", path: "/v1/health", headers: ctx.authHeaders } },
    selected.has("send-1") && { name: "send-1", options: { method: "POST", path: messagePath(LoadQueue), body: one } },
    selected.has("send-16") && { name: "send-16", options: { method: "POST", path: messagePath(LoadQueue), body: batch } },
  ].filter(Boolean);
  if (selected.has("floor")) {
    // The floor is the router plus authentication: health answers without credentials, but checks
    // those that are sent, as the floor's requests do. A wrong key must be refused, or the floor
    // would no longer be comparable with earlier runs.
    await ctx.client.call("GET", "/v1/health", undefined, { extraHeaders: { authorization: "Bearer not-the-key" }, expect: [401] });
  }
  // Warm every path (objects started, code compiled) outside the timing.
  for (const c of cases) await runLoad(loadOptions(ctx, { ...c.options, amount: ctx.opts.connections * 4 }), []);
  const slices = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const c of cases) {
      ctx.log(`  ${c.name}: round ${round + 1}/${opts.rounds}, ${slice} s`);
      slices[c.name].push(await runLoad(loadOptions(ctx, { ...c.options, duration: slice }), ctx.processes()));
    }
  }
  const loads = Object.fromEntries(Object.entries(slices).map(([name, list]) => [name, combineLoads(list)]));

  if (loads.floor) {
    // The floor's latency one request at a time, by the same client the latency probes use.
    await ctx.client.call("GET", "/v1/health", undefined, { extraHeaders: ctx.authHeaders });
    const samples = [];
    for (let i = 0; i < opts.samples; i++) {
      samples.push((await ctx.client.call("GET", "/v1/health", undefined, { extraHeaders: ctx.authHeaders })).ms);
    }
    const unloaded = summarize(samples);
    ctx.floor.rps = loads.floor.requestsPerSecond;
    ctx.floor.p50Loaded = loads.floor.latency.p50;
    ctx.floor.p50 = unloaded.p50;
    ctx.add(
      makeRow({
        scenario: "floor",
        metric: "GET /v1/health requests/s",
        value: loads.floor.requestsPerSecond,
        unit: "req/s",
        note: failureNote(loads.floor),
        detail: loadDetail(loads.floor),
      }),
      makeRow({
        scenario: "floor",
        metric: `p50 latency at ${opts.connections} connections`,
        value: loads.floor.latency.p50,
        unit: "ms",
      }),
      makeRow({
        scenario: "floor",
        metric: "p50 latency, one request at a time",
        value: unloaded.p50,
        unit: "ms",
        detail: { samples: unloaded },
      }),
    );
  }
  if (loads["send-1"]) {
    ctx.floor.send1 = loads["send-1"].requestsPerSecond;
    ctx.add(
      makeRow({
        scenario: "send-1",
        metric: "messages/s, one per request",
        value: loads["send-1"].requestsPerSecond,
        unit: "msg/s",
        floor: ctx.floor.rps ?? null,
        floorMetric: "floor requests/s",
        target: 0.8,
        note: failureNote(loads["send-1"]),
        detail: loadDetail(loads["send-1"]),
      }),
    );
  }
  if (loads["send-16"]) {
    ctx.floor.send16 = loads["send-16"].requestsPerSecond * 16;
    ctx.add(
      makeRow({
        scenario: "send-16",
        metric: "messages/s, 16 per request",
        value: loads["send-16"].requestsPerSecond * 16,
        unit: "msg/s",
        floor: ctx.floor.send1 ?? null,
        floorMetric: "send-1 messages/s",
        target: 10,
        note: failureNote(loads["send-16"]),
        detail: loadDetail(loads["send-16"]),
      }),
    );
  }
}

/**
 * Scenario 4: each connection receives 16 and deletes them in one batch, over the backlog the send
 * scenarios left in the queue; stops early if the queue runs dry.
 */
export async function consume(ctx) {
  const info = await ctx.client.call("GET", `/v1/queues/${LoadQueue}`, undefined, { extraHeaders: ctx.authHeaders });
  const backlog = info.json.counts.active;
  if (backlog < 16 * ctx.opts.connections) {
    // Only when run on its own with a tiny duration: top the queue up.
    const fill = JSON.stringify({ messages: Array.from({ length: 16 }, () => ({ body: ctx.body })) });
    await runLoad(loadOptions(ctx, { method: "POST", path: messagePath(LoadQueue), body: fill, amount: 200 }), []);
  }
  let received = 0;
  let deleted = 0;
  let emptyReceives = 0;
  let running;
  const receivePath = `${messagePath(LoadQueue)}/receive`;
  const deletePath = `${messagePath(LoadQueue)}/delete`;
  const requests = [
    {
      method: "POST",
      path: receivePath,
      body: JSON.stringify({ max: 16 }),
      onResponse: (status, body, context) => {
        context.handles = [];
        if (status !== 200) return;
        const messages = JSON.parse(body).messages;
        received += messages.length;
        context.handles = messages.map((message) => message.receiptHandle);
        if (messages.length === 0 && ++emptyReceives === 1) running?.stop(); // drained
      },
    },
    {
      method: "POST",
      path: deletePath,
      // Nothing received: no delete; autocannon goes back to the receive.
      setupRequest: (request, context) =>
        context.handles?.length ? { ...request, body: JSON.stringify({ receiptHandles: context.handles }) } : null,
      onResponse: (status, body) => {
        if (status === 200) deleted += JSON.parse(body).results.filter((result) => result.deleted).length;
      },
    },
  ];
  ctx.log(`  consume: ${ctx.opts.duration} s over a backlog of ${backlog} messages`);
  const load = await runLoad(loadOptions(ctx, { requests, duration: ctx.opts.duration }), ctx.processes(), (instance) => {
    running = instance;
  });
  const rate = deleted / load.seconds;
  ctx.floor.consume = rate;
  ctx.add(
    makeRow({
      scenario: "consume",
      metric: "messages/s, receive 16 + delete 16",
      value: rate,
      unit: "msg/s",
      floor: ctx.floor.send16 ?? null,
      floorMetric: "send-16 messages/s",
      target: 0.5,
      note:
        [failureNote(load), emptyReceives > 0 ? `queue ran dry after ${load.seconds.toFixed(1)} s` : null].filter(Boolean).join("; ") ||
        undefined,
      detail: { backlogAtStart: backlog, received, deleted, emptyReceives, ...loadDetail(load) },
    }),
  );
}

/**
 * Scenario 5: a consumer long-polls an empty queue; once it is parked, a producer sends one
 * message; the sample is the time from the send's start until the consumer has the whole answer.
 */
export async function wake(ctx) {
  const { client, opts } = ctx;
  await client.call("PUT", `/v1/queues/${WakeQueue}`, {});
  const parkMs = 40;
  const samples = [];
  const sendMs = [];
  let invalid = 0;
  const total = opts.wakeSamples + 5;
  ctx.log(`  wake: ${opts.wakeSamples} samples`);
  const wakeCpu = [];
  for (let i = 0; i < total; i++) {
    const meter = cpuMeter(ctx.processes());
    const receive = client.call("POST", `${messagePath(WakeQueue)}/receive`, { max: 1, waitSeconds: 20, visibilityTimeout: 600 });
    await sleep(parkMs);
    const start = performance.now();
    const send = client.call("POST", messagePath(WakeQueue), { body: ctx.body });
    const [received, sent] = await Promise.all([receive, send]);
    const messages = received.json.messages;
    if (messages.length !== 1 || messages[0].id !== sent.json.id || received.endedAt < start) {
      invalid++;
    } else if (i >= 5) {
      samples.push(received.endedAt - start);
      sendMs.push(sent.ms);
    }
    if (i >= 5) wakeCpu.push(meter());
    if (messages.length > 0) {
      await client.call("POST", `${messagePath(WakeQueue)}/delete`, { receiptHandles: messages.map((m) => m.receiptHandle) });
    }
  }
  // For comparison: the same send, one at a time, with no consumer parked (then received away).
  const plainSendMs = [];
  const plainCpu = [];
  for (let i = 0; i < Math.min(50, opts.wakeSamples) + 5; i++) {
    const meter = cpuMeter(ctx.processes());
    const sent = await client.call("POST", messagePath(WakeQueue), { body: ctx.body });
    if (i >= 5) {
      plainSendMs.push(sent.ms);
      plainCpu.push(meter());
    }
    const received = await client.call("POST", `${messagePath(WakeQueue)}/receive`, { max: 1, visibilityTimeout: 600 });
    await client.call("POST", `${messagePath(WakeQueue)}/delete`, { receiptHandles: received.json.messages.map((m) => m.receiptHandle) });
  }
  const wakeStats = summarize(samples);
  const detail = {
    parkMs,
    samples: wakeStats,
    producerSendMs: summarize(sendMs),
    sendWithoutParkedConsumerMs: summarize(plainSendMs),
    // CPU per sample (the parked receive, the send, both answers) against one plain send.
    cpuMsPerSample: averageCpu(wakeCpu),
    cpuMsPerPlainSend: averageCpu(plainCpu),
    invalidSamples: invalid,
  };
  ctx.add(
    makeRow({
      scenario: "wake",
      metric: "send → parked consumer has it, p50",
      value: wakeStats.p50,
      unit: "ms",
      floor: ctx.floor.p50 ?? null,
      floorMetric: "floor p50, one request at a time",
      target: 2,
      op: "<=",
      note: wakeStats.n < opts.wakeSamples ? `${wakeStats.n} valid samples of ${opts.wakeSamples}` : undefined,
      detail,
    }),
    makeRow({
      scenario: "wake",
      metric: "send → parked consumer has it, p99",
      value: wakeStats.p99,
      unit: "ms",
      floor: ctx.floor.p50 ?? null,
      floorMetric: "floor p50, one request at a time",
    }),
  );
}

/**
 * Scenario 6: a topic with 1, 10 and 50 queue subscriptions. Each queue has a consumer parked in a
 * long poll; a sample is the time from the publish's start until the last consumer has the message.
 * The cases take turns, publish by publish.
 */
export async function fanout(ctx) {
  const { client, opts } = ctx;
  const cases = [1, 10, 50];
  const setups = [];
  for (const n of cases) {
    const topic = `bench-fan-${n}`;
    const queues = Array.from({ length: n }, (_, i) => `bench-fan-${n}-q${String(i).padStart(2, "0")}`);
    await createQueues(ctx, queues);
    await client.call("PUT", `/v1/topics/${topic}`, {});
    for (const [i, queue] of queues.entries()) {
      await client.call("PUT", `/v1/topics/${topic}/subscriptions/s${i}`, { protocol: "queue", endpoint: queue });
    }
    setups.push({ n, topic, queues, last: [], first: [], publishMs: [], invalid: 0, cpu: [] });
  }
  const warmup = 2;
  ctx.log(`  fanout: ${opts.publishes} publishes to each of 1, 10, 50 subscriptions`);
  for (let round = 0; round < opts.publishes + warmup; round++) {
    for (const setup of setups) {
      const meter = cpuMeter(ctx.processes());
      const receives = setup.queues.map((queue) =>
        client.call("POST", `${messagePath(queue)}/receive`, { max: 16, waitSeconds: 20, visibilityTimeout: 43_200 }),
      );
      await sleep(40 + 2 * setup.n);
      const start = performance.now();
      const publish = client.call("POST", `/v1/topics/${setup.topic}/messages`, { body: ctx.body });
      const [published, ...received] = await Promise.all([publish, ...receives]);
      const cpu = meter();
      const valid = received.every(
        (answer) => answer.json.messages.length === 1 && answer.json.messages[0].id === published.json.id && answer.endedAt >= start,
      );
      if (!valid) {
        setup.invalid++;
        continue;
      }
      if (round < warmup) continue;
      setup.last.push(Math.max(...received.map((answer) => answer.endedAt)) - start);
      setup.first.push(Math.min(...received.map((answer) => answer.endedAt)) - start);
      setup.publishMs.push(published.ms);
      setup.cpu.push(cpu);
    }
  }
  const one = summarize(setups[0].last).p50;
  for (const setup of setups) {
    const last = summarize(setup.last);
    ctx.add(
      makeRow({
        scenario: "fanout",
        metric: `publish → in all ${setup.n} queue${setup.n === 1 ? "" : "s"}, p50`,
        value: last.p50,
        unit: "ms",
        floor: setup.n === 1 ? null : one,
        floorMetric: setup.n === 1 ? null : "fanout p50 with 1 subscription",
        target: setup.n === 50 ? 5 : null,
        op: "<=",
        note: setup.invalid > 0 ? `${setup.invalid} publishes not seen by every consumer, left out` : undefined,
        detail: {
          lastArrivalMs: last,
          firstArrivalMs: summarize(setup.first),
          publishAckMs: summarize(setup.publishMs),
          // CPU per publish round (the n parked receives, the publish, n deliveries, n answers),
          // averaged over the rounds: /proc counts CPU in 10 ms ticks.
          cpuMsPerPublish: averageCpu(setup.cpu),
        },
      }),
    );
  }
}

/** Scenario 7: the same single-message send load spread round-robin over 1, 10 and 100 queues. */
export async function spread(ctx) {
  const { opts } = ctx;
  const counts = [1, 10, 100];
  const queues = Array.from({ length: 100 }, (_, i) => `bench-spread-q${String(i).padStart(3, "0")}`);
  await createQueues(ctx, queues);
  const body = JSON.stringify({ body: ctx.body });
  const slice = Math.max(1, Math.round(opts.duration / opts.rounds));
  const options = (count) => {
    let next = 0;
    return loadOptions(ctx, {
      requests: [{ method: "POST", body, setupRequest: (request) => ({ ...request, path: messagePath(queues[next++ % count]) }) }],
    });
  };
  // Start every queue's object before timing.
  await runLoad({ ...options(100), amount: 200 }, []);
  const slices = Object.fromEntries(counts.map((count) => [count, []]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const count of counts) {
      ctx.log(`  spread: ${count} queue(s), round ${round + 1}/${opts.rounds}, ${slice} s`);
      slices[count].push(await runLoad({ ...options(count), duration: slice }, ctx.processes()));
    }
  }
  const loads = Object.fromEntries(counts.map((count) => [count, combineLoads(slices[count])]));
  const base = loads[1].requestsPerSecond;
  for (const count of counts) {
    ctx.add(
      makeRow({
        scenario: "spread",
        metric: `messages/s over ${count} queue${count === 1 ? "" : "s"}`,
        value: loads[count].requestsPerSecond,
        unit: "msg/s",
        floor: count === 1 ? null : base,
        floorMetric: count === 1 ? null : "spread messages/s over 1 queue",
        note: failureNote(loads[count]),
        detail: loadDetail(loads[count]),
      }),
    );
  }
}

/** Largest SQLite file of a queue object in the state folder, MiB. */
function largestQueueDatabaseMiB(stateDir) {
  let largest = 0;
  const walk = (dir) => {
    let entries = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".sqlite")) largest = Math.max(largest, statSync(full).size);
    }
  };
  walk(path.join(stateDir, "v3", "do"));
  return Math.round((largest / 1048576) * 10) / 10;
}

/**
 * Scenario 8: receive latency with a small and a large backlog of 1 KiB messages. The large queue
 * is filled with batches of 16 over many connections until it holds the requested number or the
 * time budget ends. Each probe receives 16 (timed), deletes them and sends 16 new ones (not
 * timed), so the backlog stays as it was; small and large probes take turns.
 */
export async function backlog(ctx) {
  const { client, opts } = ctx;
  const small = { queue: "bench-backlog-small", requested: 1_000 };
  const large = { queue: "bench-backlog-large", requested: opts.backlog };
  const batch = JSON.stringify({ messages: Array.from({ length: 16 }, () => ({ body: ctx.body })) });
  // More connections than the other scenarios: concurrent sends share the object's commits.
  const fillConnections = Math.max(64, opts.connections);
  for (const target of [small, large]) {
    await client.call("PUT", `/v1/queues/${target.queue}`, {});
    const requests = Math.ceil(target.requested / 16);
    const budgetS = target === large ? opts.backlogBudget : 60;
    ctx.log(`  backlog: filling ${target.queue} with ${(requests * 16).toLocaleString("en-US")} messages (budget ${budgetS} s)`);
    let timer;
    const load = await runLoad(
      loadOptions(ctx, {
        connections: Math.min(fillConnections, requests),
        method: "POST",
        path: messagePath(target.queue),
        body: batch,
        amount: requests,
      }),
      ctx.processes(),
      (instance) => {
        timer = setTimeout(() => instance.stop(), budgetS * 1000);
      },
    );
    clearTimeout(timer);
    target.filled = load.ok * 16;
    target.fill = load;
    ctx.log(`  backlog: ${target.queue} holds ${target.filled.toLocaleString("en-US")} after ${load.seconds.toFixed(1)} s`);
  }
  const probe = async (target, record) => {
    const received = await client.call("POST", `${messagePath(target.queue)}/receive`, { max: 16, visibilityTimeout: 43_200 });
    const handles = received.json.messages.map((message) => message.receiptHandle);
    if (record) {
      target.samples.push(received.ms);
      if (handles.length < 16) target.short = (target.short ?? 0) + 1;
    }
    if (handles.length > 0) {
      await client.call("POST", `${messagePath(target.queue)}/delete`, { receiptHandles: handles });
      await client.call("POST", messagePath(target.queue), { messages: handles.map(() => ({ body: ctx.body })) });
    }
  };
  small.samples = [];
  large.samples = [];
  ctx.log(`  backlog: ${opts.samples} receive probes on each queue`);
  for (let i = 0; i < opts.samples + 5; i++) {
    await probe(small, i >= 5);
    await probe(large, i >= 5);
  }
  const smallStats = summarize(small.samples);
  const largeStats = summarize(large.samples);
  const processes = ctx.processes();
  const mem = memory(processes);
  const runtime = mem.filter((m) => m.role === "runtime");
  const peak = Math.max(...runtime.map((m) => m.peakMiB ?? 0));
  const fillRate = large.fill.ok > 0 ? (large.fill.ok * 16) / large.fill.seconds : 0;
  const sizeLabel = large.filled.toLocaleString("en-US");
  ctx.add(
    makeRow({
      scenario: "backlog",
      metric: `receive 16, p50, ${small.filled.toLocaleString("en-US")} waiting`,
      value: smallStats.p50,
      unit: "ms",
      detail: { samples: smallStats, shortReceives: small.short ?? 0 },
    }),
    makeRow({
      scenario: "backlog",
      metric: `receive 16, p50, ${sizeLabel} waiting`,
      value: largeStats.p50,
      unit: "ms",
      floor: smallStats.p50,
      floorMetric: "backlog p50 with 1,000 waiting",
      target: 1.5,
      op: "<=",
      note: large.filled < large.requested ? `${large.requested.toLocaleString("en-US")} requested; ${sizeLabel} filled within the ${opts.backlogBudget} s budget` : undefined,
      detail: { samples: largeStats, shortReceives: large.short ?? 0 },
    }),
    makeRow({
      scenario: "backlog",
      metric: `receive 16, p99, ${sizeLabel} vs 1,000 waiting`,
      value: largeStats.p99,
      unit: "ms",
      floor: smallStats.p99,
      floorMetric: "backlog p99 with 1,000 waiting",
    }),
    makeRow({
      scenario: "backlog",
      metric: "messages waiting in the large queue",
      value: large.filled,
      unit: "messages",
      floor: large.requested,
      floorMetric: "messages requested",
      note: large.filled < large.requested ? "time budget ended before the queue was full" : undefined,
    }),
    makeRow({
      scenario: "backlog",
      metric: `fill rate, batches of 16 over ${fillConnections} connections`,
      value: fillRate,
      unit: "msg/s",
      detail: loadDetail(large.fill),
    }),
    makeRow({
      scenario: "backlog",
      metric: "workerd runtime peak RSS (VmHWM)",
      value: peak,
      unit: "MiB",
      detail: { processes: mem, largestQueueDatabaseMiB: largestQueueDatabaseMiB(ctx.service.stateDir) },
    }),
  );
}
