import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../support/http";
import { createQueue, expectError, expectRpcError, expectStatus, rpc } from "./helpers";

const run = crypto.randomUUID().slice(0, 6);
/** Queue names with a shared prefix; "Mid" marks the ones a substring search finds, in mixed case. */
const names = [`ls${run}-a1`, `ls${run}-b-mid-2`, `ls${run}-C-MID-3`, `ls${run}-d4`, `ls${run}-e-Mid-5`, `ls${run}-f6`];
const midNames = [names[1], names[2], names[4]];

const list = async (query: string) => {
  const response = await api("GET", `/v1/queues?prefix=ls${run}&${query}`);
  expectStatus(response, 200);
  return response.body as { queues: Array<{ name: string }>; nextCursor: string | null; total: number };
};
const namesOf = (page: { queues: Array<{ name: string }> }) => page.queues.map((queue) => queue.name);

beforeAll(async () => {
  for (const name of names) await createQueue(name);
});

describe("listing queues by substring, offset and total", () => {
  it("search matches a substring anywhere in the name, without regard to case, within the prefix", async () => {
    for (const search of ["mid", "MID", "-Mi"]) {
      const page = await list(`search=${search}`);
      expect(namesOf(page)).toEqual(midNames);
      expect(page.total).toBe(3);
    }
    expect(await list("search=nowhere")).toEqual({ queues: [], nextCursor: null, total: 0 });
  });

  it("offset pages through the whole list with the same total on every page", async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < names.length; offset += 4) {
      const page = await list(`limit=4&offset=${offset}`);
      expect(page.total).toBe(names.length);
      seen.push(...namesOf(page));
    }
    expect(seen).toEqual(names);
    expect(await list(`offset=${names.length + 10}`)).toEqual({ queues: [], nextCursor: null, total: names.length });
  });

  it("an offset page gives a cursor that continues where it ends", async () => {
    const first = await list("limit=2&offset=1");
    expect(namesOf(first)).toEqual(names.slice(1, 3));
    const next = await list(`limit=10&cursor=${first.nextCursor}`);
    expect(namesOf(next)).toEqual(names.slice(3));
    expect(next.nextCursor).toBeNull();
  });

  it("refuses a cursor together with an offset, and offsets out of range", async () => {
    const first = await list("limit=1");
    expectError(await api("GET", `/v1/queues?limit=1&offset=1&cursor=${first.nextCursor}`), "InvalidParameter", /cursor and offset/);
    expectError(await api("GET", "/v1/queues?offset=-1"), "InvalidParameter", /offset/);
    expectError(await api("GET", "/v1/queues?offset=1.5"), "InvalidParameter", /offset/);
    expectError(await api("GET", `/v1/queues?search=${"s".repeat(65)}`), "InvalidParameter", /search/);
  });

  it("a key that may read some queues gets full pages of those and their total", async () => {
    const created = await api("POST", "/v1/accounts/default/keys", {
      policy: { statements: [{ actions: ["read"], resources: [`queue:ls${run}-b*`, `queue:ls${run}-d*`, `queue:ls${run}-f*`] }] },
    });
    expectStatus(created, 201);
    const auth = `Bearer ${created.body.secretKey}`;
    const page = await api("GET", `/v1/queues?prefix=ls${run}&limit=2`, undefined, { auth });
    expectStatus(page, 200);
    expect(namesOf(page.body)).toEqual([names[1], names[3]]);
    expect(page.body.total).toBe(3);
    const rest = await api("GET", `/v1/queues?prefix=ls${run}&limit=2&cursor=${page.body.nextCursor}`, undefined, { auth });
    expect(namesOf(rest.body)).toEqual([names[5]]);
    expect(rest.body.nextCursor).toBeNull();
  });

  it("RPC takes the same options", async () => {
    const outcome = await rpc("listQueues", { prefix: `ls${run}`, search: "mid", offset: 1, limit: 1 });
    expect(outcome.ok && outcome.value).toMatchObject({ queues: [{ name: names[2] }], total: 3 });
    expectRpcError(await rpc("listQueues", { offset: -1 }), "InvalidParameter", /offset/);
  });
});

describe("listing the source queues of a dead-letter queue", () => {
  const dlq = `lsdlq${run}`;
  const sources = [`lssrc${run}-x`, `lssrc${run}-Y`, `lssrc${run}-z`];

  beforeAll(async () => {
    await createQueue(dlq);
    for (const source of sources) await createQueue(source, { deadLetter: { queue: dlq, maxReceiveCount: 3 } });
    await createQueue(`lssrc${run}-other`);
  });

  it("lists exactly the queues whose dead-letter queue it is, with filters, paging and total", async () => {
    const all = await api("GET", `/v1/queues/${dlq}/dead-letter-sources`);
    expectStatus(all, 200);
    expect(namesOf(all.body)).toEqual(sources);
    expect(all.body.total).toBe(3);
    expect(all.body.queues[0].deadLetter).toEqual({ queue: dlq, maxReceiveCount: 3 });

    const searched = await api("GET", `/v1/queues/${dlq}/dead-letter-sources?search=y`);
    expect(namesOf(searched.body)).toEqual([sources[1]]);
    const paged = await api("GET", `/v1/queues/${dlq}/dead-letter-sources?limit=1&offset=2`);
    expect(paged.body).toMatchObject({ queues: [{ name: sources[2] }], nextCursor: null, total: 3 });
  });

  it("follows policy changes: a source that drops its dead-letter queue leaves the list", async () => {
    const leaving = `lssrc${run}-leaving`;
    await createQueue(leaving, { deadLetter: { queue: dlq, maxReceiveCount: 1 } });
    expect(namesOf((await api("GET", `/v1/queues/${dlq}/dead-letter-sources`)).body)).toContain(leaving);
    expectStatus(await api("PATCH", `/v1/queues/${leaving}`, { deadLetter: null }), 200);
    expect(namesOf((await api("GET", `/v1/queues/${dlq}/dead-letter-sources`)).body)).toEqual(sources);
  });

  it("a queue that serves no source lists nothing; a missing queue is QueueNotFound", async () => {
    expect((await api("GET", `/v1/queues/${sources[0]}/dead-letter-sources`)).body).toEqual({ queues: [], nextCursor: null, total: 0 });
    expectError(await api("GET", `/v1/queues/lsnone${run}/dead-letter-sources`), "QueueNotFound");
  });

  it("needs read on the dead-letter queue, and lists only sources the caller may read", async () => {
    const narrow = await api("POST", "/v1/accounts/default/keys", {
      policy: { statements: [{ actions: ["read"], resources: [`queue:${dlq}`, `queue:${sources[0]}`] }] },
    });
    const auth = `Bearer ${narrow.body.secretKey}`;
    const page = await api("GET", `/v1/queues/${dlq}/dead-letter-sources`, undefined, { auth });
    expect(page.body).toEqual({ queues: [expect.objectContaining({ name: sources[0] })], nextCursor: null, total: 1 });
    expectError(await api("GET", `/v1/queues/${sources[1]}/dead-letter-sources`, undefined, { auth }), "Forbidden");
  });

  it("RPC lists them too", async () => {
    const outcome = await rpc("listDeadLetterSourceQueues", dlq, { limit: 2 });
    expect(outcome.ok && outcome.value.queues.map((queue: { name: string }) => queue.name)).toEqual(sources.slice(0, 2));
    expectRpcError(await rpc("listDeadLetterSourceQueues", `lsnone${run}`), "QueueNotFound");
  });
});

describe("listing a topic's subscriptions", () => {
  const topic = `lstopic${run}`;
  const subscriptions = ["alpha", "Bravo-mid", "charlie", "delta-MID"];

  beforeAll(async () => {
    expectStatus(await api("PUT", `/v1/topics/${topic}`, {}), 201);
    for (const name of subscriptions) {
      expectStatus(await api("PUT", `/v1/topics/${topic}/subscriptions/${name}`, { protocol: "worker", endpoint: "AUDIT_WORKER" }), 201);
    }
  });

  it("filters, pages by cursor or offset, and counts them", async () => {
    const all = await api("GET", `/v1/topics/${topic}/subscriptions`);
    expect(all.body.subscriptions.map((s: { name: string }) => s.name)).toEqual(subscriptions);
    expect(all.body).toMatchObject({ nextCursor: null, total: 4 });

    const searched = await api("GET", `/v1/topics/${topic}/subscriptions?search=mid`);
    expect(searched.body.subscriptions.map((s: { name: string }) => s.name)).toEqual(["Bravo-mid", "delta-MID"]);
    expect((await api("GET", `/v1/topics/${topic}/subscriptions?prefix=b`)).body.total).toBe(1);

    const first = await api("GET", `/v1/topics/${topic}/subscriptions?limit=3`);
    expect(first.body.subscriptions).toHaveLength(3);
    const second = await api("GET", `/v1/topics/${topic}/subscriptions?limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ subscriptions: [{ name: "delta-MID" }], nextCursor: null, total: 4 });
    const byOffset = await api("GET", `/v1/topics/${topic}/subscriptions?offset=3`);
    expect(byOffset.body.subscriptions.map((s: { name: string }) => s.name)).toEqual(["delta-MID"]);
  });

  it("RPC takes the same options, and bad ones are refused", async () => {
    const outcome = await rpc("listSubscriptions", topic, { search: "a", limit: 2 });
    expect(outcome.ok && outcome.value).toMatchObject({ subscriptions: [{ name: "alpha" }, { name: "Bravo-mid" }], total: 4 });
    expectError(await api("GET", `/v1/topics/${topic}/subscriptions?limit=0`), "InvalidParameter", /limit/);
  });
});
