import { beforeAll, describe, expect, it } from "vitest";
import { unique, useConsole } from "./support.mjs";

const fixture = useConsole();

const section = (page, title) => page.getByRole("region", { name: title });
const shop = unique("shop");
const queue = `${shop}-orders`;
const deadLetters = `${shop}-dlq`;
const topic = `${shop}-events`;

/** A key of the default account with `statements`, made with the root credentials. */
async function createKey(statements, account = "default") {
  const created = await fixture.api("POST", `/v1/accounts/${account}/keys`, { policy: { statements } });
  expect(created.status).toBe(201);
  return created.body;
}

/** A browser token minted with the root credentials. */
async function mintToken(actions, resources, ttlSeconds = 600) {
  const minted = await fixture.api("POST", "/v1/tokens", { actions, resources, ttlSeconds });
  expect(minted.status).toBe(201);
  return minted.body;
}

/**
 * Visits every main page (the lists, a queue, its dead-letter queue, a topic, the account) and
 * waits for each to settle; the fixture fails the test on any browser console error or error answer.
 */
async function visitEveryPage(page) {
  for (const route of ["#/queues", `#/queues/${queue}`, `#/queues/${deadLetters}`, "#/topics", `#/topics/${topic}`, "#/accounts"]) {
    await page.goto(`${fixture.url}/console/${route}`);
    await page.locator("main h2").first().waitFor();
    await page.waitForLoadState("networkidle");
  }
}

beforeAll(async () => {
  await fixture.api("PUT", `/v1/queues/${deadLetters}`, {});
  await fixture.api("PUT", `/v1/queues/${queue}`, { deadLetter: { queue: deadLetters, maxReceiveCount: 3 } });
  await fixture.api("POST", `/v1/queues/${queue}/messages`, { body: "an order" });
  await fixture.api("PUT", `/v1/topics/${topic}`, {});
  await fixture.api("PUT", `/v1/topics/${topic}/subscriptions/to-orders`, { protocol: "queue", endpoint: queue });
});

describe("the console for credentials other than root", () => {
  it("shows a key that may read, send and receive its own account and what it may not do, on every page without a refused request", async () => {
    const key = await createKey([{ actions: ["read", "send", "receive"], resources: [`queue:${shop}-*`, `topic:${shop}-*`] }]);
    const page = await fixture.open();
    await fixture.signIn(page, key.secretKey);

    await visitEveryPage(page);

    expect(await page.getByRole("navigation", { name: "Sections" }).getByRole("link").allTextContents()).toEqual(["Queues", "Topics", "Account"]);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Your account");
    expect(await section(page, "Signed in as").locator("[data-identity-kind]").textContent()).toBe("key");
    expect(await section(page, "Signed in as").textContent()).toContain(key.secretId);
    expect(await page.locator("main [data-refused]").first().textContent()).toContain("manage on *");
    expect(await page.getByRole("region", { name: /^Keys of/ }).count()).toBe(0);
    await page.goto(`${fixture.url}/console/#/queues/${queue}`);
    const purge = section(page, "Purge and rewind");
    await expect.poll(() => purge.getByRole("button", { name: "Purge" }).isDisabled()).toBe(true);
    expect(await purge.locator("[data-refused]").textContent()).toBe(`Your credentials do not allow manage on queue:${queue}.`);
    expect(await section(page, "Send a message").getByRole("button", { name: "Send" }).isEnabled()).toBe(true);
    expect(await section(page, "Delete the queue").getByRole("button", { name: "Delete queue" }).isDisabled()).toBe(true);
    await page.goto(`${fixture.url}/console/#/queues`);
    expect(await section(page, "Create a queue").getByRole("button", { name: "Create queue" }).isDisabled()).toBe(true);
  });

  it("refuses in the page, without asking the service, a queue the key may not create", async () => {
    const key = await createKey([{ actions: ["*"], resources: [`queue:${shop}-*`] }]);
    const page = await fixture.open();
    await fixture.signIn(page, key.secretKey);
    const create = section(page, "Create a queue");

    await create.getByLabel("Queue name", { exact: true }).fill("elsewhere");
    await create.getByRole("button", { name: "Create queue" }).click();

    await expect.poll(() => create.getByRole("alert").textContent()).toBe("Your credentials do not allow manage on queue:elsewhere.");
    expect((await fixture.api("GET", "/v1/queues/elsewhere")).status).toBe(404);
  });

  it("lets a key allowed manage on * change only keys within its own rights, and says why not the others", async () => {
    const admin = await createKey([{ actions: ["manage", "read"], resources: ["*"] }]);
    const narrower = await createKey([{ actions: ["read"], resources: [`queue:${shop}-*`] }]);
    const wider = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const page = await fixture.open();
    await fixture.signIn(page, admin.secretKey);
    await page.goto(`${fixture.url}/console/#/accounts`);
    const keys = section(page, "Keys of default");

    await keys.getByLabel("Search keys").fill(wider.secretId);
    await expect.poll(() => keys.locator("tbody th").allTextContents()).toEqual([wider.secretId]);
    expect(await keys.getByRole("button", { name: `Disable key ${wider.secretId}` }).isDisabled()).toBe(true);
    expect(await keys.getByRole("row", { name: new RegExp(wider.secretId) }).locator("[data-refused]").textContent()).toMatch(/^This policy has rights your key does not hold/);
    await keys.getByRole("button", { name: "Create key" }).click();
    await expect.poll(() => keys.getByRole("alert").textContent()).toMatch(/^This policy has rights your key does not hold/);
    await keys.getByLabel("Search keys").fill(narrower.secretId);
    await expect.poll(() => keys.locator("tbody th").allTextContents()).toEqual([narrower.secretId]);
    await keys.getByRole("button", { name: `Disable key ${narrower.secretId}` }).click();

    await expect.poll(() => keys.locator("[data-key-state]").textContent()).toBe("disabled");
    const listed = await fixture.api("GET", "/v1/accounts/default/keys");
    expect(listed.body.keys.filter((key) => [narrower.secretId, wider.secretId].includes(key.secretId)).map((key) => [key.secretId, key.disabled])).toEqual(
      [[narrower.secretId, true], [wider.secretId, false]].sort((a, b) => (a[0].toLowerCase() < b[0].toLowerCase() ? -1 : 1)),
    );
  });

  it("shows a read-only browser token every page, its scope and its expiry, without a refused request", async () => {
    const minted = await mintToken(["read"], ["*"]);
    const page = await fixture.open();
    await fixture.signInWithToken(page, minted.token);

    await visitEveryPage(page);

    const identity = section(page, "Signed in as");
    expect(await identity.locator("[data-identity-kind]").textContent()).toBe("token");
    expect(await identity.locator("[data-identity-expiry]").textContent()).toBe(new Date(minted.expiresAt).toISOString().replace("T", " ").slice(0, 19));
    await page.goto(`${fixture.url}/console/#/topics/${topic}`);
    const publish = section(page, "Publish a test message");
    await expect.poll(() => publish.getByRole("button", { name: "Publish" }).isDisabled()).toBe(true);
    expect(await section(page, "Subscriptions").getByRole("button", { name: "Edit subscription to-orders" }).isDisabled()).toBe(true);
  });

  it("gives a token that may only send to one queue that queue's send form, and says what it may not see, without a refused request", async () => {
    const minted = await mintToken(["send"], [`queue:${queue}`]);
    const page = await fixture.open();
    await fixture.signInWithToken(page, minted.token);

    await page.goto(`${fixture.url}/console/#/topics/${topic}`);
    await expect.poll(() => page.locator("main [data-refused]").textContent()).toBe(`Your credentials do not allow read on topic:${topic}. Its settings, subscriptions and messages are not shown.`);
    await page.goto(`${fixture.url}/console/#/queues/${queue}`);
    const send = section(page, "Send a message");
    await send.getByLabel("Body").fill("sent with a token");
    await send.getByRole("button", { name: "Send" }).click();

    await expect.poll(() => send.getByRole("status").textContent()).toMatch(/^sent message /);
    expect(await page.locator("main [data-refused]").textContent()).toBe(`Your credentials do not allow read on queue:${queue}. Its counts, messages and settings are not shown.`);
    const peeked = await fixture.api("GET", `/v1/queues/${queue}/messages`);
    expect(peeked.body.messages.map((message) => message.body)).toContain("sent with a token");
  });

  it("shows a token allowed manage on * the account's keys, but no way to change them", async () => {
    const minted = await mintToken(["manage", "read"], ["*"]);
    const page = await fixture.open();
    await fixture.signInWithToken(page, minted.token);

    await page.goto(`${fixture.url}/console/#/accounts`);

    const keys = section(page, "Keys of default");
    await expect.poll(() => keys.locator("caption").textContent()).toMatch(/keys?/);
    expect(await keys.getByRole("button", { name: "Create key" }).isDisabled()).toBe(true);
    expect(await keys.locator("[data-refused]").first().textContent()).toBe("A browser token cannot create, change, rotate or delete keys, nor change the account.");
    expect(await section(page, "Account default").getByRole("button", { name: "Save origins" }).isDisabled()).toBe(true);
  });
});

describe("a browser token's end", () => {
  const timeOf = (unixMs) => new Date(unixMs).toISOString().replace("T", " ").slice(0, 19);

  it("signs the console out shortly before the token ends, and puts it away unasked after a reload, without a refused request", async () => {
    const minted = await mintToken(["read"], ["*"], 5);
    const page = await fixture.open();
    await fixture.signInWithToken(page, minted.token);

    const notice = page.locator("[data-notice]");
    await expect.poll(() => notice.count(), { timeout: 10_000 }).toBe(1);
    expect(await notice.textContent()).toBe(`Signed out: the browser token ends at ${timeOf(minted.expiresAt)}. Sign in again.`);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // Kept again as the console keeps it, then read after the token has ended: a request would be refused (401).
    await expect.poll(() => Date.now() > minted.expiresAt, { timeout: 10_000 }).toBe(true);
    await page.evaluate(
      ([token, expiresAt]) => sessionStorage.setItem("edge-cmq.console.credentials", JSON.stringify({ kind: "token", token, expiresAt })),
      [minted.token, minted.expiresAt],
    );
    await page.reload();

    await expect.poll(() => notice.textContent()).toBe(`Signed out: the browser token ends at ${timeOf(minted.expiresAt)}. Sign in again.`);
    expect(await page.getByRole("button", { name: "Sign in" }).isVisible()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});

describe("the dead-letter view", () => {
  it("says no redrive has run on a queue that never had one, without an error answer", async () => {
    const page = await fixture.open();
    await fixture.signIn(page);

    await page.goto(`${fixture.url}/console/#/queues/${deadLetters}`);

    const dead = section(page, "Dead letters");
    await expect.poll(() => dead.locator('[data-redrive="none"]').textContent()).toBe(`No redrive has run on ${deadLetters}.`);
    await dead.getByRole("button", { name: "Refresh the redrive" }).click();
    await page.waitForLoadState("networkidle");
    expect(await dead.locator('[data-redrive="none"]').count()).toBe(1);
  });
});
