// A stand-in for HTTP push endpoints and subscribed Workers. The queue service's outbound fetch()
// is routed here in tests, and it is bound as the Worker subscription target AUDIT_WORKER.
// Paths choose the answer: /status/<code>/<id> answers that code, /fail-first/<n>/<id> fails the
// first n pushes with 503 and then succeeds, /hang-first/<id> leaves the first push unanswered for
// 60 s and answers later ones at once, /throw/<id> throws, anything else answers 200.
// GET /_records?key=<host+path> lists the pushes received on that key.
const records = new Map();

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/_records") {
      return Response.json(records.get(url.searchParams.get("key")) ?? []);
    }
    const key = url.host + url.pathname;
    // Read the body before touching the records: concurrent pushes to one key must not each start a list.
    const body = await request.text();
    const list = records.get(key) ?? [];
    list.push({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body,
      at: Date.now(),
    });
    records.set(key, list);
    const [, mode, argument] = url.pathname.split("/");
    if (mode === "status") return new Response("status", { status: Number(argument) });
    if (mode === "fail-first") return new Response(null, { status: list.length <= Number(argument) ? 503 : 200 });
    if (mode === "hang-first" && list.length === 1) {
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      return new Response("late");
    }
    if (mode === "throw") throw new Error("subscriber failed");
    return new Response("ok");
  },
};
