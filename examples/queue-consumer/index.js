// A queue's consumer Worker: the queue calls consume(batch) with up to batchSize messages. This one
// sends each body, marked as processed, into the queue "processed" (which must exist) through its
// own binding to the service, and asks for a retry of any message whose body is "fail". Answering
// nothing else acknowledges the rest; throwing would retry the whole batch.
import { WorkerEntrypoint } from "cloudflare:workers";

export default class QueueConsumer extends WorkerEntrypoint {
  async fetch() {
    return new Response("a queue consumer Worker; the queue calls consume(batch)\n");
  }

  async consume(batch) {
    const done = batch.messages.filter((message) => message.body !== "fail");
    if (done.length > 0) {
      await this.env.CMQ.sendBatch("processed", done.map((message) => ({ body: `processed: ${message.body}` })));
    }
    console.log(`consumed ${done.length} of ${batch.messages.length} from ${batch.queue}`);
    return { retries: batch.messages.filter((message) => message.body === "fail").map((message) => ({ id: message.id, delaySeconds: 10 })) };
  }
}
