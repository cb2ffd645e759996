import { describe, expect, it } from "vitest";
import { Desktop, Phone, RootSecretKey, unique, useConsole } from "./support.mjs";

const fixture = useConsole();

describe("the console's page", () => {
  it("is where a browser opening / lands, while an API client keeps the API's answer there", async () => {
    const asApiClient = await fetch(`${fixture.url}/`, { headers: { accept: "*/*" }, redirect: "manual" });
    const asBrowser = await fetch(`${fixture.url}/`, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" }, redirect: "manual" });
    const page = await fixture.open(Desktop, "/");

    expect(asApiClient.status).toBe(404);
    expect((await asApiClient.json()).error.code).toBe("NotFound");
    expect(asBrowser.status).toBe(302);
    expect(asBrowser.headers.get("location")).toBe(`${fixture.url}/console/`);
    expect(new URL(page.url()).pathname).toBe("/console/");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("edge-cmq console");
  });

  it("is served with a Content-Security-Policy that allows no inline script and connects to its own origin only", async () => {
    const response = await fetch(`${fixture.url}/console/`);
    const html = await response.text();

    const policy = response.headers.get("content-security-policy");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toContain("unsafe-inline");
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("keeps the key in session storage only and sends requests to this service only", async () => {
    const page = await fixture.open();
    const origins = new Set();
    page.on("request", (request) => origins.add(new URL(request.url()).origin));

    await fixture.signIn(page);

    expect(await page.evaluate(() => Object.values(sessionStorage).join())).toContain(RootSecretKey);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect([...origins]).toEqual([fixture.url]);
    await page.getByRole("button", { name: "Sign out" }).click();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.getByRole("button", { name: "Sign in" }).isVisible()).toBe(true);
  });

  it("refuses a wrong key with the API's error and keeps nothing", async () => {
    // The refused request is logged by the browser itself.
    fixture.expectConsoleErrors(/status of 401/);
    const page = await fixture.open();

    await page.getByLabel("Secret key", { exact: true }).fill("not-the-key");
    await page.getByRole("button", { name: "Sign in" }).click();

    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/^Unauthenticated: /);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});

describe("the console with the keyboard alone", () => {
  it("signs in, opens the topics and creates one without a pointer", async () => {
    const page = await fixture.open();
    const topic = unique("keyboard");
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.labels?.[0]?.textContent ?? document.activeElement?.textContent);

    // The first stop is the sign-in choice, then the key.
    await page.keyboard.press("Tab");
    expect(await focused()).toContain("a secret key");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("Secret key");
    await page.keyboard.type(RootSecretKey);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Queues");
    // A new page puts the focus on its content; the sections are just before it.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("main");
    await page.keyboard.press("Shift+Tab");
    expect(await focused()).toBe("Sign out");
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Shift+Tab");
    expect(await focused()).toBe("Topics");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Topics");
    for (let presses = 0; presses < 20 && (await focused()) !== "Topic name"; presses++) await page.keyboard.press("Tab");
    expect(await focused()).toBe("Topic name");
    await page.keyboard.type(topic);
    await page.keyboard.press("Enter");

    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(`Topic ${topic}`);
    expect((await fixture.api("GET", `/v1/topics/${topic}`)).status).toBe(200);
  });

  it("asks before deleting, focuses the confirmation, and cancels by Tab and Enter", async () => {
    const queue = unique("keyboard-del");
    await fixture.api("PUT", `/v1/queues/${queue}`, {});
    const page = await fixture.open();
    await fixture.signIn(page);
    await page.goto(`${fixture.url}/console/#/queues/${queue}`);

    await page.getByRole("button", { name: "Delete queue" }).focus();
    await page.keyboard.press("Enter");
    // The confirmation renders, then takes the focus: wait for that before typing on.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Yes, delete queue");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");

    expect((await fixture.api("GET", `/v1/queues/${queue}`)).status).toBe(200);
    expect(await page.getByRole("button", { name: "Delete queue" }).isVisible()).toBe(true);
  });
});

describe("the console's layout", () => {
  const pages = [
    { name: "queues", route: "#/queues" },
    { name: "queue", route: "#/queues/orders" },
    { name: "topics", route: "#/topics" },
    { name: "topic", route: "#/topics/events" },
    { name: "accounts", route: "#/accounts" },
  ];

  it.each([
    ["desktop", Desktop],
    ["phone", Phone],
  ])("shows every main page at %s size without sideways scrolling, and saves a screenshot of each", async (size, viewport) => {
    await fixture.api("PUT", "/v1/queues/orders", {});
    await fixture.api("PATCH", "/v1/queues/orders/tags", { tags: { team: "shop", env: "test" } });
    await fixture.api("PUT", "/v1/queues/orders-dlq", {});
    await fixture.api("PATCH", "/v1/queues/orders", { deadLetter: { queue: "orders-dlq", maxReceiveCount: 5 } });
    await fixture.api("POST", "/v1/queues/orders/messages", { messages: [{ body: "order 1" }, { body: "order 2", tags: ["eu"] }] });
    await fixture.api("PUT", "/v1/topics/events", {});
    await fixture.api("PUT", "/v1/topics/events/subscriptions/to-orders", { protocol: "queue", endpoint: "orders" });
    const page = await fixture.open(viewport);
    await fixture.screenshot(page, `sign-in-${size}`);
    await fixture.signIn(page);

    for (const { name, route } of pages) {
      await page.goto(`${fixture.url}/console/${route}`);
      // The part each page shows last: the chart, or the keys after the accounts.
      const lastPart = { queue: ".chart svg", accounts: 'table[aria-label="Keys"]' }[name] ?? "main h2, main table";
      await page.locator(lastPart).first().waitFor();
      await page.waitForLoadState("networkidle");

      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name} at ${size}`).toBeLessThanOrEqual(0);
      await fixture.screenshot(page, `${name}-${size}`);
    }
  });
});
