import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const worker = (exports as unknown as { default: Fetcher }).default;

const root = (method: string, accept: string | null) =>
  worker.fetch(new Request("https://cmq.example.com/", { method, headers: accept === null ? {} : { accept }, redirect: "manual" }));

describe("the service's root", () => {
  it.each(["GET", "HEAD"])("sends a browser's %s to the web console", async (method) => {
    const response = await root(method, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");

    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("https://cmq.example.com/console/");
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([["*/*"], ["application/json"], [null]])("keeps the API's own answer for a client accepting %s", async (accept) => {
    const response = await root("GET", accept);

    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("NotFound");
  });

  it("leaves other paths and methods to the API", async () => {
    const html = { accept: "text/html" };
    const deep = await worker.fetch(new Request("https://cmq.example.com/v1/nothing", { headers: html, redirect: "manual" }));
    const put = await worker.fetch(new Request("https://cmq.example.com/", { method: "PUT", headers: html, redirect: "manual" }));

    expect(deep.status).toBe(404);
    expect(put.status).not.toBe(302);
  });
});
