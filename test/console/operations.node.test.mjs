import { describe, expect, it } from "vitest";
import { unique, useConsole } from "./support.mjs";

const fixture = useConsole();

/** Opens the console signed in, on `route` (`#/queues/name`). */
async function signedIn(route) {
  const page = await fixture.open();
  await fixture.signIn(page);
  if (route) await page.goto(`${fixture.url}/console/${route}`);
  return page;
}

const section = (page, title) => page.getByRole("region", { name: title });
const count = (page, which) => page.locator(`[data-count="${which}"]`);

describe("the console's queues", () => {
  it("creates a queue, sends a message, peeks, receives and deletes it", async () => {
    const page = await signedIn();
    const queue = unique("console-q");

    const create = section(page, "Create a queue");
    await create.getByLabel("Queue name", { exact: true }).fill(queue);
    await create.getByLabel("Visibility timeout (s)").fill("45");
    await create.getByLabel("Tags", { exact: true }).fill("team=orders");
    await create.getByRole("button", { name: "Create queue" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(`Queue ${queue}`);
    expect((await fixture.api("GET", `/v1/queues/${queue}`)).body).toMatchObject({ visibilityTimeout: 45, tags: { team: "orders" }, deadLetter: null });
    const send = section(page, "Send a message");
    await send.getByLabel("Body").fill("hello from the console");
    await send.getByLabel("Tags").fill("blue, urgent");
    await send.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => send.getByRole("status").textContent()).toMatch(/^sent message \S+/);
    await expect.poll(() => count(page, "active").textContent()).toBe("1");

    const peek = section(page, "Peek");
    await peek.getByRole("button", { name: "Peek messages" }).click();
    const peeked = peek.getByRole("table", { name: "Peeked messages" });
    await expect.poll(() => peeked.locator("tbody tr").first().textContent()).toContain("hello from the console");
    expect(await peeked.locator("tbody tr").first().textContent()).toContain("blue, urgent");

    const receive = section(page, "Receive and delete");
    await receive.getByRole("button", { name: "Receive" }).click();
    const received = receive.getByRole("list", { name: "Received messages" });
    await expect.poll(() => received.textContent()).toContain("hello from the console");
    await expect.poll(() => count(page, "inactive").textContent()).toBe("1");
    await received.getByRole("button", { name: /^Delete message hello from the console/ }).click();
    await expect.poll(() => receive.getByRole("status").textContent()).toMatch(/^deleted message /);

    await expect.poll(async () => (await fixture.api("GET", `/v1/queues/${queue}`)).body.counts).toMatchObject({ active: 0, inactive: 0, total: 0 });
    const rates = await fixture.api("GET", `/v1/queues/${queue}/rates`);
    const totals = rates.body.buckets.reduce((sum, bucket) => sum + bucket.sent + bucket.received + bucket.deleted, 0);
    expect(totals).toBe(3);
    expect(await page.locator(".chart polyline").count()).toBe(3);
  });

  it("refuses an attribute the API refuses, with the API's own message, and changes nothing", async () => {
    const queue = unique("console-bad");
    await fixture.api("PUT", `/v1/queues/${queue}`, {});
    const before = (await fixture.api("GET", `/v1/queues/${queue}`)).body;
    const apiAnswer = await fixture.api("PATCH", `/v1/queues/${queue}`, { visibilityTimeout: 0 });
    const page = await signedIn(`#/queues/${queue}`);

    const attributes = section(page, "Attributes");
    await attributes.getByLabel("Visibility timeout (s)").fill("0");
    await attributes.getByRole("button", { name: "Save attributes" }).click();

    const shown = await attributes.getByRole("alert").textContent();
    expect(apiAnswer.body.error.message).toBe(`body.${shown}`);
    expect((await fixture.api("GET", `/v1/queues/${queue}`)).body).toEqual(before);
    expect(await attributes.getByLabel("Visibility timeout (s)").getAttribute("aria-describedby")).toBeTruthy();
  });

  it("sets a dead-letter queue, shows the dead letters and redrives them back with their progress", async () => {
    const source = unique("console-src");
    const deadLetters = unique("console-dlq");
    await fixture.api("PUT", `/v1/queues/${source}`, {});
    await fixture.api("PUT", `/v1/queues/${deadLetters}`, {});
    const page = await signedIn(`#/queues/${source}`);

    const attributes = section(page, "Attributes");
    await attributes.getByLabel("Dead-letter queue name").fill(deadLetters);
    await attributes.getByLabel("Receives before moving").fill("1");
    await attributes.getByRole("button", { name: "Save attributes" }).click();
    await expect.poll(() => attributes.getByRole("status").textContent()).toBe("attributes saved");
    expect((await fixture.api("GET", `/v1/queues/${source}`)).body.deadLetter).toEqual({ queue: deadLetters, maxReceiveCount: 1 });
    // Received once and not deleted: when it is visible again, the source queue gives it up.
    await fixture.api("POST", `/v1/queues/${source}/messages`, { body: "gave up on this one" });
    await fixture.api("POST", `/v1/queues/${source}/messages/receive`, { visibilityTimeout: 1 });
    await expect.poll(async () => (await fixture.api("GET", `/v1/queues/${deadLetters}`)).body.counts.active, { timeout: 15_000 }).toBe(1);
    await page.goto(`${fixture.url}/console/#/queues/${deadLetters}`);
    const dead = section(page, "Dead letters");
    await expect.poll(() => dead.textContent()).toContain(`Dead-letter queue of ${source}`);
    await dead.getByRole("button", { name: "Start redrive" }).click();

    await expect.poll(() => dead.locator('[data-redrive="status"]').textContent(), { timeout: 15_000 }).toBe("completed");
    expect(await dead.locator('[data-redrive="moved"]').textContent()).toBe("1");
    const moved = await fixture.api("GET", `/v1/queues/${source}/messages`);
    expect(moved.body.messages.map((message) => message.body)).toEqual(["gave up on this one"]);
  });

  it("purges a queue only once confirmed, and deletes it after asking", async () => {
    const queue = unique("console-purge");
    await fixture.api("PUT", `/v1/queues/${queue}`, {});
    await fixture.api("POST", `/v1/queues/${queue}/messages`, { messages: [{ body: "a" }, { body: "b" }] });
    const page = await signedIn(`#/queues/${queue}`);

    const purge = section(page, "Purge and rewind");
    await purge.getByRole("button", { name: "Purge" }).click();
    await purge.getByRole("button", { name: "Cancel" }).click();
    expect((await fixture.api("GET", `/v1/queues/${queue}`)).body.counts.total).toBe(2);
    await purge.getByRole("button", { name: "Purge" }).click();
    await purge.getByRole("button", { name: "Yes, purge" }).click();
    await expect.poll(() => purge.getByRole("status").textContent()).toBe("purged 2 messages");
    await section(page, "Delete the queue").getByRole("button", { name: "Delete queue" }).click();
    await section(page, "Delete the queue").getByRole("button", { name: "Yes, delete queue" }).click();

    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Queues");
    expect((await fixture.api("GET", `/v1/queues/${queue}`)).status).toBe(404);
  });
});

describe("the console's topics", () => {
  it("creates a topic and a queue subscription, publishes, and shows the message arrive", async () => {
    const topic = unique("console-t");
    const queue = unique("console-sub");
    await fixture.api("PUT", `/v1/queues/${queue}`, {});
    const page = await signedIn("#/topics");

    await section(page, "Create a topic").getByLabel("Topic name").fill(topic);
    await page.getByRole("button", { name: "Create topic" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(`Topic ${topic}`);
    const subscribe = section(page, "Add a subscription");
    await subscribe.getByLabel("Subscription name").fill("to-queue");
    await subscribe.getByLabel("Endpoint").fill(queue);
    await subscribe.getByLabel("Filter tags").fill("orders");
    await subscribe.getByRole("button", { name: "Subscribe" }).click();
    await expect.poll(() => subscribe.getByRole("status").textContent()).toBe("subscription to-queue saved");
    const publish = section(page, "Publish a test message");
    await publish.getByLabel("Body").fill("an order was placed");
    await publish.getByLabel("Tags").fill("orders");
    await publish.getByRole("button", { name: "Publish" }).click();
    await expect.poll(() => publish.getByRole("status").textContent()).toMatch(/^published message /);

    const subscriptions = page.getByRole("table", { name: "Subscriptions" });
    await expect.poll(() => subscriptions.locator('[data-stat="delivered"]').first().textContent(), { timeout: 15_000 }).toBe("1");
    expect(await subscriptions.textContent()).toContain("orders");
    await subscriptions.getByRole("link", { name: queue }).click();
    const peek = section(page, "Peek");
    await peek.getByRole("button", { name: "Peek messages" }).click();
    await expect.poll(() => peek.getByRole("table", { name: "Peeked messages" }).textContent()).toContain("an order was placed");
  });

  it("refuses a routing key on a tag topic's subscription as the API does", async () => {
    const topic = unique("console-rk");
    await fixture.api("PUT", `/v1/topics/${topic}`, { filterType: "routingKey" });
    const page = await signedIn(`#/topics/${topic}`);

    const publish = section(page, "Publish a test message");
    await publish.getByLabel("Body").fill("x");
    await publish.getByLabel("Routing key").fill("a..b");
    await publish.getByRole("button", { name: "Publish" }).click();

    expect(await publish.getByRole("alert").textContent()).toBe("routingKey: a routing key has no empty words (no leading, trailing or double dots)");
    expect((await fixture.api("GET", `/v1/topics/${topic}`)).body.messageCount).toBe(0);
  });
});

describe("the console's keys", () => {
  it("creates a key, shows its secret once, and disables it", async () => {
    const page = await signedIn("#/accounts");

    const keys = section(page, "Keys of default");
    await keys.getByRole("button", { name: "Create key" }).click();
    await expect.poll(() => keys.locator('[data-secret="key"]').count()).toBe(1);
    const secretId = await keys.locator('[data-secret="id"]').textContent();
    const secretKey = await keys.locator('[data-secret="key"]').textContent();
    const asKey = () => fetch(`${fixture.url}/v1/queues?limit=1`, { headers: { authorization: `Bearer ${secretKey}` } }).then((response) => response.status);
    expect(await asKey()).toBe(200);
    await keys.getByRole("button", { name: `Disable key ${secretId}` }).click();

    await expect.poll(() => keys.getByRole("row", { name: new RegExp(secretId) }).locator("[data-key-state]").textContent()).toBe("disabled");
    expect(await asKey()).toBe(401);
    const listed = await fixture.api("GET", "/v1/accounts/default/keys");
    expect(listed.body.keys.find((key) => key.secretId === secretId)).toMatchObject({ disabled: true });
  });

  it("mints a browser token that signs the console in", async () => {
    const page = await signedIn("#/accounts");
    const mint = section(page, "Mint a browser token");
    await mint.getByLabel("Actions").fill("read");
    await mint.getByRole("button", { name: "Mint token" }).click();
    await expect.poll(() => mint.locator("[data-token]").count()).toBe(1);
    const token = await mint.locator("[data-token]").textContent();

    const other = await fixture.open();
    await other.getByLabel("a browser token").check();
    await other.getByRole("textbox", { name: "Browser token" }).fill(token);
    await other.getByRole("button", { name: "Sign in" }).click();

    await expect.poll(() => other.getByRole("heading", { level: 1 }).textContent()).toBe("Queues");
    expect(await other.evaluate(() => Object.values(sessionStorage).join())).toContain(token);
  });
});
