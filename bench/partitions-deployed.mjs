#!/usr/bin/env node
// `node bench/partitions-deployed.mjs`: the partitions scenario's load (bench/scenarios/partitions.mjs)
// against a real deployment, where each object has a thread of its own, to set beside the model's
// projection. It needs
//
//   EDGE_CMQ_DEPLOYED_URL   the deployment's base URL, e.g. https://edge-cmq.example.workers.dev
//   EDGE_CMQ_DEPLOYED_KEY   a secret key with `manage`, `send` and `receive` on queues `bench-part-*`
//
// and, optionally, EDGE_CMQ_DEPLOYED_DURATION (seconds per case, default 10) and
// EDGE_CMQ_DEPLOYED_CONNECTIONS (requests in flight, default 32). Without the first two it prints
// why it is skipped and exits 0. It creates and deletes its own queues.
import { parseArgs } from "node:util";
import { partitionLoad, PartitionCounts } from "./scenarios/partitions.mjs";

const { values } = parseArgs({ options: { partitions: { type: "string" } }, strict: true });
const url = process.env.EDGE_CMQ_DEPLOYED_URL;
const key = process.env.EDGE_CMQ_DEPLOYED_KEY;
if (!url || !key) {
  console.log("partitions-deployed: skipped: no deployment configured (set EDGE_CMQ_DEPLOYED_URL and EDGE_CMQ_DEPLOYED_KEY to run it)");
  process.exit(0);
}
const durationS = Number(process.env.EDGE_CMQ_DEPLOYED_DURATION ?? 10);
const connections = Number(process.env.EDGE_CMQ_DEPLOYED_CONNECTIONS ?? 32);
const counts = values.partitions ? values.partitions.split(",").map(Number) : [...PartitionCounts, 16, 32, 64];
const base = url.replace(/\/+$/, "");

async function call(method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

const suffix = Math.random().toString(36).slice(2, 8);
const log = (message) => console.error(`[deployed] ${message}`);
const rows = [];
for (const partitions of counts) {
  const result = await partitionLoad({ call, log, partitions, queue: `bench-part-${partitions}-${suffix}`, durationS, connections, body: "x".repeat(1024) });
  rows.push(result);
  log(`${partitions} partition(s): ${JSON.stringify(result)}`);
}
const one = rows[0];
console.log("partitions │ send 1, msg/s │ ratio │ receive 16 + delete 16, msg/s │ ratio │ empty receives/s │ lost");
for (const row of rows) {
  console.log(
    [
      String(row.partitions).padStart(10),
      row.sendRate.toFixed(0).padStart(13),
      (row.sendRate / one.sendRate).toFixed(2).padStart(5),
      row.drainRate.toFixed(0).padStart(29),
      (row.drainRate / one.drainRate).toFixed(2).padStart(5),
      row.emptyRate.toFixed(0).padStart(16),
      String(row.lost).padStart(4),
    ].join(" │ "),
  );
}
