// Starts `wrangler dev` in its own process group on a free loopback port with its own state, log
// and dev-registry folders, waits until it answers, and stops the whole group again.
import { spawn } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { listeningPorts, workerdProcesses } from "./processes.mjs";

export { serviceConfigWith } from "./wrangler-config.mjs";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const wranglerBin = path.join(repoRoot, "node_modules/wrangler/bin/wrangler.js");

/** What a benchmark run needs of the working tree: the service, its config, the bench Workers. */
const SnapshotEntries = ["src", "wrangler.jsonc", "package.json", "tsconfig.json", "console/dist", "bench/engine-worker", "bench/peer-worker", "bench/consumer-worker"];

/**
 * Copies the service and the benchmark Workers into `dir` (node_modules linked, not copied) and
 * returns it. wrangler dev rebuilds and restarts the runtime whenever a source file changes, which
 * would drop requests in flight if someone edits the working tree during a run; a snapshot keeps
 * the code of the whole run the code it started with, and keeps wrangler's scratch files (and
 * any .dev.vars of the working tree) out of it.
 */
export function snapshotApp(dir) {
  for (const entry of SnapshotEntries) {
    const from = path.join(repoRoot, entry);
    if (!existsSync(from)) continue;
    cpSync(from, path.join(dir, entry), {
      recursive: true,
      filter: (source) => !source.split(path.sep).includes(".wrangler"),
    });
  }
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

/** Process groups started and not yet stopped: stopped on any exit of this process. */
const running = new Set();

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {object} options
 * @param {string} options.name       label for logs
 * @param {string[]} options.configs  wrangler config files, the primary first, relative to appDir
 * @param {string} [options.appDir]   the folder wrangler runs in (a snapshot, see snapshotApp)
 * @param {string} options.workDir    this instance's folder (state, logs, registry)
 * @param {Record<string,string>} [options.vars]  `--var NAME:value` (primary Worker only)
 * @param {Record<string,string>} [options.env]   extra environment for wrangler
 * @param {string} options.healthPath
 * @param {Record<string,string>} [options.healthHeaders]
 */
export async function startWrangler({ name, configs, appDir = repoRoot, workDir, vars = {}, env = {}, healthPath, healthHeaders = {}, timeoutMs = 90_000 }) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const stateDir = path.join(workDir, "state");
  const logDir = path.join(workDir, "logs");
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const outputPath = path.join(logDir, "wrangler.out");
  const output = openSync(outputPath, "a");
  const args = [wranglerBin, "dev", ...configs.flatMap((config) => ["-c", config])];
  args.push("--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(inspectorPort));
  args.push("--persist-to", stateDir, "--log-level", "warn");
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);

  // A small, explicit environment: nothing of the caller's leaks into the Workers, and the
  // dev registry is this instance's own, so Workers of other engineers' sessions are not bound.
  const childEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? workDir,
    TMPDIR: process.env.TMPDIR ?? "/tmp",
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG_PATH: logDir,
    WRANGLER_REGISTRY_PATH: path.join(workDir, "registry"),
    ...env,
  };
  const child = spawn(process.execPath, args, { cwd: appDir, detached: true, stdio: ["ignore", output, output], env: childEnv });
  closeSync(output);
  const pid = child.pid;
  running.add(pid);
  let exited = null;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
  });

  const instance = {
    name,
    pid,
    port,
    inspectorPort,
    url: `http://127.0.0.1:${port}`,
    workDir,
    stateDir,
    outputPath,
    workerd: () => workerdProcesses(pid, port),
    runtimeUrl: () => runtimeUrl(instance, healthPath, healthHeaders),
    tail: (lines = 30) => {
      try {
        return readFileSync(outputPath, "utf8").trim().split("\n").slice(-lines).join("\n");
      } catch {
        return "";
      }
    },
    stop: () => stopGroup(pid),
  };

  const started = Date.now();
  try {
    for (;;) {
      if (exited) throw new Error(`wrangler (${name}) exited early (${JSON.stringify(exited)})`);
      if (Date.now() - started > timeoutMs) throw new Error(`wrangler (${name}) did not answer within ${timeoutMs / 1000} s`);
      if (await answersHealth(instance.url, healthPath, healthHeaders)) break;
      await sleep(200);
    }
  } catch (error) {
    const tail = instance.tail();
    await instance.stop();
    error.message += tail ? `\n--- wrangler output (${outputPath}) ---\n${tail}` : "";
    throw error;
  }
  instance.startupMs = Date.now() - started;
  return instance;
}

/** Whether `url` answers the health path with 200 within 2 s (not yet listening, or another kind of port: no). */
async function answersHealth(url, healthPath, healthHeaders) {
  try {
    const response = await fetch(`${url}${healthPath}`, { headers: healthHeaders, signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * The address of the runtime workerd's own entry socket. wrangler dev's proxy, which owns the public
 * port, forwards every request to it and spends about as much CPU on a request as the runtime
 * does; a measurement of what the Worker costs can go past it. The runtime also listens for its
 * inspector and debug port: the entry is the port that answers the health path.
 */
async function runtimeUrl(instance, healthPath, healthHeaders) {
  const runtime = instance.workerd().find((proc) => proc.role === "runtime");
  if (!runtime) throw new Error(`wrangler (${instance.name}) has no runtime workerd`);
  for (const port of listeningPorts(runtime.pid)) {
    const url = `http://127.0.0.1:${port}`;
    if (await answersHealth(url, healthPath, healthHeaders)) return url;
  }
  throw new Error(`wrangler (${instance.name}): no port of the runtime workerd (pid ${runtime.pid}) answers ${healthPath}`);
}

/** SIGTERM to the whole group (wrangler, esbuild, both workerd), SIGKILL after 5 s. */
export async function stopGroup(pid) {
  if (!running.has(pid)) return;
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    // already gone
  }
  for (let waited = 0; waited < 5_000 && groupAlive(pid); waited += 100) await sleep(100);
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
    for (let waited = 0; waited < 2_000 && groupAlive(pid); waited += 100) await sleep(100);
  }
  running.delete(pid);
}

/** Stops every group still running; synchronous, for exit paths. */
export function killAllNow() {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  running.clear();
}

export async function stopAll() {
  await Promise.all([...running].map((pid) => stopGroup(pid)));
}
