// The README's browser page consuming live, run as a browser would run it: its module script, taken
// from the README's ```html block, in a context with the few browser objects it uses (`location`,
// `document`) and Node 22's WebSocket, against the real service started as the README starts it.
import vm from "node:vm";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadmeSession, readme } from "./readme.mjs";

const Key = "development-secret-key-not-for-production";

/** The README's page, and its module script. */
function livePage() {
  const html = /^```html\n([\s\S]*?)^```$/m.exec(readme())?.[1];
  const script = html && /<script type="module">([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (!html || !script) throw new Error("the README has no ```html page with a module script");
  return { html, script };
}

/** The page's list, as `document` shows it to the script. */
function pageDocument(html) {
  const items = [];
  const listId = /<ul id="([^"]+)">/.exec(html)?.[1];
  return {
    items,
    document: {
      createElement: (tag) => ({ tag, textContent: "" }),
      getElementById: (id) => {
        if (id !== listId) throw new Error(`the page has no element #${id}`);
        return { append: (item) => items.push(item.textContent) };
      },
    },
  };
}

describe("the README's live page", () => {
  let session;
  let base;

  const call = async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${Key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  };

  beforeAll(async () => {
    session = new ReadmeSession();
    await session.start("npm start");
    base = `http://127.0.0.1:${await session.port("8787")}`;
  });

  afterAll(async () => {
    await session?.close();
  });

  it("shows and acknowledges the messages of orders-web, with the token in its address", async () => {
    const { html, script } = livePage();
    expect((await call("PUT", "/v1/queues/orders-web", {})).status).toBeLessThan(300);
    const { token } = (await call("POST", "/v1/tokens", { actions: ["receive"], resources: ["queue:orders-web"] })).body;
    const page = pageDocument(html);
    const context = vm.createContext({ WebSocket, JSON, URLSearchParams, String, location: { hash: `#token=${token}` }, document: page.document });
    vm.runInContext(await session.localize(script), context);

    const bodies = Array.from({ length: 15 }, (_, i) => `order ${i + 1}`);
    expect((await call("POST", "/v1/queues/orders-web/messages", { messages: bodies.slice(0, 8).map((body) => ({ body })) })).status).toBe(200);
    expect((await call("POST", "/v1/queues/orders-web/messages", { messages: bodies.slice(8).map((body) => ({ body })) })).status).toBe(200);
    for (let waited = 0; waited < 10_000 && (await call("GET", "/v1/queues/orders-web")).body.counts.total > 0; waited += 100) await sleep(100);

    expect([...page.items].sort()).toEqual([...bodies].sort());
    expect((await call("GET", "/v1/queues/orders-web")).body.counts).toMatchObject({ total: 0 });
  });
});
