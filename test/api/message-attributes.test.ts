import { describe, expect, it } from "vitest";
import { md5OfAttributes } from "../../src/api/sqs/message-attributes";
import type { MessageAttributes } from "../../src/schema/message-attributes";
import { bearer, createKey } from "../support/auth";
import { api, uniqueName } from "../support/http";
import { drained } from "../support/topics";
import { queueUrl, sqs } from "../support/sqs";
import { createQueue, expectError, expectStatus, peekAll, rpc, snapshot } from "./helpers";

const Attributes: MessageAttributes = {
  color: { type: "String", value: "red" },
  price: { type: "Number.float", value: "9.5" },
  thumb: { type: "Binary.png", value: "iVBORw0KGgo=" },
};

describe("message attributes over the native REST API", () => {
  it("sends attributes with one message and with a batch, and receives them with the sender", async () => {
    const queue = await createQueue(uniqueName());

    const one = await api("POST", `/v1/queues/${queue}/messages`, { body: "one", attributes: Attributes });
    const batch = await api("POST", `/v1/queues/${queue}/messages`, { messages: [{ body: "two", attributes: { n: { type: "Number", value: "2" } } }, { body: "three" }] });
    const received = await api("POST", `/v1/queues/${queue}/messages/receive`, { max: 10 });

    expectStatus(one, 200);
    expectStatus(batch, 200);
    const byBody = new Map(received.body.messages.map((m: { body: string }) => [m.body, m]));
    expect(byBody.get("one")).toMatchObject({ attributes: Attributes, senderId: "default" });
    expect(byBody.get("two")).toMatchObject({ attributes: { n: { type: "Number", value: "2" } } });
    expect(byBody.get("three")).toMatchObject({ attributes: {} });
  });

  it("records the sending key's SecretId as the sender", async () => {
    const queue = await createQueue(uniqueName());
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);

    expectStatus(await api("POST", `/v1/queues/${queue}/messages`, { body: "by key" }, { auth: bearer(key.secretKey) }), 200);

    expect((await peekAll(queue))[0]).toMatchObject({ body: "by key", senderId: key.secretId });
  });

  it("records, for a token, the SecretId of the key that minted it, and the account for one root minted", async () => {
    const queue = await createQueue(uniqueName());
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const request = { actions: ["send"], resources: [`queue:${queue}`] };
    const keyToken = (await api("POST", "/v1/tokens", request, { auth: bearer(key.secretKey) })).body.token;
    const rootToken = (await api("POST", "/v1/tokens", request)).body.token;

    expectStatus(await api("POST", `/v1/queues/${queue}/messages`, { body: "key token" }, { auth: bearer(keyToken) }), 200);
    expectStatus(await api("POST", `/v1/queues/${queue}/messages`, { body: "root token" }, { auth: bearer(rootToken) }), 200);

    const senders = Object.fromEntries((await peekAll(queue)).map((m) => [m.body, m.senderId]));
    expect(senders).toEqual({ "key token": key.secretId, "root token": "default" });
  });

  it("publishes attributes to a topic and receives them from its queue subscription", async () => {
    const queue = await createQueue(uniqueName());
    const topic = uniqueName("t");
    expectStatus(await api("PUT", `/v1/topics/${topic}`, {}), 201);
    expectStatus(await api("PUT", `/v1/topics/${topic}/subscriptions/q`, { protocol: "queue", endpoint: queue }), 201);

    expectStatus(await api("POST", `/v1/topics/${topic}/messages`, { messages: [{ body: "published", attributes: Attributes }] }), 200);
    await drained(topic);

    expect((await peekAll(queue))[0]).toMatchObject({ body: "published", attributes: Attributes, senderId: "default" });
  });

  it.each([
    ["an unknown base type", { a: { type: "Text", value: "x" } }, "attributes.a.type"],
    ["a type with an empty label", { a: { type: "String.", value: "x" } }, "attributes.a.type"],
    ["an empty value", { a: { type: "String", value: "" } }, "attributes.a.value"],
    ["a Number that is not a number", { a: { type: "Number", value: "ten" } }, "Number"],
    ["a Number past 38 digits", { a: { type: "Number", value: "1".repeat(39) } }, "38 significant digits"],
    ["a Binary that is not base64", { a: { type: "Binary", value: "not base64!" } }, "base64"],
    ["a name with a space", { "a b": { type: "String", value: "x" } }, "letters, digits"],
    ["a name starting with AWS.", { "aws.trace": { type: "String", value: "x" } }, "reserved"],
    ["a name starting with Amazon.", { "AMAZON.x": { type: "String", value: "x" } }, "reserved"],
    ["a name with '..'", { "a..b": { type: "String", value: "x" } }, "'..'"],
    ["a name ending with '.'", { "a.": { type: "String", value: "x" } }, "'.'"],
    ["a name of 257 characters", { ["n".repeat(257)]: { type: "String", value: "x" } }, "1 to 256"],
    ["the name constructor", JSON.parse('{"constructor": {"type": "String", "value": "x"}}'), "constructor"],
    ["a __proto__ name", JSON.parse('{"__proto__": {"type": "String", "value": "x"}}'), "__proto__"],
    ["eleven attributes", Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, { type: "String", value: "x" }])), "at most 10"],
    ["an unknown field", { a: { type: "String", value: "x", extra: 1 } }, "attributes.a"],
    ["attributes that are a list", [{ type: "String", value: "x" }], "attributes"],
  ])("refuses %s with InvalidParameter and stores nothing", async (_case, attributes, messagePart) => {
    const queue = await createQueue(uniqueName());
    const before = await snapshot(queue);

    const refused = await api("POST", `/v1/queues/${queue}/messages`, { body: "x", attributes });

    expectError(refused, "InvalidParameter", messagePart);
    expect(await snapshot(queue)).toEqual(before);
    expect(await peekAll(queue)).toEqual([]);
  });

  it("keeps a trace header, outside the size limit, and gives it back on receive", async () => {
    const queue = await createQueue(uniqueName(), { maxMsgSize: 1_024 });
    const traceHeader = `Root=1-5759e988-bd862e3fe1be46a994272793;${"x".repeat(900)}`;

    expectStatus(await api("POST", `/v1/queues/${queue}/messages`, { body: "b".repeat(1_024), traceHeader }), 200);
    const received = await api("POST", `/v1/queues/${queue}/messages/receive`, {});

    expect(received.body.messages[0]).toMatchObject({ traceHeader });
  });

  it.each([
    ["empty", ""],
    ["longer than 1,024 characters", "t".repeat(1_025)],
    ["holding a line break", "Root=1\r\nX-Injected: 1"],
  ])("refuses a trace header %s with InvalidParameter", async (_case, traceHeader) => {
    const queue = await createQueue(uniqueName());

    const refused = await api("POST", `/v1/queues/${queue}/messages`, { body: "x", traceHeader });

    expectError(refused, "InvalidParameter", "traceHeader");
    expect(await peekAll(queue)).toEqual([]);
  });

  it("refuses a message whose attributes take it past maxMsgSize with MessageTooLarge", async () => {
    const queue = await createQueue(uniqueName(), { maxMsgSize: 1_024 });

    const refused = await api("POST", `/v1/queues/${queue}/messages`, { body: "x".repeat(1_000), attributes: { big: { type: "String", value: "v".repeat(100) } } });

    expectError(refused, "MessageTooLarge", "body and attributes");
    expect(await peekAll(queue)).toEqual([]);
  });

  it("documents attributes in the send body and in received and peeked messages in /openapi.json", async () => {
    const document = (await api("GET", "/openapi.json")).body;
    const json = "application/json";
    const sendBody = document.paths["/v1/queues/{queue}/messages"].post.requestBody.content[json].schema.anyOf[0];
    const received = document.paths["/v1/queues/{queue}/messages/receive"].post.responses["200"].content[json].schema.properties.messages.items;
    const peeked = document.paths["/v1/queues/{queue}/messages"].get.responses["200"].content[json].schema.properties.messages.items;

    expect(sendBody.properties.attributes.additionalProperties.required).toEqual(["type", "value"]);
    expect(sendBody.properties.attributes.description).toContain("up to 10 typed attributes");
    expect(sendBody.properties.traceHeader.maxLength).toBe(1_024);
    for (const message of [received, peeked]) {
      expect(message.required).toEqual(expect.arrayContaining(["attributes", "senderId"]));
      expect(message.properties.attributes.description).toContain("base64 for Binary types");
      expect(message.properties.senderId.description).toContain("the SecretId of the sending key");
    }
  });
});

describe("message attributes over RPC", () => {
  it("sends a message with attributes and receives them with the sender", async () => {
    const queue = await createQueue(uniqueName());

    const sent = await rpc("send", queue, { body: "rpc", attributes: Attributes });
    const received = await rpc("receive", queue, { max: 1 });

    expect(sent.ok).toBe(true);
    expect(received.ok && received.value.messages[0]).toMatchObject({ body: "rpc", attributes: Attributes, senderId: "default" });
  });

  it("refuses a bad attribute with InvalidParameter naming it", async () => {
    const queue = await createQueue(uniqueName());

    const refused = await rpc("send", queue, { body: "rpc", attributes: { "AWS.x": { type: "String", value: "x" } } });

    expect(refused.ok).toBe(false);
    expect(refused.ok ? "" : refused.message).toMatch(/^\[InvalidParameter\] message\.attributes\.AWS\.x: .*reserved/);
    expect(await peekAll(queue)).toEqual([]);
  });
});

describe("MD5OfMessageAttributes", () => {
  // Published examples: the AWS SDK for Java's MD5 tests (also used by YDB's SQS), sqslite, and the
  // SQS Developer Guide's SellerName example.
  it.each([
    [
      {
        test_attribute_name_2: { type: "String", value: "test_attribute_value_2" },
        test_attribute_name_1: { type: "String", value: "test_attribute_value_1" },
      },
      "d53f3b558fe951154770f25cb63dbba9",
    ],
    [{ test_attribute_name: { type: "Binary", value: btoa("test_attribute_value") } }, "23f6bd27ea87aab7dfeadcc9aebee495"],
    [{ ordinal: { type: "Number", value: "1" }, category: { type: "String", value: "test" } }, "d21ae90c49061e927f57df5f5d72be1f"],
    [{ SellerName: { type: "String", value: "Example Store" } }, "cd28f3b68aeee4b2eac9c66f2f694b58"],
  ])("matches the published digest %#", async (attributes, digest) => {
    expect(await md5OfAttributes(attributes)).toBe(digest);
  });

  it("is absent for a message without attributes", async () => {
    expect(await md5OfAttributes({})).toBeNull();
  });
});

describe("message attributes over the SQS JSON protocol", () => {
  const wireAttributes = {
    color: { DataType: "String", StringValue: "red" },
    price: { DataType: "Number.float", StringValue: "9.5" },
    thumb: { DataType: "Binary.png", BinaryValue: "iVBORw0KGgo=" },
    "meta.a": { DataType: "String", StringValue: "1" },
    "meta.b": { DataType: "String.x", StringValue: "2" },
  };

  async function queueWithMessage(count = 1) {
    const name = uniqueName("sqs");
    await sqs("CreateQueue", { QueueName: name });
    let sent!: Awaited<ReturnType<typeof sqs>>;
    for (let i = 0; i < count; i++) {
      sent = await sqs("SendMessage", { QueueUrl: queueUrl(name), MessageBody: "body", MessageAttributes: wireAttributes });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    }
    return { name, sent };
  }

  /** Makes received messages visible again at once. */
  async function release(name: string, messages: Array<{ ReceiptHandle: string }>) {
    for (const { ReceiptHandle } of messages) {
      expect((await sqs("ChangeMessageVisibility", { QueueUrl: queueUrl(name), ReceiptHandle, VisibilityTimeout: 0 })).status).toBe(200);
    }
  }

  it("answers SendMessage with the digest of the attributes and stores them for the native API", async () => {
    const { name, sent } = await queueWithMessage();

    const [stored] = await peekAll(name);

    expect(sent.body.MD5OfMessageAttributes).toBe(await md5OfAttributes(stored.attributes));
    expect(stored.attributes).toEqual({
      color: { type: "String", value: "red" },
      price: { type: "Number.float", value: "9.5" },
      thumb: { type: "Binary.png", value: "iVBORw0KGgo=" },
      "meta.a": { type: "String", value: "1" },
      "meta.b": { type: "String.x", value: "2" },
    });
  });

  it.each([
    [["All"], ["color", "meta.a", "meta.b", "price", "thumb"]],
    [[".*"], ["color", "meta.a", "meta.b", "price", "thumb"]],
    [["meta.*"], ["meta.a", "meta.b"]],
    [["color", "thumb", "absent"], ["color", "thumb"]],
  ])("returns the attributes MessageAttributeNames %j selects, with the digest of exactly those", async (names, expected) => {
    const { name } = await queueWithMessage();

    const received = await sqs("ReceiveMessage", { QueueUrl: queueUrl(name), MessageAttributeNames: names });
    const message = received.body.Messages[0];

    expect(Object.keys(message.MessageAttributes).sort()).toEqual(expected);
    const selected = Object.fromEntries(expected.map((key) => [key, (wireAttributes as Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>)[key]!]));
    expect(message.MessageAttributes).toEqual(selected);
    const asService = Object.fromEntries(
      Object.entries(selected).map(([key, value]) => [key, { type: value.DataType, value: value.StringValue ?? value.BinaryValue! }]),
    );
    expect(message.MD5OfMessageAttributes).toBe(await md5OfAttributes(asService));
  });

  it("leaves MessageAttributes and their digest out when none is asked for or none matches", async () => {
    const { name } = await queueWithMessage(2);

    const unasked = await sqs("ReceiveMessage", { QueueUrl: queueUrl(name) });
    const unmatched = await sqs("ReceiveMessage", { QueueUrl: queueUrl(name), MessageAttributeNames: ["nothing"] });

    for (const answer of [unasked, unmatched]) {
      expect(answer.body.Messages[0]).not.toHaveProperty("MessageAttributes");
      expect(answer.body.Messages[0]).not.toHaveProperty("MD5OfMessageAttributes");
    }
  });

  it("returns SenderId through MessageSystemAttributeNames and AttributeNames", async () => {
    const { name } = await queueWithMessage();
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    await sqs("SendMessage", { QueueUrl: queueUrl(name), MessageBody: "by key" }, key);

    const receive = async (names: object) => {
      const answer = await sqs("ReceiveMessage", { QueueUrl: queueUrl(name), MaxNumberOfMessages: 10, ...names });
      await release(name, answer.body.Messages ?? []);
      return answer;
    };
    const bySystemNames = await receive({ MessageSystemAttributeNames: ["SenderId"] });
    const byLegacyNames = await receive({ AttributeNames: ["All"] });
    const byNone = await receive({});

    const senders = (answer: typeof byNone) => Object.fromEntries(answer.body.Messages.map((m: any) => [m.Body, m.Attributes?.SenderId]));
    expect(senders(bySystemNames)).toEqual({ body: "default", "by key": key.secretId });
    expect(senders(byLegacyNames)).toEqual({ body: "default", "by key": key.secretId });
    expect(senders(byNone)).toEqual({ body: undefined, "by key": undefined });
  });

  it("keeps AWSTraceHeader, answers its digest and returns it when asked for", async () => {
    const name = uniqueName("sqs");
    await sqs("CreateQueue", { QueueName: name });
    const traceHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    const sent = await sqs("SendMessage", {
      QueueUrl: queueUrl(name),
      MessageBody: "traced",
      MessageSystemAttributes: { AWSTraceHeader: { DataType: "String", StringValue: traceHeader } },
    });
    const received = await sqs("ReceiveMessage", { QueueUrl: queueUrl(name), MessageSystemAttributeNames: ["AWSTraceHeader"] });

    expect(sent.body.MD5OfMessageSystemAttributes).toBe(await md5OfAttributes({ AWSTraceHeader: { type: "String", value: traceHeader } }));
    expect(sent.body).not.toHaveProperty("MD5OfMessageAttributes");
    expect(received.body.Messages[0].Attributes).toEqual({ AWSTraceHeader: traceHeader });
    expect((await peekAll(name))[0].traceHeader).toBe(traceHeader);
  });

  it.each([
    ["a system attribute SQS does not have", { Colour: { DataType: "String", StringValue: "red" } }, "MessageSystemAttributes.Colour is not a parameter"],
    ["AWSTraceHeader as Binary", { AWSTraceHeader: { DataType: "Binary", BinaryValue: "eA==" } }, "AWSTraceHeader is of type String"],
    ["an empty AWSTraceHeader", { AWSTraceHeader: { DataType: "String", StringValue: "" } }, "non-empty StringValue"],
    ["an AWSTraceHeader with a line break", { AWSTraceHeader: { DataType: "String", StringValue: "Root=1\nX: y" } }, "MessageSystemAttributes.AWSTraceHeader"],
  ])("refuses %s with InvalidParameterValue and stores nothing", async (_case, systemAttributes, messagePart) => {
    const name = uniqueName("sqs");
    await sqs("CreateQueue", { QueueName: name });

    const refused = await sqs("SendMessage", { QueueUrl: queueUrl(name), MessageBody: "x", MessageSystemAttributes: systemAttributes });

    expect({ status: refused.status, type: refused.body.__type }).toEqual({ status: 400, type: "com.amazonaws.sqs#InvalidParameterValue" });
    expect(refused.body.message).toContain(messagePart);
    expect(await peekAll(name)).toEqual([]);
  });

  it("gives each SendMessageBatch entry its digest and fails only the entry with a bad attribute", async () => {
    const name = uniqueName("sqs");
    await sqs("CreateQueue", { QueueName: name });

    const answer = await sqs("SendMessageBatch", {
      QueueUrl: queueUrl(name),
      Entries: [
        { Id: "good", MessageBody: "a", MessageAttributes: { n: { DataType: "Number", StringValue: "1" } } },
        { Id: "plain", MessageBody: "b" },
        { Id: "bad", MessageBody: "c", MessageAttributes: { n: { DataType: "Number", StringValue: "one" } } },
      ],
    });

    expect(answer.status).toBe(200);
    const good = answer.body.Successful.find((entry: { Id: string }) => entry.Id === "good");
    const plain = answer.body.Successful.find((entry: { Id: string }) => entry.Id === "plain");
    expect(good.MD5OfMessageAttributes).toBe(await md5OfAttributes({ n: { type: "Number", value: "1" } }));
    expect(plain).not.toHaveProperty("MD5OfMessageAttributes");
    expect(answer.body.Failed).toEqual([{ Id: "bad", SenderFault: true, Code: "InvalidParameterValue", Message: expect.stringContaining("MessageAttributes.n") }]);
    expect((await peekAll(name)).map((m) => m.body).sort()).toEqual(["a", "b"]);
  });

  it.each([
    ["a Binary type with a StringValue", { a: { DataType: "Binary", StringValue: "x" } }, "MessageAttributes.a is invalid. Reason: a Binary attribute must contain a non-empty BinaryValue"],
    ["a String type with a BinaryValue", { a: { DataType: "String", BinaryValue: "eA==" } }, "MessageAttributes.a is invalid. Reason: a String or Number attribute must contain a non-empty StringValue"],
    ["no DataType", { a: { StringValue: "x" } }, "non-empty attribute type"],
    ["an empty StringValue", { a: { DataType: "String", StringValue: "" } }, "non-empty StringValue"],
    ["no value at all", { a: { DataType: "Number" } }, "non-empty StringValue"],
    ["a character SQS does not allow", { a: { DataType: "String", StringValue: "bell \u0007" } }, "characters SQS allows in a message body"],
    ["list values", { a: { DataType: "String", StringValue: "x", StringListValues: ["y"] } }, "StringListValues is reserved by SQS"],
    ["an unknown type", { a: { DataType: "Text", StringValue: "x" } }, "MessageAttributes.a"],
    ["a reserved name", { "AWS.a": { DataType: "String", StringValue: "x" } }, "MessageAttributes.AWS.a"],
    ["a Number that is not one", { a: { DataType: "Number", StringValue: "1e999" } }, "MessageAttributes.a"],
    ["eleven attributes", Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "x" }])), "at most 10"],
    ["an unknown member", { a: { DataType: "String", StringValue: "x", Colour: "red" } }, "MessageAttributes.a.Colour"],
  ])("refuses %s with InvalidParameterValue and stores nothing", async (_case, attributes, messagePart) => {
    const name = uniqueName("sqs");
    await sqs("CreateQueue", { QueueName: name });

    const refused = await sqs("SendMessage", { QueueUrl: queueUrl(name), MessageBody: "x", MessageAttributes: attributes });

    expect({ status: refused.status, type: refused.body.__type }).toEqual({ status: 400, type: "com.amazonaws.sqs#InvalidParameterValue" });
    expect(refused.body.message).toContain(messagePart);
    expect(await peekAll(name)).toEqual([]);
  });
});
