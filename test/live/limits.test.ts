import { describe, expect, it } from "vitest";
import { LiveLimits } from "../../src/schema/live";
import { RootSecretKey, uniqueName } from "../support/http";
import { queueStub } from "../objects/support";
import { connect, createQueue } from "./support";

const rootAuth = { headers: { authorization: `Bearer ${RootSecretKey}` } };

describe("live socket limits", () => {
  it("refuses a socket past the most one queue holds with 409 QuotaExceeded, and takes one again when another closes", async () => {
    const queue = await createQueue(uniqueName());
    const open = [];
    for (let i = 0; i < LiveLimits.socketsPerObject; i++) {
      const upgrade = await connect(`/v1/queues/${queue}/live`, rootAuth);
      expect(upgrade.status).toBe(101);
      open.push(upgrade.client!);
    }

    const refused = await connect(`/v1/queues/${queue}/live`, rootAuth);
    open[0]!.close();
    await open[0]!.waitClosed();
    const again = await connect(`/v1/queues/${queue}/live`, rootAuth);

    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("QuotaExceeded");
    expect(refused.body.error.message).toContain(`${LiveLimits.socketsPerObject} live sockets`);
    expect(again.status).toBe(101);
    for (const client of [...open.slice(1), again.client!]) client.close();
  });
});

describe("a queue's or topic's object asked for anything but an upgrade", () => {
  it.each([
    ["a plain request", {}],
    ["an upgrade without the service's settings", { upgrade: "websocket" }],
    ["an upgrade with settings the service does not send", { upgrade: "websocket", "x-edge-cmq-live": '{"grant": {"canReceive": "yes"}}' }],
  ])("refuses %s without opening a socket", async (_case, headers) => {
    const queue = await createQueue(uniqueName());

    const response = await queueStub(queue).fetch(new Request("https://live.internal/", { headers }));

    expect(response.webSocket).toBeNull();
    expect(await response.json()).toMatchObject({ code: "MalformedRequest" });
  });
});
