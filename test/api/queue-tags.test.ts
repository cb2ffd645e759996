import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { createQueue, expectError, expectRpcError, expectStatus, rpc, rpcValue, snapshot } from "./helpers";

/** Queue tags through the native REST API and the RPC entrypoint: one set of rules in the catalog. */
describe("queue tags over REST", () => {
  it("creates a queue with tags, adds and replaces some, removes some, and lists them", async () => {
    const name = uniqueName("tags");
    const created = await api("PUT", `/v1/queues/${name}`, { tags: { team: "payments", "cost-center": "42" } });

    const tagged = await api("PATCH", `/v1/queues/${name}/tags`, { tags: { team: "billing", env: "prod" } });
    const untagged = await api("POST", `/v1/queues/${name}/tags/delete`, { keys: ["cost-center", "absent"] });
    const listed = await api("GET", `/v1/queues/${name}/tags`);

    expectStatus(created, 201);
    expect(created.body.tags).toEqual({ team: "payments", "cost-center": "42" });
    expect(tagged.body).toEqual({ tags: { team: "billing", "cost-center": "42", env: "prod" } });
    expect(untagged.body).toEqual({ tags: { team: "billing", env: "prod" } });
    expect(listed.body).toEqual({ tags: { team: "billing", env: "prod" } });
    expect(((await snapshot(name)) as any).tags).toEqual({ team: "billing", env: "prod" });
  });

  it("shows tags in the queue list", async () => {
    const name = await createQueue(uniqueName("tagl"));
    await api("PATCH", `/v1/queues/${name}/tags`, { tags: { owner: "ops" } });

    const listed = await api("GET", `/v1/queues?prefix=${name}`);

    expect(listed.body.queues.map((queue: any) => queue.tags)).toEqual([{ owner: "ops" }]);
  });

  it("keeps keys case-sensitive and allows an empty value", async () => {
    const name = await createQueue(uniqueName("tagc"));

    const tagged = await api("PATCH", `/v1/queues/${name}/tags`, { tags: { Team: "a", team: "", "ünïcode key": "värde @ /=+-_.:" } });

    expect(tagged.body.tags).toEqual({ Team: "a", team: "", "ünïcode key": "värde @ /=+-_.:" });
  });

  it("confirms an existing queue whatever tags a repeated create gives, and leaves its tags alone", async () => {
    const name = uniqueName("tagr");
    await api("PUT", `/v1/queues/${name}`, { visibilityTimeout: 40, tags: { a: "1" } });

    const again = await api("PUT", `/v1/queues/${name}`, { visibilityTimeout: 40, tags: { b: "2" } });

    expectStatus(again, 200);
    expect(again.body.tags).toEqual({ a: "1" });
  });

  it("holds at most 50 tags: a change that would leave more is refused whole", async () => {
    const name = await createQueue(uniqueName("tagm"));
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`k${index}`, "v"]));
    expectStatus(await api("PATCH", `/v1/queues/${name}/tags`, { tags: fifty }), 200);
    const before = await snapshot(name);

    const refused = await api("PATCH", `/v1/queues/${name}/tags`, { tags: { one: "more" } });
    const replaced = await api("PATCH", `/v1/queues/${name}/tags`, { tags: { k0: "again" } });

    expectError(refused, "InvalidParameter", /at most 50 tags/);
    expectStatus(replaced, 200);
    expect(Object.keys(replaced.body.tags)).toHaveLength(50);
    expect({ ...(before as any), tags: { ...(before as any).tags, k0: "again" }, modifiedAt: 0 }).toEqual({ ...((await snapshot(name)) as any), modifiedAt: 0 });
  });

  it.each([
    ["a reserved aws: key", { tags: { "aws:team": "a" } }, "body.tags"],
    ["a reserved AWS: key in capitals", { tags: { "AWS:x": "a" } }, "body.tags"],
    ["an empty key", { tags: { "": "a" } }, "body.tags"],
    ["a key of 129 characters", { tags: { ["k".repeat(129)]: "a" } }, "body.tags"],
    ["a value of 257 characters", { tags: { k: "v".repeat(257) } }, "body.tags.k"],
    ["a value that is not a string", { tags: { k: 1 } }, "body.tags.k"],
    ["a control character in a value", { tags: { k: "a\nb" } }, "body.tags.k"],
    ["a character outside the tag set", { tags: { "a#b": "x" } }, "body.tags"],
    ["no tags", { tags: {} }, "body.tags"],
    ["51 tags at once", { tags: Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, "v"])) }, "body.tags"],
    ["tags as an array", { tags: ["a"] }, "body.tags"],
    ["an unknown field", { tags: { a: "b" }, extra: 1 }, "body.extra"],
  ])("refuses %s with InvalidParameter and changes nothing", async (_label, body, field) => {
    const name = await createQueue(uniqueName("tagb"));
    const before = await snapshot(name);

    const response = await api("PATCH", `/v1/queues/${name}/tags`, body);

    expectError(response, "InvalidParameter");
    expect(response.body.error.message).toContain(field);
    expect(await snapshot(name)).toEqual(before);
  });

  it.each([
    ["no keys", { keys: [] }],
    ["an empty key", { keys: [""] }],
    ["keys as a string", { keys: "a" }],
    ["51 keys", { keys: Array.from({ length: 51 }, (_, index) => `k${index}`) }],
  ])("refuses an untag with %s and changes nothing", async (_label, body) => {
    const name = uniqueName("tagu");
    await api("PUT", `/v1/queues/${name}`, { tags: { a: "1" } });

    const response = await api("POST", `/v1/queues/${name}/tags/delete`, body);

    expectError(response, "InvalidParameter");
    expect((await api("GET", `/v1/queues/${name}/tags`)).body.tags).toEqual({ a: "1" });
  });

  it("refuses a reserved key on create and creates nothing", async () => {
    const name = uniqueName("tagx");

    const response = await api("PUT", `/v1/queues/${name}`, { tags: { "aws:createdBy": "me" } });

    expectError(response, "InvalidParameter");
    expectError(await api("GET", `/v1/queues/${name}`), "QueueNotFound");
  });

  it.each([
    ["GET", "tags", undefined],
    ["PATCH", "tags", { tags: { a: "b" } }],
    ["POST", "tags/delete", { keys: ["a"] }],
  ])("answers %s /tags of a missing queue with QueueNotFound", async (method, path, body) => {
    const response = await api(method, `/v1/queues/${uniqueName("none")}/${path}`, body);

    expectError(response, "QueueNotFound");
  });

  it("lets a key that may only read list tags but not change them", async () => {
    const name = uniqueName("tagk");
    await api("PUT", `/v1/queues/${name}`, { tags: { a: "1" } });
    const key = (await api("POST", "/v1/accounts/default/keys", { policy: { statements: [{ actions: ["read"], resources: [`queue:${name}`] }] } })).body;
    const auth = `Bearer ${key.secretKey}`;

    const listed = await api("GET", `/v1/queues/${name}/tags`, undefined, { auth });
    const tagged = await api("PATCH", `/v1/queues/${name}/tags`, { tags: { b: "2" } }, { auth });
    const untagged = await api("POST", `/v1/queues/${name}/tags/delete`, { keys: ["a"] }, { auth });

    expect(listed.body).toEqual({ tags: { a: "1" } });
    expectError(tagged, "Forbidden");
    expectError(untagged, "Forbidden");
    expect((await api("GET", `/v1/queues/${name}/tags`)).body.tags).toEqual({ a: "1" });
  });
});

describe("queue tags over RPC", () => {
  it("tags, untags and lists with the same rules", async () => {
    const name = uniqueName("rtag");
    rpcValue(await rpc("createQueue", name, { tags: { a: "1" } }));

    const tagged = rpcValue(await rpc("tagQueue", name, { b: "2" }));
    const untagged = rpcValue(await rpc("untagQueue", name, ["a"]));
    const listed = rpcValue(await rpc("listQueueTags", name));

    expect(tagged).toEqual({ tags: { a: "1", b: "2" } });
    expect(untagged).toEqual({ tags: { b: "2" } });
    expect(listed).toEqual({ tags: { b: "2" } });
    expectRpcError(await rpc("tagQueue", name, { "aws:x": "1" }), "InvalidParameter");
    expectRpcError(await rpc("listQueueTags", uniqueName("none")), "QueueNotFound");
  });
});
