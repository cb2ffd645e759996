// The command-line tool under test: built once, run as its real bin in a child process against a
// running service (`wrangler dev`, started by test/reliability/lib/service.mjs on a free port).
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { RootSecretId, RootSecretKey, repoRoot, startService } from "../reliability/lib/service.mjs";

export { RootSecretId, RootSecretKey };

const cliDir = path.join(repoRoot, "packages/cli");
export const bin = path.join(cliDir, "bin/edge-cmq.js");

/** Builds dist/ and starts the service; `stop()` ends both the service and its folder. */
export async function startCliService() {
  await promisify(execFile)(process.execPath, ["scripts/build.mjs"], { cwd: cliDir });
  const workDir = mkdtempSync(path.join(tmpdir(), "cmq-cli-"));
  const service = await startService({ workDir, label: "cli" });
  return {
    url: service.url,
    workDir,
    async stop() {
      await service.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * The service for the tests of one file: started before them, stopped after. `env` runs the tool
 * as root (EDGE_CMQ_ENDPOINT and EDGE_CMQ_SECRET_KEY); both fields are set once it is up.
 */
export function useCliService() {
  const fixture = { service: undefined, env: undefined };
  beforeAll(async () => {
    fixture.service = await startCliService();
    fixture.env = environment(fixture.service.workDir, { EDGE_CMQ_ENDPOINT: fixture.service.url, EDGE_CMQ_SECRET_KEY: RootSecretKey });
  });
  afterAll(async () => {
    await fixture.service?.stop();
  });
  return fixture;
}

/** A name no other test uses, within the service's name rules. */
export const unique = (prefix) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/**
 * The environment of a run: only what is given (no EDGE_CMQ_* of the developer's shell leaks in),
 * HOME in a folder of the test so that no real config file is read.
 */
export const environment = (workDir, variables = {}) => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: workDir, ...variables });

/**
 * Runs `edge-cmq ...args` to its end: `{ code, stdout, stderr, json }`, where `json` is stdout
 * parsed as one document, or as JSON lines when `lines` is set (undefined when it is not JSON).
 */
export function runCli(args, { env, input, lines = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, json: parse(stdout, lines) }));
    child.stdin.end(input ?? "");
  });
}

function parse(text, lines) {
  try {
    return lines ? text.split("\n").filter(Boolean).map((line) => JSON.parse(line)) : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A long-running `edge-cmq ...args` (tail): its output so far, a wait for a condition on it, and its exit. */
export function startCli(args, { env }) {
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const run = { child, stdout: "", stderr: "", startedAt: Date.now() };
  child.stdout.on("data", (chunk) => (run.stdout += chunk));
  child.stderr.on("data", (chunk) => (run.stderr += chunk));
  run.exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  run.jsonLines = () => run.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line));
  return run;
}

/** Waits until `check()` is truthy, up to `timeoutMs`; fails with `what` otherwise. */
export async function waitUntil(check, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
