import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { QueueService } from "../../src/api/rpc";
import { restRoutes } from "../../src/api/rest";
import worker from "../../src/index";
import { api, RootSecretKey, uniqueName, type ApiResponse } from "../support/http";
import { createQueue, expectError, expectStatus, snapshot } from "./helpers";

/** The configured root credentials (vitest.config.ts binds them). */
const TestRootSecretId = env.ROOT_SECRET_ID!;
const TestRootSecretKey = env.ROOT_SECRET_KEY!;

/** Every route of the table, with its parameters filled in. */
const routeCases = restRoutes.map((route) => ({
  method: route.method,
  path: route.path,
  body: route.fieldsFrom === "body" ? "{}" : undefined,
}));
const fill = (path: string, queue: string) =>
  path
    .replace(":queue", queue)
    .replace(":topic", queue)
    .replace(":subscription", "s1")
    .replace(":account", "default")
    .replace(":secretId", `AKID${"0".repeat(32)}`)
    .replace(":receiptHandle", `1-${"0".repeat(32)}`);

/** Calls the default export's fetch directly, with an env of our choosing. */
async function fetchWith(
  testEnv: Env,
  method: string,
  path: string,
  init: { body?: string; auth?: string } = {},
): Promise<ApiResponse> {
  const headers = new Headers();
  headers.set("authorization", init.auth ?? `Bearer ${RootSecretKey}`);
  const request = new Request(`http://cmq.test${path}`, { method, headers, body: init.body });
  const ctx = createExecutionContext();
  const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

describe("bearer authentication", () => {
  let queue: string;
  let before: unknown;

  beforeAll(async () => {
    queue = await createQueue(uniqueName("auth"), { rewindSeconds: 60 });
    await api("POST", `/v1/queues/${queue}/messages`, { body: "kept" });
    before = await snapshot(queue);
  });

  it("the test secret is the configured one", () => {
    expect(TestRootSecretId).toMatch(/^AKID/);
    expect(RootSecretKey).toBe(TestRootSecretKey);
  });

  const badCredentials: Array<[string, string | null]> = [
    ["no Authorization header", null],
    ["a wrong secret", "Bearer not-the-secret"],
    ["the secret with a suffix", `Bearer ${TestRootSecretKey}x`],
    ["a prefix of the secret", `Bearer ${TestRootSecretKey.slice(0, -1)}`],
    ["the secret id instead of the key", `Bearer ${TestRootSecretId}`],
    ["the Basic scheme", `Basic ${btoa(`${TestRootSecretId}:${TestRootSecretKey}`)}`],
    ["the secret without a scheme", TestRootSecretKey],
    ["an empty bearer", "Bearer "],
    ["two tokens", `Bearer ${TestRootSecretKey} ${TestRootSecretKey}`],
    ["an empty header", ""],
  ];

  // Health without credentials (none, or an empty header) is open; that is tested on its own below.
  const withoutCredentials = (auth: string | null) => auth === null || auth === "";
  const cases = routeCases.flatMap((route) =>
    badCredentials
      .filter(([, auth]) => !(route.path === "/v1/health" && withoutCredentials(auth)))
      .map(([label, auth]) => ({ ...route, label, auth })),
  );

  it.each(cases)("$method $path with $label is 401 Unauthenticated and changes nothing", async ({ method, path, body, label, auth }) => {
    const response = await api(method, fill(path, queue), undefined, {
      auth: auth === "" ? null : auth,
      rawBody: body,
      headers: auth === "" ? { authorization: "" } : {},
    });
    expectError(response, "Unauthenticated", label === "no Authorization header" ? "missing" : /credentials/);
    expect(await snapshot(queue)).toEqual(before);
  });

  it("a create without credentials creates nothing", async () => {
    const name = uniqueName("auth");
    expectError(await api("PUT", `/v1/queues/${name}`, {}, { auth: null }), "Unauthenticated");
    expectError(await api("GET", `/v1/queues/${name}`), "QueueNotFound");
  });

  it("authentication comes before the body: a malformed body without credentials is 401", async () => {
    expectError(
      await api("POST", `/v1/queues/${queue}/messages`, undefined, { auth: null, rawBody: "{" }),
      "Unauthenticated",
    );
    expectError(
      await api("POST", `/v1/queues/${queue}/messages`, undefined, { auth: "Bearer wrong", rawBody: "x".repeat(100) }),
      "Unauthenticated",
    );
  });

  it.each([
    ["Bearer", `Bearer ${TestRootSecretKey}`],
    ["lower-case bearer", `bearer ${TestRootSecretKey}`],
    ["upper-case BEARER", `BEARER ${TestRootSecretKey}`],
    ["extra spaces", `Bearer   ${TestRootSecretKey}  `],
  ])("health answers 200 with %s", async (_label, auth) => {
    const response = await api("GET", "/v1/health", undefined, { auth });
    expectStatus(response, 200);
    expect(response.body).toEqual({ status: "ok" });
  });

  it("the secret in the query string is not a credential", async () => {
    expectError(await api("GET", `/v1/queues?token=${TestRootSecretKey}`, undefined, { auth: null }), "Unauthenticated");
  });

  it("health answers 200 without credentials, for load balancers and uptime checks", async () => {
    const response = await api("GET", "/v1/health", undefined, { auth: null });

    expectStatus(response, 200);
    expect(response.body).toEqual({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("health still checks credentials that are sent, so the benchmark's floor includes authentication", async () => {
    const wrong = await api("GET", "/v1/health", undefined, { auth: `Bearer ${TestRootSecretKey}x` });
    const unsupported = await api("GET", "/v1/health", undefined, { auth: "Basic dXNlcjpwYXNz" });

    expectError(wrong, "Unauthenticated");
    expectError(unsupported, "Unauthenticated");
  });
});

describe("NotConfigured", () => {
  const unconfigured: Array<[string, Partial<Env>]> = [
    ["without ROOT_SECRET_KEY", { ROOT_SECRET_KEY: undefined }],
    ["without ROOT_SECRET_ID", { ROOT_SECRET_ID: undefined }],
    ["with both empty", { ROOT_SECRET_ID: "", ROOT_SECRET_KEY: "" }],
  ];

  const everyPath = [
    ...routeCases,
    { method: "GET", path: "/openapi.json", body: undefined },
    { method: "GET", path: "/v1/no-such-route", body: undefined },
    { method: "POST", path: "/v1/health", body: undefined },
  ];

  const cases = unconfigured.flatMap(([label, override]) =>
    everyPath.map((route) => ({ ...route, label, override })),
  );

  it.each(cases)("$method $path $label is 503 NotConfigured, even with the right bearer", async ({ method, path, body, override }) => {
    const name = uniqueName("nc");
    const testEnv = { ...env, ...override } as Env;
    const response = await fetchWith(testEnv, method, fill(path, name), { body });
    expectError(response, "NotConfigured", "ROOT_SECRET");
    // Nothing was created or changed through the unconfigured service.
    expectError(await api("GET", `/v1/queues/${name}`), "QueueNotFound");
  });

  it("refuses without credentials too, and before reading a body", async () => {
    const testEnv = { ...env, ROOT_SECRET_KEY: undefined } as Env;
    expectError(await fetchWith(testEnv, "GET", "/v1/health", { auth: "" }), "NotConfigured");
    expectError(await fetchWith(testEnv, "POST", "/v1/queues/q1/messages", { body: "{" }), "NotConfigured");
  });

  it("the same handler with both secrets set answers normally", async () => {
    const response = await fetchWith({ ...env } as Env, "GET", "/v1/health");
    expectStatus(response, 200);
  });

  it("the RPC entrypoint refuses with [NotConfigured] as well", async () => {
    const service = new QueueService(createExecutionContext(), { ...env, ROOT_SECRET_KEY: undefined } as Env);
    await expect(service.getQueue("any")).rejects.toThrow(/^\[NotConfigured\] /);
    await expect(service.createQueue(uniqueName("nc"))).rejects.toMatchObject({ name: "ServiceError" });
  });
});
