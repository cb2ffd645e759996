// Calls the queue service through its binding, the way another team's Worker would:
//   POST /queues/<name>          create the queue (attributes as the JSON body, optional)
//   POST /queues/<name>/send     send the request body as one message
//   POST /queues/<name>/receive  receive up to 16 messages, delete them, and answer them
// A failure answers 400 with the service's error message ("[QueueNotFound] ...").
export default {
  async fetch(request, env) {
    const [, resource, name, action] = new URL(request.url).pathname.split("/");
    if (request.method !== "POST" || resource !== "queues" || !name) return new Response("not found\n", { status: 404 });
    try {
      if (!action) {
        const text = await request.text();
        return Response.json(await env.CMQ.createQueue(name, text ? JSON.parse(text) : {}));
      }
      if (action === "send") return Response.json(await env.CMQ.send(name, await request.text()));
      if (action === "receive") {
        const { messages } = await env.CMQ.receive(name, { max: 16 });
        if (messages.length > 0) await env.CMQ.deleteMessages(name, messages.map((m) => m.receiptHandle));
        return Response.json({ messages: messages.map(({ id, body, tags }) => ({ id, body, tags })) });
      }
      return new Response("not found\n", { status: 404 });
    } catch (error) {
      return Response.json({ error: error.message }, { status: 400 });
    }
  },
};
