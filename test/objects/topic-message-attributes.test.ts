import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { ErrorCode } from "../../src/errors";
import { migrate } from "../../src/objects/topic/storage";
import type { MessageAttributes } from "../../src/schema/message-attributes";
import { TopicOperations } from "../../src/service/topics";
import {
  createQueue,
  createTopic,
  drained,
  expectCode,
  inTopic,
  queues,
  scope,
  sinkRecords,
  topics,
  uniqueName,
} from "../support/topics";

const Attributes: MessageAttributes = {
  kind: { type: "String", value: "order" },
  amount: { type: "Number.int", value: "1200" },
  blob: { type: "Binary", value: "3q2+7w==" },
};

describe("message attributes through a topic", () => {
  it("carries attributes and the publisher's sender id to every queue subscription", async () => {
    const topic = await createTopic();
    const [first, second] = [await createQueue(), await createQueue()];
    await topics.subscribe(topic, "a", { protocol: "queue", endpoint: first });
    await topics.subscribe(topic, "b", { protocol: "queue", endpoint: second });
    // A key's principal: its SecretId is the sender id.
    const asKey = new TopicOperations(env, { ...scope, principal: { ...scope.principal, kind: "key", secretId: "AKIDpublisher" } });

    const [id] = await asKey.publish(topic, [{ body: "with attributes", attributes: Attributes }]);
    await drained(topic);

    for (const queue of [first, second]) {
      const { messages } = await queues.peek(queue, { limit: 10 });
      expect(messages, queue).toEqual([expect.objectContaining({ id, attributes: Attributes, senderId: "AKIDpublisher" })]);
    }
  });

  it("records the account as the sender of a message published with root credentials", async () => {
    const topic = await createTopic();
    const queue = await createQueue();
    await topics.subscribe(topic, "q", { protocol: "queue", endpoint: queue });

    await topics.publish(topic, [{ body: "from root" }]);
    await drained(topic);

    const { messages } = await queues.peek(queue, { limit: 10 });
    expect(messages).toEqual([expect.objectContaining({ attributes: {}, senderId: "default" })]);
  });

  it("adds msgAttributes to the JSON push envelope, and leaves it out for a message without attributes", async () => {
    const topic = await createTopic();
    const key = `sink.test/ok/${uniqueName("attrs")}`;
    await topics.subscribe(topic, "hook", { protocol: "http", endpoint: `http://${key}` });

    await topics.publish(topic, [{ body: "one", attributes: Attributes }]);
    await topics.publish(topic, [{ body: "two" }]);
    await drained(topic);

    const bodies = (await sinkRecords(key)).map((record) => JSON.parse(record.body) as Record<string, unknown>);
    const byBody = new Map(bodies.map((body) => [body.msgBody, body]));
    expect(byBody.get("one")?.msgAttributes).toEqual(Attributes);
    expect(byBody.get("two")).not.toHaveProperty("msgAttributes");
  });

  it("pushes only the body in the SIMPLIFIED format", async () => {
    const topic = await createTopic();
    const key = `sink.test/ok/${uniqueName("simple")}`;
    await topics.subscribe(topic, "hook", { protocol: "http", endpoint: `http://${key}`, notifyContentFormat: "SIMPLIFIED" });

    await topics.publish(topic, [{ body: "raw", attributes: Attributes }]);
    await drained(topic);

    expect((await sinkRecords(key)).map((record) => record.body)).toEqual(["raw"]);
  });

  it("counts attributes in the topic's size limit", async () => {
    const topic = await createTopic({ maxMsgSize: 1_024 });
    const attributes: MessageAttributes = { a: { type: "String", value: "b" } }; // 1 + 6 + 1 = 8 bytes

    await topics.publish(topic, [{ body: "x".repeat(1_016), attributes }]);
    await expectCode(topics.publish(topic, [{ body: "x".repeat(1_017), attributes }]), ErrorCode.MessageTooLarge);

    expect((await topics.getTopic(topic)).messageCount).toBe(1);
  });

  it("brings a topic's messages table stored before attributes existed up to date", async () => {
    const topic = await createTopic();

    const columns = await inTopic(topic, (_object, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE messages");
      sql.exec(`CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL, body TEXT NOT NULL, tags TEXT, routing_key TEXT, published_at INTEGER NOT NULL)`);
      sql.exec("INSERT INTO messages (id, body, published_at) VALUES ('old', 'old body', 1)");
      migrate(sql);
      migrate(sql);
      return {
        names: sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('messages')").toArray().map((c) => c.name),
        old: sql.exec("SELECT body, attributes, sender_id FROM messages WHERE id = 'old'").one(),
      };
    });

    expect(columns.names).toEqual(expect.arrayContaining(["attributes", "sender_id"]));
    expect(columns.old).toEqual({ body: "old body", attributes: null, sender_id: null });
  });
});
