import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { createQueue, expectError, expectRpcError, expectStatus, rpc, rpcValue, snapshot } from "./helpers";

/**
 * A dead-letter queue's redriveAllow (SQS RedriveAllowPolicy) decides which source queues may use
 * it: checked where dead-letter links are made, on create and on change, refused with
 * DeadLetterSourceNotAllowed, leaving everything as it was.
 */
const policyTo = (queue: string) => ({ deadLetter: { queue, maxReceiveCount: 3 } });

describe("redriveAllow", () => {
  it("defaults to allowAll: any queue may use the dead-letter queue", async () => {
    const dlq = await createQueue(uniqueName("dlq"));

    const source = await api("PUT", `/v1/queues/${uniqueName("src")}`, policyTo(dlq));

    expectStatus(source, 201);
    expect(((await snapshot(dlq)) as any).redriveAllow).toEqual({ permission: "allowAll" });
  });

  it("denyAll refuses every source, on create and on change, and changes nothing", async () => {
    const dlq = await createQueue(uniqueName("dlq"), { redriveAllow: { permission: "denyAll" } });
    const newName = uniqueName("src");
    const existing = await createQueue(uniqueName("src"));
    const before = await snapshot(existing);

    const created = await api("PUT", `/v1/queues/${newName}`, policyTo(dlq));
    const patched = await api("PATCH", `/v1/queues/${existing}`, policyTo(dlq));

    expectError(created, "DeadLetterSourceNotAllowed", /redriveAllow/);
    expectError(patched, "DeadLetterSourceNotAllowed");
    expectError(await api("GET", `/v1/queues/${newName}`), "QueueNotFound");
    expect(await snapshot(existing)).toEqual(before);
    // Nothing was linked: the dead-letter queue can be deleted.
    expectStatus(await api("DELETE", `/v1/queues/${dlq}`), 204);
  });

  it("byQueue admits the named sources only, whatever the case of their names", async () => {
    const allowed = uniqueName("src");
    const dlq = await createQueue(uniqueName("dlq"), { redriveAllow: { permission: "byQueue", sourceQueues: [allowed.toUpperCase()] } });

    const admitted = await api("PUT", `/v1/queues/${allowed}`, policyTo(dlq));
    const refused = await api("PUT", `/v1/queues/${uniqueName("src")}`, policyTo(dlq));

    expectStatus(admitted, 201);
    expectError(refused, "DeadLetterSourceNotAllowed");
  });

  it("a change of redriveAllow applies to links made afterwards; existing sources keep theirs", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const linked = await createQueue(uniqueName("src"), policyTo(dlq));

    const changed = await api("PATCH", `/v1/queues/${dlq}`, { redriveAllow: { permission: "denyAll" } });
    const later = await api("PUT", `/v1/queues/${uniqueName("src")}`, policyTo(dlq));

    expect(changed.body.redriveAllow).toEqual({ permission: "denyAll" });
    expectError(later, "DeadLetterSourceNotAllowed");
    expect(((await snapshot(linked)) as any).deadLetter).toEqual({ queue: dlq, maxReceiveCount: 3 });
  });

  it("removing a dead-letter policy is allowed whatever the target's redriveAllow", async () => {
    const dlq = await createQueue(uniqueName("dlq"));
    const linked = await createQueue(uniqueName("src"), policyTo(dlq));
    await api("PATCH", `/v1/queues/${dlq}`, { redriveAllow: { permission: "denyAll" } });

    const removed = await api("PATCH", `/v1/queues/${linked}`, { deadLetter: null });

    expectStatus(removed, 200);
    expect(removed.body.deadLetter).toBeNull();
  });

  it.each([
    ["an unknown permission", { permission: "allowSome" }, "redriveAllow.permission"],
    ["byQueue without sources", { permission: "byQueue" }, "redriveAllow.sourceQueues"],
    ["byQueue with no source", { permission: "byQueue", sourceQueues: [] }, "redriveAllow.sourceQueues"],
    ["byQueue with 11 sources", { permission: "byQueue", sourceQueues: Array.from({ length: 11 }, (_, index) => `q${index}`) }, "redriveAllow.sourceQueues"],
    ["byQueue with a bad name", { permission: "byQueue", sourceQueues: ["1-bad"] }, "redriveAllow.sourceQueues.0"],
    ["sources with denyAll", { permission: "denyAll", sourceQueues: ["a"] }, "redriveAllow.sourceQueues"],
    ["a string", "allowAll", "redriveAllow"],
  ])("refuses %s with InvalidParameter and changes nothing", async (_label, redriveAllow, field) => {
    const name = await createQueue(uniqueName("dlq"));
    const before = await snapshot(name);

    const response = await api("PATCH", `/v1/queues/${name}`, { redriveAllow });

    expectError(response, "InvalidParameter");
    expect(response.body.error.message).toContain(field);
    expect(await snapshot(name)).toEqual(before);
  });

  it("admits any source to a dead-letter queue indexed before redriveAllow existed", async () => {
    const dlq = await createQueue(uniqueName("dlq"), { redriveAllow: { permission: "denyAll" } });
    const catalog = env.CATALOG.get(env.CATALOG.idFromName("default"));
    await runInDurableObject(catalog, (_object, state) => {
      const row = state.storage.sql.exec<{ attributes: string }>("SELECT attributes FROM resources WHERE name_key = ?", dlq.toLowerCase()).one();
      const { redriveAllow: _dropped, ...older } = JSON.parse(row.attributes);
      state.storage.sql.exec("UPDATE resources SET attributes = ? WHERE name_key = ?", JSON.stringify(older), dlq.toLowerCase());
    });

    const source = await api("PUT", `/v1/queues/${uniqueName("src")}`, policyTo(dlq));

    expectStatus(source, 201);
  });

  it("is enforced the same over RPC", async () => {
    const dlq = uniqueName("rdlq");
    rpcValue(await rpc("createQueue", dlq, { redriveAllow: { permission: "denyAll" } }));

    const refused = await rpc("createQueue", uniqueName("rsrc"), policyTo(dlq));

    expectRpcError(refused, "DeadLetterSourceNotAllowed");
  });
});
