import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { bearer, createAccount, createKey } from "../support/auth";
import { createQueue, eventually, expectError, expectRpcError, expectStatus, rpc, rpcValue } from "./helpers";

describe("who am I", () => {
  it("tells the root credentials they are root in the default account, with no policy", async () => {
    const response = await api("GET", "/v1/whoami");

    expectStatus(response, 200);
    expect(response.body).toEqual({ kind: "root", account: "default", secretId: null, policy: null, token: null, allowedOrigins: expect.toSatisfy((value) => value === null || Array.isArray(value)) });
  });

  it("tells a key its account, SecretId and policy", async () => {
    const account = await createAccount(uniqueName("who"));
    const statements = [{ actions: ["send", "read"], resources: ["queue:orders-*"] }];
    const key = await createKey(statements, account);

    const response = await api("GET", "/v1/whoami", undefined, { auth: bearer(key.secretKey) });

    expectStatus(response, 200);
    expect(response.body).toEqual({ kind: "key", account, secretId: key.secretId, policy: { statements }, token: null, allowedOrigins: null });
  });

  it("tells a token the key that minted it, that key's policy, its own scope and its expiry", async () => {
    const statements = [{ actions: ["*"], resources: ["*"] }];
    const key = await createKey(statements);
    const minted = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["topic:news"], ttlSeconds: 60 }, { auth: bearer(key.secretKey) });

    const response = await api("GET", "/v1/whoami", undefined, { auth: bearer(minted.body.token) });

    expectStatus(response, 200);
    expect(response.body).toMatchObject({
      kind: "token",
      account: "default",
      secretId: key.secretId,
      policy: { statements },
      token: { actions: ["read"], resources: ["topic:news"], expiresAt: minted.body.expiresAt },
    });
  });

  it("answers the same over RPC, and refuses a caller without credentials", async () => {
    const overRest = await api("GET", "/v1/whoami");

    const overRpc = rpcValue(await rpc("whoami"));
    const anonymous = await api("GET", "/v1/whoami", undefined, { auth: null });

    expect(overRpc).toEqual(overRest.body);
    expectError(anonymous, "Unauthenticated");
  });
});

describe("listing redrives", () => {
  it("answers an empty list, not an error, before any redrive ran, through REST and RPC", async () => {
    const queue = await createQueue(uniqueName("lr"));

    const response = await api("GET", `/v1/queues/${queue}/redrives`);
    const overRpc = rpcValue(await rpc("listRedrives", queue));

    expectStatus(response, 200);
    expect(response.body).toEqual({ redrives: [] });
    expect(overRpc).toEqual({ redrives: [] });
    expectError(await api("GET", `/v1/queues/${queue}/redrive`), "RedriveNotFound");
  });

  it("lists the latest redrive as getRedrive shows it", async () => {
    const queue = await createQueue(uniqueName("lr"));
    expectStatus(await api("POST", `/v1/queues/${queue}/redrive`), 202);
    await eventually(async () => ((await api("GET", `/v1/queues/${queue}/redrive`)).body.status === "running" ? undefined : true));

    const latest = (await api("GET", `/v1/queues/${queue}/redrive`)).body;
    const listed = await api("GET", `/v1/queues/${queue}/redrives`);

    expectStatus(listed, 200);
    expect(listed.body).toEqual({ redrives: [latest] });
  });

  it("refuses a missing queue and a malformed name with their codes", async () => {
    expectError(await api("GET", `/v1/queues/${uniqueName("missing")}/redrives`), "QueueNotFound");
    expectError(await api("GET", "/v1/queues/1-bad/redrives"), "InvalidParameter");
    expectRpcError(await rpc("listRedrives", uniqueName("missing")), "QueueNotFound");
  });
});

describe("listing accounts and keys page by page", () => {
  it("pages an account's keys by SecretId with a cursor, filters them, and lists them whole by default", async () => {
    const account = await createAccount(uniqueName("pk"));
    const created = [];
    for (let index = 0; index < 5; index++) created.push((await createKey([{ actions: ["read"], resources: ["*"] }], account)).secretId);
    const sorted = [...created].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));

    const whole = await api("GET", `/v1/accounts/${account}/keys`);
    const first = await api("GET", `/v1/accounts/${account}/keys?limit=2`);
    const second = await api("GET", `/v1/accounts/${account}/keys?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    const third = await api("GET", `/v1/accounts/${account}/keys?limit=2&cursor=${encodeURIComponent(second.body.nextCursor)}`);
    const byPrefix = await api("GET", `/v1/accounts/${account}/keys?prefix=${sorted[3]!.slice(0, 20)}`);
    const overRpc = rpcValue(await rpc("listKeys", account, { limit: 2 }));

    expect(whole.body.keys.map((key: { secretId: string }) => key.secretId)).toEqual(sorted);
    expect(whole.body).toMatchObject({ total: 5, nextCursor: null });
    const paged = [first, second, third].flatMap((page) => page.body.keys.map((key: { secretId: string }) => key.secretId));
    expect(paged).toEqual(sorted);
    expect([first.body.total, third.body.nextCursor]).toEqual([5, null]);
    expect(byPrefix.body.keys.map((key: { secretId: string }) => key.secretId)).toEqual([sorted[3]]);
    expect(overRpc).toEqual(first.body);
  });

  it("pages accounts by name, finds them by prefix or substring, and refuses bad paging", async () => {
    const run = crypto.randomUUID().slice(0, 6);
    const names = [`pa${run}-c`, `pa${run}-a`, `pa${run}-B`];
    for (const name of names) await createAccount(name);

    const first = await api("GET", `/v1/accounts?prefix=pa${run}&limit=2`);
    const rest = await api("GET", `/v1/accounts?prefix=pa${run}&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    const found = await api("GET", `/v1/accounts?search=${run}-b`);

    expect([...first.body.accounts, ...rest.body.accounts].map((account: { name: string }) => account.name)).toEqual([`pa${run}-a`, `pa${run}-B`, `pa${run}-c`]);
    expect([first.body.total, rest.body.nextCursor]).toEqual([3, null]);
    expect(found.body.accounts.map((account: { name: string }) => account.name)).toEqual([`pa${run}-B`]);
    expectError(await api("GET", "/v1/accounts?limit=0"), "InvalidParameter");
    expectError(await api("GET", "/v1/accounts?cursor=x&offset=1"), "InvalidParameter");
    expectError(await api("GET", "/v1/accounts/default/keys?nonsense=1"), "InvalidParameter");
  });
});
