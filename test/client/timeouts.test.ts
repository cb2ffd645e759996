import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EdgeCmqError } from "../../packages/client/src";
import { uniqueName } from "../support/http";
import { bindingClient, httpClient, recordingFetch, recordingSleep, transports, workerFetch } from "./support";

/** A network whose first `stalls` requests get no answer until they are aborted; later ones reach the Worker. */
function stallingNetwork(stalls: number): { fetch: typeof fetch; attempts: () => number } {
  let attempts = 0;
  return {
    attempts: () => attempts,
    fetch: (input, init) => {
      if (++attempts > stalls) return workerFetch(input, init);
      return new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason), { once: true }));
    },
  };
}

const outcome = (call: Promise<unknown>) => call.then(() => expect.unreachable("the call succeeded"), (error: unknown) => error);

describe("timeouts", () => {
  it("ends an attempt after timeoutMs with a retryable Timeout, and retries an idempotent call", async () => {
    const network = stallingNetwork(1);
    const waits = recordingSleep();
    const client = httpClient({ fetch: network.fetch, sleep: waits.sleep, timeoutMs: 1_000 });
    // Warm, so that the second attempt's answer comes well within the timeout on a busy machine.
    await httpClient().health();

    const health = await client.health();

    expect(health).toEqual({ status: "ok" });
    expect(network.attempts()).toBe(2);
    expect(waits.waitsMs).toHaveLength(1);
  });

  it("rejects a send that timed out with Timeout, without repeating it", async () => {
    const network = stallingNetwork(5);
    const client = httpClient({ fetch: network.fetch });
    const startedMs = Date.now();

    const error = (await outcome(client.send(uniqueName("q"), "late", { timeoutMs: 50 }))) as EdgeCmqError;

    expect(error).toBeInstanceOf(EdgeCmqError);
    expect([error.code, error.fault, error.retryable]).toEqual(["Timeout", "server", true]);
    expect(network.attempts()).toBe(1);
    expect(Date.now() - startedMs).toBeLessThan(2_000);
  });

  it("gives a long poll its wait on top of timeoutMs", async () => {
    const queue = uniqueName("poll");
    await httpClient().createQueue({ queue });
    const client = httpClient({ timeoutMs: 300 });
    const startedMs = Date.now();

    const { messages } = await client.receiveMessages({ queue, waitSeconds: 1 });

    expect(messages).toEqual([]);
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(900);
  });

  it("stops waiting for a binding call after timeoutMs", async () => {
    // A binding whose calls never answer, as a stuck peer would.
    const binding = { withCredentials: (secret: string) => env.CMQ.withCredentials(secret), health: () => new Promise(() => {}) };

    const error = (await outcome(bindingClient({ binding, timeoutMs: 30, retry: { maxAttempts: 2 }, sleep: recordingSleep().sleep }).health())) as EdgeCmqError;

    expect(error.code).toBe("Timeout");
  });
});

describe.each(transports)("abort over %s", (_, makeClient) => {
  it("rejects a long poll with the signal's reason as soon as it aborts", async () => {
    const queue = uniqueName("abort");
    const client = makeClient();
    await client.createQueue({ queue });
    const controller = new AbortController();
    const startedMs = Date.now();

    const receiving = outcome(client.receiveMessages({ queue, waitSeconds: 3 }, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 100);
    const error = (await receiving) as DOMException;

    expect(error.name).toBe("AbortError");
    expect(Date.now() - startedMs).toBeLessThan(2_500);
  });

  it("makes no call with a signal already aborted", async () => {
    const reason = new Error("user left the page");

    const error = await outcome(makeClient().listQueues({}, { signal: AbortSignal.abort(reason) }));

    expect(error).toBe(reason);
  });
});

describe("abort between attempts", () => {
  it("stops retrying when the signal aborts during a backoff wait", async () => {
    const recorder = recordingFetch(async () => new Response("busy", { status: 503 }));
    const controller = new AbortController();
    const client = httpClient({ fetch: recorder.fetch, retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 }, random: () => 1 });
    const startedMs = Date.now();

    const calling = outcome(client.getQueue({ queue: "q" }, { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error("shutting down")), 50);
    const error = (await calling) as Error;

    expect(error.message).toBe("shutting down");
    expect(recorder.requests).toHaveLength(1);
    expect(Date.now() - startedMs).toBeLessThan(2_000);
  });
});
