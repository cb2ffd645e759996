import { describe, expect, it } from "vitest";
import { EdgeCmqError, openLive, type LiveMessage, type LiveTopicMessage } from "../../packages/client/src";
import { api, uniqueName } from "../support/http";
import { createQueue, mintToken, sendBodies } from "../live/support";
import { Endpoint, workerFetch } from "./support";

/** Opens sockets through the Worker under test, as a browser's WebSocket would reach it. */
async function connect(url: string, protocols: string[]): Promise<WebSocket> {
  const response = await workerFetch(url.replace(/^ws/, "http"), {
    headers: { upgrade: "websocket", "sec-websocket-protocol": protocols.join(", ") },
  });
  if (!response.webSocket) throw new Error(`not upgraded: ${response.status} ${await response.text()}`);
  expect(response.headers.get("sec-websocket-protocol")).toBe(protocols[0]);
  response.webSocket.accept();
  return response.webSocket;
}

function nextBatch<T>(socket: { onMessages(listener: (messages: T[], dropped?: number) => void): () => void }): Promise<{ messages: T[]; dropped?: number }> {
  return new Promise((resolve) => {
    const stop = socket.onMessages((messages, dropped) => {
      stop();
      resolve({ messages, dropped });
    });
  });
}

describe("the client's live sockets", () => {
  it("consumes a queue: credit, pushed messages, ack, nack and extend", async () => {
    const queue = await createQueue(uniqueName());
    await sendBodies(queue, "first", "second");
    const socket = await openLive({ endpoint: Endpoint, token: await mintToken(["receive"], [`queue:${queue}`]), queue, visibilityTimeout: 40, connect });

    const batch = nextBatch<LiveMessage>(socket);
    void socket.credit(2);
    const [first, second] = (await batch).messages;
    await socket.ack(first!.receiptHandle);
    const extended = await socket.extend(second!.receiptHandle, 300);
    const nacked = await socket.nack(second!.receiptHandle, 60);

    expect([first!.body, second!.body]).toEqual(["first", "second"]);
    expect(first!.nextVisibleAt - first!.firstReceivedAt).toBe(40_000);
    expect(extended.nextVisibleAt).toBeGreaterThan(nacked.nextVisibleAt);
    expect((await api("GET", `/v1/queues/${queue}`)).body.counts).toMatchObject({ total: 1, inactive: 1 });
    socket.close();
    expect(await socket.closed).toMatchObject({ code: 1000 });
  });

  it("rejects a refused ack with the service's code", async () => {
    const queue = await createQueue(uniqueName());
    const socket = await openLive({ endpoint: Endpoint, token: await mintToken(["receive"], [`queue:${queue}`]), queue, connect });

    const refused = await socket.ack("not-a-handle").catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(EdgeCmqError);
    expect(refused).toMatchObject({ code: "ReceiptHandleInvalid", status: 400, fault: "client" });
    socket.close();
  });

  it("sends over the socket and answers the stored ids", async () => {
    const queue = await createQueue(uniqueName());
    const socket = await openLive({ endpoint: Endpoint, token: await mintToken(["send"], [`queue:${queue}`]), queue, connect });

    const ids = await socket.send(["a", { body: "b", tags: ["t"] }]);

    const peeked = (await api("GET", `/v1/queues/${queue}/messages`)).body.messages;
    expect(peeked.map((m: { id: string }) => m.id)).toEqual(ids);
    socket.close();
  });

  it("watches a topic with filter tags", async () => {
    const topic = uniqueName("t");
    expect((await api("PUT", `/v1/topics/${topic}`, {})).status).toBe(201);
    const socket = await openLive({ endpoint: Endpoint, token: await mintToken(["receive"], [`topic:${topic}`]), topic, filterTags: ["red"], connect });
    expect(await socket.credit(10)).toBe(10);
    const batch = nextBatch<LiveTopicMessage>(socket);

    await api("POST", `/v1/topics/${topic}/messages`, { messages: [{ body: "blue", tags: ["blue"] }, { body: "red", tags: ["red"] }] });

    expect((await batch).messages.map((m) => m.body)).toEqual(["red"]);
    socket.close();
  });

  it("rejects opening a socket the service refuses", async () => {
    const queue = await createQueue(uniqueName());

    const refused = await openLive({ endpoint: Endpoint, token: await mintToken(["read"], [`queue:${queue}`]), queue, connect }).catch(
      (error: unknown) => error,
    );

    expect(String(refused)).toContain("403");
  });
});
