import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqsService, type SqsTestService } from "./service.mjs";
import { clientSettings, uniqueName } from "./sdk-support";

/**
 * A partitioned queue (made over the native API: SQS has no such attribute) driven through the
 * real `@aws-sdk/client-sqs` against the real service: the SDK sees one queue.
 */
let service: SqsTestService;
let sqs: SQSClient;

async function partitionedQueue(name: string, partitions: number, attributes: Record<string, unknown> = {}): Promise<string> {
  const response = await fetch(`${service.url}/v1/queues/${name}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${service.key.secretKey}`, "content-type": "application/json" },
    body: JSON.stringify({ partitions, ...attributes }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
}

async function receiveAll(url: string, expected: number): Promise<Message[]> {
  const all: Message[] = [];
  for (let attempt = 0; attempt < 3 * expected && all.length < expected; attempt++) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
    all.push(...Messages);
  }
  return all;
}

beforeAll(async () => {
  service = await startSqsService();
  sqs = new SQSClient(clientSettings(service.url, service.key.secretId, service.key.secretKey));
});

afterAll(async () => {
  sqs?.destroy();
  await service?.stop();
});

describe("a partitioned queue through @aws-sdk/client-sqs", () => {
  it("sends, counts, receives, changes visibility and deletes across partitions", async () => {
    const url = await partitionedQueue(uniqueName("sdkp"), 4);
    const ids: string[] = [];
    for (let index = 0; index < 8; index++) ids.push((await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${index}` }))).MessageId!);
    const counted = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }));
    expect(counted.Attributes?.ApproximateNumberOfMessages).toBe("8");

    const received = await receiveAll(url, 8);
    expect(received.map((message) => message.MessageId).sort()).toEqual([...ids].sort());
    // Handles of partitions past 0 carry their partition; the SDK passes them back untouched.
    expect(received.some((message) => /^p[1-3]_/.test(message.ReceiptHandle!))).toBe(true);
    const inFlight = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessagesNotVisible"] }));
    expect(inFlight.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe("8");

    const released = received.find((message) => /^p[1-3]_/.test(message.ReceiptHandle!))!;
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: released.ReceiptHandle!, VisibilityTimeout: 0 }));
    const [again] = await receiveAll(url, 1);
    expect(again?.MessageId).toBe(released.MessageId);

    const keep = received.filter((message) => message.MessageId !== released.MessageId);
    const handles = [...keep.map((message) => message.ReceiptHandle!), again!.ReceiptHandle!];
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: url, Entries: handles.map((handle, index) => ({ Id: `d${index}`, ReceiptHandle: handle })) }),
    );
    expect(deleted.Failed ?? []).toEqual([]);
    expect(deleted.Successful).toHaveLength(8);
    const empty = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
    expect(empty.Attributes).toEqual({ ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" });
  });

  it("keeps each message group of a partitioned FIFO queue in order", async () => {
    const url = await partitionedQueue(`${uniqueName("sdkp")}.fifo`, 4, { fifo: true });
    const groups = ["alpha", "beta", "gamma", "delta", "epsilon"];
    for (let round = 0; round < 3; round++) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: groups.map((group) => ({ Id: `${group}${round}`, MessageBody: `${group}:${round}`, MessageGroupId: group, MessageDeduplicationId: `${group}-${round}` })),
        }),
      );
    }
    const bodies: string[] = [];
    for (let attempt = 0; attempt < 40 && bodies.length < 15; attempt++) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      bodies.push(...Messages.map((message) => message.Body!));
      if (Messages.length > 0) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: Messages.map((message, index) => ({ Id: `d${index}`, ReceiptHandle: message.ReceiptHandle! })) }));
      }
    }
    expect(bodies).toHaveLength(15);
    for (const group of groups) expect(bodies.filter((body) => body.startsWith(`${group}:`))).toEqual([0, 1, 2].map((round) => `${group}:${round}`));
  });

  it("keeps each group of a FIFO queue in order, and its deduplication, across raises of its partition count", async () => {
    const name = `${uniqueName("sdkr")}.fifo`;
    const url = await partitionedQueue(name, 1, { fifo: true });
    const groups = ["alpha", "beta", "gamma", "delta", "epsilon"];
    const sendRound = (round: number) =>
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: groups.map((group) => ({ Id: `${group}${round}`, MessageBody: `${group}:${round}`, MessageGroupId: group, MessageDeduplicationId: `${group}-${round}` })),
        }),
      );
    const first = await sendRound(0);
    // Heads in flight across the raises.
    const { Messages: held = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 3, VisibilityTimeout: 60 }));
    expect(held.length).toBeGreaterThan(0);
    for (const [round, partitions] of [[1, 4], [2, 16]] as const) {
      const raised = await fetch(`${service.url}/v1/queues/${name}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${service.key.secretKey}`, "content-type": "application/json" },
        body: JSON.stringify({ partitions }),
      });
      expect(raised.status, await raised.clone().text()).toBe(200);
      await sendRound(round);
    }
    // A retry of round 0 after the raises is answered with the same messages, stored once.
    const retried = await sendRound(0);
    expect(retried.Successful?.map((entry) => entry.MessageId).sort()).toEqual(first.Successful?.map((entry) => entry.MessageId).sort());
    const bodies = held.map((message) => message.Body!);
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: held.map((message, index) => ({ Id: `h${index}`, ReceiptHandle: message.ReceiptHandle! })) }));
    for (let attempt = 0; attempt < 40 && bodies.length < 15; attempt++) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      bodies.push(...Messages.map((message) => message.Body!));
      if (Messages.length > 0) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: Messages.map((message, index) => ({ Id: `d${index}`, ReceiptHandle: message.ReceiptHandle! })) }));
      }
    }
    expect(bodies).toHaveLength(15);
    for (const group of groups) expect(bodies.filter((body) => body.startsWith(`${group}:`))).toEqual([0, 1, 2].map((round) => `${group}:${round}`));
  });

  it("answers a long poll with a message sent while it waits, and purges the whole queue", async () => {
    const url = await partitionedQueue(uniqueName("sdkp"), 8);
    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }));
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "wake" }));
    const { Messages = [] } = await polling;
    expect(Messages.map((message) => message.MessageId)).toEqual([sent.MessageId]);
    for (let index = 0; index < 6; index++) await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `p${index}` }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    const counts = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }));
    expect(counts.Attributes?.ApproximateNumberOfMessages).toBe("0");
  });
});
