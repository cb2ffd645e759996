import { describe, expect, it } from "vitest";
import { Phone, RootSecretKey, unique, useConsole } from "./support.mjs";

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

describe("the console's live panel", () => {
  /** Records each WebSocket the page opens with its subprotocol offer, before the console's scripts run. */
  const recordSocketOffers = (page) =>
    page.addInitScript(() => {
      const Native = window.WebSocket;
      window.socketOffers = [];
      window.WebSocket = class extends Native {
        constructor(url, protocols) {
          window.socketOffers.push({ url: String(url), protocols: [].concat(protocols ?? []) });
          super(url, protocols);
        }
      };
    });
  /** Resolves with the next socket the page opens, and one that resolves when it closes. */
  const nextSocket = (page) =>
    page.waitForEvent("websocket").then((socket) => ({ socket, closed: new Promise((resolve) => socket.once("close", resolve)) }));
  const liveList = (page) => page.getByRole("list", { name: "Live messages" });
  const liveBodies = (page) => liveList(page).locator("li pre").allTextContents();

  it("watches a tag topic with a token minted for it, shows new messages newest first, filters by tag and stops", async () => {
    const topic = unique("console-live");
    await fixture.api("PUT", `/v1/topics/${topic}`, {});
    const page = await fixture.open();
    await recordSocketOffers(page);
    await page.reload();
    await fixture.signIn(page);
    await page.goto(`${fixture.url}/console/#/topics/${topic}`);
    const live = section(page, "Watch live");
    const status = live.getByRole("status");
    expect(await status.textContent()).toBe("Not watching.");

    // With the keyboard: the filter, then Enter to start.
    await live.getByLabel("Watch tags").focus();
    await page.keyboard.type("orders");
    const opened = nextSocket(page);
    await page.keyboard.press("Enter");
    const { socket, closed } = await opened;
    await expect.poll(() => status.textContent()).toMatch(/^Live: /);

    const publish = section(page, "Publish a test message");
    await publish.getByLabel("Body").fill("first order");
    await publish.getByLabel("Tags").fill("orders");
    await publish.getByRole("button", { name: "Publish" }).click();
    await expect.poll(() => publish.getByRole("status").textContent()).toMatch(/^published message /);
    await fixture.api("POST", `/v1/topics/${topic}/messages`, { body: "an invoice", tags: ["billing"] });
    const second = await fixture.api("POST", `/v1/topics/${topic}/messages`, { body: "second order", tags: ["orders", "eu"] });

    // Messages reach a topic's socket in publishing order: the invoice would have come before the second order.
    await expect.poll(() => liveBodies(page)).toEqual(["second order", "first order"]);
    const newest = liveList(page).locator("li").first();
    expect(await newest.getAttribute("data-message-id")).toBe(second.body.id);
    expect(await newest.textContent()).toContain("orders, eu");
    expect(await newest.textContent()).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(await liveList(page).textContent()).not.toContain("an invoice");
    await fixture.screenshot(page, "topic-live-desktop");

    // A key sign-in opens the socket with a browser token for this topic, never with the key.
    const offers = await page.evaluate(() => window.socketOffers);
    expect(offers).toHaveLength(1);
    expect(new URL(offers[0].url).pathname).toBe(`/v1/topics/${topic}/live`);
    expect(new URL(offers[0].url).searchParams.getAll("filterTags")).toEqual(["orders"]);
    expect(offers[0].protocols[0]).toBe("edge-cmq.live.v1");
    expect(offers[0].protocols[1]).toMatch(/^cmqt/);
    expect(JSON.stringify(offers)).not.toContain(RootSecretKey);
    // Every message pushed is granted again: the socket asked for credit after each batch.
    const creditFrames = [];
    socket.on("framesent", (frame) => creditFrames.push(JSON.parse(frame.payload)));
    await fixture.api("POST", `/v1/topics/${topic}/messages`, { body: "third order", tags: ["orders"] });
    await expect.poll(() => liveBodies(page)).toEqual(["third order", "second order", "first order"]);
    await expect.poll(() => creditFrames.filter((frame) => frame.type === "credit").map((frame) => frame.messages)).toEqual([1]);

    await live.getByRole("button", { name: "Stop watching" }).focus();
    await page.keyboard.press("Enter");
    await closed;
    await expect.poll(() => status.textContent()).toBe("Closed: stopped.");
    expect(await live.getByRole("button", { name: "Start watching" }).isVisible()).toBe(true);
    // What was shown stays; nothing new arrives once stopped.
    await fixture.api("POST", `/v1/topics/${topic}/messages`, { body: "after the stop", tags: ["orders"] });
    await page.waitForTimeout(500);
    expect(await liveBodies(page)).toEqual(["third order", "second order", "first order"]);
  });

  it("watches a routing-key topic by binding key with the signed-in token, at phone size, and closes the socket on leaving the page", async () => {
    const topic = unique("console-live-rk");
    await fixture.api("PUT", `/v1/topics/${topic}`, { filterType: "routingKey" });
    const minted = await fixture.api("POST", "/v1/tokens", { actions: ["read", "receive"], resources: ["*"] });
    const page = await fixture.open(Phone);
    await recordSocketOffers(page);
    await page.reload();
    await page.getByLabel("a browser token").check();
    await page.getByLabel("Browser token", { exact: true }).fill(minted.body.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Queues");
    await page.goto(`${fixture.url}/console/#/topics/${topic}`);
    const live = section(page, "Watch live");

    await live.getByLabel("Watch binding keys").fill("order.*");
    const opened = nextSocket(page);
    await live.getByRole("button", { name: "Start watching" }).click();
    const { closed } = await opened;
    await expect.poll(() => live.getByRole("status").textContent()).toMatch(/^Live: /);
    await fixture.api("POST", `/v1/topics/${topic}/messages`, { body: "created", routingKey: "order.created" });
    await fixture.api("POST", `/v1/topics/${topic}/messages`, { body: "paid invoice", routingKey: "invoice.paid" });
    await fixture.api("POST", `/v1/topics/${topic}/messages`, { body: "shipped", routingKey: "order.shipped" });

    await expect.poll(() => liveBodies(page)).toEqual(["shipped", "created"]);
    expect(await liveList(page).locator("li").first().textContent()).toContain("order.shipped");
    const offers = await page.evaluate(() => window.socketOffers);
    expect(offers.map((offer) => offer.protocols)).toEqual([["edge-cmq.live.v1", minted.body.token]]);
    expect(new URL(offers[0].url).searchParams.getAll("bindingKeys")).toEqual(["order.*"]);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await fixture.screenshot(page, "topic-live-phone");

    await page.getByRole("link", { name: "Topics" }).first().click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Topics");
    await closed;
  });

  it("shows why the service closed the socket when the topic is deleted meanwhile", async () => {
    // The page's next reload of the deleted topic is refused, and the browser logs that itself.
    fixture.expectConsoleErrors(/status of 404/);
    const topic = unique("console-live-del");
    await fixture.api("PUT", `/v1/topics/${topic}`, {});
    const page = await signedIn(`#/topics/${topic}`);
    const live = section(page, "Watch live");
    await live.getByRole("button", { name: "Start watching" }).click();
    await expect.poll(() => live.getByRole("status").textContent()).toMatch(/^Live: /);

    expect((await fixture.api("DELETE", `/v1/topics/${topic}`)).status).toBe(204);

    await expect.poll(() => live.getByRole("status").textContent()).toMatch(/^Closed: 4404 \S/);
    expect(await live.getByRole("button", { name: "Start watching" }).isVisible()).toBe(true);
  });

  it("refuses more filter tags than a subscription takes, as the API does, without opening a socket", async () => {
    const topic = unique("console-live-bad");
    await fixture.api("PUT", `/v1/topics/${topic}`, {});
    const page = await signedIn(`#/topics/${topic}`);
    const live = section(page, "Watch live");
    let sockets = 0;
    page.on("websocket", () => sockets++);

    await live.getByLabel("Watch tags").fill("a, b, c, d, e, f");
    await live.getByRole("button", { name: "Start watching" }).click();

    await expect.poll(() => live.getByRole("alert").textContent()).toMatch(/at most 5 filter tags/);
    expect(await live.getByRole("status").textContent()).toBe("Not watching.");
    expect(sockets).toBe(0);
  });
});
