import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { EdgeCmqError } from "../../packages/client/src";
import { backoffMs } from "../../packages/client/src/retry";
import { uniqueName } from "../support/http";
import { bindingClient, httpClient, recordingSleep, workerFetch } from "./support";

/** A network that drops the first `failures` requests (connection reset), then reaches the Worker. */
function flakyNetwork(failures: number): { fetch: typeof fetch; attempts: () => number } {
  let attempts = 0;
  return {
    attempts: () => attempts,
    fetch: async (input, init) => {
      attempts++;
      if (attempts <= failures) throw new TypeError("Network connection lost.");
      return workerFetch(input, init);
    },
  };
}

/**
 * The real Worker, whose first `failures` requests find it without its root credentials (as while a
 * deployment's secrets are being set): it answers those with its own 503 NotConfigured.
 */
function unconfiguredFirst(failures: number): { fetch: typeof fetch; attempts: () => number } {
  let attempts = 0;
  const unconfigured = { ...env, ROOT_SECRET_ID: "", ROOT_SECRET_KEY: "" } as Env;
  return {
    attempts: () => attempts,
    fetch: async (input, init) => {
      attempts++;
      const request = new Request(input as RequestInfo, init);
      if (attempts <= failures) return worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, unconfigured, createExecutionContext());
      return workerFetch(request);
    },
  };
}

const half = () => 0.5;

describe("retries", () => {
  it("repeats an idempotent call after network errors, with jittered exponential waits", async () => {
    const network = flakyNetwork(2);
    const waits = recordingSleep();
    const client = httpClient({ fetch: network.fetch, sleep: waits.sleep, random: half });

    const health = await client.health();

    expect(health).toEqual({ status: "ok" });
    expect(network.attempts()).toBe(3);
    // Half of 100 ms, then half of 200 ms.
    expect(waits.waitsMs).toEqual([50, 100]);
  });

  it("gives up after maxAttempts with a NetworkError carrying the cause", async () => {
    const network = flakyNetwork(10);
    const waits = recordingSleep();
    const client = httpClient({ fetch: network.fetch, sleep: waits.sleep, retry: { maxAttempts: 4 } });

    const error = (await client.listQueues().catch((error: unknown) => error)) as EdgeCmqError;

    expect(error).toBeInstanceOf(EdgeCmqError);
    expect([error.code, error.fault, error.retryable]).toEqual(["NetworkError", "server", true]);
    expect((error.cause as Error).message).toBe("Network connection lost.");
    expect(network.attempts()).toBe(4);
    expect(waits.waitsMs).toHaveLength(3);
  });

  it("repeats a call the service answered with 503 NotConfigured until it is configured", async () => {
    const service = unconfiguredFirst(2);
    const waits = recordingSleep();
    const client = httpClient({ fetch: service.fetch, sleep: waits.sleep });
    const queue = uniqueName("retry");

    const created = await client.createQueue({ queue });

    expect(created.created).toBe(true);
    expect(service.attempts()).toBe(3);
    expect(waits.waitsMs).toHaveLength(2);
  });

  it("does not repeat a send, which would store the message twice, unless told it is idempotent", async () => {
    const queue = uniqueName("retry");
    await httpClient().createQueue({ queue });
    const once = unconfiguredFirst(1);
    const told = unconfiguredFirst(1);

    const refused = (await httpClient({ fetch: once.fetch, sleep: recordingSleep().sleep }).send(queue, "a").catch((error: unknown) => error)) as EdgeCmqError;
    const sent = await httpClient({ fetch: told.fetch, sleep: recordingSleep().sleep }).send(queue, "b", { idempotent: true });
    const { messages } = await httpClient().receiveMessages({ queue, max: 16, waitSeconds: 1 });

    expect([refused.code, refused.status, refused.fault, refused.retryable]).toEqual(["NotConfigured", 503, "server", true]);
    expect(once.attempts()).toBe(1);
    expect(told.attempts()).toBe(2);
    expect(messages.map((m) => [m.id, m.body])).toEqual([[sent.id, "b"]]);
  });

  it("waits what a 429's Retry-After asks, within maxDelayMs", async () => {
    let attempts = 0;
    const waits = recordingSleep();
    const client = httpClient({
      sleep: waits.sleep,
      random: half,
      retry: { maxDelayMs: 3_000 },
      // A rate limiter in front of the service (a proxy's 429, not the service's own answer).
      fetch: async (input, init) =>
        ++attempts <= 2 ? new Response("slow down", { status: 429, headers: { "retry-after": attempts === 1 ? "2" : "9" } }) : workerFetch(input, init),
    });

    const listed = await client.listTopics();

    expect(listed.topics).toBeInstanceOf(Array);
    expect(waits.waitsMs).toEqual([2_000, 3_000]);
  });

  it("does not repeat an error of the caller", async () => {
    const network = flakyNetwork(0);
    const client = httpClient({ fetch: network.fetch, sleep: recordingSleep().sleep });

    const error = (await client.getQueue({ queue: uniqueName("missing") }).catch((error: unknown) => error)) as EdgeCmqError;

    expect(error.code).toBe("QueueNotFound");
    expect(network.attempts()).toBe(1);
  });

  it("repeats a binding call that lost its connection", async () => {
    let attempts = 0;
    const waits = recordingSleep();
    // The binding, losing its first call as a broken connection would.
    const binding = {
      withCredentials: (secret: string) => env.CMQ.withCredentials(secret),
      getQueue: (queue: string) => (++attempts === 1 ? Promise.reject(new Error("Network connection lost.")) : env.CMQ.getQueue(queue)),
    };
    const queue = uniqueName("retry");
    await bindingClient().createQueue({ queue });

    const got = await bindingClient({ binding, sleep: waits.sleep }).getQueue({ queue });

    expect(got.name).toBe(queue);
    expect(attempts).toBe(2);
    expect(waits.waitsMs).toHaveLength(1);
  });

  it("bounds each wait by base * 2^(n-1) and by maxDelayMs", () => {
    const options = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };
    const almostOne = () => 0.999_999;

    const waits = [1, 2, 3, 4, 5].map((retry) => backoffMs(retry, options, almostOne));
    const least = [1, 2, 3].map((retry) => backoffMs(retry, options, () => 0));

    expect(waits).toEqual([99, 199, 399, 799, 999]);
    expect(least).toEqual([0, 0, 0]);
  });
});
