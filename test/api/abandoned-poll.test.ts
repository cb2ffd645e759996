import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { eventually } from "../support/topics";
import { RootSecretKey, api, uniqueName } from "../support/http";
import { expectParked, parkedCount, queueStub } from "../objects/support";
import { createQueue, expectStatus } from "./helpers";

/** Starts a long poll over HTTP that the test can abort as a client going away would. */
function abortableReceive(queue: string, waitSeconds: number): { abort: () => void; response: Promise<Response | null> } {
  const controller = new AbortController();
  const request = new Request(`http://cmq.test/v1/queues/${queue}/messages/receive`, {
    method: "POST",
    headers: { authorization: `Bearer ${RootSecretKey}`, "content-type": "application/json" },
    body: JSON.stringify({ waitSeconds }),
    signal: controller.signal,
  });
  const response = (exports as unknown as { default: Fetcher }).default.fetch(request).catch(() => null);
  return { abort: () => controller.abort(), response };
}

describe("long polls whose client went away", () => {
  it("claims no message for a receive whose request was aborted", async () => {
    const queue = await createQueue(uniqueName());
    const abandoned = abortableReceive(queue, 20);
    await expectParked(queueStub(queue), 1);

    abandoned.abort();
    await abandoned.response;
    await eventually(() => parkedCount(queueStub(queue)), (n) => n === 0);
    expectStatus(await api("POST", `/v1/queues/${queue}/messages`, { body: "for a live receiver" }), 200);

    expect((await api("GET", `/v1/queues/${queue}`)).body.counts).toMatchObject({ active: 1, inactive: 0 });
    const live = await api("POST", `/v1/queues/${queue}/messages/receive`, { waitSeconds: 0 });
    expect(live.body.messages.map((m: { body: string }) => m.body)).toEqual(["for a live receiver"]);
  });
});
