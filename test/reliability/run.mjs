#!/usr/bin/env node
// `npm run test:reliability [-- options]`: the reliability suite against the real service
// (`wrangler dev` on loopback, fresh temporary state per part):
//
//   crash  producers, publishers and consumers while the runtime workerd is SIGKILLed and restarted
//   push   HTTP subscriptions to failing endpoints (500, hanging, closed connections, recovering)
//   load   200 long-polling consumers and 20 producers on one queue, exact accounting
//   handover  abandoned HTTP long polls claim nothing; 40 messages of 1 MiB dead-lettered and redriven
//
// Options (or environment):
//   --short            (RELIABILITY_SHORT=1)   a couple of kills, a few seconds of load: for CI
//   --parts a,b        (RELIABILITY_PARTS)     which parts, default crash,push,load,handover
//   --seed n           (RELIABILITY_SEED)      seed of the random choices (kill moments, batch sizes)
//   --keep-state       (RELIABILITY_KEEP=1)    keep the temporary folders (state, wrangler logs)
//   --strict-abandoned (RELIABILITY_STRICT_ABANDONED=1)  fail, not note, abandoned polls that claimed
//                      (local wrangler dev does not pass client disconnects on to the Worker)
//
// Prints one summary line per part with its figures and exits non-zero on any loss, duplicate
// that is not allowed, or unexpected error. Everything it starts is stopped, also on failure.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { crashPart } from "./crash.mjs";
import { handoverPart } from "./handover.mjs";
import { loadPart } from "./load.mjs";
import { pushPart } from "./push.mjs";
import { killAllNow } from "./lib/service.mjs";

const Parts = { crash: crashPart, push: pushPart, load: loadPart, handover: handoverPart };

const { values } = parseArgs({
  options: {
    short: { type: "boolean", default: process.env.RELIABILITY_SHORT === "1" },
    parts: { type: "string", default: process.env.RELIABILITY_PARTS || Object.keys(Parts).join(",") },
    seed: { type: "string", default: process.env.RELIABILITY_SEED || String(Date.now() % 1_000_000) },
    "keep-state": { type: "boolean", default: process.env.RELIABILITY_KEEP === "1" },
    "strict-abandoned": { type: "boolean", default: process.env.RELIABILITY_STRICT_ABANDONED === "1" },
  },
  strict: true,
});

/** mulberry32: a small seeded generator, so that a run's random choices can be repeated. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const selected = values.parts.split(",").map((part) => part.trim()).filter(Boolean);
for (const part of selected) if (!(part in Parts)) throw new Error(`unknown part ${part}; known: ${Object.keys(Parts).join(", ")}`);

const seed = Number(values.seed);
console.log(`reliability suite: parts ${selected.join(", ")}, ${values.short ? "short" : "full"}, seed ${seed}`);
const suiteStarted = Date.now();
const lines = [];
let failed = false;

for (const part of selected) {
  const workDir = mkdtempSync(path.join(os.tmpdir(), `cmq-reliability-${part}-`));
  const started = Date.now();
  console.log(`\n[${part}] working in ${workDir}`);
  let line;
  try {
    const { summary, problems } = await Parts[part]({
      strictAbandoned: values["strict-abandoned"],
      short: values.short,
      workDir,
      log: (text) => console.log(text),
      random: seeded(seed + part.length),
    });
    const ok = problems.length === 0;
    failed ||= !ok;
    line = `${ok ? "PASS" : "FAIL"} ${part}: ${Object.entries(summary)
      .filter(([key]) => key !== "part")
      .map(([key, value]) => `${key}=${Array.isArray(value) ? `[${value.join(",")}]` : typeof value === "object" ? JSON.stringify(value) : value}`)
      .join(" ")}`;
    for (const problem of problems.slice(0, 40)) console.log(`  problem: ${problem}`);
    if (problems.length > 40) console.log(`  ... and ${problems.length - 40} more problems`);
  } catch (error) {
    failed = true;
    line = `FAIL ${part}: ${error instanceof Error ? error.stack : String(error)}`;
  } finally {
    killAllNow();
    if (values["keep-state"]) console.log(`[${part}] state kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
  line += ` (${((Date.now() - started) / 1000).toFixed(0)} s)`;
  lines.push(line);
  console.log(line);
}

console.log(`\nreliability summary (${values.short ? "short" : "full"}, seed ${seed}, ${((Date.now() - suiteStarted) / 1000).toFixed(0)} s):`);
for (const line of lines) console.log(line);
process.exit(failed ? 1 : 0);
