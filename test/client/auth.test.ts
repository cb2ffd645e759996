import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EdgeCmqError, type IssuedToken } from "../../packages/client/src";
import { createKey } from "../support/auth";
import { RootSecretKey as TestRootSecretKey, uniqueName } from "../support/http";
import { bindingClient, httpClient, recordingFetch } from "./support";

const TestRootSecretId = env.ROOT_SECRET_ID!;
const failure = (call: Promise<unknown>) => call.then(() => expect.unreachable("the call succeeded"), (error: EdgeCmqError) => error);

describe("TC3-HMAC-SHA256 signed requests", () => {
  it("signs every request of a key and never sends its secret", async () => {
    const queue = uniqueName("tc3");
    await httpClient().createQueue({ queue });
    const key = await createKey([{ actions: ["send", "receive", "read"], resources: ["queue:tc3-*"] }]);
    const recorder = recordingFetch();
    const client = httpClient({ secretId: key.secretId, secretKey: key.secretKey, fetch: recorder.fetch });

    await client.send(queue, "signed");
    // A query string and an escaped path segment are signed as sent.
    const listed = await client.listQueues({ prefix: queue, limit: 5 });
    const { messages } = await client.receiveMessages({ queue, waitSeconds: 1 });
    await client.deleteMessage({ queue, receiptHandle: messages[0]!.receiptHandle });

    expect(listed.queues.map((q) => q.name)).toEqual([queue]);
    expect(messages.map((m) => m.body)).toEqual(["signed"]);
    expect(recorder.requests.map((r) => new URL(r.url).search)).toContain(`?prefix=${queue}&limit=5`);
    for (const request of recorder.requests) {
      expect(request.headers.get("authorization")).toMatch(new RegExp(`^TC3-HMAC-SHA256 Credential=${key.secretId}/\\d{4}-\\d{2}-\\d{2}/cmq/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$`));
      expect(request.headers.get("x-tc-timestamp")).toMatch(/^\d{10}$/);
      expect([...request.headers.values()].join(" ")).not.toContain(key.secretKey);
    }
  });

  it("signs as root with the root SecretId", async () => {
    const client = httpClient({ secretId: TestRootSecretId, secretKey: TestRootSecretKey });

    const created = await client.createTopic({ topic: uniqueName("tc3") });

    expect(created.created).toBe(true);
  });

  it("a wrong secret is Unauthenticated, 401, and is not retried", async () => {
    const recorder = recordingFetch();
    const client = httpClient({ secretId: TestRootSecretId, secretKey: "not-the-secret-key-0123456789", fetch: recorder.fetch });

    const error = await failure(client.listQueues());

    expect([error.code, error.status, error.fault]).toEqual(["Unauthenticated", 401, "client"]);
    expect(recorder.requests).toHaveLength(1);
  });

  it("takes its timestamp from the client's clock: one 10 minutes off is refused", async () => {
    const client = httpClient({ secretId: TestRootSecretId, secretKey: TestRootSecretKey, now: () => Date.now() - 600_000 });

    const error = await failure(client.listQueues());

    expect(error.code).toBe("Unauthenticated");
    expect(error.message).toMatch(/X-TC-Timestamp/);
  });
});

describe("browser tokens", () => {
  /** Mints real tokens with the root credentials, counting them. */
  function tokenMinter(ttlSeconds = 900): { getToken: () => Promise<IssuedToken>; minted: IssuedToken[] } {
    const minted: IssuedToken[] = [];
    const root = httpClient();
    return {
      minted,
      getToken: async () => {
        const issued = await root.createToken({ actions: ["read"], resources: ["*"], ttlSeconds });
        minted.push(issued);
        return issued;
      },
    };
  }

  it("sends a fixed token as a bearer credential, with exactly its rights", async () => {
    const queue = uniqueName("tok");
    await httpClient().createQueue({ queue });
    const { token } = await httpClient().createToken({ actions: ["read"], resources: [`queue:${queue}`] });
    const recorder = recordingFetch();
    const client = httpClient({ token, fetch: recorder.fetch });

    const got = await client.getQueue({ queue });
    const error = await failure(client.send(queue, "not allowed"));

    expect(got.name).toBe(queue);
    expect(error.code).toBe("Forbidden");
    expect(recorder.requests[0]!.headers.get("authorization")).toBe(`Bearer ${token}`);
  });

  it("fetches a token on first use and again refreshBeforeMs before it expires, once for concurrent calls", async () => {
    const minter = tokenMinter(600);
    let nowMs = Date.now();
    const recorder = recordingFetch();
    const client = httpClient({ getToken: minter.getToken, refreshBeforeMs: 60_000, now: () => nowMs, fetch: recorder.fetch });

    await client.listQueues();
    await client.listTopics();
    const afterFirst = minter.minted.length;
    nowMs = minter.minted[0]!.expiresAt - 59_000;
    await Promise.all([client.listQueues(), client.listTopics(), client.health()]);

    expect(afterFirst).toBe(1);
    expect(minter.minted).toHaveLength(2);
    expect(recorder.requests.slice(0, 2).map((r) => r.headers.get("authorization"))).toEqual(Array(2).fill(`Bearer ${minter.minted[0]!.token}`));
    expect(recorder.requests.slice(2).map((r) => r.headers.get("authorization"))).toEqual(Array(3).fill(`Bearer ${minter.minted[1]!.token}`));
  });

  it("replaces a token the service refuses before its expiry, once", async () => {
    const minter = tokenMinter();
    const tokens = [{ token: "cmqt.revoked.token", expiresAt: Date.now() + 600_000 }];
    let calls = 0;
    const getToken = async () => (calls++ === 0 ? tokens[0]! : minter.getToken());
    const recorder = recordingFetch();

    const listed = await httpClient({ getToken, fetch: recorder.fetch }).listQueues();

    expect(listed.queues).toBeInstanceOf(Array);
    expect(calls).toBe(2);
    expect(recorder.requests).toHaveLength(2);
  });

  it("surfaces the refusal when a fresh token is refused too", async () => {
    const getToken = async () => ({ token: "cmqt.never.valid", expiresAt: Date.now() + 600_000 });
    const recorder = recordingFetch();

    const error = await failure(httpClient({ getToken, fetch: recorder.fetch }).listQueues());

    expect(error.code).toBe("Unauthenticated");
    expect(recorder.requests).toHaveLength(2);
  });
});

describe("credentials over a service binding", () => {
  it("acts as root without credentials, and as the key whose secret is given", async () => {
    const queue = uniqueName("bind");
    await bindingClient().createQueue({ queue });
    const key = await createKey([{ actions: ["read"], resources: [`queue:${queue}`] }]);
    const client = bindingClient({ secretKey: key.secretKey });

    const got = await client.getQueue({ queue });
    const error = await failure(client.send(queue, "not allowed"));

    expect(got.name).toBe(queue);
    expect([error.code, error.status, error.fault]).toEqual(["Forbidden", 403, "client"]);
  });

  it("acts as a token from getToken, refreshed before it expires", async () => {
    const minted: IssuedToken[] = [];
    const root = bindingClient();
    const getToken = async () => {
      // The first for 5 minutes, the next for an hour: the client's clock moves, the service's does not.
      const issued = await root.createToken({ actions: ["read"], resources: ["*"], ttlSeconds: minted.length ? 3_600 : 300 });
      minted.push(issued);
      return issued;
    };
    let nowMs = Date.now();
    const client = bindingClient({ getToken, now: () => nowMs });

    await client.listQueues();
    nowMs += 300_000;
    const listed = await client.listTopics();
    const error = await failure(client.createQueue({ queue: uniqueName("bind") }));

    expect(listed.topics).toBeInstanceOf(Array);
    expect(minted).toHaveLength(2);
    expect(error.code).toBe("Forbidden");
  });

  it("a wrong secret is Unauthenticated", async () => {
    const error = await failure(bindingClient({ secretKey: "not-a-key-secret-0123456789" }).listQueues());

    expect([error.code, error.status]).toEqual(["Unauthenticated", 401]);
    expect(env.CMQ).toBeDefined();
  });
});
