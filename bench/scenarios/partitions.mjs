// Partitioned queues: send and receive+delete throughput of one queue of 1, 2, 4 and 8 partitions
// through the REST API, the cost of a receive on an empty partitioned queue, a topic's deliveries
// into a queue of 1 and 8 partitions, one live socket receiving from a queue of 4 partitions
// against one of 1 (`partitions-live.mjs`), and a model of the throughput on a network where each
// object has its own thread, for 1 to 64 partitions.
//
// Locally, workerd runs every Worker and every object of a process on one thread: partitions add
// objects, not threads, so here they cannot raise throughput (the ratios to one partition show the
// routing and hint costs instead). The model turns the costs measured here into the figures a
// network would give; `bench/partitions-deployed.mjs` runs the same load against a deployment.
import { performance } from "node:perf_hooks";
import { makeRow } from "../lib/report.mjs";
import { partitionsLive } from "./partitions-live.mjs";

export const PartitionCounts = [1, 2, 4, 8];
/** Partition counts of the queue a topic delivers to. */
export const FanoutPartitionCounts = [1, 8];
export const ProjectedCounts = [1, 2, 4, 8, 16, 32, 64];
/**
 * Requests a second one Durable Object serves, the order Cloudflare documents for a single object
 * ("about 1,000 requests per second"); the model caps each partition at it as well as at the cost
 * measured here.
 */
export const ObjectRequestsPerSecond = 1_000;
const ReceiveBatch = 16;

/**
 * The load for one partition count, through `call(method, path, body)` (answers `{status, json}`):
 * `connections` loops of single-message sends for `durationS`, then loops of receive 16 + delete
 * until the queue is empty, then short receives on the empty queue for a second.
 */
export async function partitionLoad({ call, log, partitions, queue, durationS, connections, body }) {
  const path = `/v1/queues/${queue}`;
  const created = await call("PUT", path, { partitions });
  if (created.status !== 201) throw new Error(`PUT ${path}: ${created.status} ${JSON.stringify(created.json).slice(0, 200)}`);

  log(`  partitions ${partitions}: sends for ${durationS} s`);
  let sent = 0;
  let started = performance.now();
  const sendUntil = started + durationS * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < sendUntil) {
        const answer = await call("POST", `${path}/messages`, { body });
        if (answer.status !== 200) throw new Error(`send: ${answer.status} ${JSON.stringify(answer.json).slice(0, 200)}`);
        sent++;
      }
    }),
  );
  const sendRate = sent / ((performance.now() - started) / 1000);

  log(`  partitions ${partitions}: receive ${ReceiveBatch} + delete until ${sent} are gone`);
  let deleted = 0;
  let receives = 0;
  let drained = false;
  started = performance.now();
  const drainUntil = started + Math.max(30, durationS * 6) * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (!drained && performance.now() < drainUntil) {
        const received = await call("POST", `${path}/messages/receive`, { max: ReceiveBatch, waitSeconds: 0 });
        if (received.status !== 200) throw new Error(`receive: ${received.status}`);
        receives++;
        const handles = received.json.messages.map((message) => message.receiptHandle);
        if (handles.length === 0) {
          if (deleted >= sent) drained = true;
          continue;
        }
        const answer = await call("POST", `${path}/messages/delete`, { receiptHandles: handles });
        deleted += answer.json.results.filter((result) => result.deleted).length;
      }
    }),
  );
  const drainRate = deleted / ((performance.now() - started) / 1000);

  let empty = 0;
  started = performance.now();
  const emptyUntil = started + 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < emptyUntil) {
        const answer = await call("POST", `${path}/messages/receive`, { max: 1, waitSeconds: 0 });
        if (answer.status !== 200 || answer.json.messages.length !== 0) throw new Error(`empty receive: ${answer.status}`);
        empty++;
      }
    }),
  );
  const emptyRate = empty / ((performance.now() - started) / 1000);
  await call("DELETE", path);
  return { partitions, sent, sendRate, deleted, drainRate, receives, emptyRate, lost: sent - deleted };
}

/**
 * A topic's deliveries into one queue of `partitions`: `connections` loops publish batches of 16
 * for `durationS`, then the queue is watched until it holds every message published. The rate is
 * messages stored in the queue per second, from the first publish to the last message stored; on
 * one thread the deliveries keep up with the publishes, so it is the publish rate with its deliveries.
 */
export async function topicFanoutLoad({ call, log, partitions, topic, queue, durationS, connections, body }) {
  const queuePath = `/v1/queues/${queue}`;
  const topicPath = `/v1/topics/${topic}`;
  const made = [
    await call("PUT", queuePath, { partitions }),
    await call("PUT", topicPath, {}),
    await call("PUT", `${topicPath}/subscriptions/to-queue`, { protocol: "queue", endpoint: queue }),
  ];
  const refused = made.find((answer) => answer.status !== 201 && answer.status !== 200);
  if (refused) throw new Error(`fan-out setup: ${refused.status} ${JSON.stringify(refused.json).slice(0, 200)}`);

  log(`  topic -> queue of ${partitions} partition(s): publishes for ${durationS} s`);
  let published = 0;
  const started = performance.now();
  const publishUntil = started + durationS * 1000;
  const messages = Array.from({ length: ReceiveBatch }, () => ({ body }));
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < publishUntil) {
        const answer = await call("POST", `${topicPath}/messages`, { messages });
        if (answer.status !== 200) throw new Error(`publish: ${answer.status} ${JSON.stringify(answer.json).slice(0, 200)}`);
        published += messages.length;
      }
    }),
  );
  const deliveredBy = performance.now() + Math.max(30, durationS * 6) * 1000;
  let stored = 0;
  while (performance.now() < deliveredBy) {
    stored = (await call("GET", queuePath)).json.counts.total;
    if (stored >= published) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const elapsedS = (performance.now() - started) / 1000;
  const rate = stored / elapsedS;
  log(`  topic -> queue of ${partitions} partition(s): ${published} published, ${stored} stored after ${elapsedS.toFixed(1)} s`);
  await call("DELETE", topicPath);
  await call("DELETE", queuePath);
  return { partitions, published, stored, rate };
}

/**
 * The throughput of one queue on a network, from the costs measured on one thread here.
 *
 * Assumptions: every object has a thread of its own and Workers scale out (the routing a Worker
 * does, a hash or a turn per send, a cached partition count, the handle prefix, costs it CPU, not
 * an object's time); a request's cost on this thread is the floor request's (HTTP, authentication,
 * the Worker) plus its objects' share, so an object's share of a send is `1/send - 1/floor` and of
 * a message received and deleted in batches of 16 `1/drain - (2/16)/floor`; each partition is capped
 * at that share and at `ObjectRequestsPerSecond`; under a backlog every partition has messages, so
 * a receive's first partition answers it (one call) and the hint costs nothing; the partitions'
 * backlog reports to the home object happen only when a partition empties or fills again. A
 * receive on an empty queue asks the home object's hint: such receives are bounded by one
 * object's ceiling whatever the count.
 */
export function projectThroughput({ floorRps, one }) {
  const floorS = 1 / floorRps;
  const sendObjectS = Math.max(1 / one.sendRate - floorS, 1e-6);
  const drainObjectS = Math.max(1 / one.drainRate - (2 / ReceiveBatch) * floorS, 1e-6);
  const emptyObjectS = Math.max(1 / one.emptyRate - floorS, 1e-6);
  const sendPerPartition = Math.min(1 / sendObjectS, ObjectRequestsPerSecond);
  const drainPerPartition = Math.min(1 / drainObjectS, (ObjectRequestsPerSecond * ReceiveBatch) / 2);
  const emptyCeiling = Math.min(1 / emptyObjectS, ObjectRequestsPerSecond);
  return {
    costs: { floorMs: floorS * 1000, sendObjectMs: sendObjectS * 1000, drainObjectMsPerMessage: drainObjectS * 1000, emptyReceiveObjectMs: emptyObjectS * 1000 },
    perPartition: { send: sendPerPartition, drain: drainPerPartition },
    emptyReceiveCeiling: emptyCeiling,
    projected: ProjectedCounts.map((partitions) => ({ partitions, send: partitions * sendPerPartition, drain: partitions * drainPerPartition })),
  };
}

export async function partitionsScenario(ctx) {
  const { opts } = ctx;
  const suffix = Math.random().toString(36).slice(2, 8);
  const call = (method, path, body) => ctx.client.call(method, path, body, { expect: [200, 201, 204, 400, 404, 409, 500] });
  const results = [];
  for (const partitions of PartitionCounts) {
    results.push(
      await partitionLoad({
        call,
        log: ctx.log,
        partitions,
        queue: `bench-part-${partitions}-${suffix}`,
        durationS: opts.smoke ? 1 : opts.duration,
        connections: opts.connections,
        body: ctx.body,
      }),
    );
  }
  const fanouts = [];
  for (const partitions of FanoutPartitionCounts) {
    fanouts.push(
      await topicFanoutLoad({
        call,
        log: ctx.log,
        partitions,
        topic: `bench-part-fan-${partitions}-${suffix}`,
        queue: `bench-part-fanq-${partitions}-${suffix}`,
        durationS: opts.smoke ? 1 : opts.duration,
        connections: opts.connections,
        body: ctx.body,
      }),
    );
  }
  for (const result of fanouts) {
    const note = result.stored === result.published ? undefined : `${result.stored} of ${result.published} published messages stored`;
    ctx.add(
      makeRow({
        scenario: "partitions",
        metric: `topic -> queue of ${result.partitions} partition(s): published and stored, msg/s`,
        value: result.rate,
        unit: "msg/s",
        floor: result.partitions === 1 ? null : fanouts[0].rate,
        floorMetric: result.partitions === 1 ? null : "topic -> queue of 1 partition, same load",
        note,
        detail: { published: result.published },
      }),
    );
  }
  const one = results[0];
  for (const result of results) {
    const floorOf = (value) => (result.partitions === 1 ? null : value);
    const floorMetric = result.partitions === 1 ? null : "1 partition, same load";
    const note = result.lost === 0 ? undefined : `${result.lost} sent messages not received`;
    ctx.add(
      makeRow({ scenario: "partitions", metric: `${result.partitions} partition(s): send 1, msg/s`, value: result.sendRate, unit: "msg/s", floor: floorOf(one.sendRate), floorMetric, note }),
      makeRow({ scenario: "partitions", metric: `${result.partitions} partition(s): receive 16 + delete 16, msg/s`, value: result.drainRate, unit: "msg/s", floor: floorOf(one.drainRate), floorMetric, detail: { receives: result.receives, deleted: result.deleted } }),
      makeRow({ scenario: "partitions", metric: `${result.partitions} partition(s): receives/s on the empty queue`, value: result.emptyRate, unit: "req/s", floor: floorOf(one.emptyRate), floorMetric }),
    );
  }
  await partitionsLive(ctx, suffix);
  const floorRps = ctx.floor.rps;
  if (!floorRps) {
    ctx.log("  partitions: no floor measured in this run; the model is left out");
    return;
  }
  const model = projectThroughput({ floorRps, one });
  ctx.log(`  partitions model: costs on this thread ${JSON.stringify(model.costs)}`);
  for (const row of model.projected) {
    ctx.add(
      makeRow({
        scenario: "partitions-model",
        metric: `${row.partitions} partition(s), a thread per object: send 1, msg/s`,
        value: row.send,
        unit: "msg/s",
        floor: model.projected[0].send,
        floorMetric: "1 partition, projected",
        detail: row.partitions === 1 ? model.costs : undefined,
      }),
      makeRow({
        scenario: "partitions-model",
        metric: `${row.partitions} partition(s), a thread per object: receive 16 + delete 16, msg/s`,
        value: row.drain,
        unit: "msg/s",
        floor: model.projected[0].drain,
        floorMetric: "1 partition, projected",
      }),
    );
  }
  ctx.add(
    makeRow({
      scenario: "partitions-model",
      metric: "any count: receives/s on an empty queue (home object's hint)",
      value: model.emptyReceiveCeiling,
      unit: "req/s",
      note: "bounded by one object whatever the count",
    }),
  );
}
