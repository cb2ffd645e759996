import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";

describe("native API", () => {
  it("creates a queue, sends, receives and deletes", async () => {
    const name = uniqueName();
    const created = await api("PUT", `/v1/queues/${name}`, {});
    expect(created.status).toBe(201);
    const sent = await api("POST", `/v1/queues/${name}/messages`, { body: "hello" });
    expect(sent.status).toBe(200);
    const received = await api("POST", `/v1/queues/${name}/messages/receive`, { max: 1 });
    expect(received.body.messages[0].body).toBe("hello");
    const deleted = await api("DELETE", `/v1/queues/${name}/messages/${received.body.messages[0].receiptHandle}`);
    expect(deleted.status).toBe(204);
  });
});
