import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KeyCacheMs, authenticate, registry } from "../../src/auth/authenticate";
import { createKey } from "../support/auth";

const request = (secret: string) => new Request("http://cmq.test/v1/health", { headers: { authorization: `Bearer ${secret}` } });

describe("the per-isolate key cache", () => {
  it("sees a key disabled elsewhere within its lifetime, and serves it until then", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const nowMs = Date.now();
    await authenticate(request(key.secretKey), "", env, nowMs);

    // Disabled straight in the registry, as another isolate would: this isolate has not heard of it.
    await registry(env).updateKey("default", key.secretId, { disabled: true });
    const meanwhile = await authenticate(request(key.secretKey), "", env, nowMs + KeyCacheMs - 1);
    const afterwards = authenticate(request(key.secretKey), "", env, nowMs + KeyCacheMs + 1);

    expect(meanwhile.secretId).toBe(key.secretId);
    await expect(afterwards).rejects.toMatchObject({ code: "Unauthenticated" });
  });
});
