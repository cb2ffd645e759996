import { describe, expect, it } from "vitest";
import { unique, useConsole } from "./support.mjs";

const fixture = useConsole();

const section = (page, title) => page.getByRole("region", { name: title });

/** Opens the console signed in as root, on `route` (`#/queues/name`). */
async function signedIn(route) {
  const page = await fixture.open();
  await fixture.signIn(page);
  if (route) await page.goto(`${fixture.url}/console/${route}`);
  return page;
}

/** What the focused element is called: its aria-label, its label, or its text. */
const focusedName = (page) =>
  page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.labels?.[0]?.textContent ?? document.activeElement?.textContent);

/** Presses Tab until the element called `name` has the focus. */
async function tabTo(page, name) {
  for (let presses = 0; presses < 80 && (await focusedName(page)) !== name; presses++) await page.keyboard.press("Tab");
  expect(await focusedName(page)).toBe(name);
}

describe("editing in place", () => {
  it("adds, changes and removes a queue's tags with the keyboard alone", async () => {
    const queue = unique("tags");
    await fixture.api("PUT", `/v1/queues/${queue}`, { tags: { team: "orders" } });
    const page = await signedIn(`#/queues/${queue}`);
    const tags = section(page, "Tags");
    await expect.poll(() => tags.getByRole("row", { name: /team/ }).textContent()).toContain("orders");

    await tabTo(page, "Tag key");
    await page.keyboard.type("env");
    await page.keyboard.press("Tab");
    await page.keyboard.type("test");
    await page.keyboard.press("Enter");
    await expect.poll(() => tags.getByRole("status").textContent()).toBe("tag env saved");
    await tabTo(page, "Tag key");
    await page.keyboard.type("team");
    await page.keyboard.press("Tab");
    await page.keyboard.type("payments");
    await page.keyboard.press("Enter");
    await expect.poll(() => tags.getByRole("status").textContent()).toBe("tag team saved");
    await expect.poll(() => tags.locator("tbody th").allTextContents()).toEqual(["env", "team"]);
    // From the value typed last, back past the key to the rows' buttons, listed by key.
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Shift+Tab");
    expect(await focusedName(page)).toBe("Remove tag team");
    await page.keyboard.press("Shift+Tab");
    expect(await focusedName(page)).toBe("Remove tag env");
    await page.keyboard.press("Enter");
    await expect.poll(() => focusedName(page)).toBe("Yes, remove");
    await page.keyboard.press("Enter");

    await expect.poll(async () => (await fixture.api("GET", `/v1/queues/${queue}/tags`)).body.tags).toEqual({ team: "payments" });
    await expect.poll(() => tags.locator("tbody th").allTextContents()).toEqual(["team"]);
  });

  it("refuses a tag the API refuses, with the API's message, and changes nothing", async () => {
    const queue = unique("tags-bad");
    await fixture.api("PUT", `/v1/queues/${queue}`, {});
    const page = await signedIn(`#/queues/${queue}`);
    const tags = section(page, "Tags");

    await tags.getByLabel("Tag key").fill("aws:reserved");
    await tags.getByRole("button", { name: "Save tag" }).click();

    await expect.poll(() => tags.getByRole("alert").textContent()).toMatch(/aws:/);
    expect((await fixture.api("GET", `/v1/queues/${queue}/tags`)).body.tags).toEqual({});
  });

  it("changes a subscription's filter, retry strategy, format and signing secret, keeping its endpoint", async () => {
    const topic = unique("sub-edit");
    const queue = unique("sub-edit-q");
    await fixture.api("PUT", `/v1/queues/${queue}`, {});
    await fixture.api("PUT", `/v1/topics/${topic}`, { filterType: "tag" });
    await fixture.api("PUT", `/v1/topics/${topic}/subscriptions/eu`, { protocol: "queue", endpoint: queue, filterTags: ["eu"] });
    const page = await signedIn(`#/topics/${topic}`);

    await section(page, "Subscriptions").getByRole("button", { name: "Edit subscription eu" }).click();
    const edit = section(page, "Edit subscription eu");
    await expect.poll(() => focusedName(page)).toBe("Filter tags");
    await edit.getByLabel("Filter tags").fill("eu, fr");
    await edit.getByLabel("Retry strategy").selectOption("EXPONENTIAL_DECAY_RETRY");
    await edit.getByLabel("Content format").selectOption("SIMPLIFIED");
    await edit.getByLabel("New signing secret").fill("a-signing-secret-of-32-characters");
    await edit.getByRole("button", { name: "Save subscription" }).click();

    await expect.poll(() => section(page, "Subscriptions").locator("[data-subscription-filter]").textContent()).toBe("eu, fr");
    const saved = (await fixture.api("GET", `/v1/topics/${topic}/subscriptions/eu`)).body;
    expect(saved).toMatchObject({
      protocol: "queue",
      endpoint: queue,
      filterTags: ["eu", "fr"],
      notifyStrategy: "EXPONENTIAL_DECAY_RETRY",
      notifyContentFormat: "SIMPLIFIED",
      signed: true,
    });
    expect(await section(page, "Edit subscription eu").count()).toBe(0);
  });

  it("clears a subscription's filter with an empty field, and refuses a filter the API refuses without changing it", async () => {
    const topic = unique("sub-clear");
    await fixture.api("PUT", `/v1/topics/${topic}`, { filterType: "tag" });
    await fixture.api("PUT", `/v1/topics/${topic}/subscriptions/all`, { protocol: "http", endpoint: "http://sink.test/ok", filterTags: ["a"] });
    const page = await signedIn(`#/topics/${topic}`);
    await section(page, "Subscriptions").getByRole("button", { name: "Edit subscription all" }).click();
    const edit = section(page, "Edit subscription all");

    await edit.getByLabel("Filter tags").fill(Array.from({ length: 17 }, (_, index) => `t${index}`).join(", "));
    await edit.getByRole("button", { name: "Save subscription" }).click();
    await expect.poll(() => edit.getByRole("alert").textContent()).toMatch(/at most \d+ filter tags/);
    expect((await fixture.api("GET", `/v1/topics/${topic}/subscriptions/all`)).body.filterTags).toEqual(["a"]);
    await edit.getByLabel("Filter tags").fill("");
    await edit.getByRole("button", { name: "Save subscription" }).click();

    await expect.poll(async () => (await fixture.api("GET", `/v1/topics/${topic}/subscriptions/all`)).body.filterTags).toEqual([]);
    await expect.poll(() => section(page, "Subscriptions").locator("[data-subscription-filter]").textContent()).toBe("everything");
  });

  it("sets an account's allowed origins, refuses a malformed one, and lets any origin in again", async () => {
    const name = unique("origins");
    const account = (await fixture.api("POST", "/v1/accounts", { name })).body.id;
    const page = await signedIn("#/accounts");
    const accounts = section(page, "Accounts");
    await accounts.getByLabel("Search accounts").fill(name);
    await accounts.getByRole("button", { name: `Show account ${name}` }).click();
    const settings = section(page, `Account ${account}`);

    await settings.getByLabel("Allowed origins").fill("https://shop.example, http://localhost:5173");
    await settings.getByRole("button", { name: "Save origins" }).click();
    await expect.poll(() => settings.locator("[data-origins]").textContent()).toBe("https://shop.example, http://localhost:5173");
    await settings.getByLabel("Allowed origins").fill("ftp://files.example");
    await settings.getByRole("button", { name: "Save origins" }).click();
    await expect.poll(() => settings.getByRole("alert").textContent()).toMatch(/scheme:\/\/host/);
    expect((await fixture.api("GET", `/v1/accounts/${account}`)).body.allowedOrigins).toEqual(["https://shop.example", "http://localhost:5173"]);
    await settings.getByLabel("Allowed origins").fill("");
    await settings.getByRole("button", { name: "Save origins" }).click();

    await expect.poll(async () => (await fixture.api("GET", `/v1/accounts/${account}`)).body.allowedOrigins).toBeNull();
    await expect.poll(() => settings.locator("[data-origins]").textContent()).toBe("any origin");
  });
});

/** 11 names under a fresh prefix, in the order the service lists them (by name, without regard to case). */
const elevenNames = (prefix) => Array.from({ length: 11 }, (_, index) => `${prefix}-${String(index).padStart(2, "0")}`);

describe("lists beyond the first page", () => {
  const lists = [
    {
      what: "queues",
      arrange: async (names) => {
        for (const name of names) await fixture.api("PUT", `/v1/queues/${name}`, {});
        return { route: "#/queues", search: "Search queues", label: "Queues" };
      },
      table: (page) => page.locator("main table").first(),
    },
    {
      what: "topics",
      arrange: async (names) => {
        for (const name of names) await fixture.api("PUT", `/v1/topics/${name}`, {});
        return { route: "#/topics", search: "Search topics", label: "Topics" };
      },
      table: (page) => page.locator("main table").first(),
    },
    {
      what: "subscriptions",
      arrange: async (names) => {
        const topic = unique("paged-subs");
        await fixture.api("PUT", `/v1/topics/${topic}`, {});
        for (const name of names) await fixture.api("PUT", `/v1/topics/${topic}/subscriptions/${name}`, { protocol: "http", endpoint: "http://sink.test/ok" });
        return { route: `#/topics/${topic}`, search: "Search subscriptions", label: "Subscriptions" };
      },
      table: (page) => page.getByRole("table", { name: "Subscriptions" }),
    },
    {
      what: "accounts",
      arrange: async (names) => {
        for (const name of names) await fixture.api("POST", "/v1/accounts", { name });
        return { route: "#/accounts", search: "Search accounts", label: "Accounts" };
      },
      table: (page) => page.getByRole("table", { name: "Accounts" }),
    },
  ];

  it.each(lists)("pages $what with the service's cursors, and finds them by a search the service runs", async ({ what, arrange, table }) => {
    const names = elevenNames(unique(`paged-${what.slice(0, 3)}`));
    const { route, search, label } = await arrange(names);
    const page = await signedIn(route);
    const rows = () => table(page).locator("tbody th[scope=row]").allTextContents();
    const pager = page.getByRole("navigation", { name: `Pages of ${label}` });

    if (search) await page.getByLabel(search).fill(names[0].slice(0, -3));
    await pager.getByLabel(`${label} per page`).selectOption("10");
    await expect.poll(rows).toEqual(names.slice(0, 10));
    expect(await table(page).locator("caption").textContent()).toMatch(/^11 \w+, 10 on this page/);
    await pager.getByRole("button", { name: "Next page" }).click();
    await expect.poll(rows).toEqual(names.slice(10));
    expect(await pager.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    expect(await pager.locator("[data-page-number]").textContent()).toBe("Page 2");
    await pager.getByRole("button", { name: "Previous page" }).click();

    await expect.poll(rows).toEqual(names.slice(0, 10));
    expect(await pager.getByRole("button", { name: "Previous page" }).isDisabled()).toBe(true);
    if (search) {
      await page.getByLabel(search).fill(names[10]);
      await expect.poll(rows).toEqual([names[10]]);
    }
  });

  it("pages an account's keys and finds one by its SecretId", async () => {
    const name = unique("paged-keys");
    const account = (await fixture.api("POST", "/v1/accounts", { name })).body.id;
    const secretIds = [];
    for (let index = 0; index < 11; index++) {
      secretIds.push((await fixture.api("POST", `/v1/accounts/${account}/keys`, { policy: { statements: [] } })).body.secretId);
    }
    const sorted = [...secretIds].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
    const page = await signedIn("#/accounts");
    await section(page, "Accounts").getByLabel("Search accounts").fill(name);
    await section(page, "Accounts").getByRole("button", { name: `Show account ${name}` }).click();
    const keys = section(page, `Keys of ${account}`);
    const rows = () => keys.locator("tbody th[scope=row]").allTextContents();
    const pager = keys.getByRole("navigation", { name: "Pages of Keys" });

    await pager.getByLabel("Keys per page").selectOption("10");
    await expect.poll(rows).toEqual(sorted.slice(0, 10));
    await pager.getByRole("button", { name: "Next page" }).click();
    await expect.poll(rows).toEqual(sorted.slice(10));
    await keys.getByLabel("Search keys").fill(sorted[4].slice(4, 20));

    await expect.poll(rows).toEqual([sorted[4]]);
  });
});
