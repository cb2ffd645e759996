import {
  AddPermissionCommand,
  BatchEntryIdsNotDistinct,
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  EmptyBatchRequest,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  SQSServiceException,
  TooManyEntriesInBatchRequest,
} from "sqs-query-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqsService, type SqsTestService } from "./service.mjs";
import { clientSettings, failureOf, uniqueName } from "./sdk-support";

/**
 * `@aws-sdk/client-sqs` 3.445.0, the last release that spoke SQS's query protocol (form bodies,
 * XML answers), installed as `sqs-query-client`, against the real service: what code written
 * for SQS before late 2023 runs. Every request it sends is recorded, to prove it spoke the query
 * protocol and not JSON.
 */
let service: SqsTestService;
let sqs: SQSClient;
const sent: Array<{ contentType: string; body: string }> = [];

function clientFor(accessKeyId: string, secretAccessKey: string): SQSClient {
  const client = new SQSClient(clientSettings(service.url, accessKeyId, secretAccessKey));
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string>; body: string };
      sent.push({ contentType: request.headers["content-type"] ?? "", body: String(request.body) });
      return next(args);
    },
    { step: "finalizeRequest", name: "recordWireFormat" },
  );
  return client;
}

async function newQueue(attributes?: Record<string, string>): Promise<string> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("query"), Attributes: attributes }));
  return created.QueueUrl!;
}

const failure = (request: () => Promise<unknown>) => failureOf(SQSServiceException, request);

beforeAll(async () => {
  service = await startSqsService();
  sqs = clientFor(service.key.secretId, service.key.secretKey);
});

afterAll(async () => {
  sqs?.destroy();
  await service?.stop();
});

describe("@aws-sdk/client-sqs 3.445 (query protocol) against the service", () => {
  it("speaks the query protocol: form bodies with Action and Version", async () => {
    sent.length = 0;

    await sqs.send(new ListQueuesCommand({ QueueNamePrefix: "none-" }));

    expect(sent).toEqual([{ contentType: "application/x-www-form-urlencoded", body: expect.stringMatching(/^QueueNamePrefix=none-&Action=ListQueues&Version=2012-11-05$/) }]);
  });

  it("creates a queue, finds its URL, lists it, and reads and changes its attributes", async () => {
    const name = uniqueName("query");

    const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "40", MessageRetentionPeriod: "3600" } }));
    const found = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: name }));
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: found.QueueUrl, Attributes: { ReceiveMessageWaitTimeSeconds: "5" } }));
    const all = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: found.QueueUrl, AttributeNames: ["All"] }));
    const some = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: found.QueueUrl, AttributeNames: ["VisibilityTimeout", "QueueArn"] }));

    expect(created.QueueUrl).toBe(`${service.url}/default/${name}`);
    expect(found.QueueUrl).toBe(created.QueueUrl);
    expect(listed.QueueUrls).toEqual([created.QueueUrl]);
    expect(all.Attributes).toMatchObject({
      VisibilityTimeout: "40",
      MessageRetentionPeriod: "3600",
      ReceiveMessageWaitTimeSeconds: "5",
      ApproximateNumberOfMessages: "0",
      QueueArn: `arn:aws:sqs:local:default:${name}`,
    });
    expect(some.Attributes).toEqual({ VisibilityTimeout: "40", QueueArn: `arn:aws:sqs:local:default:${name}` });
  });

  it("pages through ListQueues with MaxResults and NextToken", async () => {
    const prefix = uniqueName("qpage");
    for (const suffix of ["a", "b", "c"]) await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-${suffix}` }));

    const first = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 2 }));
    const second = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 2, NextToken: first.NextToken }));

    expect(first.QueueUrls?.map((url) => url.split("/").pop())).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect(second.QueueUrls?.map((url) => url.split("/").pop())).toEqual([`${prefix}-c`]);
    expect(second.NextToken).toBeUndefined();
  });

  it("long-polls until a message arrives and returns its body intact through XML, then deletes it", async () => {
    const queueUrl = await newQueue();
    // XML's special characters, a carriage return (an XML parser would turn a literal one into a
    // line feed) and characters outside the BMP: the SDK checks MD5OfBody against what it parsed.
    const body = `<order id="1"> & 'more' \r\n\ttab ✓ 𝄞 ]]>`;

    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 10, AttributeNames: ["All"] }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sentMessage = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const received = await polling;
    const message = received.Messages![0]!;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    const after = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));

    expect(message).toMatchObject({ MessageId: sentMessage.MessageId, Body: body });
    expect(message.Attributes).toMatchObject({ ApproximateReceiveCount: "1" });
    expect(Number(message.Attributes!.SentTimestamp)).toBeGreaterThan(1_700_000_000_000);
    expect(after.Attributes).toEqual({ ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" });
  });

  it("answers an empty receive with no messages", async () => {
    const queueUrl = await newQueue();

    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));

    expect(received.Messages).toBeUndefined();
  });

  it("reports batches with partial failures entry by entry", async () => {
    const queueUrl = await newQueue({ MaximumMessageSize: "1024" });

    const sentBatch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: "first", MessageBody: "one" },
          { Id: "too-large", MessageBody: "x".repeat(2048) },
          { Id: "second", MessageBody: "two", DelaySeconds: 0 },
        ],
      }),
    );
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [...received.Messages!.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.ReceiptHandle })), { Id: "stale", ReceiptHandle: "1-0" }],
      }),
    );

    expect(sentBatch.Successful?.map((entry) => entry.Id).sort()).toEqual(["first", "second"]);
    expect(sentBatch.Failed).toEqual([expect.objectContaining({ Id: "too-large", Code: "InvalidParameterValue", SenderFault: true })]);
    expect(received.Messages?.map((message) => message.Body).sort()).toEqual(["one", "two"]);
    expect(deleted.Successful?.map((entry) => entry.Id).sort()).toEqual(["m0", "m1"]);
    expect(deleted.Failed).toEqual([expect.objectContaining({ Id: "stale", Code: "ReceiptHandleIsInvalid", SenderFault: true })]);
  });

  it("changes visibility one by one and in a batch", async () => {
    const queueUrl = await newQueue();
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: "a", MessageBody: "a" }, { Id: "b", MessageBody: "b" }] }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }));
    const [a, b] = first.Messages!;

    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: a!.ReceiptHandle, VisibilityTimeout: 0 }));
    const batch = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: "b", ReceiptHandle: b!.ReceiptHandle, VisibilityTimeout: 0 },
          { Id: "stale", ReceiptHandle: "1-0", VisibilityTimeout: 0 },
        ],
      }),
    );
    const second = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, AttributeNames: ["All"] }));

    expect(batch.Successful).toEqual([{ Id: "b" }]);
    expect(batch.Failed).toEqual([expect.objectContaining({ Id: "stale", Code: "ReceiptHandleIsInvalid", SenderFault: true })]);
    expect(second.Messages?.map((message) => [message.Body, message.Attributes?.ApproximateReceiveCount]).sort()).toEqual([
      ["a", "2"],
      ["b", "2"],
    ]);
  });

  it("purges and deletes a queue", async () => {
    const queueUrl = await newQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "purged" }));

    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    const purged = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    // This release's model lists QueueDoesNotExist for GetQueueUrl, not yet for GetQueueAttributes.
    const gone = await failure(() => sqs.send(new GetQueueUrlCommand({ QueueName: queueUrl.split("/").pop()! })));

    expect(purged.Messages).toBeUndefined();
    expect(gone).toBeInstanceOf(QueueDoesNotExist);
  });
});

describe("@aws-sdk/client-sqs 3.445 (query protocol) error paths", () => {
  it("throws the typed QueueDoesNotExist for a missing queue", async () => {
    const error = await failure(() => sqs.send(new GetQueueUrlCommand({ QueueName: uniqueName("missing") })));

    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect(error.$fault).toBe("client");
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("throws the typed ReceiptHandleIsInvalid for a receipt handle that is not current", async () => {
    const queueUrl = await newQueue();

    const error = await failure(() => sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: "1-00000000000000000000000000000000" })));

    expect(error).toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  it.each([
    ["MaxNumberOfMessages 11", { MaxNumberOfMessages: 11 }],
    ["MaxNumberOfMessages 0", { MaxNumberOfMessages: 0 }],
    ["WaitTimeSeconds 21", { WaitTimeSeconds: 21 }],
    ["VisibilityTimeout 43201", { VisibilityTimeout: 43_201 }],
  ])("refuses %s with InvalidParameterValue", async (_case, options) => {
    const queueUrl = await newQueue();

    const error = await failure(() => sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, ...options })));

    expect(error.name).toBe("InvalidParameterValue");
    expect(error.message).toMatch(/Value for parameter \w+ is invalid/);
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it("refuses an out-of-range queue attribute with InvalidAttributeValue", async () => {
    const queueUrl = await newQueue();

    const error = await failure(() => sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { MessageRetentionPeriod: "59" } })));

    expect(error.name).toBe("InvalidAttributeValue");
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it.each([
    ["no entries", () => [], EmptyBatchRequest],
    ["eleven entries", () => Array.from({ length: 11 }, (_, index) => ({ Id: `e${index}`, MessageBody: "x" })), TooManyEntriesInBatchRequest],
    ["a repeated id", () => [{ Id: "same", MessageBody: "x" }, { Id: "same", MessageBody: "y" }], BatchEntryIdsNotDistinct],
  ])("refuses a batch with %s with its typed error and sends nothing", async (_case, entries, type) => {
    const queueUrl = await newQueue();

    const error = await failure(() => sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries() })));
    const after = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));

    expect(error).toBeInstanceOf(type);
    expect(after.Messages).toBeUndefined();
  });

  it("answers an action with no counterpart with UnsupportedOperation", async () => {
    const queueUrl = await newQueue();

    const error = await failure(() => sqs.send(new AddPermissionCommand({ QueueUrl: queueUrl, Label: "l", AWSAccountIds: ["123456789012"], Actions: ["SendMessage"] })));

    // AddPermission's model lists no UnsupportedOperation: the SDK names the error by its query code.
    expect(error.name).toBe("AWS.SimpleQueueService.UnsupportedOperation");
    expect(error.$fault).toBe("client");
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it("answers a wrong secret and an unknown access key id with the same signature error", async () => {
    const wrongSecret = clientFor(service.key.secretId, `${service.key.secretKey}x`);
    const unknownId = clientFor(`AKID${"q".repeat(32)}`, service.key.secretKey);

    const byWrongSecret = await failure(() => wrongSecret.send(new ListQueuesCommand({})));
    const byUnknownId = await failure(() => unknownId.send(new ListQueuesCommand({})));
    wrongSecret.destroy();
    unknownId.destroy();

    expect(byWrongSecret.name).toBe("SignatureDoesNotMatch");
    expect(byWrongSecret.$fault).toBe("client");
    expect(byWrongSecret.$metadata.httpStatusCode).toBe(403);
    expect([byUnknownId.name, byUnknownId.message]).toEqual([byWrongSecret.name, byWrongSecret.message]);
  });
});

describe("FIFO queues through the query protocol", () => {
  it("creates a .fifo queue, sends in batches with groups and deduplication ids, and receives each group in order with its sequence numbers", async () => {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName("query")}.fifo`, Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" } }));
    const url = created.QueueUrl!;
    const one = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "a1", MessageGroupId: "a" }));
    expect(one.SequenceNumber).toMatch(/^\d{20}$/);
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: "x", MessageBody: "b1", MessageGroupId: "b" },
          { Id: "y", MessageBody: "a2", MessageGroupId: "a", MessageDeduplicationId: "a2" },
          { Id: "z", MessageBody: "a1", MessageGroupId: "a" },
        ],
      }),
    );
    expect(batch.Successful!.find((entry) => entry.Id === "z")).toMatchObject({ MessageId: one.MessageId, SequenceNumber: one.SequenceNumber });
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, AttributeNames: ["All"] }));
    expect(received.Messages!.map((message) => message.Body)).toEqual(["a1", "a2", "b1"]);
    expect(received.Messages![1]!.Attributes).toMatchObject({ MessageGroupId: "a", MessageDeduplicationId: "a2" });
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["FifoQueue", "ContentBasedDeduplication"] }));
    expect(attributes.Attributes).toEqual({ FifoQueue: "true", ContentBasedDeduplication: "true" });
    expect(sent.at(-1)!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
  });
});
