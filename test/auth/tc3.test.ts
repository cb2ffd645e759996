import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
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
