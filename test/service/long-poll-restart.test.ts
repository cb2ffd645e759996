import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";

describe("a long poll across a restart of the queue's object", () => {
  it("is made again for the rest of its wait and gets a message sent after the restart", async () => {
    const name = uniqueName();
    await api("PUT", `/v1/queues/${name}`, {});
    const poll = api("POST", `/v1/queues/${name}/messages/receive`, { waitSeconds: 10 });
    await new Promise((resolve) => setTimeout(resolve, 100));

    await abortAllDurableObjects();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sent = await api("POST", `/v1/queues/${name}/messages`, { body: "after restart" });
    const received = await poll;

    expect(sent.status).toBe(200);
    expect(received.status).toBe(200);
    expect(received.body.messages.map((m: { body: string }) => m.body)).toEqual(["after restart"]);
  });
});
