// A live socket on a partitioned queue: messages a second one socket receives (and acks) from a
// queue of 4 partitions, against the same from a queue of 1, measured in the same run. Partition 0
// holds the socket; the other partitions' messages reach it through takes the queue's object makes.
import { performance } from "node:perf_hooks";
import { makeRow } from "../lib/report.mjs";
import { openSocket } from "./live.mjs";

export const SocketPartitionCounts = [1, 4];
const SendBatch = 16;
/** Credit the socket keeps granted: the most a socket may hold, given back as messages arrive. */
const Credit = 1_000;

/** Fills a queue of `partitions` with `count` messages, then times one socket receiving and acking them all. */
async function socketDrain(ctx, call, partitions, queue, count) {
  const path = `/v1/queues/${queue}`;
  const created = await call("PUT", path, { partitions });
  if (created.status !== 201) throw new Error(`PUT ${path}: ${created.status}`);
  let toSend = count;
  await Promise.all(
    Array.from({ length: ctx.opts.connections }, async () => {
      while (toSend > 0) {
        const size = Math.min(SendBatch, toSend);
        toSend -= size;
        const answer = await call("POST", `${path}/messages`, { messages: Array.from({ length: size }, () => ({ body: ctx.body })) });
        if (answer.status !== 200) throw new Error(`send: ${answer.status}`);
      }
    }),
  );

  const socket = await openSocket(ctx, queue);
  const seen = new Set();
  const byPartition = {};
  let duplicates = 0;
  let errors = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  socket.onFrame((frame) => {
    if (frame.type === "error") errors++;
    if (frame.type !== "messages") return;
    for (const message of frame.messages) {
      if (seen.has(message.id)) duplicates++;
      seen.add(message.id);
      const partition = /^p(\d+)_/.exec(message.receiptHandle)?.[1] ?? "0";
      byPartition[partition] = (byPartition[partition] ?? 0) + 1;
      socket.send({ type: "ack", id: message.id, receiptHandle: message.receiptHandle });
    }
    socket.send({ type: "credit", messages: frame.messages.length });
    if (seen.size >= count) finish();
  });
  const started = performance.now();
  const limit = setTimeout(finish, Math.max(30, ctx.opts.duration * 10) * 1000);
  socket.send({ type: "credit", messages: Credit });
  await done;
  clearTimeout(limit);
  const seconds = (performance.now() - started) / 1000;
  await socket.close();
  await call("DELETE", path);
  return { partitions, received: seen.size, rate: seen.size / seconds, seconds, duplicates, errors, byPartition };
}

export async function partitionsLive(ctx, suffix) {
  const call = (method, path, body) => ctx.client.call(method, path, body, { expect: [200, 201, 204, 400, 404, 409, 500] });
  const count = ctx.opts.smoke ? 500 : 2_000;
  const results = [];
  for (const partitions of SocketPartitionCounts) {
    ctx.log(`  partitions ${partitions}: one live socket receives and acks ${count}`);
    results.push(await socketDrain(ctx, call, partitions, `bench-part-live-${partitions}-${suffix}`, count));
  }
  const one = results[0];
  for (const result of results) {
    const missing = count - result.received;
    const notes = [missing > 0 ? `${missing} not received` : "", result.duplicates > 0 ? `${result.duplicates} pushed twice` : "", result.errors > 0 ? `${result.errors} error frames` : ""].filter(Boolean);
    ctx.add(
      makeRow({
        scenario: "partitions",
        metric: `${result.partitions} partition(s): received and acked over one live socket, msg/s`,
        value: result.rate,
        unit: "msg/s",
        floor: result.partitions === 1 ? null : one.rate,
        floorMetric: result.partitions === 1 ? null : "1 partition, one socket, same load",
        note: notes.length > 0 ? notes.join("; ") : undefined,
        detail: { received: result.received, seconds: result.seconds, byPartition: result.byPartition },
      }),
    );
  }
}
