import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
  type MessageAttributeValue,
} from "@aws-sdk/client-sqs";
import {
  CreateQueueCommand as QueryCreateQueueCommand,
  ReceiveMessageCommand as QueryReceiveMessageCommand,
  SendMessageBatchCommand as QuerySendMessageBatchCommand,
  SendMessageCommand as QuerySendMessageCommand,
  SQSClient as QuerySQSClient,
} from "sqs-query-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { md5OfMessageAttributes } from "./attribute-digest.mjs";
import { startSqsService, type SqsTestService } from "./service.mjs";
import { clientSettings, uniqueName } from "./sdk-support";

/**
 * Message attributes through the real `@aws-sdk/client-sqs` against the real service. The SDK
 * checks MD5OfMessageBody itself (and throws on a mismatch); it does not check
 * MD5OfMessageAttributes, so these tests check that digest with SQS's published algorithm,
 * computed here with Node's own MD5 and pinned to the AWS SDK for Java's published example.
 */
let service: SqsTestService;
let sqs: SQSClient;
/** `@aws-sdk/client-sqs` 3.445.0, which speaks the query protocol (forms in, XML out). */
let querySqs: QuerySQSClient;
const queryBodies: string[] = [];

const Attributes: Record<string, MessageAttributeValue> = {
  greeting: { DataType: "String", StringValue: "héllo ✓" },
  "custom.label": { DataType: "String.custom-label", StringValue: "x" },
  count: { DataType: "Number", StringValue: "42" },
  ratio: { DataType: "Number.float", StringValue: "-0.125e2" },
  bytes: { DataType: "Binary", BinaryValue: Uint8Array.of(0, 1, 2, 253, 254, 255) },
  image: { DataType: "Binary.gif", BinaryValue: new TextEncoder().encode("GIF89a") },
};

beforeAll(async () => {
  service = await startSqsService();
  sqs = new SQSClient(clientSettings(service.url, service.key.secretId, service.key.secretKey));
  querySqs = new QuerySQSClient(clientSettings(service.url, service.key.secretId, service.key.secretKey));
  querySqs.middlewareStack.add(
    (next) => async (args) => {
      queryBodies.push(String((args.request as { body: unknown }).body));
      return next(args);
    },
    { step: "finalizeRequest", name: "recordQueryBody" },
  );
});

afterAll(async () => {
  querySqs?.destroy();
  sqs?.destroy();
  await service?.stop();
});

async function newQueue(): Promise<string> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("attrs") }))).QueueUrl!;
}

describe("message attributes with @aws-sdk/client-sqs", () => {
  it("computes the published digest of the AWS SDK for Java's example", () => {
    expect(
      md5OfMessageAttributes({
        test_attribute_name_2: { DataType: "String", StringValue: "test_attribute_value_2" },
        test_attribute_name_1: { DataType: "String", StringValue: "test_attribute_value_1" },
      }),
    ).toBe("d53f3b558fe951154770f25cb63dbba9");
  });

  it("sends all three types with custom labels and receives them back, every digest matching", async () => {
    const queueUrl = await newQueue();

    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "with attributes", MessageAttributes: Attributes }));
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["SenderId"] }),
    );
    const message = received.Messages![0]!;

    expect(sent.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(Attributes));
    expect(message.MessageId).toBe(sent.MessageId);
    expect(message.MessageAttributes).toEqual(Attributes);
    expect(message.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(Attributes));
    expect(message.Attributes?.SenderId).toBe(service.key.secretId);
  });

  it("sends a batch with attributes, each entry's digest matching", async () => {
    const queueUrl = await newQueue();
    const second = { count: { DataType: "Number.int", StringValue: "7" } };

    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: "first", MessageBody: "one", MessageAttributes: Attributes },
          { Id: "second", MessageBody: "two", MessageAttributes: second },
          { Id: "third", MessageBody: "three" },
        ],
      }),
    );
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }));

    const digests = Object.fromEntries(sent.Successful!.map((entry) => [entry.Id, entry.MD5OfMessageAttributes]));
    expect(digests).toEqual({ first: md5OfMessageAttributes(Attributes), second: md5OfMessageAttributes(second), third: undefined });
    expect(sent.Failed ?? []).toEqual([]);
    const byBody = Object.fromEntries(received.Messages!.map((message) => [message.Body, message]));
    expect(byBody.one?.MessageAttributes).toEqual(Attributes);
    expect(byBody.two?.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(second));
    expect(byBody.three?.MessageAttributes).toBeUndefined();
  });

  it("receives only the attributes named, by prefix or exactly, with the digest of that subset", async () => {
    const queueUrl = await newQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "subset", MessageAttributes: Attributes }));

    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ["custom.*", "count"] }));
    const message = received.Messages![0]!;

    const expected = { "custom.label": Attributes["custom.label"]!, count: Attributes.count! };
    expect(message.MessageAttributes).toEqual(expected);
    expect(message.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(expected));
  });

  it("keeps the AWSTraceHeader system attribute and returns it with the SenderId", async () => {
    const queueUrl = await newQueue();
    const traceHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
    const systemAttributes = { AWSTraceHeader: { DataType: "String", StringValue: traceHeader } };

    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "traced", MessageSystemAttributes: systemAttributes }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageSystemAttributeNames: ["AWSTraceHeader", "SenderId"] }));

    expect(sent.MD5OfMessageSystemAttributes).toBe(md5OfMessageAttributes(systemAttributes));
    expect(received.Messages![0]!.Attributes).toEqual({ AWSTraceHeader: traceHeader, SenderId: service.key.secretId });
  });

  it("refuses a Number attribute that is no number with InvalidParameterValue", async () => {
    const queueUrl = await newQueue();

    const error = await sqs
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "x", MessageAttributes: { n: { DataType: "Number", StringValue: "ten" } } }))
      .then(
        () => null,
        (thrown: unknown) => thrown,
      );
    const after = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));

    expect(error).toBeInstanceOf(SQSServiceException);
    expect((error as SQSServiceException).name).toBe("InvalidParameterValue");
    expect(after.Messages ?? []).toEqual([]);
  });
});

describe("message attributes with the query protocol (@aws-sdk/client-sqs 3.445.0)", () => {
  it("sends all three types and a trace header, in one message and a batch, and receives them back with matching digests", async () => {
    const queueUrl = (await querySqs.send(new QueryCreateQueueCommand({ QueueName: uniqueName("qattrs") }))).QueueUrl!;
    const traceHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
    const systemAttributes = { AWSTraceHeader: { DataType: "String", StringValue: traceHeader } };

    const sent = await querySqs.send(
      new QuerySendMessageCommand({ QueueUrl: queueUrl, MessageBody: "one", MessageAttributes: Attributes, MessageSystemAttributes: systemAttributes }),
    );
    const batch = await querySqs.send(
      new QuerySendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: "b", MessageBody: "two", MessageAttributes: { count: Attributes.count! } }] }),
    );
    const received = await querySqs.send(
      new QueryReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"], AttributeNames: ["All"] }),
    );

    expect(queryBodies.some((body) => body.includes("MessageAttribute.1.Name="))).toBe(true);
    expect(sent.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(Attributes));
    expect(sent.MD5OfMessageSystemAttributes).toBe(md5OfMessageAttributes(systemAttributes));
    expect(batch.Successful![0]!.MD5OfMessageAttributes).toBe(md5OfMessageAttributes({ count: Attributes.count! }));
    const byBody = Object.fromEntries(received.Messages!.map((message) => [message.Body, message]));
    expect(byBody.one?.MessageAttributes).toEqual(Attributes);
    expect(byBody.one?.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(Attributes));
    expect(byBody.one?.Attributes).toMatchObject({ AWSTraceHeader: traceHeader, SenderId: service.key.secretId });
    expect(byBody.two?.MessageAttributes).toEqual({ count: Attributes.count });
  });
});
