#!/usr/bin/env node
// `node bench/sqs-deployed.mjs`: the sqs scenario's comparison (bench/scenarios/sqs.mjs) against a
// real deployment, where the adapter runs in the stateless Worker and each queue's work in an
// object of its own, instead of all of them on the one thread of a local runtime. It needs
//
//   EDGE_CMQ_DEPLOYED_URL      the deployment's base URL, e.g. https://edge-cmq.example.workers.dev
//   EDGE_CMQ_DEPLOYED_KEY_ID   a key's SecretId (it signs the SQS requests)...
//   EDGE_CMQ_DEPLOYED_KEY      ...and its secret key (it signs them, and is the REST requests' bearer),
//                              with `manage`, `send` and `receive` on queues `bench-sqs-*`
//
// and, optionally, EDGE_CMQ_DEPLOYED_DURATION (seconds per case, default 10) and
// EDGE_CMQ_DEPLOYED_CONNECTIONS (requests in flight, default 32). Without the first three it prints
// why it is skipped and exits 0. It creates and deletes its own queues.
import { prepareSqsComparison } from "./scenarios/sqs.mjs";

const url = process.env.EDGE_CMQ_DEPLOYED_URL;
const secretId = process.env.EDGE_CMQ_DEPLOYED_KEY_ID;
const secretKey = process.env.EDGE_CMQ_DEPLOYED_KEY;
if (!url || !secretId || !secretKey) {
  console.log(
    "sqs-deployed: skipped: no deployment configured (set EDGE_CMQ_DEPLOYED_URL, EDGE_CMQ_DEPLOYED_KEY_ID and EDGE_CMQ_DEPLOYED_KEY to run it)",
  );
  process.exit(0);
}
const durationS = Number(process.env.EDGE_CMQ_DEPLOYED_DURATION ?? 10);
const connections = Number(process.env.EDGE_CMQ_DEPLOYED_CONNECTIONS ?? 32);
const suffix = Math.random().toString(36).slice(2, 8);
const log = (message) => console.error(`[deployed] ${message.trim()}`);

const comparison = await prepareSqsComparison({
  base: url.replace(/\/+$/, ""),
  secretId,
  secretKey,
  body: "x".repeat(1024),
  connections,
  // One round per second of the duration, 1 s per case: a deployment is not one machine's CPUs.
  rounds: Math.max(1, Math.round(durationS)),
  slice: 1,
  log,
  queues: { rest: `bench-sqs-rest-${suffix}`, sqs: `bench-sqs-${suffix}` },
});
try {
  const { loads, rates } = await comparison.measure();
  const failed = Object.values(loads).reduce((sum, load) => sum + load.non2xx + load.errors + load.timeouts, 0);
  console.log("case                 │ SQS msg/s │ REST msg/s │ ratio");
  for (const [label, sqs, rest] of [
    ["send, one at a time", rates.sqsSend, rates.restSend],
    ["receive + delete", rates.sqsReceiveDelete, rates.restReceiveDelete],
  ]) {
    console.log([label.padEnd(20), sqs.toFixed(0).padStart(9), rest.toFixed(0).padStart(10), (sqs / rest).toFixed(2).padStart(5)].join(" │ "));
  }
  if (failed > 0) console.log(`${failed} requests failed`);
} finally {
  await comparison.cleanUp();
}
