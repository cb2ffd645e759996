import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RootSecretKey } from "../support/http";

const fetchWorker = (request: Request) => (exports as unknown as { default: Fetcher }).default.fetch(request);

describe("the protocol dispatcher", () => {
  it.each(["PROPFIND", "MKCOL", "PURGE"])(
    "answers the method %s, which no adapter knows, with 405 in the error format and a request id",
    async (method) => {
      const response = await fetchWorker(
        new Request("http://cmq.test/v1/queues", { method, headers: { authorization: `Bearer ${RootSecretKey}` } }),
      );

      expect(response.status).toBe(405);
      const requestId = response.headers.get("x-request-id");
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get("allow")).toContain("GET");
      expect(await response.json()).toEqual({
        error: { code: "MethodNotAllowed", message: expect.stringContaining(method), requestId },
      });
    },
  );

  it("gives every answer, success or error, a request id of its own", async () => {
    const ok = await fetchWorker(new Request("http://cmq.test/openapi.json"));
    const missing = await fetchWorker(new Request("http://cmq.test/nowhere", { headers: { authorization: `Bearer ${RootSecretKey}` } }));

    expect(ok.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(missing.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(missing.headers.get("x-request-id")).not.toBe(ok.headers.get("x-request-id"));
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("NotFound");
  });
});
