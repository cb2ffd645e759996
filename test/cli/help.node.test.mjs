import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { repoRoot } from "../reliability/lib/service.mjs";
import { bin, environment, runCli } from "./support.mjs";

/** Every group and command of the tool, as paths (`["queues", "redrive", "start"]`), from its own tree. */
function commandPaths(node, prefix = []) {
  if (!node.commands) return [prefix];
  return [prefix, ...Object.entries(node.commands).flatMap(([name, child]) => commandPaths(child, [...prefix, name]))];
}

describe("edge-cmq --help", () => {
  let paths;

  beforeAll(async () => {
    await promisify(execFile)(process.execPath, ["scripts/build.mjs"], { cwd: path.join(repoRoot, "packages/cli") });
    const { root } = await import(path.join(repoRoot, "packages/cli/dist/edge-cmq.js"));
    paths = commandPaths(root);
  });

  it("covers every command group of the issue", () => {
    const groups = paths.filter((each) => each.length === 1).map(([group]) => group);

    expect(groups).toEqual(["queues", "messages", "topics", "subscriptions", "keys", "tokens", "tail"]);
    expect(paths.length).toBeGreaterThan(35);
  });

  it("prints usage for every group and command, exit 0, with no configuration at all", async () => {
    const env = environment(tmpdir());

    const runs = await Promise.all(paths.map((each) => runCli([...each, "--help"], { env }).then((result) => ({ each, ...result }))));

    for (const { each, code, stdout, stderr } of runs) {
      const label = ["edge-cmq", ...each].join(" ");
      expect(code, label).toBe(0);
      expect(stderr, label).toBe("");
      expect(stdout, label).toMatch(new RegExp(`^Usage: ${label}( |$)`, "m"));
    }
  });

  it("lists a command's own options and the global ones", async () => {
    const { stdout } = await runCli(["messages", "receive", "--help"], { env: environment(tmpdir()) });

    expect(stdout).toContain("Usage: edge-cmq messages receive <queue> [options]");
    expect(stdout).toMatch(/--wait <seconds>\s+wait up to this long/);
    expect(stdout).toMatch(/--delete\s+delete the messages once printed/);
    expect(stdout).toMatch(/--profile <name>/);
    expect(stdout).toMatch(/-h, --help/);
  });

  it("says in tail's help that a topic is followed through a temporary queue removed on exit", async () => {
    const { stdout } = await runCli(["tail", "-h"], { env: environment(tmpdir()) });

    expect(stdout).toContain("creates a temporary queue");
    expect(stdout).toContain("deletes both when");
    expect(stdout).toContain("SIGINT it exits 130");
    expect(stdout).toContain("deletes nothing it could not print");
  });

  it("documents the exit codes in the top-level help", async () => {
    const { stdout } = await runCli(["--help"], { env: environment(tmpdir()) });

    expect(stdout).toMatch(/Exit codes: 0 ok; 1 service or network failure; 2 usage/);
    expect(stdout).toContain("3 credentials refused");
    expect(stdout).toContain("4 not found; 5 conflict");
  });

  it("is the package's bin", async () => {
    const { default: manifest } = await import(path.join(repoRoot, "packages/cli/package.json"), { with: { type: "json" } });

    expect(path.join(repoRoot, "packages/cli", manifest.bin["edge-cmq"])).toBe(bin);
  });
});
