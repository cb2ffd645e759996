import { describe, expect, it } from "vitest";
import { LiveProtocol } from "../../src/schema/live";
import { api, RootSecretKey, uniqueName } from "../support/http";
import { createAccount, createKey } from "../support/auth";
import { inQueue, queueStub } from "../objects/support";
import { connect, counts, createQueue, mintToken, openLive, sendBodies } from "./support";

describe("opening a live queue socket", () => {
  it("accepts a browser token offered as a subprotocol and selects the protocol offered", async () => {
    const queue = await createQueue(uniqueName());
    const token = await mintToken(["receive"], [`queue:${queue}`]);

    const upgrade = await connect(`/v1/queues/${queue}/live`, { token });

    expect(upgrade.status).toBe(101);
    expect(upgrade.protocol).toBe(LiveProtocol);
    expect(await upgrade.client!.take("ready")).toMatchObject({ canReceive: true, canSend: false, creditMax: 1000 });
    upgrade.client!.close();
  });

  it("accepts a secret key in Authorization, for clients that can set headers", async () => {
    const queue = await createQueue(uniqueName());
    const key = await createKey([{ actions: ["send", "receive"], resources: [`queue:${queue}`] }]);

    const upgrade = await connect(`/v1/queues/${queue}/live`, { headers: { authorization: `Bearer ${key.secretKey}` } });

    expect(upgrade.status).toBe(101);
    expect(await upgrade.client!.take("ready")).toMatchObject({ canReceive: true, canSend: true });
    upgrade.client!.close();
  });

  it.each([
    ["no credentials", {}, 401, "Unauthenticated"],
    ["a forged token", { token: "cmqt.eyJ4IjoxfQ.AAAA" }, 401, "Unauthenticated"],
    ["a secret key offered as a subprotocol", { protocols: [LiveProtocol, RootSecretKey] }, 401, "Unauthenticated"],
    ["no subprotocol offered", { protocols: [] as string[], headers: { authorization: `Bearer ${RootSecretKey}` } }, 400, "MalformedRequest"],
    ["another subprotocol only", { protocols: ["chat"], headers: { authorization: `Bearer ${RootSecretKey}` } }, 400, "MalformedRequest"],
  ])("refuses %s with an HTTP error before upgrading", async (_case, options, status, code) => {
    const queue = await createQueue(uniqueName());

    const upgrade = await connect(`/v1/queues/${queue}/live`, options);

    expect(upgrade.client).toBeNull();
    expect(upgrade.status).toBe(status);
    expect(upgrade.body.error.code).toBe(code);
  });

  it("refuses a request that does not ask to upgrade", async () => {
    const queue = await createQueue(uniqueName());

    const response = await api("GET", `/v1/queues/${queue}/live`);

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("MalformedRequest");
  });

  it.each([
    ["a token for another queue", ["receive", "send"], (queue: string) => `queue:${queue}-other`],
    ["a token that may only read", ["read"], (queue: string) => `queue:${queue}`],
    ["a token that may only publish to topics", ["publish"], () => "topic:*"],
  ])("refuses %s with 403", async (_case, actions, resource) => {
    const queue = await createQueue(uniqueName());
    const token = await mintToken(actions, [resource(queue)]);

    const upgrade = await connect(`/v1/queues/${queue}/live`, { token });

    expect(upgrade.status).toBe(403);
    expect(upgrade.body.error.code).toBe("Forbidden");
  });

  it("refuses a page from an origin outside the account's allowed origins", async () => {
    const account = await createAccount(uniqueName("shop"));
    expect((await api("PATCH", `/v1/accounts/${account}`, { allowedOrigins: ["https://shop.example"] })).status).toBe(200);
    const key = await createKey([{ actions: ["*"], resources: ["*"] }], account);
    const auth = { authorization: `Bearer ${key.secretKey}` };
    const queue = uniqueName();
    expect((await api("PUT", `/v1/queues/${queue}`, {}, { auth: auth.authorization })).status).toBe(201);

    const foreign = await connect(`/v1/queues/${queue}/live`, { headers: { ...auth, origin: "https://elsewhere.example" } });
    const own = await connect(`/v1/queues/${queue}/live`, { headers: { ...auth, origin: "https://shop.example" } });

    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe("Forbidden");
    expect(own.status).toBe(101);
    own.client!.close();
  });

  it("closes with 1008 when a token expires while the socket waits with credit", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`, { token: await mintToken(["receive"], [`queue:${queue}`], 60) });
    live.send({ type: "credit", messages: 1 });
    await live.take("credited");

    await inQueue(queueStub(queue), (object) => {
      object.clock = { nowMs: () => Date.now() + 61_000 };
    });
    await sendBodies(queue, "not for an expired token");

    expect(await live.waitClosed()).toMatchObject({ code: 1008 });
    expect(await counts(queue)).toMatchObject({ active: 1, inactive: 0 });
  });

  it("refuses a queue that does not exist with 404", async () => {
    const upgrade = await connect(`/v1/queues/${uniqueName()}/live`, { headers: { authorization: `Bearer ${RootSecretKey}` } });

    expect(upgrade.status).toBe(404);
    expect(upgrade.body.error.code).toBe("QueueNotFound");
  });

  it.each([["0"], ["43201"], ["soon"]])("refuses visibilityTimeout=%s with 400", async (value) => {
    const queue = await createQueue(uniqueName());

    const upgrade = await connect(`/v1/queues/${queue}/live?visibilityTimeout=${value}`, {
      headers: { authorization: `Bearer ${RootSecretKey}` },
    });

    expect(upgrade.status).toBe(400);
    expect(upgrade.body.error).toMatchObject({ code: "InvalidParameter" });
    expect(upgrade.body.error.message).toContain("query.visibilityTimeout");
  });

  it("refuses an unknown query parameter", async () => {
    const queue = await createQueue(uniqueName());

    const upgrade = await connect(`/v1/queues/${queue}/live?credit=5`, { headers: { authorization: `Bearer ${RootSecretKey}` } });

    expect(upgrade.status).toBe(400);
    expect(upgrade.body.error.code).toBe("InvalidParameter");
  });

  it("lets a send-only token produce but not consume", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`, { token: await mintToken(["send"], [`queue:${queue}`]) });

    const sent = await live.call({ type: "send", id: "s1", messages: [{ body: "from a producer" }] });
    live.send({ type: "credit", messages: 1 });
    const refused = await live.take("error");

    expect(sent).toMatchObject({ type: "sent", id: "s1" });
    expect(sent.ids).toHaveLength(1);
    expect(refused.error.code).toBe("Forbidden");
    live.close();
  });

  it("lets a receive-only token consume but not produce", async () => {
    const queue = await createQueue(uniqueName());
    const live = await openLive(`/v1/queues/${queue}/live`, { token: await mintToken(["receive"], [`queue:${queue}`]) });

    const refused = await live.call({ type: "send", id: "s1", messages: [{ body: "not allowed" }] });

    expect(refused).toMatchObject({ type: "error", id: "s1", error: { code: "Forbidden" } });
    expect((await api("GET", `/v1/queues/${queue}`)).body.counts.total).toBe(0);
    live.close();
  });
});
