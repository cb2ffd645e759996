import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { bearer, tc3Headers } from "../support/auth";
import { api, RootSecretKey } from "../support/http";

/** Root acts in the default account: that account's allowedOrigins bound root's answers and root's tokens. */
describe("allowedOrigins of the default account", () => {
  afterEach(async () => {
    await api("PATCH", "/v1/accounts/default", { allowedOrigins: null });
  });

  it("lets only the named origins read the answers to the root credentials and the tokens they mint", async () => {
    await api("PATCH", "/v1/accounts/default", { allowedOrigins: ["https://console.example"] });
    const minted = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"] });
    const root = { secretId: env.ROOT_SECRET_ID!, secretKey: RootSecretKey };
    const from = (origin: string) => ({ origin });

    const rootAllowed = await api("GET", "/v1/queues", undefined, { headers: from("https://console.example") });
    const rootElsewhere = await api("GET", "/v1/queues", undefined, { headers: from("https://evil.example") });
    const signedElsewhere = await api("GET", "/v1/queues", undefined, {
      auth: null,
      headers: { ...(await tc3Headers("GET", "/v1/queues", "", root)), ...from("https://evil.example") },
    });
    const tokenElsewhere = await api("GET", "/v1/queues", undefined, { auth: bearer(minted.body.token), headers: from("https://evil.example") });
    const tokenAllowed = await api("GET", "/v1/queues", undefined, { auth: bearer(minted.body.token), headers: from("https://console.example") });

    expect(rootAllowed.headers.get("access-control-allow-origin")).toBe("https://console.example");
    expect(rootElsewhere.status).toBe(200);
    expect(rootElsewhere.headers.get("access-control-allow-origin")).toBeNull();
    expect(signedElsewhere.status).toBe(200);
    expect(signedElsewhere.headers.get("access-control-allow-origin")).toBeNull();
    expect(tokenElsewhere.status).toBe(200);
    expect(tokenElsewhere.headers.get("access-control-allow-origin")).toBeNull();
    expect(tokenAllowed.headers.get("access-control-allow-origin")).toBe("https://console.example");
  });

  it("lets any origin read them again once the restriction is lifted", async () => {
    await api("PATCH", "/v1/accounts/default", { allowedOrigins: ["https://console.example"] });
    await api("PATCH", "/v1/accounts/default", { allowedOrigins: null });

    const response = await api("GET", "/v1/queues", undefined, { headers: { origin: "https://evil.example" } });

    expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });
});
