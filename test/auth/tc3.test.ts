import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authenticate } from "../../src/auth/authenticate";
import { signTc3, Tc3WindowSeconds } from "../../src/auth/tc3";
import { createKey, tc3Headers } from "../support/auth";
import { api, RootSecretKey } from "../support/http";

const path = "/v1/queues";
const refusal = async (secretId: string, secretKey: string) => {
  const response = await api("GET", path, undefined, { auth: null, headers: await tc3Headers("GET", path, "", { secretId, secretKey }) });
  return { status: response.status, code: response.body.error?.code, message: response.body.error?.message };
};

describe("TC3 refusals do not tell whether a SecretId exists", () => {
  it("answers an unknown SecretId, a wrong signature for a key and for root in exactly the same way", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);

    const unknown = await refusal(`AKID${"x".repeat(32)}`, key.secretKey);
    const unknownAgain = await refusal(`AKID${"x".repeat(32)}`, key.secretKey);
    const wrongForKey = await refusal(key.secretId, `${key.secretKey}x`);
    const wrongForRoot = await refusal(env.ROOT_SECRET_ID!, `${RootSecretKey}x`);

    expect(unknown).toMatchObject({ status: 401, code: "Unauthenticated" });
    expect(unknownAgain).toEqual(unknown);
    expect(wrongForKey).toEqual(unknown);
    expect(wrongForRoot).toEqual(unknown);
  });

  it("finds a key created on this isolate at once, even where its id was refused just before", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    await refusal(`AKID${"y".repeat(32)}`, key.secretKey);

    const signed = await api("GET", path, undefined, { auth: null, headers: await tc3Headers("GET", path, "", key) });

    expect(signed.status).toBe(200);
  });
});

/**
 * TC3, like SigV4, carries no nonce: a signed request can be replayed until its timestamp leaves
 * the 300 s window (TLS keeps it from being seen in transit). These tests pin that documented bound.
 */
describe("the TC3 replay window", () => {
  async function signedRequest(secretId: string, secretKey: string, signedAtSeconds: number): Promise<Request> {
    const headers = new Headers({ host: "cmq.test", "content-type": "application/json" });
    const body = JSON.stringify({ body: "once" });
    const url = "http://cmq.test/v1/queues/replayed/messages";
    const { authorization, timestamp } = await signTc3({ method: "POST", url, headers, body }, secretId, secretKey, signedAtSeconds);
    headers.set("authorization", authorization);
    headers.set("x-tc-timestamp", timestamp);
    return new Request(url, { method: "POST", headers, body });
  }

  it("accepts the same signed request again inside the window, up to 300 s after it was signed", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const signedAt = Math.floor(Date.now() / 1000);
    const request = await signedRequest(key.secretId, key.secretKey, signedAt);
    const body = JSON.stringify({ body: "once" });

    const first = await authenticate(request, body, env, signedAt * 1000);
    const replayed = await authenticate(request, body, env, signedAt * 1000 + 10_000);
    const atEdge = await authenticate(request, body, env, (signedAt + Tc3WindowSeconds) * 1000);

    expect(first.secretId).toBe(key.secretId);
    expect(replayed.secretId).toBe(key.secretId);
    expect(atEdge.secretId).toBe(key.secretId);
  });

  it("refuses a signature 301 s old, and one dated 301 s ahead", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const signedAt = Math.floor(Date.now() / 1000);
    const request = await signedRequest(key.secretId, key.secretKey, signedAt);
    const body = JSON.stringify({ body: "once" });

    const late = authenticate(request, body, env, (signedAt + Tc3WindowSeconds + 1) * 1000);
    const early = authenticate(request, body, env, (signedAt - Tc3WindowSeconds - 1) * 1000);

    await expect(late).rejects.toMatchObject({ code: "Unauthenticated", message: expect.stringContaining("signature expired") });
    await expect(early).rejects.toMatchObject({ code: "Unauthenticated", message: expect.stringContaining("signature expired") });
  });
});
