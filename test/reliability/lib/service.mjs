// The real service under test: `wrangler dev` on a free loopback port with its own persisted
// state, started in its own process group so that it (wrangler, esbuild, both workerd) can be
// stopped as one; and a crash: SIGKILL of the runtime workerd, then the group is stopped and
// started again on the same state folder.
import { spawn } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readJsonc, serviceConfigWith } from "../../../bench/lib/wrangler-config.mjs";

export const repoRoot = path.resolve(import.meta.dirname, "../../..");
const wranglerBin = path.join(repoRoot, "node_modules/wrangler/bin/wrangler.js");

export const RootSecretId = "AKIDreliability0000000000000000000";
export const RootSecretKey = `reliability-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

/**
 * Copies what the service needs into `dir` (node_modules linked): wrangler dev restarts the runtime
 * whenever a watched source file changes, and other people edit the working tree while this runs.
 */
export function snapshotApp(dir) {
  for (const entry of ["src", "wrangler.jsonc", "package.json", "tsconfig.json", "console/dist"]) {
    const from = path.join(repoRoot, entry);
    if (existsSync(from)) cpSync(from, path.join(dir, entry), { recursive: true });
  }
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

/** The service's config with the consumer Worker bound, and the consumer Worker's, written into `appDir`. */
function consumerConfigs(appDir, { binding, recorderUrl }) {
  const name = "edge-cmq-crash-consumer";
  mkdirSync(path.join(appDir, "crash-consumer"), { recursive: true });
  cpSync(path.join(repoRoot, "test/reliability/consumer-worker/index.js"), path.join(appDir, "crash-consumer/index.js"));
  const consumerConfig = { name, main: "index.js", compatibility_date: readJsonc(path.join(appDir, "wrangler.jsonc")).compatibility_date, vars: { RECORDER_URL: recorderUrl } };
  writeFileSync(path.join(appDir, "crash-consumer/wrangler.json"), JSON.stringify(consumerConfig, null, 2));
  return [serviceConfigWith(appDir, [{ binding, service: name }]), "crash-consumer/wrangler.json"];
}

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

/** Process groups started and not stopped yet; killed on any exit of this process. */
const running = new Set();

export function killAllNow() {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  running.clear();
}

process.on("exit", killAllNow);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    killAllNow();
    process.exit(130);
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

async function stopGroup(pid) {
  if (!running.has(pid)) return;
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    // gone
  }
  for (let waited = 0; waited < 5_000 && groupAlive(pid); waited += 100) await sleep(100);
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
    for (let waited = 0; waited < 3_000 && groupAlive(pid); waited += 100) await sleep(100);
  }
  running.delete(pid);
}

function processTable() {
  const table = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      table.push({ pid: Number(entry), ppid, comm });
    } catch {
      // exited while reading
    }
  }
  return table;
}

/** The workerd processes under `rootPid`: the proxy that owns `publicPort`, and the runtime that runs the Workers. */
export function workerdUnder(rootPid, publicPort) {
  const table = processTable();
  const found = [];
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop();
    for (const proc of table) {
      if (proc.ppid !== pid) continue;
      stack.push(proc.pid);
      if (proc.comm !== "workerd") continue;
      let command = "";
      try {
        command = readFileSync(`/proc/${proc.pid}/cmdline`, "utf8").split("\0").join(" ");
      } catch {
        continue;
      }
      const ownsPort = command.includes(`:${publicPort} `) || command.trimEnd().endsWith(`:${publicPort}`);
      found.push({ pid: proc.pid, role: ownsPort ? "proxy" : "runtime", command });
    }
  }
  return found;
}

class EarlyExit extends Error {}

/**
 * A running service. `url` changes on each restart (a fresh port), so clients read it per request.
 * @param {object} options
 * @param {string} options.workDir   this run's folder: app snapshot, state, logs
 * @param {string} options.label
 */
/**
 * With `consumer`, test/reliability/consumer-worker runs beside the service in the same
 * `wrangler dev`, bound to it as `consumer.binding` and reporting to `consumer.recorderUrl`.
 */
export async function startService({ workDir, label, consumer = null }) {
  const appDir = path.join(workDir, "app");
  if (!existsSync(appDir)) {
    mkdirSync(appDir, { recursive: true });
    snapshotApp(appDir);
  }
  const configs = consumer ? consumerConfigs(appDir, consumer) : [];
  const service = {
    label,
    workDir,
    stateDir: path.join(workDir, "state"),
    logDir: path.join(workDir, "logs"),
    pid: 0,
    port: 0,
    url: "",
    starts: 0,
    kills: 0,
    /** Restarts of the runtime this suite did not cause: wrangler reloads it when a watched file changes. */
    unplannedRestarts: 0,
    runtimePid: 0,
    watcher: null,
    /**
     * Starts wrangler, on fresh ports each attempt: a port found free can be taken by another
     * process (another test file starting its own service) before wrangler binds it, and wrangler
     * then exits at once. Only such early exits are tried again, at most three times in all.
     */
    async start() {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.startOnce();
        } catch (error) {
          if (!(error instanceof EarlyExit) || attempt >= 3) throw error;
        }
      }
    },
    async startOnce() {
      mkdirSync(this.stateDir, { recursive: true });
      mkdirSync(this.logDir, { recursive: true });
      this.port = await freePort();
      const inspectorPort = await freePort();
      const outputPath = path.join(this.logDir, "wrangler.out");
      const output = openSync(outputPath, "a");
      const args = [wranglerBin, "dev", ...configs.flatMap((config) => ["-c", config]), "--port", String(this.port), "--ip", "127.0.0.1", "--inspector-port", String(inspectorPort)];
      args.push("--persist-to", this.stateDir, "--log-level", "warn", "--show-interactive-dev-session=false");
      args.push("--var", `ROOT_SECRET_ID:${RootSecretId}`, "--var", `ROOT_SECRET_KEY:${RootSecretKey}`);
      const child = spawn(process.execPath, args, {
        cwd: appDir,
        detached: true,
        stdio: ["ignore", output, output],
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: process.env.HOME ?? workDir,
          TMPDIR: process.env.TMPDIR ?? "/tmp",
          WRANGLER_SEND_METRICS: "false",
          CLOUDFLARE_CF_FETCH_ENABLED: "false",
          WRANGLER_LOG_PATH: this.logDir,
          WRANGLER_REGISTRY_PATH: path.join(workDir, "registry"),
        },
      });
      closeSync(output);
      this.pid = child.pid;
      running.add(child.pid);
      let exited = null;
      child.on("exit", (code, signal) => {
        exited = { code, signal };
      });
      this.url = `http://127.0.0.1:${this.port}`;
      const started = Date.now();
      for (;;) {
        if (exited) {
          running.delete(child.pid);
          throw new EarlyExit(`${label}: wrangler exited early ${JSON.stringify(exited)}\n${this.tail()}`);
        }
        if (Date.now() - started > 120_000) {
          await this.stop();
          throw new Error(`${label}: wrangler did not answer within 120 s\n${this.tail()}`);
        }
        try {
          const response = await fetch(`${this.url}/v1/health`, {
            headers: { authorization: `Bearer ${RootSecretKey}` },
            signal: AbortSignal.timeout(2_000),
          });
          await response.arrayBuffer();
          if (response.status === 200) break;
        } catch {
          // not listening yet
        }
        await sleep(150);
      }
      this.starts++;
      this.runtimePid = this.runtime();
      clearInterval(this.watcher);
      this.watcher = setInterval(() => {
        const now = this.runtime();
        if (now !== 0 && this.runtimePid !== 0 && now !== this.runtimePid) {
          this.unplannedRestarts++;
          console.log(`  ${label}: the runtime workerd restarted on its own (${this.runtimePid} → ${now}): wrangler reloads it when a watched file changes (package.json, node_modules)`);
        }
        if (now !== 0) this.runtimePid = now;
      }, 250);
      this.watcher.unref();
      return Date.now() - started;
    },
    runtime() {
      return workerdUnder(this.pid, this.port).find((proc) => proc.role === "runtime")?.pid ?? 0;
    },
    async stop() {
      clearInterval(this.watcher);
      if (this.pid) await stopGroup(this.pid);
      this.pid = 0;
    },
    /** SIGKILL of the runtime workerd (a crash of every Worker and Durable Object at once), then a restart on the same state. */
    async crash() {
      const runtime = workerdUnder(this.pid, this.port).filter((proc) => proc.role === "runtime");
      if (runtime.length === 0) throw new Error(`${label}: no runtime workerd under wrangler ${this.pid}`);
      clearInterval(this.watcher);
      for (const proc of runtime) process.kill(proc.pid, "SIGKILL");
      this.kills++;
      this.url = "http://127.0.0.1:1"; // nothing answers until the restart
      await this.stop();
      return this.start();
    },
    tail(lines = 30) {
      try {
        return readFileSync(path.join(this.logDir, "wrangler.out"), "utf8").trim().split("\n").slice(-lines).join("\n");
      } catch {
        return "";
      }
    },
  };
  await service.start();
  return service;
}
