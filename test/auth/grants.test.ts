import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { patternCovers, policyCovers, policyWithin } from "../../src/auth/policy";
import type { Policy } from "../../src/schema/account";
import { bearer, createAccount, createKey } from "../support/auth";
import { api, uniqueName } from "../support/http";

/**
 * Nothing grants more than its grantor holds: a token makes no lasting change to credentials, and a
 * key gives a new key, itself or another key only rights it holds. Only root is unbounded.
 */
const unique = () => crypto.randomUUID().slice(0, 8);
const everything = { statements: [{ actions: ["*"], resources: ["*"] }] };
const keyCount = async (account: string) => (await api("GET", `/v1/accounts/${account}/keys`)).body.keys.length;

async function tokenFor(secretKey: string | null, actions: string[], resources: string[]): Promise<string> {
  const minted = await api("POST", "/v1/tokens", { actions, resources, ttlSeconds: 600 }, secretKey ? { auth: bearer(secretKey) } : {});
  expect(minted.status, JSON.stringify(minted.body)).toBe(201);
  return minted.body.token;
}

describe("a token cannot make keys or change them", () => {
  const minters = [
    ["a key with every right", "key"],
    ["root", "root"],
  ] as const;

  it.each(minters)("a token minted by %s with every action on * is refused every key change", async (_name, minter) => {
    const account = await createAccount(`acct-${unique()}`);
    const admin = await createKey(everything.statements, account);
    const victim = await createKey([{ actions: ["read"], resources: ["*"] }], account);
    const token =
      minter === "root"
        ? await tokenFor(null, ["manage", "read", "send", "receive", "publish"], ["*"])
        : await tokenFor(admin.secretKey, ["manage", "read", "send", "receive", "publish"], ["*"]);
    const target = minter === "root" ? "default" : account;
    const victimPath = minter === "root" ? null : `/v1/accounts/${account}/keys/${victim.secretId}`;
    const before = await keyCount(target);
    const auth = { auth: bearer(token) };

    const created = await api("POST", `/v1/accounts/${target}/keys`, { policy: everything }, auth);
    const origins = await api("PATCH", `/v1/accounts/${target}`, { allowedOrigins: null }, auth);
    const changes = victimPath
      ? [
          await api("POST", `${victimPath}/rotate`, undefined, auth),
          await api("PATCH", victimPath, { policy: everything }, auth),
          await api("PATCH", victimPath, { disabled: true }, auth),
          await api("DELETE", victimPath, undefined, auth),
        ]
      : [];

    expect(created.body.error.code).toBe("Forbidden");
    expect(origins.body.error.code).toBe("Forbidden");
    expect(changes.map((response) => response.body.error.code)).toEqual(changes.map(() => "Forbidden"));
    expect(await keyCount(target)).toBe(before);
    expect((await api("GET", "/v1/health", undefined, { auth: bearer(victim.secretKey) })).status).toBe(200);
  });

  it("still lets the token read the account's keys and mint a narrower token", async () => {
    const token = await tokenFor(null, ["manage"], ["*"]);

    const listed = await api("GET", "/v1/accounts/default/keys", undefined, { auth: bearer(token) });
    const narrower = await api("POST", "/v1/tokens", { actions: ["manage"], resources: ["queue:x-*"] }, { auth: bearer(token) });

    expect(listed.status).toBe(200);
    expect(narrower.status).toBe(201);
  });
});

describe("a key grants only rights it holds", () => {
  it("a key with only manage on * cannot create a key with every right, nor one that reads", async () => {
    const account = await createAccount(`acct-${unique()}`);
    const admin = await createKey([{ actions: ["manage"], resources: ["*"] }], account);
    const before = await keyCount(account);

    const wider = await api("POST", `/v1/accounts/${account}/keys`, { policy: everything }, { auth: bearer(admin.secretKey) });
    const reader = await api(
      "POST",
      `/v1/accounts/${account}/keys`,
      { policy: { statements: [{ actions: ["read"], resources: ["queue:*"] }] } },
      { auth: bearer(admin.secretKey) },
    );
    const within = await api(
      "POST",
      `/v1/accounts/${account}/keys`,
      { policy: { statements: [{ actions: ["manage"], resources: ["queue:orders-*"] }] } },
      { auth: bearer(admin.secretKey) },
    );

    expect(wider.body.error.code).toBe("Forbidden");
    expect(reader.body.error.code).toBe("Forbidden");
    expect(within.status).toBe(201);
    expect(await keyCount(account)).toBe(before + 1);
  });

  it("a key cannot widen its own policy, and still cannot read the bodies it was refused", async () => {
    const account = await createAccount(`acct-${unique()}`);
    const admin = await createKey([{ actions: ["manage"], resources: ["*"] }], account);
    const name = uniqueName();
    await api("PUT", `/v1/queues/${name}`, {}, { auth: bearer(admin.secretKey) });

    const widened = await api("PATCH", `/v1/accounts/${account}/keys/${admin.secretId}`, { policy: everything }, { auth: bearer(admin.secretKey) });
    const peek = await api("GET", `/v1/queues/${name}/messages`, undefined, { auth: bearer(admin.secretKey) });
    const keys = (await api("GET", `/v1/accounts/${account}/keys`)).body.keys as Array<{ secretId: string; policy: Policy }>;

    expect(widened.body.error.code).toBe("Forbidden");
    expect(peek.body.error.code).toBe("Forbidden");
    expect(keys.find((key) => key.secretId === admin.secretId)!.policy).toEqual({ statements: [{ actions: ["manage"], resources: ["*"] }] });
  });

  it("a key may give another key a narrower pattern of what it holds, not a wider one", async () => {
    const account = await createAccount(`acct-${unique()}`);
    const admin = await createKey(
      [
        { actions: ["manage"], resources: ["*"] },
        { actions: ["send", "receive"], resources: ["queue:orders-*"] },
      ],
      account,
    );
    const other = await createKey([{ actions: ["send"], resources: ["queue:orders-eu-1"] }], account);
    const path = `/v1/accounts/${account}/keys/${other.secretId}`;
    const policy = (actions: string[], resources: string[]) => ({ policy: { statements: [{ actions, resources }] } });

    const narrower = await api("PATCH", path, policy(["send", "receive"], ["queue:orders-eu-*"]), { auth: bearer(admin.secretKey) });
    const widerPattern = await api("PATCH", path, policy(["send"], ["queue:*"]), { auth: bearer(admin.secretKey) });
    const otherAction = await api("PATCH", path, policy(["publish"], ["queue:orders-eu-*"]), { auth: bearer(admin.secretKey) });
    const allActions = await api("PATCH", path, policy(["*"], ["queue:orders-eu-*"]), { auth: bearer(admin.secretKey) });

    expect(narrower.status, JSON.stringify(narrower.body)).toBe(200);
    expect(widerPattern.body.error.code).toBe("Forbidden");
    expect(otherAction.body.error.code).toBe("Forbidden");
    expect(allActions.body.error.code).toBe("Forbidden");
  });

  it("a key cannot rotate, disable or delete a key with rights it does not hold", async () => {
    const account = await createAccount(`acct-${unique()}`);
    const admin = await createKey([{ actions: ["manage"], resources: ["*"] }], account);
    const owner = await createKey(everything.statements, account);
    const narrow = await createKey([{ actions: ["manage"], resources: ["queue:x-*"] }], account);
    const auth = { auth: bearer(admin.secretKey) };

    const rotated = await api("POST", `/v1/accounts/${account}/keys/${owner.secretId}/rotate`, undefined, auth);
    const disabled = await api("PATCH", `/v1/accounts/${account}/keys/${owner.secretId}`, { disabled: true }, auth);
    const deleted = await api("DELETE", `/v1/accounts/${account}/keys/${owner.secretId}`, undefined, auth);
    const rotatedNarrow = await api("POST", `/v1/accounts/${account}/keys/${narrow.secretId}/rotate`, undefined, auth);

    expect([rotated, disabled, deleted].map((response) => response.body.error.code)).toEqual(["Forbidden", "Forbidden", "Forbidden"]);
    expect((await api("GET", "/v1/health", undefined, { auth: bearer(owner.secretKey) })).status).toBe(200);
    expect(rotatedNarrow.status).toBe(200);
  });

  it("root grants anything", async () => {
    const account = await createAccount(`acct-${unique()}`);

    const created = await api("POST", `/v1/accounts/${account}/keys`, { policy: everything });

    expect(created.status).toBe(201);
  });
});

describe("through the service binding", () => {
  async function rpc(credentials: string, method: string, ...args: unknown[]) {
    const response = await env.CONSUMER.fetch("http://consumer/", { method: "POST", body: JSON.stringify({ method, args, credentials }) });
    return response.json<{ ok: boolean; code?: string }>();
  }

  it("refuses a token's key changes and a key's grant beyond its rights, as REST does", async () => {
    const account = await createAccount(`acct-${unique()}`);
    const admin = await createKey([{ actions: ["manage"], resources: ["*"] }], account);
    const other = await createKey([{ actions: ["read"], resources: ["*"] }], account);
    const token = await tokenFor(admin.secretKey, ["manage"], ["*"]);
    const before = await keyCount(account);

    const byToken = await rpc(token, "createKey", account, { policy: { statements: [] } });
    const rotatedByToken = await rpc(token, "rotateKey", account, other.secretId);
    const wider = await rpc(admin.secretKey, "createKey", account, { policy: everything });
    const rotatedWider = await rpc(admin.secretKey, "rotateKey", account, other.secretId);

    expect([byToken, rotatedByToken, wider, rotatedWider].map((result) => result.code)).toEqual(["Forbidden", "Forbidden", "Forbidden", "Forbidden"]);
    expect(await keyCount(account)).toBe(before);
  });
});

describe("pattern containment", () => {
  it.each([
    ["*", "*", true],
    ["*", "queue:orders-*", true],
    ["queue:*", "*", false],
    ["queue:orders-*", "queue:orders-eu-*", true],
    ["queue:orders-*", "queue:orders-eu", true],
    ["queue:orders-eu-*", "queue:orders-*", false],
    ["queue:orders-*", "topic:orders-eu", false],
    ["queue:*-eu", "queue:*", false],
    ["queue:a*", "queue:*a*", false],
    ["queue:*a*", "queue:x*ay*", true],
    ["queue:Orders-*", "queue:orders-EU", true],
  ] as const)("policy pattern %s covers %s: %s", (held, asked, expected) => {
    expect(patternCovers(held, asked)).toBe(expected);
  });

  it("decides a pattern with many wildcards against a long name without backtracking for ever", () => {
    const pattern = `queue:${"*a".repeat(29)}*b`;
    const name = `queue:${"a".repeat(64)}`;

    const covered = patternCovers(pattern, name);

    expect(covered).toBe(false);
    expect(patternCovers(pattern, `${name}b`)).toBe(true);
  });

  it("needs each requested action and pattern within one statement for that action", () => {
    const held: Policy = {
      statements: [
        { actions: ["send"], resources: ["queue:a-*"] },
        { actions: ["receive"], resources: ["queue:b-*"] },
      ],
    };

    expect(policyCovers(held, ["send"], ["queue:a-1", "queue:a-*"])).toBe(true);
    expect(policyCovers(held, ["send", "receive"], ["queue:a-1"])).toBe(false);
    expect(policyCovers(held, ["*"], ["queue:a-1"])).toBe(false);
    expect(policyWithin({ statements: [{ actions: ["send"], resources: ["queue:a-x"] }, { actions: ["receive"], resources: ["queue:b-*"] }] }, held)).toBe(true);
    expect(policyWithin({ statements: [] }, held)).toBe(true);
  });
});
