import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { topicStub } from "../support/topics";
import { api, RootSecretKey, uniqueName } from "../support/http";
import { connect, mintToken, openLive } from "./support";

async function createTopic(attributes: Record<string, unknown> = {}): Promise<string> {
  const name = uniqueName("t");
  expect((await api("PUT", `/v1/topics/${name}`, attributes)).status).toBe(201);
  return name;
}

async function publish(topic: string, ...messages: Array<Record<string, unknown>>): Promise<string[]> {
  const response = await api("POST", `/v1/topics/${topic}/messages`, { messages });
  expect(response.status).toBe(200);
  return response.body.messages.map((m: { id: string }) => m.id);
}

const rootAuth = { headers: { authorization: `Bearer ${RootSecretKey}` } };

/** Opens a topic socket and grants it `credit`. */
async function watch(path: string, options: Parameters<typeof openLive>[1] = rootAuth, credit = 100) {
  const live = await openLive(path, options);
  live.send({ type: "credit", messages: credit });
  await live.take("credited");
  return live;
}

describe("a live topic socket", () => {
  it("streams messages published after it connected, with their ids", async () => {
    const topic = await createTopic();
    await publish(topic, { body: "before" });
    const live = await watch(`/v1/topics/${topic}/live`, { token: await mintToken(["receive"], [`topic:${topic}`]) });

    const ids = await publish(topic, { body: "after 1", tags: ["a"] }, { body: "after 2" });

    const [frame] = [await live.take("messages")];
    expect(frame!.messages).toMatchObject([
      { id: ids[0], body: "after 1", tags: ["a"], routingKey: null, attributes: {}, senderId: "default" },
      { id: ids[1], body: "after 2", tags: [] },
    ]);
    expect(live.frames.filter((each) => each.type === "messages")).toEqual([]);
    live.close();
  });

  it("filters by tags as a subscription does", async () => {
    const topic = await createTopic({ filterType: "tag" });
    const red = await watch(`/v1/topics/${topic}/live?filterTags=red`, rootAuth);
    const redOrBlue = await watch(`/v1/topics/${topic}/live?filterTags=red&filterTags=blue`, rootAuth);

    await publish(topic, { body: "r", tags: ["red"] }, { body: "b", tags: ["blue"] }, { body: "none" });

    expect((await red.take("messages")).messages.map((m: { body: string }) => m.body)).toEqual(["r"]);
    expect((await redOrBlue.take("messages")).messages.map((m: { body: string }) => m.body)).toEqual(["r", "b"]);
    red.close();
    redOrBlue.close();
  });

  it("filters by binding keys on a routing-key topic", async () => {
    const topic = await createTopic({ filterType: "routingKey" });
    const live = await watch(`/v1/topics/${topic}/live?bindingKeys=orders.*.eu`, rootAuth);
    const everything = await watch(`/v1/topics/${topic}/live`, rootAuth);

    await publish(topic, { body: "eu", routingKey: "orders.new.eu" }, { body: "us", routingKey: "orders.new.us" });

    expect((await live.take("messages")).messages.map((m: { body: string }) => m.body)).toEqual(["eu"]);
    expect((await everything.take("messages")).messages.map((m: { body: string }) => m.body)).toEqual(["eu", "us"]);
    live.close();
    everything.close();
  });

  it("refuses a token without receive on the topic with 403", async () => {
    const topic = await createTopic();

    const upgrade = await connect(`/v1/topics/${topic}/live`, { token: await mintToken(["publish"], [`topic:${topic}`]) });

    expect(upgrade.status).toBe(403);
    expect(upgrade.body.error.code).toBe("Forbidden");
  });

  it("refuses a topic that does not exist with 404", async () => {
    const upgrade = await connect(`/v1/topics/${uniqueName("t")}/live`, rootAuth);

    expect(upgrade.status).toBe(404);
    expect(upgrade.body.error.code).toBe("TopicNotFound");
  });

  it.each([
    ["six filter tags", "?filterTags=a&filterTags=b&filterTags=c&filterTags=d&filterTags=e&filterTags=f"],
    ["a malformed binding key", "?bindingKeys=a..b"],
    ["an unknown parameter", "?tags=a"],
  ])("refuses %s with 400", async (_case, query) => {
    const topic = await createTopic();

    const upgrade = await connect(`/v1/topics/${topic}/live${query}`, rootAuth);

    expect(upgrade.status).toBe(400);
    expect(upgrade.body.error.code).toBe("InvalidParameter");
  });

  it("answers a frame other than a ping with an error frame and keeps streaming", async () => {
    const topic = await createTopic();
    const live = await watch(`/v1/topics/${topic}/live`, rootAuth);

    live.send({ type: "ack", id: "a1", receiptHandle: "h" });
    const error = await live.take("error");
    await publish(topic, { body: "still streaming" });

    expect(error).toMatchObject({ id: "a1", error: { code: "InvalidParameter" } });
    expect((await live.take("messages")).messages.map((m: { body: string }) => m.body)).toEqual(["still streaming"]);
    live.close();
  });

  it("drops what matches beyond the credit, and says how many with the next push", async () => {
    const topic = await createTopic();
    const live = await watch(`/v1/topics/${topic}/live`, rootAuth, 2);

    await publish(topic, { body: "1" }, { body: "2" }, { body: "3" });
    const first = await live.take("messages");
    await publish(topic, { body: "4" });
    live.send({ type: "credit", messages: 5 });
    await live.take("credited");
    await publish(topic, { body: "5" });
    const next = await live.take("messages");

    expect(first).toMatchObject({ dropped: 1 });
    expect(first.messages.map((m: { body: string }) => m.body)).toEqual(["1", "2"]);
    expect(next).toMatchObject({ dropped: 1 });
    expect(next.messages.map((m: { body: string }) => m.body)).toEqual(["5"]);
    live.close();
  });

  it("keeps streaming to a socket across the topic object's eviction, with its filters and credit", async () => {
    const topic = await createTopic({ filterType: "tag" });
    const live = await watch(`/v1/topics/${topic}/live?filterTags=keep`, rootAuth, 1);

    await evictDurableObject(topicStub(topic));
    await publish(topic, { body: "skip", tags: ["other"] }, { body: "kept", tags: ["keep"] });

    const frame = await live.take("messages");
    expect(frame).toMatchObject({ dropped: 0 });
    expect(frame.messages.map((m: { body: string }) => m.body)).toEqual(["kept"]);
    live.close();
  });

  it("closes its sockets with 4404 when the topic is deleted", async () => {
    const topic = await createTopic();
    const live = await watch(`/v1/topics/${topic}/live`, rootAuth);

    expect((await api("DELETE", `/v1/topics/${topic}`)).status).toBe(204);

    expect(await live.waitClosed()).toMatchObject({ code: 4404 });
  });
});
