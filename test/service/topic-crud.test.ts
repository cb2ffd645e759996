import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors";
import {
  attempted,
  createTopic,
  expectCode,
  outboxRows,
  runDue,
  sinkRecords,
  topics,
  uniqueName,
} from "../support/topics";

describe("creating a topic", () => {
  it("applies the defaults maxMsgSize 65536, msgRetentionSeconds 86400 and filterType tag", async () => {
    const name = uniqueName("t");

    const { created, topic } = await topics.createTopic(name, {});

    expect(created).toBe(true);
    expect(topic).toMatchObject({
      name,
      maxMsgSize: 65_536,
      msgRetentionSeconds: 86_400,
      filterType: "tag",
      subscriptionCount: 0,
      messageCount: 0,
    });
  });

  it("keeps the attributes it was created with", async () => {
    const name = uniqueName("t");

    await topics.createTopic(name, { maxMsgSize: 2048, msgRetentionSeconds: 120, filterType: "routingKey" });

    expect(await topics.getTopic(name)).toMatchObject({ maxMsgSize: 2048, msgRetentionSeconds: 120, filterType: "routingKey" });
  });

  it("answers created false when the same topic is created again with the same attributes", async () => {
    const name = await createTopic({ maxMsgSize: 4096 });

    const again = await topics.createTopic(name, { maxMsgSize: 4096 });

    expect(again.created).toBe(false);
    expect(again.topic.maxMsgSize).toBe(4096);
  });

  it("treats omitted attributes as their defaults when comparing with an existing topic", async () => {
    const name = await createTopic({});

    const again = await topics.createTopic(name, { maxMsgSize: 65_536, msgRetentionSeconds: 86_400, filterType: "tag" });

    expect(again.created).toBe(false);
  });

  it("refuses TopicAlreadyExists when the topic exists with different attributes", async () => {
    const name = await createTopic({ maxMsgSize: 4096 });

    await expectCode(topics.createTopic(name, { maxMsgSize: 8192 }), ErrorCode.TopicAlreadyExists);
    await expectCode(topics.createTopic(name, { maxMsgSize: 4096, filterType: "routingKey" }), ErrorCode.TopicAlreadyExists);
  });

  it("refuses TopicAlreadyExists for a name that differs only in case", async () => {
    const name = await createTopic({});

    await expectCode(topics.createTopic(name.toUpperCase(), {}), ErrorCode.TopicAlreadyExists);
  });

  it("refuses a name that is not 1 to 64 letters, digits, '-' or '_' starting with a letter", async () => {
    await expectCode(topics.createTopic("1topic", {}), ErrorCode.InvalidParameter);
    await expectCode(topics.createTopic("a.b", {}), ErrorCode.InvalidParameter);
    await expectCode(topics.createTopic("t".repeat(65), {}), ErrorCode.InvalidParameter);
  });
});

describe("reading and changing a topic", () => {
  it("refuses TopicNotFound for a topic that was never created", async () => {
    await expectCode(topics.getTopic(uniqueName("never")), ErrorCode.TopicNotFound);
  });

  it("changes maxMsgSize and msgRetentionSeconds and keeps the filter type", async () => {
    const name = await createTopic({ filterType: "routingKey" });

    const updated = await topics.updateTopic(name, { maxMsgSize: 1024, msgRetentionSeconds: 60 });

    expect(updated).toMatchObject({ maxMsgSize: 1024, msgRetentionSeconds: 60, filterType: "routingKey" });
    expect(await topics.getTopic(name)).toMatchObject({ maxMsgSize: 1024, msgRetentionSeconds: 60 });
    const listed = await topics.listTopics({ prefix: name, limit: 100 });
    expect(listed.topics).toEqual([expect.objectContaining({ name, maxMsgSize: 1024, msgRetentionSeconds: 60 })]);
  });

  it("counts its subscriptions and kept messages", async () => {
    const name = await createTopic();
    await topics.subscribe(name, "a", { protocol: "http", endpoint: `http://sink.test/ok/${name}` });
    await topics.subscribe(name, "b", { protocol: "worker", endpoint: "AUDIT_WORKER" });
    await topics.publish(name, [{ body: "one" }, { body: "two" }]);

    expect(await topics.getTopic(name)).toMatchObject({ subscriptionCount: 2, messageCount: 2 });
  });
});

describe("listing topics", () => {
  it("lists the topics whose name starts with a prefix, in name order", async () => {
    const prefix = uniqueName("list");
    for (const suffix of ["c", "a", "b"]) await topics.createTopic(`${prefix}-${suffix}`, {});
    await topics.createTopic(uniqueName("other"), {});

    const page = await topics.listTopics({ prefix, limit: 100 });

    expect(page.topics.map((topic) => topic.name)).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
    expect(page.topics[0]).toMatchObject({ maxMsgSize: 65_536, msgRetentionSeconds: 86_400, filterType: "tag" });
    expect(page.nextCursor).toBeNull();
  });

  it("pages with limit and cursor without repeating or skipping a topic", async () => {
    const prefix = uniqueName("page");
    const names = ["a", "b", "c", "d", "e"].map((suffix) => `${prefix}-${suffix}`);
    for (const name of names) await topics.createTopic(name, {});

    const first = await topics.listTopics({ prefix, limit: 2 });
    const second = await topics.listTopics({ prefix, limit: 2, cursor: first.nextCursor! });
    const third = await topics.listTopics({ prefix, limit: 2, cursor: second.nextCursor! });

    expect(first.topics.map((topic) => topic.name)).toEqual(names.slice(0, 2));
    expect(second.topics.map((topic) => topic.name)).toEqual(names.slice(2, 4));
    expect(third.topics.map((topic) => topic.name)).toEqual(names.slice(4));
    expect(third.nextCursor).toBeNull();
  });

  it("no longer lists a deleted topic", async () => {
    const prefix = uniqueName("gone");
    await topics.createTopic(`${prefix}-keep`, {});
    await topics.createTopic(`${prefix}-drop`, {});

    await topics.deleteTopic(`${prefix}-drop`);

    expect((await topics.listTopics({ prefix, limit: 100 })).topics.map((topic) => topic.name)).toEqual([`${prefix}-keep`]);
  });
});

describe("deleting a topic", () => {
  it("makes the topic TopicNotFound afterwards, also for a second delete", async () => {
    const name = await createTopic();

    await topics.deleteTopic(name);

    await expectCode(topics.getTopic(name), ErrorCode.TopicNotFound);
    await expectCode(topics.publish(name, [{ body: "late" }]), ErrorCode.TopicNotFound);
    await expectCode(topics.listSubscriptions(name), ErrorCode.TopicNotFound);
    await expectCode(topics.deleteTopic(name), ErrorCode.TopicNotFound);
  });

  it("removes its subscriptions, so a topic created again under the name has none", async () => {
    const name = await createTopic();
    await topics.subscribe(name, "s", { protocol: "worker", endpoint: "AUDIT_WORKER" });

    await topics.deleteTopic(name);
    await topics.createTopic(name, {});

    expect((await topics.listSubscriptions(name)).subscriptions).toEqual([]);
    await expectCode(topics.getSubscription(name, "s"), ErrorCode.SubscriptionNotFound);
  });

  it("drops pending deliveries, so nothing is pushed after the delete", async () => {
    const name = await createTopic();
    const key = `sink.test/status/500/${name}`;
    await topics.subscribe(name, "failing", { protocol: "http", endpoint: `http://${key}` });
    await topics.publish(name, [{ body: "never retried" }]);
    await attempted(name);
    const before = (await sinkRecords(key)).length;

    await topics.deleteTopic(name);
    await topics.createTopic(name, {});
    await runDue(name, Date.now() + 3_600_000);

    expect(await outboxRows(name)).toEqual([]);
    expect((await sinkRecords(key)).length).toBe(before);
    expect((await topics.getTopic(name)).messageCount).toBe(0);
  });
});
