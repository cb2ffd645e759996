import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { createQueue, expectError, expectRpcError, expectStatus, rpc, rpcValue } from "./helpers";

/** Cancelling a redrive by its start time (what an SQS move task's handle names) cancels that one only. */
describe("cancel a redrive by its start time", () => {
  async function runningRedrive() {
    const source = await createQueue(uniqueName("rsrc"));
    const destination = await createQueue(uniqueName("rdst"));
    await api("POST", `/v1/queues/${source}/messages`, { messages: [{ body: "a" }, { body: "b" }, { body: "c" }] });
    const started = await api("POST", `/v1/queues/${source}/redrive`, { destination, maxPerSecond: 1 });
    expectStatus(started, 202);
    return { source, startedAt: started.body.startedAt as number };
  }

  it("refuses another start time with RedriveNotFound and leaves the redrive running", async () => {
    const { source, startedAt } = await runningRedrive();

    const refused = await api("DELETE", `/v1/queues/${source}/redrive?startedAt=${startedAt - 1}`);
    const status = await api("GET", `/v1/queues/${source}/redrive`);

    expectError(refused, "RedriveNotFound");
    expect(status.body).toMatchObject({ status: "running", startedAt });
  });

  it("cancels the redrive started at the given time", async () => {
    const { source, startedAt } = await runningRedrive();

    const cancelled = await api("DELETE", `/v1/queues/${source}/redrive?startedAt=${startedAt}`);

    expectStatus(cancelled, 200);
    expect(cancelled.body).toMatchObject({ status: "cancelled", startedAt });
  });

  it("takes the start time over RPC too, and refuses one that is not an integer", async () => {
    const { source, startedAt } = await runningRedrive();

    expectRpcError(await rpc("cancelRedrive", source, { startedAt: "soon" }), "InvalidParameter");
    expectRpcError(await rpc("cancelRedrive", source, { startedAt: startedAt + 1 }), "RedriveNotFound");
    expect(rpcValue(await rpc("cancelRedrive", source, { startedAt })).status).toBe("cancelled");
  });
});
