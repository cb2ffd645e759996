// A consumer Worker as a queue's consumer setting names it: the queue's object calls its
// `consume(batch)` over a service binding. What it does with each message is steered by the
// message's body, so a test states the behaviour where it sends:
//   "ack" (or any other body)  acknowledged
//   "retry" / "retry+5"        retried (after 5 s)
//   "throw"                    the whole call throws
//   "hang"                     the call does not answer until the test calls release(queue)
//   "bad"                      the call answers something that is not an answer
// A suffix "@N" limits the behaviour to the first N attempts ("hang@1": only the first delivery
// hangs); later attempts are acknowledged. It records every batch, per queue, for the test to read.
import { WorkerEntrypoint } from "cloudflare:workers";

const batchesByQueue = new Map();
const batchWaiters = [];
const hungCalls = [];

function behaviourOf(message) {
  const match = /^(ack|retry|throw|hang|bad)(?:\+(\d+))?(?:@(\d+))?$/.exec(message.body);
  if (!match) return { kind: "ack" };
  const [, kind, delaySeconds, untilAttempt] = match;
  if (untilAttempt !== undefined && message.attempts > Number(untilAttempt)) return { kind: "ack" };
  return { kind, delaySeconds: delaySeconds === undefined ? undefined : Number(delaySeconds) };
}

export default class QueueConsumerWorker extends WorkerEntrypoint {
  async fetch() {
    return new Response("a queue consumer Worker; the queue calls consume(batch)");
  }

  async consume(batch) {
    const batches = batchesByQueue.get(batch.queue) ?? [];
    batches.push(batch.messages.map(({ id, body, attempts }) => ({ id, body, attempts })));
    batchesByQueue.set(batch.queue, batches);
    for (const waiter of batchWaiters.splice(0)) {
      if ((batchesByQueue.get(waiter.queue)?.length ?? 0) >= waiter.count) waiter.resolve();
      else batchWaiters.push(waiter);
    }

    const behaviours = batch.messages.map((message) => ({ message, ...behaviourOf(message) }));
    if (behaviours.some((b) => b.kind === "hang")) await new Promise((resolve) => hungCalls.push({ queue: batch.queue, resolve }));
    if (behaviours.some((b) => b.kind === "throw")) throw new Error("the consumer failed on purpose");
    if (behaviours.some((b) => b.kind === "bad")) return "not an answer";
    const retries = behaviours
      .filter((b) => b.kind === "retry")
      .map((b) => (b.delaySeconds === undefined ? b.message.id : { id: b.message.id, delaySeconds: b.delaySeconds }));
    if (retries.length === 0) return undefined;
    const acks = behaviours.filter((b) => b.kind !== "retry").map((b) => b.message.id);
    return { acks, retries };
  }

  /** Every batch the queue delivered, oldest first: each a list of {id, body, attempts}. */
  async batches(queue) {
    return batchesByQueue.get(queue) ?? [];
  }

  /** Resolves once the queue has delivered at least `count` batches. */
  async waitForBatches(queue, count) {
    if ((batchesByQueue.get(queue)?.length ?? 0) >= count) return;
    await new Promise((resolve) => batchWaiters.push({ queue, count, resolve }));
  }

  /**
   * Lets the hung calls of `queue` answer (each then acknowledges its batch). A call whose caller
   * went away (an evicted object) is never released: the runtime has cancelled it already.
   */
  async release(queue) {
    const released = hungCalls.filter((call) => call.queue === queue);
    hungCalls.splice(0, hungCalls.length, ...hungCalls.filter((call) => call.queue !== queue));
    for (const call of released) call.resolve();
    return released.length;
  }
}
