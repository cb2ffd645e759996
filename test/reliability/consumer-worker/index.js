// The crash test's consumer Worker: a queue pushes batches to it; it reports every message to the
// test's recorder (an HTTP server in the test process, RECORDER_URL) and acknowledges the batch
// only once the recorder has it, as a real consumer acknowledges what it has stored. A batch the
// recorder did not confirm is retried by throwing.
import { WorkerEntrypoint } from "cloudflare:workers";

export default class CrashConsumer extends WorkerEntrypoint {
  async fetch() {
    return new Response("the crash test's consumer Worker");
  }

  async consume(batch) {
    const response = await fetch(this.env.RECORDER_URL, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ queue: batch.queue, messages: batch.messages.map(({ id, body, attempts }) => ({ id, body, attempts })) }),
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`the recorder answered ${response.status}`);
  }
}
