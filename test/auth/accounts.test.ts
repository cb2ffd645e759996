import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { QueueOperations } from "../../src/service/queues";
import { TopicOperations } from "../../src/service/topics";
import { RootPrincipal } from "../../src/auth/authenticate";
import { bearer, createAccount, createKey, tc3Headers } from "../support/auth";
import { api, uniqueName } from "../support/http";

const unique = () => crypto.randomUUID().slice(0, 8);

async function rpc(credentials: string | undefined, method: string, ...args: unknown[]) {
  const response = await env.CONSUMER.fetch("http://consumer/", {
    method: "POST",
    body: JSON.stringify({ method, args, credentials }),
  });
  return response.json<{ ok: boolean; value?: any; name?: string; message?: string }>();
}

describe("accounts", () => {
  it("root creates an account and lists it beside the default one", async () => {
    const name = `acct-${unique()}`;

    const created = await api("POST", "/v1/accounts", { name });
    const listed = await api("GET", "/v1/accounts");

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name, allowedOrigins: null });
    expect(created.body.id).toMatch(/^a[0-9a-z]{15}$/);
    const names = listed.body.accounts.map((account: { name: string }) => account.name);
    expect(names).toContain("default");
    expect(names).toContain(name);
  });

  it("refuses a second account of the same name, whatever its case", async () => {
    const name = `acct-${unique()}`;
    await api("POST", "/v1/accounts", { name });

    const again = await api("POST", "/v1/accounts", { name: name.toUpperCase() });

    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("AccountAlreadyExists");
  });

  it("keeps the same queue name in two accounts as two queues", async () => {
    const other = await createAccount(`acct-${unique()}`);
    const keyA = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const keyB = await createKey([{ actions: ["*"], resources: ["*"] }], other);
    const name = uniqueName();
    await api("PUT", `/v1/queues/${name}`, {}, { auth: bearer(keyA.secretKey) });
    await api("PUT", `/v1/queues/${name}`, {}, { auth: bearer(keyB.secretKey) });

    await api("POST", `/v1/queues/${name}/messages`, { body: "for A" }, { auth: bearer(keyA.secretKey) });
    const inB = await api("POST", `/v1/queues/${name}/messages/receive`, { max: 16 }, { auth: bearer(keyB.secretKey) });
    const inA = await api("POST", `/v1/queues/${name}/messages/receive`, { max: 16 }, { auth: bearer(keyA.secretKey) });

    expect(inB.body.messages).toEqual([]);
    expect(inA.body.messages.map((m: { body: string }) => m.body)).toEqual(["for A"]);
  });
});

describe("keys", () => {
  it("shows the secret only when the key is created, and stores it sealed", async () => {
    const created = await api("POST", "/v1/accounts/default/keys", {
      policy: { statements: [{ actions: ["read"], resources: ["queue:*"] }] },
    });
    const listed = await api("GET", "/v1/accounts/default/keys");
    const stored = await runInDurableObject(env.ACCOUNTS.get(env.ACCOUNTS.idFromName("registry")), (_o, state) =>
      state.storage.sql.exec("SELECT * FROM keys WHERE secret_id = ?", created.body.secretId).one(),
    );

    expect(created.status).toBe(201);
    expect(created.body.secretId).toMatch(/^AKID[A-Za-z0-9]{32}$/);
    expect(created.body.secretKey).toMatch(/^[A-Za-z0-9]{40}$/);
    const entry = listed.body.keys.find((key: { secretId: string }) => key.secretId === created.body.secretId);
    expect(entry).toMatchObject({ disabled: false, policy: created.body.policy });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secretKey);
    expect(JSON.stringify(stored)).not.toContain(created.body.secretKey);
  });

  it("a disabled key is refused until enabled again", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);

    await api("PATCH", `/v1/accounts/default/keys/${key.secretId}`, { disabled: true });
    const whileDisabled = await api("GET", "/v1/health", undefined, { auth: bearer(key.secretKey) });
    await api("PATCH", `/v1/accounts/default/keys/${key.secretId}`, { disabled: false });
    const afterwards = await api("GET", "/v1/health", undefined, { auth: bearer(key.secretKey) });

    expect(whileDisabled.body.error.code).toBe("Unauthenticated");
    expect(afterwards.status).toBe(200);
  });

  it("rotation gives a new secret and the old one stops working, for bearer and signed requests", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);

    const rotated = await api("POST", `/v1/accounts/default/keys/${key.secretId}/rotate`);
    const oldBearer = await api("GET", "/v1/health", undefined, { auth: bearer(key.secretKey) });
    const oldSigned = await api("GET", "/v1/health", undefined, { auth: null, headers: await tc3Headers("GET", "/v1/health", "", key) });
    const newSigned = await api("GET", "/v1/health", undefined, {
      auth: null,
      headers: await tc3Headers("GET", "/v1/health", "", { secretId: key.secretId, secretKey: rotated.body.secretKey }),
    });

    expect(rotated.status).toBe(200);
    expect(rotated.body.secretKey).not.toBe(key.secretKey);
    expect(oldBearer.body.error.code).toBe("Unauthenticated");
    expect(oldSigned.body.error.code).toBe("Unauthenticated");
    expect(newSigned.status).toBe(200);
  });

  it("a deleted key and the tokens it minted are refused", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const minted = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"] }, { auth: bearer(key.secretKey) });

    const deleted = await api("DELETE", `/v1/accounts/default/keys/${key.secretId}`);
    const withKey = await api("GET", "/v1/health", undefined, { auth: bearer(key.secretKey) });
    const withToken = await api("GET", "/v1/health", undefined, { auth: bearer(minted.body.token) });

    expect(deleted.status).toBe(204);
    expect(withKey.body.error.code).toBe("Unauthenticated");
    expect(withToken.body.error.code).toBe("Unauthenticated");
  });

  it("an account's key with manage on * administers its own account's keys only", async () => {
    const other = await createAccount(`acct-${unique()}`);
    const admin = await createKey([{ actions: ["manage"], resources: ["*"] }], other);

    const own = await api("POST", `/v1/accounts/${other}/keys`, { policy: { statements: [] } }, { auth: bearer(admin.secretKey) });
    const foreign = await api("GET", "/v1/accounts/default/keys", undefined, { auth: bearer(admin.secretKey) });
    const accounts = await api("GET", "/v1/accounts", undefined, { auth: bearer(admin.secretKey) });

    expect(own.status).toBe(201);
    expect(foreign.body.error.code).toBe("AccountNotFound");
    expect(accounts.body.error.code).toBe("Forbidden");
  });

  it("refuses a policy with an unknown action or a malformed resource", async () => {
    const before = (await api("GET", "/v1/accounts/default/keys")).body.keys.length;

    const unknownAction = await api("POST", "/v1/accounts/default/keys", { policy: { statements: [{ actions: ["delete"], resources: ["*"] }] } });
    const badResource = await api("POST", "/v1/accounts/default/keys", { policy: { statements: [{ actions: ["read"], resources: ["queues/*"] }] } });
    const after = (await api("GET", "/v1/accounts/default/keys")).body.keys.length;

    expect(unknownAction.body.error.code).toBe("InvalidParameter");
    expect(badResource.body.error.code).toBe("InvalidParameter");
    expect(after).toBe(before);
  });
});

describe("browser tokens", () => {
  it("are at most 24 hours long", async () => {
    const tooLong = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"], ttlSeconds: 86_401 });
    const longest = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"], ttlSeconds: 86_400 });

    expect(tooLong.body.error.code).toBe("InvalidParameter");
    expect(longest.status).toBe(201);
    expect(longest.body.expiresAt).toBeLessThanOrEqual(Date.now() + 86_400_000);
    expect(longest.body.token).toMatch(/^cmqt\./);
  });

  it("grant at most their caller's rights", async () => {
    const key = await createKey([{ actions: ["send"], resources: ["queue:orders-*"] }]);

    const narrower = await api("POST", "/v1/tokens", { actions: ["send"], resources: ["queue:orders-eu"] }, { auth: bearer(key.secretKey) });
    const wider = await api("POST", "/v1/tokens", { actions: ["send"], resources: ["queue:*"] }, { auth: bearer(key.secretKey) });
    const otherAction = await api("POST", "/v1/tokens", { actions: ["receive"], resources: ["queue:orders-eu"] }, { auth: bearer(key.secretKey) });
    const fromToken = await api("POST", "/v1/tokens", { actions: ["send"], resources: ["queue:orders-*"] }, { auth: bearer(narrower.body.token) });

    expect(narrower.status).toBe(201);
    expect(wider.body.error.code).toBe("Forbidden");
    expect(otherAction.body.error.code).toBe("Forbidden");
    expect(fromToken.body.error.code).toBe("Forbidden");
  });

  it("a token whose claims or signature were altered is refused", async () => {
    const minted = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["queue:x"], ttlSeconds: 60 });
    const [prefix, payload, mac] = minted.body.token.split(".");
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    const widened = btoa(JSON.stringify({ ...claims, resources: ["*"] })).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

    const alteredClaims = await api("GET", "/v1/health", undefined, { auth: bearer(`${prefix}.${widened}.${mac}`) });
    const alteredMac = await api("GET", "/v1/health", undefined, { auth: bearer(`${prefix}.${payload}.${mac.slice(0, -2)}AA`) });
    const truncated = await api("GET", "/v1/health", undefined, { auth: bearer(`${prefix}.${payload}`) });

    expect(alteredClaims.body.error.code).toBe("Unauthenticated");
    expect(alteredMac.body.error.code).toBe("Unauthenticated");
    expect(truncated.body.error.code).toBe("Unauthenticated");
  });
});

describe("CORS", () => {
  it("answers a preflight with the methods and headers a page may use", async () => {
    const response = await api("OPTIONS", "/v1/queues/orders/messages", undefined, {
      auth: null,
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });

    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("lets any origin read answers by default, errors included", async () => {
    const ok = await api("GET", "/v1/health", undefined, { headers: { origin: "https://any.example" } });
    const refused = await api("GET", "/v1/queues", undefined, { auth: null, headers: { origin: "https://any.example" } });

    expect(ok.headers.get("access-control-allow-origin")).toBe("*");
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
    expect(ok.headers.get("access-control-expose-headers")).toContain("x-request-id");
  });

  it("an account that names its origins lets only those pages read its answers", async () => {
    const other = await createAccount(`acct-${unique()}`);
    const key = await createKey([{ actions: ["*"], resources: ["*"] }], other);
    await api("PATCH", `/v1/accounts/${other}`, { allowedOrigins: ["https://shop.example"] });

    const allowed = await api("GET", "/v1/health", undefined, { auth: bearer(key.secretKey), headers: { origin: "https://shop.example" } });
    const elsewhere = await api("GET", "/v1/health", undefined, { auth: bearer(key.secretKey), headers: { origin: "https://evil.example" } });

    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("quotas", () => {
  it("an account holds at most its queue quota; an existing queue can still be confirmed", async () => {
    const account = await createAccount(`acct-${unique()}`);
    const scope = { account, region: "local", principal: { ...RootPrincipal(), account } };
    const queues = new QueueOperations({ ...env, MAX_QUEUES_PER_ACCOUNT: "2" }, scope);
    await queues.createQueue("first", {});
    await queues.createQueue("second", {});

    const third = await queues.createQueue("third", {}).catch((error: unknown) => error);
    const again = await queues.createQueue("first", {});

    expect(third).toMatchObject({ code: "QuotaExceeded" });
    expect(again.created).toBe(false);
    expect((await queues.listQueues({ limit: 100 })).queues.map((q) => q.name)).toEqual(["first", "second"]);
  });

  it("an account holds at most its topic quota", async () => {
    const account = await createAccount(`acct-${unique()}`);
    const scope = { account, region: "local", principal: { ...RootPrincipal(), account } };
    const topics = new TopicOperations({ ...env, MAX_TOPICS_PER_ACCOUNT: "1" }, scope);
    await topics.createTopic("only", {});

    await expect(topics.createTopic("second", {})).rejects.toMatchObject({ code: "QuotaExceeded" });
  });
});

describe("service binding with credentials", () => {
  it("a client for a key acts in the key's account with the key's rights", async () => {
    const other = await createAccount(`acct-${unique()}`);
    const key = await createKey([{ actions: ["manage", "send"], resources: ["queue:jobs-*"] }], other);
    const name = `jobs-${unique()}`;

    const created = await rpc(key.secretKey, "createQueue", name, {});
    const sent = await rpc(key.secretKey, "send", name, "hello");
    const received = await rpc(key.secretKey, "receive", name, {});
    const outside = await rpc(key.secretKey, "createQueue", `other-${unique()}`, {});
    const inDefault = await rpc(undefined, "getQueue", name);

    expect(created.ok).toBe(true);
    expect(sent.ok).toBe(true);
    expect(received).toMatchObject({ ok: false, name: "ServiceError" });
    expect(received.message).toMatch(/^\[Forbidden\]/);
    expect(outside.message).toMatch(/^\[Forbidden\]/);
    expect(inDefault.message).toMatch(/^\[QueueNotFound\]/);
  });

  it("a wrong secret gets no client", async () => {
    const result = await rpc("not-a-secret", "getQueue", "x");

    expect(result).toMatchObject({ ok: false, name: "ServiceError" });
    expect(result.message).toMatch(/^\[Unauthenticated\]/);
  });
});
