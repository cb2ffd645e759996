import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  SQSServiceException,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqsService, type SqsTestService } from "./service.mjs";
import { clientSettings, failureOf, uniqueName } from "./sdk-support";

/** FIFO queues through the real `@aws-sdk/client-sqs` against the real service (`wrangler dev`). */
let service: SqsTestService;
let sqs: SQSClient;

async function fifoQueue(attributes: Record<string, string> = {}): Promise<string> {
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: `${uniqueName("sdk")}.fifo`, Attributes: { FifoQueue: "true", ...attributes } }),
  );
  return created.QueueUrl!;
}

const failure = (request: () => Promise<unknown>) => failureOf(SQSServiceException, request);

beforeAll(async () => {
  service = await startSqsService();
  sqs = new SQSClient(clientSettings(service.url, service.key.secretId, service.key.secretKey));
});

afterAll(async () => {
  sqs?.destroy();
  await service?.stop();
});

describe("FIFO queues through @aws-sdk/client-sqs", () => {
  it("creates a .fifo queue with its FIFO attributes, and reads them back", async () => {
    const url = await fifoQueue({ ContentBasedDeduplication: "true", DeduplicationScope: "messageGroup", FifoThroughputLimit: "perMessageGroupId" });
    const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }));
    expect(read.Attributes).toMatchObject({
      FifoQueue: "true",
      ContentBasedDeduplication: "true",
      DeduplicationScope: "messageGroup",
      FifoThroughputLimit: "perMessageGroupId",
    });
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { ContentBasedDeduplication: "false", DeduplicationScope: "queue", FifoThroughputLimit: "perQueue" } }));
    const changed = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"] }));
    expect(changed.Attributes).toEqual({ ContentBasedDeduplication: "false", DeduplicationScope: "queue", FifoThroughputLimit: "perQueue" });
  });

  it("sends with MessageGroupId and MessageDeduplicationId, answers SequenceNumber, and deduplicates", async () => {
    const url = await fifoQueue();
    const first = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "one", MessageGroupId: "g", MessageDeduplicationId: "d1" }));
    expect(first.SequenceNumber).toMatch(/^\d{20}$/);
    const again = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "one, again", MessageGroupId: "g", MessageDeduplicationId: "d1" }));
    expect(again.MessageId).toBe(first.MessageId);
    expect(again.SequenceNumber).toBe(first.SequenceNumber);
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: "a", MessageBody: "two", MessageGroupId: "g", MessageDeduplicationId: "d2" },
          { Id: "b", MessageBody: "other", MessageGroupId: "h", MessageDeduplicationId: "d3" },
        ],
      }),
    );
    expect(batch.Successful!.map((entry) => entry.SequenceNumber!.length)).toEqual([20, 20]);
    expect(BigInt(batch.Successful![0]!.SequenceNumber!)).toBeGreaterThan(BigInt(first.SequenceNumber!));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["All"] }));
    expect(received.Messages!.map((message) => message.Body)).toEqual(["one", "two", "other"]);
    expect(received.Messages![0]!.Attributes).toMatchObject({ MessageGroupId: "g", MessageDeduplicationId: "d1", SequenceNumber: first.SequenceNumber });
  });

  it("holds a group back while its message is in flight, and releases it on delete", async () => {
    const url = await fifoQueue({ ContentBasedDeduplication: "true" });
    for (const body of ["1", "2"]) await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: "g" }));
    const [first] = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1 }))).Messages!;
    expect(first!.Body).toBe("1");
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }))).Messages).toBeUndefined();
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first!.ReceiptHandle }));
    const next = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(next.Messages!.map((message) => message.Body)).toEqual(["2"]);
  });

  it("answers SQS's errors: MissingParameter without a group id, InvalidParameterValue for a message's delay or a missing deduplication id", async () => {
    const url = await fifoQueue();
    const missing = await failure(() => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "x", MessageDeduplicationId: "d" })));
    expect({ name: missing.name, status: missing.$metadata.httpStatusCode }).toEqual({ name: "MissingParameter", status: 400 });
    const delayed = await failure(() => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "x", MessageGroupId: "g", MessageDeduplicationId: "d", DelaySeconds: 5 })));
    expect(delayed.name).toBe("InvalidParameterValue");
    const noDedup = await failure(() => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "x", MessageGroupId: "g" })));
    expect(noDedup.name).toBe("InvalidParameterValue");
    const badGroup = await failure(() => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "x", MessageGroupId: "g h", MessageDeduplicationId: "d" })));
    expect(badGroup.name).toBe("InvalidParameterValue");
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: "ok", MessageBody: "fine", MessageGroupId: "g", MessageDeduplicationId: "ok" },
          { Id: "nogroup", MessageBody: "x", MessageDeduplicationId: "n" },
        ],
      }),
    );
    expect(batch.Successful!.map((entry) => entry.Id)).toEqual(["ok"]);
    expect(batch.Failed).toEqual([expect.objectContaining({ Id: "nogroup", Code: "MissingParameter", SenderFault: true })]);
  });

  it("refuses a .fifo name without FifoQueue, and FifoQueue without the name", async () => {
    const unnamed = await failure(() => sqs.send(new CreateQueueCommand({ QueueName: uniqueName("x"), Attributes: { FifoQueue: "true" } })));
    expect(unnamed.name).toBe("InvalidParameterValue");
    const unmarked = await failure(() => sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName("x")}.fifo` })));
    expect(unmarked.name).toBe("InvalidParameterValue");
  });

  it("passes MessageGroupId on a standard queue as the message's tenant", async () => {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("fair") }));
    await sqs.send(new SendMessageCommand({ QueueUrl: created.QueueUrl, MessageBody: "x", MessageGroupId: "tenant-a" }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: created.QueueUrl, MessageSystemAttributeNames: ["MessageGroupId", "SequenceNumber"] }));
    expect(received.Messages![0]!.Attributes).toEqual({ MessageGroupId: "tenant-a" });
  });
});
