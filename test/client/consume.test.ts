import { describe, expect, it } from "vitest";
import { consume, EdgeCmqError, type Outcome, type ReceivedMessage } from "../../packages/client/src";
import { uniqueName } from "../support/http";
import { httpClient, transports } from "./support";

/** A promise with its resolve, for handlers the test releases. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const until = async (condition: () => boolean, timeoutMs = 10_000) => {
  for (const startedMs = Date.now(); !condition(); ) {
    if (Date.now() - startedMs > timeoutMs) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

async function queueWith(bodies: string[]): Promise<string> {
  const queue = uniqueName("cons");
  const client = httpClient();
  await client.createQueue({ queue });
  if (bodies.length) await client.sendMessages({ queue, messages: bodies.map((body) => ({ body })) });
  return queue;
}

describe.each(transports)("consume over %s", (_, makeClient) => {
  it("handles every message and deletes each one its handler finished", async () => {
    const bodies = ["a", "b", "c", "d", "e"];
    const queue = await queueWith(bodies);
    const controller = new AbortController();
    const handled: string[] = [];
    const outcomes: Outcome[] = [];

    const summary = await consume(
      makeClient(),
      queue,
      async (message) => {
        handled.push(message.body);
        if (handled.length === bodies.length) controller.abort();
      },
      { concurrency: 2, waitSeconds: 1, signal: controller.signal, onMessage: (_, outcome) => outcomes.push(outcome) },
    );
    const counts = (await httpClient().getQueue({ queue })).counts;

    expect(handled.sort()).toEqual(bodies);
    expect(summary).toEqual({ processed: 5, failed: 0 });
    expect(outcomes).toEqual(Array(5).fill({ ok: true }));
    expect(counts.total).toBe(0);
  });
});

describe("consume", () => {
  it("never runs more handlers at once than its concurrency", async () => {
    const queue = await queueWith(Array.from({ length: 9 }, (_, index) => `m${index}`));
    const controller = new AbortController();
    let running = 0;
    let mostRunning = 0;
    let done = 0;

    const summary = await consume(
      httpClient(),
      queue,
      async () => {
        mostRunning = Math.max(mostRunning, ++running);
        await new Promise((resolve) => setTimeout(resolve, 50));
        running--;
        if (++done === 9) controller.abort();
      },
      { concurrency: 3, batchSize: 16, waitSeconds: 1, signal: controller.signal },
    );

    expect(summary.processed).toBe(9);
    expect(mostRunning).toBe(3);
  });

  it("leaves a message whose handler failed for redelivery, and reports it", async () => {
    const queue = await queueWith(["good", "bad"]);
    const controller = new AbortController();
    const errors: Array<[string, string | undefined]> = [];
    const seen: string[] = [];

    const summary = await consume(
      httpClient(),
      queue,
      (message) => {
        seen.push(message.body);
        if (seen.length === 2) controller.abort();
        if (message.body === "bad") throw new Error("cannot handle bad");
      },
      { concurrency: 2, waitSeconds: 1, visibilityTimeout: 60, signal: controller.signal, onError: (error, message) => errors.push([(error as Error).message, message?.body]) },
    );
    const counts = (await httpClient().getQueue({ queue })).counts;

    expect(summary).toEqual({ processed: 1, failed: 1 });
    expect(errors).toEqual([["cannot handle bad", "bad"]]);
    // Still there, hidden until its visibility timeout ends.
    expect([counts.total, counts.inactive]).toEqual([1, 1]);
  });

  it("returns a failed message to the queue after retryDelaySeconds, and handles it again", async () => {
    const queue = await queueWith(["flaky"]);
    const controller = new AbortController();
    const receiveCounts: number[] = [];

    const summary = await consume(
      httpClient(),
      queue,
      (message) => {
        receiveCounts.push(message.receiveCount);
        if (message.receiveCount === 1) throw new Error("first attempt fails");
        controller.abort();
      },
      { waitSeconds: 2, visibilityTimeout: 60, retryDelaySeconds: 0, signal: controller.signal, onError: () => undefined },
    );

    expect(receiveCounts).toEqual([1, 2]);
    expect(summary).toEqual({ processed: 1, failed: 1 });
    expect((await httpClient().getQueue({ queue })).counts.total).toBe(0);
  });

  it("keeps a slow handler's message hidden by extending its visibility", async () => {
    const queue = await queueWith(["slow"]);
    const controller = new AbortController();
    const other = httpClient();
    const stolen: ReceivedMessage[] = [];
    let handling = true;

    const consuming = consume(
      httpClient(),
      queue,
      async () => {
        // Three times the visibility timeout, while another consumer keeps trying to receive.
        const endMs = Date.now() + 3_000;
        while (Date.now() < endMs) {
          stolen.push(...(await other.receiveMessages({ queue, max: 16 })).messages);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        handling = false;
        controller.abort();
      },
      { visibilityTimeout: 1, waitSeconds: 1, signal: controller.signal },
    );
    const summary = await consuming;

    expect(handling).toBe(false);
    expect(stolen).toEqual([]);
    expect(summary).toEqual({ processed: 1, failed: 0 });
    expect((await httpClient().getQueue({ queue })).counts.total).toBe(0);
  });

  it("on abort mid-batch finishes the handlers in flight, deletes only what they processed, loses nothing", async () => {
    const queue = await queueWith(["1", "2", "3", "4", "5", "6"]);
    const controller = new AbortController();
    const release = gate();
    const started: string[] = [];
    let resolved = false;

    const consuming = consume(
      httpClient(),
      queue,
      async (message) => {
        started.push(message.body);
        await release.opened;
      },
      { concurrency: 2, waitSeconds: 1, visibilityTimeout: 60, signal: controller.signal },
    ).then((summary) => ((resolved = true), summary));
    await until(() => started.length === 2);
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const resolvedBeforeRelease = resolved;
    release.open();
    const summary = await consuming;
    const rest = await httpClient().receiveMessages({ queue, max: 16, waitSeconds: 1 });

    expect(resolvedBeforeRelease).toBe(false);
    expect(summary).toEqual({ processed: 2, failed: 0 });
    expect(rest.messages.map((m) => m.body).sort()).toEqual(["1", "2", "3", "4", "5", "6"].filter((body) => !started.includes(body)));
  });

  it("rejects when the queue cannot be received from, once what is in flight is done", async () => {
    const error = await consume(httpClient(), uniqueName("missing"), () => undefined, { waitSeconds: 1 }).catch((error: unknown) => error);

    expect(error).toBeInstanceOf(EdgeCmqError);
    expect((error as EdgeCmqError).code).toBe("QueueNotFound");
  });
});
