// The web console under test: the real service (`wrangler dev` serving the built console, started by
// test/reliability/lib/service.mjs on a free port) driven by Debian's Chromium through playwright-core.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { RootSecretKey, repoRoot, startService } from "../reliability/lib/service.mjs";

export { RootSecretKey };

export const ChromiumPath = "/usr/bin/chromium";
export const screenshotDir = path.join(repoRoot, "test/console/screenshots");
export const Desktop = { width: 1280, height: 800 };
export const Phone = { width: 390, height: 844 };

/** A name no other test uses, within the service's name rules. */
export const unique = (prefix) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/**
 * The service and a browser for the tests of one file. Every page opened with `open()` records the
 * browser console's errors (Chromium's "Failed to load resource" for a refused request among them,
 * none filtered), the page's uncaught errors, and every answer of the service with an error status
 * (so that a refused request fails a test even where the browser logs nothing); each test fails
 * unless there were none beyond those it declares with `expectConsoleErrors`.
 */
export function useConsole() {
  const fixture = { url: "", browser: undefined, pages: [], expectedErrors: [] };
  let workDir;
  let service;
  beforeAll(async () => {
    if (!existsSync(path.join(repoRoot, "console/dist/console/index.html"))) {
      throw new Error("console/dist is missing: run `npm run build` first (npm test does it)");
    }
    workDir = mkdtempSync(path.join(tmpdir(), "cmq-console-"));
    service = await startService({ workDir, label: "console" });
    fixture.url = service.url;
    fixture.browser = await chromium.launch({ executablePath: ChromiumPath, args: ["--no-sandbox"] });
    mkdirSync(screenshotDir, { recursive: true });
  });
  afterEach(async () => {
    const errors = fixture.pages.flatMap((page) => page.consoleErrors);
    for (const page of fixture.pages) await page.close();
    fixture.pages = [];
    const expected = fixture.expectedErrors;
    fixture.expectedErrors = [];
    const unexpected = errors.filter((error) => !expected.some((pattern) => pattern.test(error)));
    expect(unexpected, "errors in the browser console").toEqual([]);
  });
  afterAll(async () => {
    await fixture.browser?.close();
    await service?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** A new page (its own session storage) at `viewport`, on the console. */
  fixture.open = async (viewport = Desktop, route = "/console/") => {
    const context = await fixture.browser.newContext({ viewport });
    const page = await context.newPage();
    page.consoleErrors = [];
    page.on("console", (message) => {
      if (message.type() === "error") page.consoleErrors.push(`console: ${message.text()} at ${message.location().url}`);
    });
    page.on("pageerror", (error) => page.consoleErrors.push(`page error: ${error.message}`));
    page.on("response", (response) => {
      if (response.status() >= 400) page.consoleErrors.push(`response: status of ${response.status()} to ${response.request().method()} ${response.url()}`);
    });
    const close = page.close.bind(page);
    page.close = () => close().then(() => context.close());
    fixture.pages.push(page);
    await page.goto(fixture.url + route);
    return page;
  };

  /** Declares browser console errors this test causes on purpose (a refused request logs one). */
  fixture.expectConsoleErrors = (...patterns) => fixture.expectedErrors.push(...patterns);

  /** Signs in with the root key (or the key given) and waits for the queue list. */
  fixture.signIn = async (page, secretKey = RootSecretKey) => {
    await page.getByLabel("Secret key", { exact: true }).fill(secretKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Queues");
  };

  /** Signs in with a browser token and waits for the queue list. */
  fixture.signInWithToken = async (page, token) => {
    await page.getByLabel("a browser token").check();
    await page.getByRole("textbox", { name: "Browser token" }).fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Queues");
  };

  /** Calls the native API as root, from the test, to arrange or check what the console did. */
  fixture.api = async (method, apiPath, body) => {
    const response = await fetch(fixture.url + apiPath, {
      method,
      headers: { authorization: `Bearer ${RootSecretKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  /** Saves a screenshot artifact (git-ignored) of the whole page. */
  fixture.screenshot = (page, name) => page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });

  return fixture;
}
