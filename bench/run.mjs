#!/usr/bin/env node
// `npm run bench [-- options]`: starts the service (and the benchmark Workers) with `wrangler dev`
// on free loopback ports and fresh temporary state, runs the scenarios, stops everything it
// started, prints a table and writes bench/results/latest.json and bench/results/latest.svg.
//
//   --scenarios a,b,c   any of: floor, send-1, send-16, consume, wake, live, fanout, spread, sqs,
//                       backlog, engine, peer, fifo, consumer, partitions (default: all; the floors a scenario is
//                       compared with are measured too)
//   --duration <s>      seconds of load per throughput case (default 10; smoke 1)
//   --connections <n>   keep-alive connections (and sends in flight in the peer Worker) (default 10; smoke 4)
//   --smoke             every scenario at a tiny size, in well under two minutes
//   --backlog <n>       messages in the large backlog queue (default 1,000,000; smoke 20,000)
//   --backlog-budget <s> most seconds to spend filling it (default 270; smoke 30)
//   --keep-state        keep the temporary folder (state, wrangler logs) and print its path
//   --state-dir <dir>   where the temporary folder goes (default: /dev/shm when it has 8 GiB free,
//                       else the system's temporary folder); see `benchStateRoot`
//   --local-observability  keep wrangler's local observability on (off by default: it stores a
//                       trace of every request in SQLite inside the same runtime, see README)
//   --cpu-profile       record a V8 CPU profile of the runtime during each scenario:
//                       bench/results/profiles/<scenario>.cpuprofile, and the top functions by
//                       self time in latest.json (sampling slows the runtime: compare such runs
//                       only with each other)
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "./lib/http.mjs";
import { connectProfiler, topSelfTime } from "./lib/profiler.mjs";
import { formatTable, makeRow, renderSvg } from "./lib/report.mjs";
import { killAllNow, serviceConfigWith, snapshotApp, startWrangler, stopAll } from "./lib/wrangler.mjs";
import { consumer } from "./scenarios/consumer.mjs";
import { engine, peer } from "./scenarios/runtime.mjs";
import { backlog, consume, fanout, spread, throughputTrio, wake } from "./scenarios/service.mjs";
import { fifo } from "./scenarios/fifo.mjs";
import { live } from "./scenarios/live.mjs";
import { sqs } from "./scenarios/sqs.mjs";
import { partitionsScenario } from "./scenarios/partitions.mjs";

const benchDir = import.meta.dirname;
const repoRoot = path.resolve(benchDir, "..");
const resultsDir = path.join(benchDir, "results");

const AllScenarios = ["floor", "send-1", "send-16", "consume", "wake", "live", "fanout", "spread", "sqs", "backlog", "engine", "peer", "fifo", "consumer", "partitions"];
/** What each scenario's figures are compared with. */
const Needs = { "send-1": ["floor"], "send-16": ["send-1"], consume: ["send-16"], wake: ["floor"], live: ["send-1", "wake"], consumer: ["consume"], partitions: ["floor"] };

const RootSecretId = "AKIDbenchroot000000000000000000000";
const RootSecretKey = `bench-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      scenarios: { type: "string" },
      duration: { type: "string" },
      connections: { type: "string" },
      smoke: { type: "boolean", default: false },
      backlog: { type: "string" },
      "backlog-budget": { type: "string" },
      "keep-state": { type: "boolean", default: false },
      "state-dir": { type: "string" },
      "local-observability": { type: "boolean", default: false },
      "cpu-profile": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      "usage: npm run bench -- [--scenarios a,b,c] [--duration s] [--connections n] [--smoke] [--backlog n] [--backlog-budget s] [--keep-state] [--state-dir dir] [--local-observability] [--cpu-profile]",
    );
    console.log(`scenarios: ${AllScenarios.join(", ")}`);
    process.exit(0);
  }
  const positive = (name, text, fallback) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, not ${text}`);
    return value;
  };
  const smoke = values.smoke;
  const requested = values.scenarios ? values.scenarios.split(",").map((s) => s.trim()).filter(Boolean) : AllScenarios;
  for (const name of requested) {
    if (!AllScenarios.includes(name)) throw new Error(`unknown scenario ${name}; known: ${AllScenarios.join(", ")}`);
  }
  const selected = new Set(requested);
  for (let grew = true; grew; ) {
    grew = false;
    for (const name of [...selected]) {
      for (const need of Needs[name] ?? []) {
        if (!selected.has(need)) {
          selected.add(need);
          grew = true;
        }
      }
    }
  }
  return {
    smoke,
    requested,
    selected,
    duration: positive("duration", values.duration, smoke ? 1 : 10),
    connections: Math.round(positive("connections", values.connections, smoke ? 4 : 10)),
    rounds: smoke ? 1 : 2,
    samples: smoke ? 20 : 200,
    wakeSamples: smoke ? 10 : 200,
    publishes: smoke ? 3 : 30,
    backlog: Math.round(positive("backlog", values.backlog, smoke ? 20_000 : 1_000_000)),
    backlogBudget: positive("backlog-budget", values["backlog-budget"], smoke ? 30 : 270),
    engineMessages: smoke ? 2_000 : 20_000,
    engineRounds: smoke ? 1 : 3,
    keepState: values["keep-state"],
    stateDir: values["state-dir"] ?? benchStateRoot(),
    localObservability: values["local-observability"],
    cpuProfile: values["cpu-profile"],
  };
}

if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`wrangler needs Node.js 22 or later; this is ${process.version}. Run \`npm run bench\` (it uses the project's Node 22).`);
  process.exit(2);
}

const startedAt = Date.now();

/** Free space a RAM disk needs to hold every scenario's state (the backlog's million messages included). */
const RamDiskMinFreeBytes = 8 * 1024 ** 3;

/**
 * Where the services keep their state. Locally the runtime's one thread waits for the fsync of
 * every commit, and on a disk shared with other work that wait swings from a quarter of a
 * millisecond to several (strace of a send load while tests ran elsewhere: p50 0.25 ms, p99 5 ms,
 * 13 % of the wall time). A deployed object's thread does not wait for its storage's durability
 * (output gates hold its answers instead), so the state goes to a RAM disk when there is one with
 * room.
 */
function benchStateRoot() {
  try {
    const { bavail, bsize } = statfsSync("/dev/shm");
    if (bavail * bsize >= RamDiskMinFreeBytes) return "/dev/shm";
  } catch {
    // No RAM disk here.
  }
  return os.tmpdir();
}

/** The commit measured, and whether the service's files differ from it (read-only git). */
function sourceState() {
  const git = (...args) => execFileSync("git", args, { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    const changed = git("status", "--porcelain", "--", "src", "wrangler.jsonc", "package.json", "bench/engine-worker", "bench/peer-worker");
    return { commit: git("rev-parse", "HEAD"), uncommittedChanges: changed ? changed.split("\n") : [] };
  } catch {
    return { commit: null, uncommittedChanges: [] };
  }
}

/** After a failure: the wrangler logs go to bench/results/tmp/<time>/ (ignored by git). */
function keepLogs(workRoot) {
  const target = path.join(resultsDir, "tmp", new Date().toISOString().replace(/[:.]/g, "-"));
  for (const instance of readdirSync(workRoot)) {
    const logs = path.join(workRoot, instance, "logs");
    if (existsSync(logs)) cpSync(logs, path.join(target, instance), { recursive: true });
  }
  return target;
}
const log = (message) => console.error(`[bench ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${message}`);

async function main() {
  const opts = parseOptions();
  const workRoot = mkdtempSync(path.join(opts.stateDir, "edge-cmq-bench-"));
  const appDir = snapshotApp(path.join(workRoot, "app"));
  const source = sourceState();
  const rows = [];
  const failures = [];
  const profiles = [];
  const loadStart = os.loadavg();
  const authHeaders = { authorization: `Bearer ${RootSecretKey}` };
  // wrangler's local observability writes a trace of every request into SQLite in the runtime
  // (one fsync and ~14 page writes per request, measured with strace): dev tooling, not the
  // service, so it is off unless asked for.
  const runtimeEnv = opts.localObservability ? {} : { X_LOCAL_OBSERVABILITY: "false" };
  const ctx = {
    opts,
    rows,
    log,
    body: "x".repeat(1024),
    authHeaders,
    root: { secretId: RootSecretId, secretKey: RootSecretKey },
    jsonHeaders: { ...authHeaders, "content-type": "application/json" },
    floor: {},
    add: (...newRows) => rows.push(...newRows),
  };
  log(`scenarios: ${[...opts.selected].join(", ")}; ${opts.duration} s per case, ${opts.connections} connections${opts.smoke ? " (smoke)" : ""}`);
  log(`temporary folder: ${workRoot}`);

  /**
   * Runs `run` under a CPU profile of `instance`'s runtime when --cpu-profile is given; the
   * profile is written to bench/results/profiles/<label>.cpuprofile and summarised in the results.
   */
  const profiled = async (instance, label, run) => {
    if (!opts.cpuProfile) return run();
    const profiler = await connectProfiler(instance.inspectorPort);
    await profiler.start();
    try {
      return await run();
    } finally {
      const profile = await profiler.stop();
      profiler.close();
      const file = path.join(resultsDir, "profiles", `${label.replace(/[^a-z0-9-]+/gi, "_")}.cpuprofile`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      profiles.push({ label, file: path.relative(repoRoot, file), ...topSelfTime(profile) });
      log(`${label}: CPU profile in ${path.relative(repoRoot, file)}`);
    }
  };

  /** Runs one scenario; a failure becomes a row that says so, and the others still run. */
  const attempt = async (scenario, run) => {
    const began = Date.now();
    log(`${scenario}: start`);
    try {
      await run();
      log(`${scenario}: done in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${scenario}: FAILED: ${message}`);
      failures.push({ scenario, error: message });
      rows.push(makeRow({ scenario, metric: "failed", value: null, unit: "", note: message.split("\n")[0] }));
    }
  };

  const serviceInstance = async (label) =>
    startWrangler({
      name: label,
      configs: ["wrangler.jsonc"],
      appDir,
      workDir: path.join(workRoot, label),
      env: runtimeEnv,
      vars: { ROOT_SECRET_ID: RootSecretId, ROOT_SECRET_KEY: RootSecretKey },
      healthPath: "/v1/health",
      healthHeaders: authHeaders,
    });

  const withService = async (label, scenarios, body) => {
    if (!scenarios.some((name) => opts.selected.has(name))) return;
    let instance;
    try {
      log(`starting the service (${label})`);
      instance = await serviceInstance(label);
      log(`service up on ${instance.url} in ${(instance.startupMs / 1000).toFixed(1)} s`);
    } catch (error) {
      for (const scenario of scenarios.filter((name) => opts.selected.has(name))) {
        failures.push({ scenario, error: error.message });
        rows.push(makeRow({ scenario, metric: "failed", value: null, unit: "", note: `service did not start: ${error.message.split("\n")[0]}` }));
      }
      log(`service did not start: ${error.message}`);
      return;
    }
    const client = createClient(instance.url, authHeaders);
    try {
      await body({ ...ctx, service: instance, client, processes: () => instance.workerd() });
    } finally {
      client.close();
      await instance.stop();
      log(`service (${label}) stopped`);
    }
  };

  // Scenarios 1–7 and the SQS interface share one service instance.
  await withService("service", ["floor", "send-1", "send-16", "consume", "wake", "live", "fanout", "spread", "sqs", "fifo", "partitions"], async (sctx) => {
    const trio = ["floor", "send-1", "send-16"].filter((name) => opts.selected.has(name));
    const run = (label, body) => attempt(label, () => profiled(sctx.service, label, body));
    if (trio.length > 0) await run(trio.join("+"), () => throughputTrio(sctx, opts.selected));
    if (opts.selected.has("consume")) await run("consume", () => consume(sctx));
    if (opts.selected.has("wake")) await run("wake", () => wake(sctx));
    if (opts.selected.has("live")) await run("live", () => live(sctx));
    if (opts.selected.has("fanout")) await run("fanout", () => fanout(sctx));
    if (opts.selected.has("spread")) await run("spread", () => spread(sctx));
    if (opts.selected.has("sqs")) await run("sqs", () => sqs(sctx));
    if (opts.selected.has("fifo")) await run("fifo", () => fifo(sctx));
    if (opts.selected.has("partitions")) await run("partitions", () => partitionsScenario(sctx));
  });

  // Scenario 8 on a fresh instance, so that its peak memory is the backlog's own.
  await withService("backlog", ["backlog"], (sctx) => attempt("backlog", () => profiled(sctx.service, "backlog", () => backlog(sctx))));

  if (opts.selected.has("engine")) {
    let instance;
    await attempt("engine", async () => {
      log("starting bench/engine-worker");
      instance = await startWrangler({
        name: "engine",
        configs: ["bench/engine-worker/wrangler.jsonc"],
        appDir,
        workDir: path.join(workRoot, "engine"),
        env: runtimeEnv,
        healthPath: "/health",
      });
      try {
        await profiled(instance, "engine", () => engine(ctx, instance));
      } finally {
        await instance.stop();
        log("engine worker stopped");
      }
    });
  }

  if (opts.selected.has("peer")) {
    await attempt("peer", async () => {
      log("starting bench/peer-worker with the service (one wrangler dev)");
      let instance;
      try {
        instance = await startWrangler({
          name: "peer",
          // The driver Worker is the primary (it owns the port); the service runs beside it as an
          // auxiliary Worker, reachable only through the driver's service binding.
          configs: ["bench/peer-worker/wrangler.jsonc", "wrangler.jsonc"],
          appDir,
          workDir: path.join(workRoot, "peer"),
          // `--var` reaches only the primary Worker: the service (auxiliary) gets its root
          // credentials from this process environment, which wrangler passes to local Workers
          // when asked to (the snapshot holds no .dev.vars that would take precedence).
          env: { ...runtimeEnv, CLOUDFLARE_INCLUDE_PROCESS_ENV: "true", ROOT_SECRET_ID: RootSecretId, ROOT_SECRET_KEY: RootSecretKey },
          healthPath: "/health",
        });
      } catch (error) {
        error.message = `unavailable: the driver and Queues emulation did not start: ${error.message}`;
        throw error;
      }
      try {
        await profiled(instance, "peer", () => peer(ctx, instance));
      } finally {
        await instance.stop();
        log("peer worker stopped");
      }
    });
  }

  if (opts.selected.has("consumer")) {
    await attempt("consumer", async () => {
      log("starting the service with bench/consumer-worker bound as BENCH_CONSUMER (one wrangler dev)");
      const instance = await startWrangler({
        name: "consumer",
        // The service is the primary (it owns the port); the consumer Worker runs beside it.
        configs: [serviceConfigWith(appDir, [{ binding: "BENCH_CONSUMER", service: "edge-cmq-bench-consumer" }]), "bench/consumer-worker/wrangler.jsonc"],
        appDir,
        workDir: path.join(workRoot, "consumer"),
        env: runtimeEnv,
        vars: { ROOT_SECRET_ID: RootSecretId, ROOT_SECRET_KEY: RootSecretKey },
        healthPath: "/v1/health",
        healthHeaders: authHeaders,
      });
      const client = createClient(instance.url, authHeaders);
      try {
        await profiled(instance, "consumer", () => consumer(ctx, instance, client));
      } finally {
        client.close();
        await instance.stop();
        log("consumer instance stopped");
      }
    });
  }

  const elapsedS = (Date.now() - startedAt) / 1000;
  const results = {
    generatedAt: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    mode: opts.smoke ? "smoke" : "full",
    source,
    elapsedSeconds: Math.round(elapsedS * 10) / 10,
    options: { ...opts, selected: [...opts.selected] },
    machine: {
      cpus: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadAverageAtStart: loadStart.map((v) => Math.round(v * 100) / 100),
      loadAverageAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100),
    },
    notes: [
      "Every figure runs through wrangler dev on this machine: a proxy workerd in front of the runtime workerd, the load generator in the same process as this runner.",
      "ratio = value / floor; a target is met when the ratio is at least (>=) or at most (<=) the target.",
      "Throughput cases are measured in interleaved rounds so that load from elsewhere on the machine falls on them alike.",
      opts.localObservability
        ? "wrangler's local observability was on (every request's trace stored in SQLite in the runtime)."
        : "wrangler's local observability was off (X_LOCAL_OBSERVABILITY=false); --local-observability turns it on.",
      `The services' state was kept in ${opts.stateDir}${opts.stateDir === "/dev/shm" ? " (a RAM disk: commits' fsyncs do not wait for a disk)" : ""}; --state-dir puts it elsewhere.`,
      ...(opts.cpuProfile ? ["CPU profiles were recorded (--cpu-profile): sampling slows the runtime, so compare this run only with other profiled runs."] : []),
    ],
    rows,
    failures,
    ...(opts.cpuProfile ? { profiles } : {}),
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  const subtitle = `${results.mode} run, ${results.generatedAt.slice(0, 16).replace("T", " ")} UTC, ${opts.duration} s per case, ${opts.connections} connections, ${results.machine.cpus} CPUs, load ${results.machine.loadAverageAtStart[0]}→${results.machine.loadAverageAtEnd[0]}, local observability ${opts.localObservability ? "on" : "off"}, state in ${opts.stateDir}`;
  writeFileSync(path.join(resultsDir, "latest.svg"), renderSvg(rows, { title: "edge-cmq benchmark: each target's ratio (1.0 = on target)", subtitle }));

  console.log(`\n${formatTable(rows)}\n`);
  for (const row of rows.filter((r) => r.note)) console.log(`note: ${row.scenario} · ${row.metric}: ${row.note}`);
  for (const profile of profiles) {
    console.log(`\nCPU profile ${profile.label} (${profile.file}): ${profile.busyMs} ms busy, ${profile.idleMs} ms idle; most self time:`);
    for (const entry of profile.top.slice(0, 8)) console.log(`  ${(entry.shareOfBusy * 100).toFixed(1).padStart(5)}%  ${entry.name}`);
  }
  const targeted = rows.filter((row) => row.target !== null);
  console.log(
    `${targeted.filter((row) => row.met).length} of ${targeted.length} targets met; ${failures.length} scenario(s) failed; ${elapsedS.toFixed(0)} s in all`,
  );
  console.log(`results: ${path.relative(repoRoot, path.join(resultsDir, "latest.json"))}, ${path.relative(repoRoot, path.join(resultsDir, "latest.svg"))}`);
  if (opts.keepState) {
    console.log(`state and wrangler logs kept in ${workRoot}`);
  } else {
    if (failures.length > 0) console.log(`wrangler logs of this run: ${path.relative(repoRoot, keepLogs(workRoot))}`);
    rmSync(workRoot, { recursive: true, force: true });
  }
  return failures.length === 0 ? 0 : 1;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    log(`${signal}: stopping everything started`);
    stopAll().finally(() => process.exit(130));
  });
}
process.on("exit", killAllNow);

main()
  .then((code) => stopAll().then(() => process.exit(code)))
  .catch((error) => {
    console.error(error);
    stopAll().finally(() => process.exit(2));
  });
