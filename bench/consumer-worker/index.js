// Benchmark-only Worker (not deployed, not part of the service): a queue's consumer Worker that
// acknowledges every batch it is given, so that the figure is the queue's delivery itself.
import { WorkerEntrypoint } from "cloudflare:workers";

export default class BenchConsumer extends WorkerEntrypoint {
  async fetch() {
    return new Response("a queue consumer Worker; the queue calls consume(batch)");
  }

  async consume(batch) {
    // Touch every body, as a consumer would, and acknowledge the whole batch by answering nothing.
    let bytes = 0;
    for (const message of batch.messages) bytes += message.body.length;
    return bytes >= 0 ? undefined : { retries: [] };
  }
}
