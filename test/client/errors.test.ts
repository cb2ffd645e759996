import { describe, expect, it } from "vitest";
import { EdgeCmqError } from "../../packages/client/src";
import { createKey } from "../support/auth";
import { uniqueName } from "../support/http";
import { httpClient, recordingFetch, transports, workerFetch } from "./support";

/** Runs a call that must fail and returns its error. */
async function failure(call: Promise<unknown>): Promise<EdgeCmqError> {
  const error = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(EdgeCmqError);
  return error as EdgeCmqError;
}

describe.each(transports)("errors of the service over %s", (transport, makeClient) => {
  const viaHttp = transport === "HTTP";

  it("a missing queue is QueueNotFound, 404, the caller's fault, not retryable", async () => {
    const error = await failure(makeClient().getQueue({ queue: uniqueName("missing") }));

    expect({ name: error.name, code: error.code, status: error.status, fault: error.fault, retryable: error.retryable, isClientFault: error.isClientFault }).toEqual({
      name: "EdgeCmqError",
      code: "QueueNotFound",
      status: 404,
      fault: "client",
      retryable: false,
      isClientFault: true,
    });
    expect(error.message).toMatch(/queue/i);
    expect(error.message).not.toMatch(/^\[/);
    if (viaHttp) expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    else expect(error.requestId).toBeUndefined();
  });

  it("an out-of-range attribute is InvalidParameter, 400, naming the field", async () => {
    const error = await failure(makeClient().createQueue({ queue: uniqueName("bad"), visibilityTimeout: 0 }));

    expect([error.code, error.status, error.fault]).toEqual(["InvalidParameter", 400, "client"]);
    expect(error.message).toMatch(/visibilityTimeout/);
  });

  it("an action outside the key's policy is Forbidden, 403", async () => {
    const queue = uniqueName("orders");
    await makeClient().createQueue({ queue });
    const key = await createKey([{ actions: ["send"], resources: [`queue:${queue}`] }]);
    const limited = makeClient({ secretKey: key.secretKey });

    const sent = await limited.send(queue, "allowed");
    const error = await failure(limited.getQueue({ queue }));

    expect(sent.id).toMatch(/^[0-9a-f-]{36}$/);
    expect([error.code, error.status, error.fault, error.retryable]).toEqual(["Forbidden", 403, "client", false]);
  });

  it("a full queue is QueueFull: the caller's fault, retryable later, and not retried at once", async () => {
    const queue = uniqueName("full");
    const client = makeClient();
    await client.createQueue({ queue, maxMsgHeapNum: 1 });
    await client.send(queue, "fills it");

    const error = await failure(client.send(queue, "one too many", { idempotent: true }));
    const stored = await client.getQueue({ queue });

    expect([error.code, error.status, error.fault, error.retryable]).toEqual(["QueueFull", 409, "client", true]);
    expect(stored.counts.total).toBe(1);
  });
});

describe("answers that are not the service's", () => {
  it("the request id of an error is the x-request-id the answer carried", async () => {
    let header: string | null = null;
    const client = httpClient({
      fetch: async (input, init) => {
        const response = await workerFetch(input, init);
        header = response.headers.get("x-request-id");
        return response;
      },
    });

    const error = await failure(client.getTopic({ topic: uniqueName("missing") }));

    expect([error.code, error.requestId]).toEqual(["TopicNotFound", header]);
  });

  it("a proxy's page is UnexpectedResponse with its status, the service's fault when 5xx", async () => {
    const recorder = recordingFetch(async () => new Response("<html>Bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } }));
    const client = httpClient({ fetch: recorder.fetch, retry: { maxAttempts: 1 } });

    const error = await failure(client.health());

    expect([error.code, error.status, error.fault, error.retryable]).toEqual(["UnexpectedResponse", 502, "server", true]);
    expect(error.message).toContain("Bad gateway");
    expect(recorder.requests).toHaveLength(1);
  });

  it("a 4xx that is not the service's is the caller's fault and not retryable", async () => {
    const client = httpClient({ fetch: async () => new Response("no", { status: 418 }) });

    const error = await failure(client.health());

    expect([error.code, error.status, error.fault, error.retryable]).toEqual(["UnexpectedResponse", 418, "client", false]);
  });

  it("a 2xx that is not JSON is UnexpectedResponse, not a parse error", async () => {
    const client = httpClient({ fetch: async () => new Response("<html>Sign in to the Wi-Fi</html>", { status: 200 }) });

    const error = await failure(client.listQueues());

    expect([error.code, error.status, error.fault, error.retryable]).toEqual(["UnexpectedResponse", 200, "server", false]);
  });

  it.each([
    [409, "client", false],
    [503, "server", true],
  ] as const)("a code this client does not know yet keeps its name and is judged by its status %i", async (status, fault, retryable) => {
    // A newer service may answer codes added after this client was built.
    const body = { error: { code: "QueueTagLimitExceeded", message: "too many tags", requestId: "r-1" } };
    const client = httpClient({ fetch: async () => Response.json(body, { status }), retry: { maxAttempts: 1 } });

    const error = await failure(client.health());

    expect([error.code, error.message, error.requestId, error.status, error.fault, error.retryable]).toEqual([
      "QueueTagLimitExceeded",
      "too many tags",
      "r-1",
      status,
      fault,
      retryable,
    ]);
  });
});
