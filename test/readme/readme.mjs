// Runs the README's shell examples as a reader would, in order, against the real service: the
// ```sh blocks are read from README.md; a block that starts something (`npm start`, `npx wrangler
// dev`) is started in the background the way a reader runs it in a terminal, on free loopback ports
// and a fresh state folder; a block the test must not run (the test suite itself, the benchmark) is
// named in `notRun` with the reason; every other block runs in bash, with the variables of earlier
// blocks, and each curl in it must answer 2xx.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, repoRoot } from "../reliability/lib/service.mjs";

/** Blocks not run here, by their first command, with why. */
export const notRun = {
  "npm test": "this is the test suite running the README",
  "npm run bench": "the benchmark takes minutes; CI runs its smoke form",
};

/** The ```sh blocks of a Markdown text, in order. */
export function shellBlocks(markdown) {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
}

/** A block's commands, continuation lines joined, comments and blank lines dropped. */
export function commandsOf(block) {
  return block
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
}

export function kindOf(block) {
  const commands = commandsOf(block);
  if (commands.every((command) => /^(npm install && )?npm start\b/.test(command) || /^npx wrangler dev\b/.test(command))) return "start";
  if (commands.some((command) => Object.keys(notRun).some((skipped) => command.startsWith(skipped)))) return "not run";
  return "run";
}

/** A curl that records each answer's status and fails the block on anything but 2xx. */
const curlWrapper = path.join(import.meta.dirname, "curl.sh");

export class ReadmeSession {
  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), "cmq-readme-"));
    this.stateFile = path.join(this.dir, "variables.sh");
    writeFileSync(this.stateFile, "");
    this.state = path.join(this.dir, "state");
    this.ports = new Map();
    this.started = [];
    this.starts = 0;
    // The variables a fresh bash has, so that only those the README's blocks set are carried over.
    this.baselineFile = path.join(this.dir, "baseline-variables");
    writeFileSync(this.baselineFile, spawnSync("bash", ["-c", "compgen -v"], { encoding: "utf8" }).stdout);
    this.env = {
      PATH: `${path.join(repoRoot, "node_modules/.bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      HOME: process.env.HOME ?? this.dir,
      TMPDIR: process.env.TMPDIR ?? "/tmp",
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_LOG_PATH: path.join(this.dir, "logs"),
      // Its own registry: the README's Workers find each other and nobody else's sessions.
      WRANGLER_REGISTRY_PATH: path.join(this.dir, "registry"),
    };
  }

  /** The free port standing in for one the README names (8787, 8788). */
  async port(readmePort) {
    if (!this.ports.has(readmePort)) this.ports.set(readmePort, await freePort());
    return this.ports.get(readmePort);
  }

  async localize(text) {
    let out = text;
    for (const readmePort of new Set([...text.matchAll(/localhost:(\d{4,5})/g)].map((m) => m[1]))) {
      out = out.replaceAll(`localhost:${readmePort}`, `127.0.0.1:${await this.port(readmePort)}`);
    }
    return out;
  }

  /** Starts what a `start` block starts; `npm start` again stops the running service first (its state is kept). */
  async start(block) {
    for (const command of commandsOf(block)) {
      const words = command.replace(/^npm install && /, "").split(/\s+/);
      let args;
      let readmePort;
      let role;
      if (words[0] === "npm") {
        role = "service";
        const extra = words.indexOf("--") >= 0 ? words.slice(words.indexOf("--") + 1) : [];
        readmePort = "8787";
        args = ["scripts/dev.mjs", ...extra, "--persist-to", this.state];
      } else {
        role = "worker";
        const portIndex = words.indexOf("--port");
        readmePort = portIndex >= 0 ? words[portIndex + 1] : "8787";
        args = [path.join(repoRoot, "node_modules/wrangler/bin/wrangler.js"), ...words.slice(2)];
        args.push("--persist-to", path.join(this.dir, `state-${readmePort}`));
      }
      const previous = this.started.find((process) => process.readmePort === readmePort);
      if (previous) await this.stop(previous);
      const port = await this.port(readmePort);
      args = args.filter((arg, i) => arg !== "--port" && args[i - 1] !== "--port");
      args.push("--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(await freePort()), "--show-interactive-dev-session=false");
      const log = path.join(this.dir, `${role}-${readmePort}-${++this.starts}.log`);
      const output = openSync(log, "a");
      const child = spawn(process.execPath, args, { cwd: repoRoot, detached: true, stdio: ["ignore", output, output], env: this.env });
      closeSync(output);
      const entry = { pid: child.pid, readmePort, role, exited: null, log };
      child.on("exit", (code, signal) => {
        entry.exited = { code, signal };
      });
      this.started.push(entry);
      await this.waitReady(entry, port);
    }
  }

  async waitReady(entry, port) {
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (entry.exited) throw new Error(`${entry.role} exited: ${JSON.stringify(entry.exited)}\n${this.tail(entry)}`);
      if (Date.now() > deadline) throw new Error(`${entry.role} did not answer on ${port}\n${this.tail(entry)}`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        // wrangler logs "Ready on" once the Worker is loaded. A Worker bound to another session's
        // (the caller) is ready when wrangler reports the binding [connected], as a reader would wait.
        const log = readFileSync(entry.log, "utf8");
        const connected = entry.role !== "worker" || !log.includes("[not connected]") || log.lastIndexOf("[connected]") > log.lastIndexOf("[not connected]");
        if (log.includes("Ready on") && connected) return;
      } catch {
        // not listening yet
      }
      await sleep(150);
    }
  }

  tail(entry) {
    try {
      return readFileSync(entry.log, "utf8").split("\n").slice(-30).join("\n");
    } catch {
      return "";
    }
  }

  async stop(entry) {
    try {
      process.kill(-entry.pid, "SIGTERM");
    } catch {
      // gone already
    }
    for (let waited = 0; waited < 5_000 && !entry.exited; waited += 100) await sleep(100);
    try {
      process.kill(-entry.pid, "SIGKILL");
    } catch {
      // gone
    }
    this.started = this.started.filter((other) => other !== entry);
  }

  /** Runs a block in bash with the variables earlier blocks set; resolves to its output, or rejects with it. */
  async run(block) {
    const script = [
      `source ${JSON.stringify(this.stateFile)}`,
      "set -euo pipefail",
      `source ${JSON.stringify(curlWrapper)}`,
      await this.localize(block),
      // Keep what the blocks defined for the next one (the reader's shell stays open between blocks).
      `for __name in $(compgen -v); do case $__name in __*) continue ;; esac; grep -qx "$__name" ${JSON.stringify(this.baselineFile)} || declare -p "$__name"; done > ${JSON.stringify(this.stateFile)}.next`,
      `mv ${JSON.stringify(this.stateFile)}.next ${JSON.stringify(this.stateFile)}`,
    ].join("\n");
    return new Promise((resolve, reject) => {
      const child = spawn("bash", ["-c", script], { cwd: repoRoot, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      child.on("exit", (code) => (code === 0 ? resolve(output) : reject(new Error(`exit ${code}\n${output}`))));
    });
  }

  async close() {
    for (const entry of [...this.started].reverse()) await this.stop(entry);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function readme() {
  return readFileSync(path.join(repoRoot, "README.md"), "utf8");
}
