import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueueTagsCommand,
  ReceiveMessageCommand,
  ResourceNotFoundException,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  SQSServiceException,
  StartMessageMoveTaskCommand,
  TagQueueCommand,
  UntagQueueCommand,
  type ListMessageMoveTasksResultEntry,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqsService, type SqsTestService } from "./service.mjs";
import { clientSettings, failureOf, uniqueName } from "./sdk-support";

/**
 * Queue-level SQS semantics with the real `@aws-sdk/client-sqs` against the real service
 * (`wrangler dev`): DelaySeconds, tags, RedrivePolicy and RedriveAllowPolicy, dead-letter source
 * queues and message move tasks, with their error paths.
 */
let service: SqsTestService;
let sqs: SQSClient;

async function newQueue(attributes?: Record<string, string>, tags?: Record<string, string>): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("qa"), Attributes: attributes, tags }));
  const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl, AttributeNames: ["QueueArn"] }));
  return { url: created.QueueUrl!, arn: read.Attributes!.QueueArn! };
}

const redrivePolicy = (deadLetterTargetArn: string, maxReceiveCount: number | string) => JSON.stringify({ deadLetterTargetArn, maxReceiveCount });

const failure = (request: () => Promise<unknown>) => failureOf(SQSServiceException, request);

/** Reads the latest move task of `sourceArn` until `done` holds of it (the service moves on its own alarm). */
async function taskUntil(sourceArn: string, done: (task: ListMessageMoveTasksResultEntry) => boolean): Promise<ListMessageMoveTasksResultEntry> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const listed = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
    const task = listed.Results?.[0];
    if (task && done(task)) return task;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the move task did not reach the expected state");
}

beforeAll(async () => {
  service = await startSqsService();
  sqs = new SQSClient(clientSettings(service.url, service.key.secretId, service.key.secretKey));
});

afterAll(async () => {
  sqs?.destroy();
  await service?.stop();
});

describe("DelaySeconds", () => {
  it("holds back messages sent without a delay of their own; a message's DelaySeconds 0 wins", async () => {
    const { url } = await newQueue({ DelaySeconds: "2" });

    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "queue delay" }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "no delay", DelaySeconds: 0 }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["DelaySeconds", "ApproximateNumberOfMessagesDelayed"] }));
    const later = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 10 }));

    expect(first.Messages?.map((message) => message.Body)).toEqual(["no delay"]);
    expect(attributes.Attributes).toEqual({ DelaySeconds: "2", ApproximateNumberOfMessagesDelayed: "1" });
    expect(later.Messages?.map((message) => message.Body)).toEqual(["queue delay"]);
  });

  it("changes with SetQueueAttributes and refuses a value over 900 s, changing nothing", async () => {
    const { url } = await newQueue();

    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { DelaySeconds: "900" } }));
    const refused = await failure(() => sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { DelaySeconds: "901" } })));
    const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }));

    expect(refused.name).toBe("InvalidAttributeValue");
    expect(read.Attributes!.DelaySeconds).toBe("900");
  });
});

describe("queue tags", () => {
  it("tags on CreateQueue, TagQueue, UntagQueue and ListQueueTags", async () => {
    const { url } = await newQueue(undefined, { team: "payments", stage: "dev" });

    await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { stage: "prod", owner: "ops" } }));
    await sqs.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: ["team", "absent"] }));
    const listed = await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }));
    await sqs.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: ["stage", "owner"] }));
    const none = await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }));

    expect(listed.Tags).toEqual({ stage: "prod", owner: "ops" });
    expect(none.Tags).toBeUndefined();
  });

  it("refuses a reserved key and more than 50 tags with InvalidParameterValue, changing nothing", async () => {
    const { url } = await newQueue(undefined, { kept: "yes" });
    const fiftyOne = Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, "v"]));

    const reserved = await failure(() => sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { "aws:owner": "me" } })));
    const tooMany = await failure(() => sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: fiftyOne })));
    const listed = await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }));

    expect([reserved.name, tooMany.name]).toEqual(["InvalidParameterValue", "InvalidParameterValue"]);
    expect(listed.Tags).toEqual({ kept: "yes" });
  });
});

describe("RedrivePolicy and RedriveAllowPolicy", () => {
  it("set and read back in SQS's JSON, and ListDeadLetterSourceQueues pages through the sources", async () => {
    const dlq = await newQueue();
    const first = await newQueue({ RedrivePolicy: redrivePolicy(dlq.arn, "3") });
    const second = await newQueue();

    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: second.url, Attributes: { RedrivePolicy: redrivePolicy(dlq.arn, 7) } }));
    const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: first.url, AttributeNames: ["RedrivePolicy"] }));
    const allow = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.url, AttributeNames: ["All"] }));
    const page1 = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.url, MaxResults: 1 }));
    const page2 = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.url, MaxResults: 1, NextToken: page1.NextToken }));

    expect(JSON.parse(read.Attributes!.RedrivePolicy!)).toEqual({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 });
    expect(allow.Attributes!.RedrivePolicy).toBeUndefined();
    expect(JSON.parse(allow.Attributes!.RedriveAllowPolicy!)).toEqual({ redrivePermission: "allowAll" });
    expect([...page1.queueUrls!, ...page2.queueUrls!].sort()).toEqual([first.url, second.url].sort());
    expect(page2.NextToken).toBeUndefined();
  });

  it("removes a RedrivePolicy set to an empty string", async () => {
    const dlq = await newQueue();
    const source = await newQueue({ RedrivePolicy: redrivePolicy(dlq.arn, 2) });

    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: source.url, Attributes: { RedrivePolicy: "" } }));
    const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: source.url, AttributeNames: ["RedrivePolicy"] }));
    const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.url }));

    expect(read.Attributes).toBeUndefined();
    expect(sources.queueUrls).toEqual([]);
  });

  it("a RedriveAllowPolicy of denyAll or byQueue refuses other sources with InvalidParameterValue", async () => {
    const allowedName = uniqueName("qa");
    const closed = await newQueue({ RedriveAllowPolicy: JSON.stringify({ redrivePermission: "denyAll" }) });
    const selective = await newQueue();
    const allowedArn = selective.arn.replace(/[^:]+$/, allowedName);
    const byQueue = JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [allowedArn] });
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: selective.url, Attributes: { RedriveAllowPolicy: byQueue } }));

    const toClosed = await failure(() => newQueue({ RedrivePolicy: redrivePolicy(closed.arn, 2) }));
    const notNamed = await failure(() => newQueue({ RedrivePolicy: redrivePolicy(selective.arn, 2) }));
    const named = await sqs.send(new CreateQueueCommand({ QueueName: allowedName, Attributes: { RedrivePolicy: redrivePolicy(selective.arn, 2) } }));
    const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: selective.url, AttributeNames: ["RedriveAllowPolicy"] }));

    expect([toClosed.name, notNamed.name]).toEqual(["InvalidParameterValue", "InvalidParameterValue"]);
    expect(named.QueueUrl).toBe(`${service.url}/default/${allowedName}`);
    expect(JSON.parse(read.Attributes!.RedriveAllowPolicy!)).toEqual({ redrivePermission: "byQueue", sourceQueueArns: [allowedArn] });
  });

  it.each([
    ["not JSON", "{"],
    ["without maxReceiveCount", JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:local:default:x" })],
    ["with an unknown key", JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:local:default:x", maxReceiveCount: 2, colour: "red" })],
    ["with maxReceiveCount 0", JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:local:default:x", maxReceiveCount: 0 })],
    ["naming a queue of another account", JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:local:123456789012:x", maxReceiveCount: 2 })],
    ["naming a queue that does not exist", JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:local:default:nowhere-at-all", maxReceiveCount: 2 })],
  ])("refuses a RedrivePolicy %s with InvalidParameterValue, changing nothing", async (_case, policy) => {
    const { url } = await newQueue({ VisibilityTimeout: "31" });

    const error = await failure(() => sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: "32", RedrivePolicy: policy } })));
    const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }));

    expect(error.name).toBe("InvalidParameterValue");
    expect(read.Attributes!.VisibilityTimeout).toBe("31");
    expect(read.Attributes!.RedrivePolicy).toBeUndefined();
  });
});

describe("message move tasks", () => {
  it("moves a dead letter back to its source: RedrivePolicy, DeadLetterQueueSourceArn, StartMessageMoveTask", async () => {
    const dlq = await newQueue();
    const source = await newQueue({ RedrivePolicy: redrivePolicy(dlq.arn, 1) });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: "poison" }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: source.url, VisibilityTimeout: 1 }));

    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, WaitTimeSeconds: 10, MessageSystemAttributeNames: ["All"] }));
    const deadLetter = dead.Messages![0]!;
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: dlq.url, ReceiptHandle: deadLetter.ReceiptHandle, VisibilityTimeout: 0 }));
    const started = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    const task = await taskUntil(dlq.arn, (entry) => entry.Status !== "RUNNING");
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: source.url, WaitTimeSeconds: 10, MessageSystemAttributeNames: ["All"] }));

    expect(deadLetter).toMatchObject({ MessageId: sent.MessageId, Body: "poison" });
    expect(deadLetter.Attributes).toMatchObject({ DeadLetterQueueSourceArn: source.arn, ApproximateReceiveCount: "1" });
    expect(Number(deadLetter.Attributes!.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(1_700_000_000_000);
    expect(started.TaskHandle).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(task).toMatchObject({ Status: "COMPLETED", SourceArn: dlq.arn, ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 1 });
    expect(task.DestinationArn).toBeUndefined();
    expect(task.TaskHandle).toBeUndefined();
    expect(task.StartedTimestamp).toBeGreaterThan(1_700_000_000_000);
    expect(back.Messages?.map((message) => [message.MessageId, message.Body])).toEqual([[sent.MessageId, "poison"]]);
    expect(back.Messages![0]!.Attributes!.DeadLetterQueueSourceArn).toBeUndefined();
  });

  it("runs one task at a time, lists it while it runs, and cancels it by its handle", async () => {
    const dlq = await newQueue();
    await newQueue({ RedrivePolicy: redrivePolicy(dlq.arn, 5) });
    const destination = await newQueue();
    for (let index = 0; index < 5; index++) await sqs.send(new SendMessageCommand({ QueueUrl: dlq.url, MessageBody: `m${index}` }));

    const started = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: destination.arn, MaxNumberOfMessagesPerSecond: 1 }));
    const running = await taskUntil(dlq.arn, () => true);
    const second = await failure(() => sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: destination.arn })));
    const cancelled = await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: started.TaskHandle }));
    const after = await taskUntil(dlq.arn, () => true);
    const again = await failure(() => sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: started.TaskHandle })));

    expect(running).toMatchObject({ Status: "RUNNING", TaskHandle: started.TaskHandle, DestinationArn: destination.arn, MaxNumberOfMessagesPerSecond: 1 });
    expect(running.ApproximateNumberOfMessagesToMove).toBe(5);
    expect(second.name).toBe("InvalidParameterValue");
    expect(cancelled.ApproximateNumberOfMessagesMoved).toBeLessThan(5);
    expect(after).toMatchObject({ Status: "CANCELLED", ApproximateNumberOfMessagesMoved: cancelled.ApproximateNumberOfMessagesMoved });
    expect(again).toBeInstanceOf(ResourceNotFoundException);
  });

  it("refuses a source that is no dead-letter queue with InvalidParameterValue", async () => {
    const plain = await newQueue();

    const error = await failure(() => sqs.send(new StartMessageMoveTaskCommand({ SourceArn: plain.arn })));

    expect(error.name).toBe("InvalidParameterValue");
    expect(error.message).toBe("Source queue must be configured as a Dead Letter Queue.");
  });

  it.each([
    ["a source that does not exist", () => ({ SourceArn: "arn:aws:sqs:local:default:nowhere-at-all" }), "SourceArn"],
    ["a source of another account", () => ({ SourceArn: "arn:aws:sqs:local:123456789012:x" }), "SourceArn"],
  ])("answers %s with ResourceNotFoundException", async (_case, input, parameter) => {
    const error = await failure(() => sqs.send(new StartMessageMoveTaskCommand(input())));

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toContain(parameter);
    expect(error.$metadata.httpStatusCode).toBe(404);
  });

  it("answers a destination that does not exist with ResourceNotFoundException and starts nothing", async () => {
    const dlq = await newQueue();
    await newQueue({ RedrivePolicy: redrivePolicy(dlq.arn, 5) });

    const error = await failure(() => sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: dlq.arn.replace(/[^:]+$/, "nowhere-at-all") })));
    const listed = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlq.arn }));

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toContain("DestinationArn");
    expect(listed.Results).toEqual([]);
  });

  it.each([
    ["a handle that is no handle", "not a handle!"],
    ["a handle that decodes to nothing", "bm90LWpzb24"],
  ])("refuses %s on CancelMessageMoveTask with InvalidParameterValue", async (_case, handle) => {
    const error = await failure(() => sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: handle })));

    expect(error.name).toBe("InvalidParameterValue");
  });

  it("refuses a rate over 500 messages per second with InvalidParameterValue", async () => {
    const dlq = await newQueue();
    await newQueue({ RedrivePolicy: redrivePolicy(dlq.arn, 5) });

    const error = await failure(() => sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, MaxNumberOfMessagesPerSecond: 501 })));

    expect(error.name).toBe("InvalidParameterValue");
    expect(error.message).toContain("MaxNumberOfMessagesPerSecond");
  });
});
