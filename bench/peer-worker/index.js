// Benchmark-only driver Worker: from inside the runtime, sends messages for a fixed time with a
// fixed number of sends in flight, either through this service's RPC binding (CMQ) or through a
// Cloudflare Queues producer binding (PEER), and answers the messages/s it reached.
//
// GET /run?target=cmq|peer&batch=1|16&bytes=1024&concurrency=8&seconds=5
//
// Run as an auxiliary Worker of `wrangler dev -c wrangler.jsonc -c bench/peer-worker/wrangler.jsonc`;
// the benchmark reaches it through the primary's port with miniflare's `MF-Route-Override` header.

const QueueName = "bench-peer";
/** Messages the Queues consumer handler has been given, for the report. */
let delivered = 0;

function sender(env, target, batch, body) {
  if (target === "cmq") {
    const messages = Array.from({ length: batch }, () => ({ body }));
    return batch === 1 ? () => env.CMQ.send(QueueName, body) : () => env.CMQ.sendBatch(QueueName, messages);
  }
  const messages = Array.from({ length: batch }, () => ({ body, contentType: "text" }));
  return batch === 1 ? () => env.PEER.send(body, { contentType: "text" }) : () => env.PEER.sendBatch(messages);
}

async function run(env, options) {
  const { target, batch, bytes, concurrency, seconds } = options;
  if (target === "cmq") await env.CMQ.createQueue(QueueName, {});
  const send = sender(env, target, batch, "x".repeat(bytes));
  await send(); // warm: the queue's object, or the queue broker, is started outside the timing
  let sends = 0;
  let errors = 0;
  let firstError = null;
  const start = Date.now();
  const end = start + seconds * 1000;
  const lane = async () => {
    while (Date.now() < end) {
      try {
        await send();
        sends++;
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsedMs = Date.now() - start;
  return {
    ...options,
    sends,
    messages: sends * batch,
    errors,
    firstError,
    elapsedMs,
    messagesPerSecond: (sends * batch * 1000) / elapsedMs,
  };
}

export default {
  /** The queue's consumer: every delivered batch is acknowledged (the default when this returns). */
  async queue(batch, env) {
    delivered += batch.messages.length;
  },

  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return new Response("ok");
    if (url.pathname === "/delivered") return Response.json({ delivered });
    if (url.pathname !== "/run") return new Response("not found", { status: 404 });
    const target = url.searchParams.get("target");
    if (target !== "cmq" && target !== "peer") return new Response("target must be cmq or peer", { status: 400 });
    const integer = (name, fallback, max) => {
      const value = Number(url.searchParams.get(name) ?? fallback);
      return Number.isSafeInteger(value) && value > 0 && value <= max ? value : fallback;
    };
    const options = {
      target,
      batch: integer("batch", 1, 16),
      bytes: integer("bytes", 1024, 65_536),
      concurrency: integer("concurrency", 8, 256),
      seconds: integer("seconds", 5, 120),
    };
    try {
      return Response.json(await run(env, options));
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return Response.json({ ...options, error: message }, { status: 500 });
    }
  },
};
