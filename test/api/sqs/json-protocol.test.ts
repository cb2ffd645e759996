import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../../support/http";
import { queueUrl, sqs } from "../../support/sqs";

async function createdQueue(attributes?: Record<string, string>): Promise<string> {
  const answer = await sqs("CreateQueue", { QueueName: uniqueName("sqs"), ...(attributes ? { Attributes: attributes } : {}) });
  expect(answer.status).toBe(200);
  return answer.body.QueueUrl as string;
}

const md5Hex = async (text: string) =>
  Array.from(new Uint8Array(await crypto.subtle.digest("MD5", new TextEncoder().encode(text))), (byte) => byte.toString(16).padStart(2, "0")).join("");

describe("the SQS JSON protocol", () => {
  it("creates a queue with mapped attributes and reads them back", async () => {
    const name = uniqueName("sqs");

    const created = await sqs("CreateQueue", { QueueName: name, Attributes: { VisibilityTimeout: "45", ReceiveMessageWaitTimeSeconds: "3" } });
    const attributes = await sqs("GetQueueAttributes", { QueueUrl: created.body.QueueUrl, AttributeNames: ["All"] });
    const native = await api("GET", `/v1/queues/${name}`);

    expect(created).toMatchObject({ status: 200, body: { QueueUrl: queueUrl(name) } });
    expect(created.headers.get("content-type")).toBe("application/x-amz-json-1.0");
    expect(attributes.body.Attributes).toMatchObject({
      VisibilityTimeout: "45",
      ReceiveMessageWaitTimeSeconds: "3",
      ApproximateNumberOfMessages: "0",
      QueueArn: `arn:aws:sqs:local:default:${name}`,
    });
    expect(native.body).toMatchObject({ visibilityTimeout: 45, pollingWaitSeconds: 3 });
  });

  it("sends, receives with system attributes and deletes, with SQS's MD5 of the body", async () => {
    const url = await createdQueue();
    const body = "héllo, wörld ✓";

    const sent = await sqs("SendMessage", { QueueUrl: url, MessageBody: body });
    const received = await sqs("ReceiveMessage", { QueueUrl: url, MessageSystemAttributeNames: ["All"], MaxNumberOfMessages: 10 });
    const message = received.body.Messages[0];
    const deleted = await sqs("DeleteMessage", { QueueUrl: url, ReceiptHandle: message.ReceiptHandle });
    const empty = await sqs("ReceiveMessage", { QueueUrl: url });

    expect(sent.body.MD5OfMessageBody).toBe(await md5Hex(body));
    expect(message).toMatchObject({ MessageId: sent.body.MessageId, Body: body, MD5OfBody: await md5Hex(body) });
    expect(message.Attributes).toMatchObject({ ApproximateReceiveCount: "1" });
    expect(Object.keys(message.Attributes).sort()).toEqual(["ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "SenderId", "SentTimestamp"]);
    expect(deleted).toMatchObject({ status: 200, body: {} });
    expect(empty.body).toEqual({});
  });

  it("answers a missing queue with QueueDoesNotExist and the query-compatibility header", async () => {
    const answer = await sqs("GetQueueUrl", { QueueName: uniqueName("missing") });

    expect(answer.status).toBe(400);
    expect(answer.body.__type).toBe("com.amazonaws.sqs#QueueDoesNotExist");
    expect(answer.headers.get("x-amzn-query-error")).toBe("AWS.SimpleQueueService.NonExistentQueue;Sender");
    expect(answer.headers.get("x-amzn-requestid")).toBe(answer.headers.get("x-request-id"));
  });

  it.each([
    ["an unknown action", "Frobnicate", {}, 400, "InvalidAction"],
    ["an action not supported", "AddPermission", { QueueUrl: queueUrl("x"), Label: "l", AWSAccountIds: ["1"], Actions: ["SendMessage"] }, 400, "UnsupportedOperation"],
    ["a missing required parameter", "GetQueueUrl", {}, 400, "MissingParameter"],
    ["an unknown parameter", "GetQueueUrl", { QueueName: "x", Colour: "red" }, 400, "InvalidParameterValue"],
    ["a body that is not JSON", "ListQueues", "{not json", 400, "SerializationException"],
    ["a wait over 20 s", "ReceiveMessage", { QueueUrl: queueUrl("x"), WaitTimeSeconds: 21 }, 400, "InvalidParameterValue"],
    ["eleven messages to receive", "ReceiveMessage", { QueueUrl: queueUrl("x"), MaxNumberOfMessages: 11 }, 400, "InvalidParameterValue"],
    ["a queue URL of another account", "PurgeQueue", { QueueUrl: "http://cmq.test/other/x" }, 400, "QueueDoesNotExist"],
    ["a queue URL that is no queue URL", "PurgeQueue", { QueueUrl: "http://cmq.test/x" }, 404, "InvalidAddress"],
    ["a .fifo name without FifoQueue", "CreateQueue", { QueueName: "orders.fifo" }, 400, "InvalidParameterValue"],
    ["FifoQueue without a .fifo name", "CreateQueue", { QueueName: "orders", Attributes: { FifoQueue: "true" } }, 400, "InvalidParameterValue"],
    ["a FifoQueue that is not true or false", "CreateQueue", { QueueName: "orders.fifo", Attributes: { FifoQueue: "yes" } }, 400, "InvalidAttributeValue"],
    ["a DeduplicationScope SQS does not document", "CreateQueue", { QueueName: "o.fifo", Attributes: { FifoQueue: "true", DeduplicationScope: "group" } }, 400, "InvalidAttributeValue"],
    ["a FifoQueue change", "SetQueueAttributes", { QueueUrl: queueUrl("x"), Attributes: { FifoQueue: "true" } }, 400, "InvalidAttributeName"],
    ["a queue delay over SQS's 900 s", "CreateQueue", { QueueName: "x", Attributes: { DelaySeconds: "901" } }, 400, "InvalidAttributeValue"],
    ["a redrive policy that is not JSON", "CreateQueue", { QueueName: "x", Attributes: { RedrivePolicy: "{" } }, 400, "InvalidParameterValue"],
    ["an access policy", "CreateQueue", { QueueName: "x", Attributes: { Policy: "{}" } }, 400, "UnsupportedOperation"],
    ["a reserved tag key", "CreateQueue", { QueueName: "x", tags: { "aws:team": "a" } }, 400, "InvalidParameterValue"],
    ["an unknown attribute", "CreateQueue", { QueueName: "x", Attributes: { Colour: "red" } }, 400, "InvalidAttributeName"],
    ["a read-only attribute", "CreateQueue", { QueueName: "x", Attributes: { QueueArn: "arn" } }, 400, "InvalidAttributeName"],
    ["an attribute value out of SQS's range", "CreateQueue", { QueueName: "x", Attributes: { ReceiveMessageWaitTimeSeconds: "21" } }, 400, "InvalidAttributeValue"],
    ["an attribute value the service refuses", "CreateQueue", { QueueName: "x", Attributes: { VisibilityTimeout: "0" } }, 400, "InvalidAttributeValue"],
    ["a body with a character SQS does not allow", "SendMessage", { QueueUrl: queueUrl("x"), MessageBody: "bell \u0007" }, 400, "InvalidMessageContents"],
    ["a message system attribute SQS does not have", "SendMessage", { QueueUrl: queueUrl("x"), MessageBody: "a", MessageSystemAttributes: { Colour: { DataType: "String", StringValue: "red" } } }, 400, "InvalidParameterValue"],
    ["an empty batch", "SendMessageBatch", { QueueUrl: queueUrl("x"), Entries: [] }, 400, "EmptyBatchRequest"],
    ["eleven batch entries", "DeleteMessageBatch", { QueueUrl: queueUrl("x"), Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, ReceiptHandle: "h" })) }, 400, "TooManyEntriesInBatchRequest"],
    ["repeated batch entry ids", "DeleteMessageBatch", { QueueUrl: queueUrl("x"), Entries: [{ Id: "a", ReceiptHandle: "h" }, { Id: "a", ReceiptHandle: "h" }] }, 400, "BatchEntryIdsNotDistinct"],
    ["a malformed batch entry id", "DeleteMessageBatch", { QueueUrl: queueUrl("x"), Entries: [{ Id: "a b", ReceiptHandle: "h" }] }, 400, "InvalidBatchEntryId"],
  ])("refuses %s", async (_case, action, input, status, code) => {
    const answer = await sqs(action, input);

    expect({ status: answer.status, type: answer.body.__type }).toEqual({ status, type: `com.amazonaws.sqs#${code}` });
    expect(answer.headers.get("x-amzn-query-error")).toMatch(/;Sender$/);
  });

  it("refuses an unsigned request with MissingAuthenticationToken", async () => {
    const answer = await sqs("ListQueues", {}, null);

    expect(answer.status).toBe(403);
    expect(answer.body.__type).toBe("com.amazonaws.sqs#MissingAuthenticationToken");
  });

  it("reports each entry of a batch, sending the good ones when one is too large for the queue", async () => {
    const url = await createdQueue({ MaximumMessageSize: "1024" });

    const answer = await sqs("SendMessageBatch", {
      QueueUrl: url,
      Entries: [
        { Id: "small", MessageBody: "fits" },
        { Id: "large", MessageBody: "x".repeat(2000) },
        { Id: "late", MessageBody: "fits too", DelaySeconds: 901 },
        { Id: "control", MessageBody: "nul \u0000" },
      ],
    });
    const attributes = await sqs("GetQueueAttributes", { QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] });

    expect(answer.status).toBe(200);
    expect(answer.body.Successful.map((entry: { Id: string }) => entry.Id)).toEqual(["small"]);
    expect(answer.body.Failed.map((entry: { Id: string; Code: string; SenderFault: boolean }) => [entry.Id, entry.Code, entry.SenderFault]).sort()).toEqual([
      ["control", "InvalidMessageContents", true],
      ["large", "InvalidParameterValue", true],
      ["late", "InvalidParameterValue", true],
    ]);
    expect(attributes.body.Attributes).toEqual({ ApproximateNumberOfMessages: "1" });
  });

  it("changes visibility and deletes in batches, failing a bad receipt handle alone", async () => {
    const url = await createdQueue();
    await sqs("SendMessageBatch", { QueueUrl: url, Entries: [{ Id: "a", MessageBody: "1" }, { Id: "b", MessageBody: "2" }] });
    const received = await sqs("ReceiveMessage", { QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 });
    const handles = received.body.Messages.map((message: { ReceiptHandle: string }) => message.ReceiptHandle);

    const changed = await sqs("ChangeMessageVisibilityBatch", {
      QueueUrl: url,
      Entries: [{ Id: "one", ReceiptHandle: handles[0], VisibilityTimeout: 0 }, { Id: "bad", ReceiptHandle: "nope", VisibilityTimeout: 0 }],
    });
    const deleted = await sqs("DeleteMessageBatch", {
      QueueUrl: url,
      Entries: [{ Id: "two", ReceiptHandle: handles[1] }, { Id: "bad", ReceiptHandle: "nope" }],
    });

    expect(changed.body).toEqual({ Successful: [{ Id: "one" }], Failed: [expect.objectContaining({ Id: "bad", Code: "ReceiptHandleIsInvalid", SenderFault: true })] });
    expect(deleted.body).toEqual({ Successful: [{ Id: "two" }], Failed: [expect.objectContaining({ Id: "bad", Code: "ReceiptHandleIsInvalid", SenderFault: true })] });
  });

  it("lists queues by prefix in pages", async () => {
    const prefix = uniqueName("lst");
    for (const suffix of ["a", "b", "c"]) await sqs("CreateQueue", { QueueName: `${prefix}-${suffix}` });

    const first = await sqs("ListQueues", { QueueNamePrefix: prefix, MaxResults: 2 });
    const second = await sqs("ListQueues", { QueueNamePrefix: prefix, MaxResults: 2, NextToken: first.body.NextToken });

    expect(first.body.QueueUrls).toEqual([queueUrl(`${prefix}-a`), queueUrl(`${prefix}-b`)]);
    expect(second.body.QueueUrls).toEqual([queueUrl(`${prefix}-c`)]);
    expect(second.body.NextToken).toBeUndefined();
  });

  it("purges and deletes a queue", async () => {
    const url = await createdQueue();
    await sqs("SendMessage", { QueueUrl: url, MessageBody: "gone" });

    const purged = await sqs("PurgeQueue", { QueueUrl: url });
    const afterPurge = await sqs("GetQueueAttributes", { QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] });
    const deleted = await sqs("DeleteQueue", { QueueUrl: url });
    const afterDelete = await sqs("GetQueueAttributes", { QueueUrl: url });

    expect(purged.status).toBe(200);
    expect(afterPurge.body.Attributes).toEqual({ ApproximateNumberOfMessages: "0" });
    expect(deleted.status).toBe(200);
    expect(afterDelete.body.__type).toBe("com.amazonaws.sqs#QueueDoesNotExist");
  });

  it("leaves requests without an SQS target to the native API", async () => {
    const answer = await api("POST", "/", {}, { headers: { "x-amz-target": "DynamoDB_20120810.ListTables" } });

    expect(answer.body.error.code).toBe("NotFound");
  });
});

describe("SetQueueAttributes", () => {
  it("changes the mapped attributes and refuses one with no counterpart, changing nothing", async () => {
    const url = await createdQueue({ VisibilityTimeout: "30" });

    const changed = await sqs("SetQueueAttributes", { QueueUrl: url, Attributes: { VisibilityTimeout: "90", MessageRetentionPeriod: "7200" } });
    const refused = await sqs("SetQueueAttributes", { QueueUrl: url, Attributes: { VisibilityTimeout: "10", Policy: "{}" } });
    const read = await sqs("GetQueueAttributes", { QueueUrl: url, AttributeNames: ["VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy"] });

    expect(changed).toMatchObject({ status: 200, body: {} });
    expect(refused.body.__type).toBe("com.amazonaws.sqs#UnsupportedOperation");
    expect(read.body.Attributes).toEqual({ VisibilityTimeout: "90", MessageRetentionPeriod: "7200" });
  });
});
