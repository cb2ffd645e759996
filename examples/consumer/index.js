// Receives topic messages pushed by a `worker` subscription (the same POST an HTTP endpoint gets:
// the JSON envelope, or the bare body when SIMPLIFIED) and, to make each delivery visible, sends the
// body through its own binding to the service into the queue "consumed", which must exist. Any
// answer other than 2xx makes the service retry the push.
export default {
  async fetch(request, env) {
    if (request.method !== "POST") return new Response("send me pushes\n", { status: 405 });
    const text = await request.text();
    // Both formats come as text/plain, as CMQ sends them; this header names the format.
    const isJson = request.headers.get("x-cmq-content-format") === "JSON";
    const body = isJson ? JSON.parse(text).msgBody : text;
    const topic = request.headers.get("x-cmq-topic");
    console.log(`pushed from topic ${topic}: ${body}`);
    await env.CMQ.send("consumed", { body, tags: topic ? [topic] : [] });
    return new Response(null, { status: 204 });
  },
};
