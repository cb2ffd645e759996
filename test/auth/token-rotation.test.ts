import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authenticate, RootPrincipal } from "../../src/auth/authenticate";
import { AccountOperations } from "../../src/service/accounts";
import { bearer, createKey } from "../support/auth";
import { api } from "../support/http";

/** A rotation is what one does after a leak: it ends the tokens minted before it, as disable and delete do. */
describe("tokens and the rotation of their key", () => {
  it("a rotation ends the tokens minted before it and not those minted after", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const before = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"] }, { auth: bearer(key.secretKey) });
    const fromToken = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"] }, { auth: bearer(before.body.token) });

    const rotated = await api("POST", `/v1/accounts/default/keys/${key.secretId}/rotate`);
    const after = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"] }, { auth: bearer(rotated.body.secretKey) });
    const withOld = await api("GET", "/v1/queues", undefined, { auth: bearer(before.body.token) });
    const withOldChild = await api("GET", "/v1/queues", undefined, { auth: bearer(fromToken.body.token) });
    const withNew = await api("GET", "/v1/queues", undefined, { auth: bearer(after.body.token) });

    expect(rotated.status).toBe(200);
    expect(withOld.body.error).toMatchObject({ code: "Unauthenticated", message: "invalid token: its key was rotated since" });
    expect(withOldChild.body.error.code).toBe("Unauthenticated");
    expect(withNew.status).toBe(200);
  });

  it("a second rotation ends the tokens of the first", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const first = await api("POST", `/v1/accounts/default/keys/${key.secretId}/rotate`);
    const minted = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"] }, { auth: bearer(first.body.secretKey) });
    const usable = await api("GET", "/v1/queues", undefined, { auth: bearer(minted.body.token) });

    await api("POST", `/v1/accounts/default/keys/${key.secretId}/rotate`);
    const afterSecond = await api("GET", "/v1/queues", undefined, { auth: bearer(minted.body.token) });

    expect(usable.status).toBe(200);
    expect(afterSecond.body.error.code).toBe("Unauthenticated");
  });

  it("a policy change or a disable and enable keeps the key's tokens, bounded by its current policy", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const minted = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"] }, { auth: bearer(key.secretKey) });

    await api("PATCH", `/v1/accounts/default/keys/${key.secretId}`, { policy: { statements: [{ actions: ["send"], resources: ["*"] }] } });
    const narrowed = await api("GET", "/v1/queues/any", undefined, { auth: bearer(minted.body.token) });
    await api("PATCH", `/v1/accounts/default/keys/${key.secretId}`, { policy: { statements: [{ actions: ["*"], resources: ["*"] }] } });
    const restored = await api("GET", "/v1/queues", undefined, { auth: bearer(minted.body.token) });

    expect(narrowed.body.error.code).toBe("Forbidden");
    expect(restored.status).toBe(200);
  });

  it("a change of the root secret key ends root's tokens, though the key that signs tokens stays", async () => {
    const before = { ...env, SECRET_ENCRYPTION_KEY: "a-separate-encryption-key-0123456789" };
    const after = { ...before, ROOT_SECRET_KEY: "a-new-root-secret-key-0123456789abcdef" };
    const { token } = await new AccountOperations(before, RootPrincipal()).mintToken({ actions: ["read"], resources: ["*"] });
    const request = () => new Request("http://cmq.test/v1/queues", { headers: { authorization: `Bearer ${token}` } });

    const whileSame = await authenticate(request(), "", before);
    const afterChange = authenticate(request(), "", after);

    expect(whileSame.kind).toBe("token");
    await expect(afterChange).rejects.toMatchObject({ code: "Unauthenticated", message: "invalid token: the root key was changed since" });
  });
});
