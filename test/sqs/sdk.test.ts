import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqsService, type SqsTestService } from "./service.mjs";
import { clientSettings, failureOf, uniqueName } from "./sdk-support";

/**
 * The real `@aws-sdk/client-sqs` against the real service (`wrangler dev`), its endpoint the only
 * change, signing with a key created through the REST API: what a user of SQS would run.
 */
let service: SqsTestService;
let sqs: SQSClient;

const clientFor = (accessKeyId: string, secretAccessKey: string) =>
  new SQSClient(clientSettings(service.url, accessKeyId, secretAccessKey));

async function newQueue(attributes?: Record<string, string>): Promise<string> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("sdk"), Attributes: attributes }));
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

describe("@aws-sdk/client-sqs against the service", () => {
  it("creates a queue, finds its URL, lists it and reads its attributes", async () => {
    const name = uniqueName("sdk");

    const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "40", MessageRetentionPeriod: "3600" } }));
    const found = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: name }));
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: found.QueueUrl, AttributeNames: ["All"] }));

    expect(created.QueueUrl).toBe(`${service.url}/default/${name}`);
    expect(found.QueueUrl).toBe(created.QueueUrl);
    expect(listed.QueueUrls).toEqual([created.QueueUrl]);
    expect(attributes.Attributes).toMatchObject({
      VisibilityTimeout: "40",
      MessageRetentionPeriod: "3600",
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "0",
      ApproximateNumberOfMessagesDelayed: "0",
      QueueArn: `arn:aws:sqs:local:default:${name}`,
    });
    expect(Number(attributes.Attributes!.CreatedTimestamp)).toBeGreaterThan(1_700_000_000);
  });

  it("pages through ListQueues with MaxResults and NextToken", async () => {
    const prefix = uniqueName("page");
    for (const suffix of ["a", "b", "c"]) await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-${suffix}` }));

    const first = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 2 }));
    const second = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 2, NextToken: first.NextToken }));

    expect(first.QueueUrls?.map((url) => url.split("/").pop())).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect(second.QueueUrls?.map((url) => url.split("/").pop())).toEqual([`${prefix}-c`]);
    expect(second.NextToken).toBeUndefined();
  });

  it("long-polls until a message arrives, receives it with its system attributes, and deletes it", async () => {
    const queueUrl = await newQueue();
    const body = "héllo from the SDK ✓";

    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 10, MessageSystemAttributeNames: ["All"] }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const received = await polling;
    const message = received.Messages![0]!;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    const after = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));

    // The SDK checks MD5OfMessageBody and MD5OfBody itself and throws on a mismatch.
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: body });
    expect(message.Attributes).toMatchObject({ ApproximateReceiveCount: "1" });
    expect(Number(message.Attributes!.SentTimestamp)).toBeGreaterThan(1_700_000_000_000);
    expect(after.Attributes).toEqual({ ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" });
  });

  it("reports a batch with a partial failure entry by entry", async () => {
    const queueUrl = await newQueue({ MaximumMessageSize: "1024" });

    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: "first", MessageBody: "one" },
          { Id: "too-large", MessageBody: "x".repeat(2048) },
          { Id: "second", MessageBody: "two" },
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

    expect(sent.Successful?.map((entry) => entry.Id).sort()).toEqual(["first", "second"]);
    expect(sent.Failed).toEqual([expect.objectContaining({ Id: "too-large", Code: "InvalidParameterValue", SenderFault: true })]);
    expect(received.Messages?.map((message) => message.Body).sort()).toEqual(["one", "two"]);
    expect(deleted.Successful?.map((entry) => entry.Id).sort()).toEqual(["m0", "m1"]);
    expect(deleted.Failed).toEqual([expect.objectContaining({ Id: "stale", Code: "ReceiptHandleIsInvalid", SenderFault: true })]);
  });

  it("makes a received message visible again with ChangeMessageVisibility", async () => {
    const queueUrl = await newQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "again" }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 600 }));

    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: first.Messages![0]!.ReceiptHandle, VisibilityTimeout: 0 }));
    const second = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageSystemAttributeNames: ["ApproximateReceiveCount"] }));

    expect(second.Messages?.[0]).toMatchObject({ Body: "again", Attributes: { ApproximateReceiveCount: "2" } });
  });

  it("purges and deletes a queue", async () => {
    const queueUrl = await newQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "purged" }));

    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    const purged = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    const gone = await failure(() => sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl })));

    expect(purged.Messages).toBeUndefined();
    expect(gone).toBeInstanceOf(QueueDoesNotExist);
  });
});

describe("@aws-sdk/client-sqs error paths", () => {
  it("throws the typed QueueDoesNotExist for a missing queue", async () => {
    const error = await failure(() => sqs.send(new GetQueueUrlCommand({ QueueName: uniqueName("missing") })));

    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect(error.name).toBe("QueueDoesNotExist");
    expect(error.$fault).toBe("client");
    expect(error.$metadata.httpStatusCode).toBe(400);
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
    expect(byWrongSecret.$metadata.httpStatusCode).toBe(403);
    expect([byUnknownId.name, byUnknownId.message]).toEqual([byWrongSecret.name, byWrongSecret.message]);
  });
});
