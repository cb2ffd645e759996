import { describe, expect, it } from "vitest";
import { PushUserAgent } from "../../src/delivery/push";
import { drained, firstPublishedAt, sinkRecords } from "../support/topics";
import { api } from "../support/http";
import { cmq, cmqOk, listParams, uniqueName } from "../support/cmq";

/** Every topic and subscription action of the legacy CMQ API, its fields, its errors and its pushes. */
async function newTopic(params: Record<string, string | number> = {}): Promise<string> {
  const topic = uniqueName("ct");
  await cmqOk("CreateTopic", { topicName: topic, ...params });
  return topic;
}

const codeOf = (body: { code: number; message: string }) => ({ code: body.code, module: Number(/^\((\d+)\)/.exec(body.message)?.[1]) });
const seconds = () => Math.floor(Date.now() / 1000);

describe("topics", () => {
  it("creates a topic and answers its topicId", async () => {
    const topic = uniqueName("ct");

    const created = await cmq("CreateTopic", { topicName: topic, maxMsgSize: 4096 });

    expect(created.body).toEqual({ code: 0, message: "", requestId: expect.any(String), topicId: topic });
  });

  it("answers the attributes SDKs read as integers, filterType 1 for tags and 2 for routing keys", async () => {
    const before = seconds();
    const tagged = await newTopic();
    const routed = await newTopic({ filterType: 2 });
    await cmqOk("PublishMessage", { topicName: tagged, msgBody: "kept" });

    const tags = await cmqOk("GetTopicAttributes", { topicName: tagged });
    const keys = await cmqOk("GetTopicAttributes", { topicName: routed });

    expect(tags).toEqual({
      code: 0,
      message: "",
      requestId: expect.any(String),
      topicId: tagged,
      topicName: tagged,
      msgCount: 1,
      maxMsgSize: 65536,
      msgRetentionSeconds: 86400,
      createTime: expect.any(Number),
      lastModifyTime: expect.any(Number),
      filterType: 1,
      createUin: "default",
    });
    expect(tags.createTime).toBeGreaterThanOrEqual(before);
    expect(tags.createTime).toBeLessThanOrEqual(seconds());
    expect(keys.filterType).toBe(2);
  });

  it("changes maxMsgSize", async () => {
    const topic = await newTopic();

    const changed = await cmq("SetTopicAttributes", { topicName: topic, maxMsgSize: 2048 });

    expect(changed.body.code).toBe(0);
    expect((await cmqOk("GetTopicAttributes", { topicName: topic })).maxMsgSize).toBe(2048);
  });

  it("lists topics with totalCount, searchWord, offset and limit", async () => {
    const word = uniqueName("tw");
    const names = [`${word}-a`, `${word}-b`];
    for (const name of names) await cmqOk("CreateTopic", { topicName: name });

    const all = await cmqOk("ListTopic", { searchWord: word });
    const page = await cmqOk("ListTopic", { searchWord: word, offset: 1, limit: 5 });

    expect(all).toMatchObject({ totalCount: 2, topicList: names.map((name) => ({ topicId: name, topicName: name })) });
    expect(page).toMatchObject({ totalCount: 2, topicList: [{ topicId: names[1], topicName: names[1] }] });
  });

  it("deletes a topic, which then does not exist (4440)", async () => {
    const topic = await newTopic();

    const deleted = await cmq("DeleteTopic", { topicName: topic });
    const again = await cmq("GetTopicAttributes", { topicName: topic });

    expect(deleted.body.code).toBe(0);
    expect(codeOf(again.body)).toEqual({ code: 4440, module: 10600 });
  });

  it("refuses to create a topic that exists (4460) and a filterType other than 1 or 2 (4000)", async () => {
    const topic = await newTopic();

    const again = await cmq("CreateTopic", { topicName: topic });
    const badType = await cmq("CreateTopic", { topicName: uniqueName("ct"), filterType: 3 });

    expect(again.body.code).toBe(4460);
    expect(badType.body.code).toBe(4000);
  });

  it("publishes one message or a batch, with tags, answering msgId and msgList", async () => {
    const topic = await newTopic();
    const queue = uniqueName("cq");
    await cmqOk("CreateQueue", { queueName: queue });
    await cmqOk("Subscribe", { topicName: topic, subscriptionName: "q", protocol: "queue", endpoint: queue, notifyContentFormat: "SIMPLIFIED", ...listParams("filterTag", ["eu"], 0) });

    const one = await cmqOk("PublishMessage", { topicName: topic, msgBody: "one", ...listParams("msgTag", ["eu", "new"], 0) });
    const batch = await cmqOk("BatchPublishMessage", { topicName: topic, ...listParams("msgBody", ["two", "three"]), ...listParams("msgTag", ["eu"]) });
    const untagged = await cmqOk("PublishMessage", { topicName: topic, msgBody: "not for eu" });
    await drained(topic);
    const received = await cmqOk("BatchReceiveMessage", { queueName: queue, numOfMsg: 16 });

    expect(typeof one.msgId).toBe("string");
    expect(batch.msgList).toHaveLength(2);
    expect(typeof untagged.msgId).toBe("string");
    expect(received.msgInfoList.map((message: { msgBody: string }) => message.msgBody).sort()).toEqual(["one", "three", "two"]);
  });

  it("routes by routingKey to subscriptions whose bindingKey matches", async () => {
    const topic = await newTopic({ filterType: 2 });
    const queue = uniqueName("cq");
    await cmqOk("CreateQueue", { queueName: queue });
    await cmqOk("Subscribe", { topicName: topic, subscriptionName: "eu", protocol: "queue", endpoint: queue, ...listParams("bindingKey", ["order.eu.#"]) });

    await cmqOk("PublishMessage", { topicName: topic, msgBody: "eu", routingKey: "order.eu.created" });
    await cmqOk("PublishMessage", { topicName: topic, msgBody: "us", routingKey: "order.us.created" });
    await drained(topic);
    const received = await cmqOk("BatchReceiveMessage", { queueName: queue, numOfMsg: 16 });

    expect(received.msgInfoList.map((message: { msgBody: string }) => message.msgBody)).toEqual(["eu"]);
  });

  it("answers 4440 for a missing topic on every topic action", async () => {
    const topic = uniqueName("missing");
    const calls: Array<[string, Record<string, string | number>]> = [
      ["GetTopicAttributes", {}],
      ["SetTopicAttributes", { maxMsgSize: 2048 }],
      ["DeleteTopic", {}],
      ["PublishMessage", { msgBody: "m" }],
      ["BatchPublishMessage", listParams("msgBody", ["m"])],
      ["Subscribe", { subscriptionName: "s", protocol: "http", endpoint: "http://sink.test/ok/x" }],
      ["ListSubscriptionByTopic", {}],
      ["GetSubscriptionAttributes", { subscriptionName: "s" }],
      ["SetSubscriptionAttributes", { subscriptionName: "s", notifyStrategy: "BACKOFF_RETRY" }],
      ["Unsubscribe", { subscriptionName: "s" }],
      ["ClearSubscriptionFilterTags", { subscriptionName: "s" }],
    ];

    const answers = await Promise.all(calls.map(([action, params]) => cmq(action, { topicName: topic, ...params })));

    expect(answers.map((answer) => answer.body.code)).toEqual(calls.map(() => 4440));
    expect((await api("GET", `/v1/topics/${topic}`)).status).toBe(404);
  });
});

describe("subscriptions", () => {
  it("subscribes and answers subscriptionId; the attributes carry every spelling SDKs read", async () => {
    const topic = await newTopic();
    const before = seconds();

    const created = await cmq("Subscribe", {
      topicName: topic,
      subscriptionName: "hook",
      protocol: "http",
      endpoint: "https://sink.test/ok/attributes",
      notifyStrategy: "BACKOFF_RETRY",
      ...listParams("filterTag", ["a", "b"]),
    });
    const attributes = await cmqOk("GetSubscriptionAttributes", { topicName: topic, subscriptionName: "hook" });

    expect(created.body).toEqual({ code: 0, message: "", requestId: expect.any(String), subscriptionId: "hook" });
    expect(attributes).toEqual({
      code: 0,
      message: "",
      requestId: expect.any(String),
      subscriptionId: "hook",
      subscriptionName: "hook",
      topicName: topic,
      topicOwner: "default",
      msgCount: 0,
      protocol: "http",
      protocal: "http",
      endpoint: "https://sink.test/ok/attributes",
      notifyStrategy: "BACKOFF_RETRY",
      notifyContentFormat: "JSON",
      createTime: expect.any(Number),
      lastModifyTime: expect.any(Number),
      bindingKey: [],
      filterTag: ["a", "b"],
      filterTags: ["a", "b"],
    });
    expect(attributes.createTime).toBeGreaterThanOrEqual(before);
  });

  it("lists a topic's subscriptions with totalCount, searchWord, offset and limit", async () => {
    const topic = await newTopic();
    for (const name of ["alpha", "beta", "gamma"]) {
      await cmqOk("Subscribe", { topicName: topic, subscriptionName: name, protocol: "http", endpoint: `http://sink.test/ok/${name}` });
    }

    const all = await cmqOk("ListSubscriptionByTopic", { topicName: topic });
    const page = await cmqOk("ListSubscriptionByTopic", { topicName: topic, searchWord: "A", offset: 1, limit: 1 });

    expect(all.totalCount).toBe(3);
    expect(all.subscriptionList[0]).toEqual({ subscriptionId: "alpha", subscriptionName: "alpha", protocol: "http", endpoint: "http://sink.test/ok/alpha" });
    expect(page.totalCount).toBe(3);
    expect(page.subscriptionList.map((item: { subscriptionName: string }) => item.subscriptionName)).toEqual(["beta"]);
  });

  it("changes a subscription's strategy, format and filters, then clears its filter tags", async () => {
    const topic = await newTopic();
    await cmqOk("Subscribe", { topicName: topic, subscriptionName: "s", protocol: "http", endpoint: "http://sink.test/ok/s" });

    const changed = await cmq("SetSubscriptionAttributes", {
      topicName: topic,
      subscriptionName: "s",
      notifyStrategy: "exponential_decay_retry",
      notifyContentFormat: "SIMPLIFIED",
      ...listParams("filterTag", ["x", "y"], 0),
    });
    const set = await cmqOk("GetSubscriptionAttributes", { topicName: topic, subscriptionName: "s" });
    const cleared = await cmq("ClearSubscriptionFilterTags", { topicName: topic, subscriptionName: "s" });
    const after = await cmqOk("GetSubscriptionAttributes", { topicName: topic, subscriptionName: "s" });

    expect(changed.body.code).toBe(0);
    expect(set).toMatchObject({ notifyStrategy: "EXPONENTIAL_DECAY_RETRY", notifyContentFormat: "SIMPLIFIED", filterTag: ["x", "y"] });
    expect(cleared.body.code).toBe(0);
    expect(after).toMatchObject({ filterTag: [], filterTags: [], notifyContentFormat: "SIMPLIFIED" });
  });

  it("unsubscribes; the subscription is then missing (4440)", async () => {
    const topic = await newTopic();
    await cmqOk("Subscribe", { topicName: topic, subscriptionName: "s", protocol: "http", endpoint: "http://sink.test/ok/s" });

    const removed = await cmq("Unsubscribe", { topicName: topic, subscriptionName: "s" });
    const again = await cmq("GetSubscriptionAttributes", { topicName: topic, subscriptionName: "s" });

    expect(removed.body.code).toBe(0);
    expect(codeOf(again.body)).toEqual({ code: 4440, module: 10600 });
  });

  it.each([
    ["a subscription that exists", { protocol: "http", endpoint: "http://sink.test/ok/s" }, 4490, 10470],
    ["an undefined protocol", { protocol: "smtp", endpoint: "mail@example.com" }, 4000, 10510],
    ["an undefined notifyStrategy", { protocol: "http", endpoint: "http://sink.test/ok/t", notifyStrategy: "SOMETIMES" }, 4000, 10520],
    ["an undefined notifyContentFormat", { protocol: "http", endpoint: "http://sink.test/ok/t", notifyContentFormat: "XML" }, 4000, 10530],
    ["a queue subscription in JSON", { protocol: "queue", endpoint: "some-queue", notifyContentFormat: "JSON" }, 4000, 10110],
    ["an endpoint with a blank", { protocol: "http", endpoint: "http://sink.test/o k" }, 4000, 10110],
    ["six filter tags", { protocol: "http", endpoint: "http://sink.test/ok/t", ...listParams("filterTag", ["a", "b", "c", "d", "e", "f"]) }, 4000, 10110],
  ])("refuses %s", async (_name, params, code, module) => {
    const topic = await newTopic();
    await cmqOk("Subscribe", { topicName: topic, subscriptionName: "s", protocol: "http", endpoint: "http://sink.test/ok/s" });

    const answer = await cmq("Subscribe", { topicName: topic, subscriptionName: _name === "a subscription that exists" ? "s" : "t", ...params });
    const list = await cmqOk("ListSubscriptionByTopic", { topicName: topic });

    expect(codeOf(answer.body)).toEqual({ code, module });
    expect(list.totalCount).toBe(1);
  });

  it("answers 4500 once a topic has 100 subscriptions", async () => {
    const topic = await newTopic();
    await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        cmqOk("Subscribe", { topicName: topic, subscriptionName: `s${index}`, protocol: "http", endpoint: `http://sink.test/ok/${index}` }),
      ),
    );

    const answer = await cmq("Subscribe", { topicName: topic, subscriptionName: "one-too-many", protocol: "http", endpoint: "http://sink.test/ok/x" });

    expect(codeOf(answer.body)).toEqual({ code: 4500, module: 10480 });
  });
});

describe("HTTP pushes of a subscription made through the CMQ API", () => {
  it("POSTs CMQ's envelope as text/plain with CMQ's headers and User-Agent", async () => {
    const topic = await newTopic();
    const key = `sink.test/ok/${uniqueName("cmq-push")}`;
    await cmqOk("Subscribe", { topicName: topic, subscriptionName: "receiver", protocol: "http", endpoint: `http://${key}` });

    const { msgId } = await cmqOk("PublishMessage", { topicName: topic, msgBody: "test message", ...listParams("msgTag", ["a", "b"]) });
    await drained(topic);
    const [push, ...more] = await sinkRecords(key);

    expect(more).toEqual([]);
    expect(push!.method).toBe("POST");
    expect(push!.headers).toMatchObject({
      "content-type": expect.stringMatching(/^text\/plain/),
      "x-cmq-content-format": "JSON",
      "user-agent": "Qcloud Notification Service Agent",
      "x-cmq-request-id": expect.any(String),
      "x-cmq-message-id": msgId,
      "x-cmq-message-tag": "a, b",
    });
    expect(PushUserAgent).toBe("Qcloud Notification Service Agent");
    expect(JSON.parse(push!.body)).toMatchObject({
      TopicOwner: "default",
      topicName: topic,
      subscriptionName: "receiver",
      msgId,
      msgBody: "test message",
      publishTime: await firstPublishedAt(topic),
    });
  });

  it("POSTs the raw body when the subscription is SIMPLIFIED", async () => {
    const topic = await newTopic();
    const key = `sink.test/ok/${uniqueName("cmq-raw")}`;
    await cmqOk("Subscribe", { topicName: topic, subscriptionName: "raw", protocol: "http", endpoint: `http://${key}`, notifyContentFormat: "SIMPLIFIED" });

    const { msgId } = await cmqOk("PublishMessage", { topicName: topic, msgBody: '{"order":7}' });
    await drained(topic);
    const [push] = await sinkRecords(key);

    expect(push!.body).toBe('{"order":7}');
    expect(push!.headers["x-cmq-message-id"]).toBe(msgId);
    expect(push!.headers["content-type"]).toMatch(/^text\/plain/);
  });

  it("pushes to an https endpoint subscribed with CMQ's http protocol", async () => {
    const topic = await newTopic();
    const key = `sink.test/ok/${uniqueName("cmq-tls")}`;
    await cmqOk("Subscribe", { topicName: topic, subscriptionName: "tls", protocol: "http", endpoint: `https://${key}` });

    await cmqOk("PublishMessage", { topicName: topic, msgBody: "secure" });
    await drained(topic);
    const [push] = await sinkRecords(key);

    expect(push!.url).toBe(`https://${key}`);
    expect(JSON.parse(push!.body).msgBody).toBe("secure");
  });
});
