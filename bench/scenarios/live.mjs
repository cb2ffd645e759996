// Live sockets: a consumer woken over a WebSocket against one parked in a long poll, and a
// producer sending over one socket against send-1 over HTTP. Node 22's global WebSocket is the
// client, with the token in the subprotocol offer as a browser sends it.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { makeRow } from "../lib/report.mjs";
import { summarize } from "../lib/stats.mjs";

const LiveProtocol = "edge-cmq.live.v1";
const WakeQueue = "bench-live-wake";
const SendQueue = "bench-live-send";
/** Send frames in flight on the producer's socket: enough to keep the object busy, as HTTP connections do. */
const SendWindow = 32;

/** A socket whose frames are read through `next(type)`, in order of arrival. */
export async function openSocket(ctx, queue) {
  const minted = await ctx.client.call("POST", "/v1/tokens", { actions: ["send", "receive"], resources: [`queue:${queue}`], ttlSeconds: 3_600 }, { expect: [201] });
  const ws = new WebSocket(`${ctx.service.url.replace(/^http/, "ws")}/v1/queues/${queue}/live`, [LiveProtocol, minted.json.token]);
  const waiting = [];
  const listeners = new Set();
  ws.addEventListener("message", (event) => {
    const frame = JSON.parse(String(event.data));
    frame.arrivedAt = performance.now();
    for (const listener of listeners) listener(frame);
    const index = waiting.findIndex((each) => each.type === frame.type);
    if (index >= 0) waiting.splice(index, 1)[0].resolve(frame);
  });
  const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
  const next = (type) => new Promise((resolve) => waiting.push({ type, resolve }));
  const ready = next("ready");
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error(`live socket to ${queue} failed`)), { once: true });
  });
  await ready;
  return {
    ws,
    next,
    onFrame: (listener) => listeners.add(listener),
    send: (frame) => ws.send(JSON.stringify(frame)),
    close: async () => {
      ws.close(1000, "done");
      await closed;
    },
  };
}

/** The p50 wake of a long poll, as the `wake` scenario measured it in this run. */
function longPollWakeP50(ctx) {
  return ctx.rows.find((row) => row.scenario === "wake" && row.metric.endsWith("p50"))?.value ?? null;
}

function sendOneRate(ctx) {
  return ctx.rows.find((row) => row.scenario === "send-1" && row.unit === "msg/s")?.value ?? null;
}

/**
 * Wake: a socket holds one credit; a sample is the time from a send's start until the socket has
 * the message. The socket acks it and grants the credit back before the next sample.
 */
async function liveWake(ctx) {
  const { client, opts } = ctx;
  await client.call("PUT", `/v1/queues/${WakeQueue}`, {});
  const socket = await openSocket(ctx, WakeQueue);
  const samples = [];
  let invalid = 0;
  try {
    socket.send({ type: "credit", messages: 1 });
    await socket.next("credited");
    for (let i = 0; i < opts.wakeSamples + 5; i++) {
      await sleep(40);
      const pushed = socket.next("messages");
      const start = performance.now();
      const sent = await client.call("POST", `/v1/queues/${WakeQueue}/messages`, { body: ctx.body });
      const frame = await pushed;
      const [message] = frame.messages;
      if (frame.messages.length !== 1 || message.id !== sent.json.id) invalid++;
      else if (i >= 5) samples.push(frame.arrivedAt - start);
      const acked = socket.next("acked");
      socket.send({ type: "ack", id: `a${i}`, receiptHandle: message.receiptHandle });
      await acked;
      socket.send({ type: "credit", messages: 1 });
      await socket.next("credited");
    }
  } finally {
    await socket.close();
  }
  const stats = summarize(samples);
  ctx.add(
    makeRow({
      scenario: "live",
      metric: "send → socket consumer has it, p50",
      value: stats.p50,
      unit: "ms",
      floor: longPollWakeP50(ctx),
      floorMetric: "wake p50 (long poll)",
      target: 1,
      op: "<=",
      note: invalid > 0 ? `${invalid} invalid samples` : undefined,
      detail: { samples: stats },
    }),
  );
}

/**
 * Producer: one socket sends `perFrame` messages per frame, `SendWindow` frames in flight, for the
 * scenario's duration; each `sent` answer means the messages are stored.
 */
async function liveSend(ctx, perFrame) {
  const { client, opts } = ctx;
  await client.call("PUT", `/v1/queues/${SendQueue}`, {});
  const messages = Array.from({ length: perFrame }, () => ({ body: ctx.body }));
  const socket = await openSocket(ctx, SendQueue);
  let stored = 0;
  let errors = 0;
  let inFlight = 0;
  let nextId = 0;
  let stopAt = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  const sendOne = () => {
    inFlight++;
    socket.send({ type: "send", id: `s${nextId++}`, messages });
  };
  socket.onFrame((frame) => {
    if (frame.type !== "sent" && frame.type !== "error") return;
    inFlight--;
    if (frame.type === "sent") stored += frame.ids.length;
    else errors++;
    if (performance.now() < stopAt) sendOne();
    else if (inFlight === 0) finish();
  });
  // Warm the object and the path outside the timing.
  socket.send({ type: "send", id: "warm", messages: [{ body: ctx.body }] });
  await socket.next("sent");
  const started = performance.now();
  stopAt = started + opts.duration * 1000;
  for (let i = 0; i < SendWindow; i++) sendOne();
  await done;
  const seconds = (performance.now() - started) / 1000;
  await socket.close();
  const rate = stored / seconds;
  const detail = { stored, seconds, perFrame, window: SendWindow, errors };
  const note = errors > 0 ? `${errors} error frames` : undefined;
  ctx.add(
    perFrame === 1
      ? makeRow({
          scenario: "live",
          metric: "messages/s sent over one socket, one per frame",
          value: rate,
          unit: "msg/s",
          floor: sendOneRate(ctx),
          floorMetric: "send-1 messages/s over HTTP",
          target: 5,
          op: ">=",
          note,
          detail,
        })
      : makeRow({
          scenario: "live",
          metric: `messages/s sent over one socket, ${perFrame} per frame`,
          value: rate,
          unit: "msg/s",
          floor: sendOneRate(ctx),
          floorMetric: "send-1 messages/s over HTTP",
          note,
          detail,
        }),
  );
}

export async function live(ctx) {
  await liveWake(ctx);
  await liveSend(ctx, 1);
  await liveSend(ctx, 16);
}
