import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCliFor, hasAwsCli } from "./aws-cli.mjs";
import { md5Hex } from "./boto3.mjs";
import { startSqsService, type SqsTestService } from "./service.mjs";
import { uniqueName } from "./sdk-support";

/**
 * The AWS CLI from Debian's packages (`awscli` 2.9, whose botocore speaks SQS's query protocol)
 * against the real service, with only `--endpoint-url` and the credentials changed. CI installs the
 * package (.ci/run); without it this file reports itself skipped.
 */
let service: SqsTestService;
let aws: ReturnType<typeof awsCliFor>;

async function ok(...args: string[]) {
  const result = await aws(...args);
  if (result.status !== 0) throw new Error(`aws ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return result.json;
}

async function newQueue(...attributes: string[]): Promise<string> {
  const created = await ok("sqs", "create-queue", "--queue-name", uniqueName("cli"), ...(attributes.length > 0 ? ["--attributes", ...attributes] : []));
  return created.QueueUrl;
}

describe.skipIf(!hasAwsCli())("the AWS CLI (awscli from Debian, query protocol) against the service", () => {
  beforeAll(async () => {
    service = await startSqsService();
    aws = awsCliFor({ endpoint: service.url, secretId: service.key.secretId, secretKey: service.key.secretKey });
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
  });

  it("speaks the query protocol, signed with SigV4", async () => {
    const result = await aws("sqs", "list-queues", "--debug");

    expect(result.status).toBe(0);
    expect(result.stderr).toContain("'Action': 'ListQueues'");
    expect(result.stderr).toContain("application/x-www-form-urlencoded");
    expect(result.stderr).toMatch(/Authorization': b'AWS4-HMAC-SHA256 Credential=AKID\w+\/\d{8}\/us-east-1\/sqs\/aws4_request/);
  });

  it("creates a queue, finds its URL and lists it", async () => {
    const name = uniqueName("listed");
    const { QueueUrl } = await ok("sqs", "create-queue", "--queue-name", name, "--attributes", "VisibilityTimeout=45");

    expect(QueueUrl).toBe(`${service.url}/default/${name}`);
    expect(await ok("sqs", "get-queue-url", "--queue-name", name)).toEqual({ QueueUrl });
    expect((await ok("sqs", "list-queues", "--queue-name-prefix", name)).QueueUrls).toEqual([QueueUrl]);
  });

  it("sends with attributes and long-polls the message back, digests as the CLI checks them", async () => {
    const queueUrl = await newQueue();
    const body = 'an <order> & "quotes" ✓';
    const waiting = ok("sqs", "receive-message", "--queue-url", queueUrl, "--wait-time-seconds", "10", "--attribute-names", "All", "--message-attribute-names", "All");
    const sent = await ok("sqs", "send-message", "--queue-url", queueUrl, "--message-body", body, "--message-attributes", '{"tenant":{"DataType":"String","StringValue":"acme"}}');
    const { Messages } = await waiting;

    expect(sent.MD5OfMessageBody).toBe(md5Hex(body));
    expect(Messages).toHaveLength(1);
    expect(Messages[0]).toMatchObject({
      MessageId: sent.MessageId,
      Body: body,
      MD5OfBody: md5Hex(body),
      MD5OfMessageAttributes: sent.MD5OfMessageAttributes,
      MessageAttributes: { tenant: { DataType: "String", StringValue: "acme" } },
      Attributes: { ApproximateReceiveCount: "1", SenderId: service.key.secretId },
    });
  });

  it("changes visibility and deletes by receipt handle; a deleted message is not received again", async () => {
    const queueUrl = await newQueue("VisibilityTimeout=60");
    await ok("sqs", "send-message", "--queue-url", queueUrl, "--message-body", "once");
    const first = (await ok("sqs", "receive-message", "--queue-url", queueUrl)).Messages[0];
    await ok("sqs", "change-message-visibility", "--queue-url", queueUrl, "--receipt-handle", first.ReceiptHandle, "--visibility-timeout", "0");
    const again = (await ok("sqs", "receive-message", "--queue-url", queueUrl, "--attribute-names", "ApproximateReceiveCount")).Messages[0];
    await ok("sqs", "delete-message", "--queue-url", queueUrl, "--receipt-handle", again.ReceiptHandle);

    expect(again).toMatchObject({ MessageId: first.MessageId, Attributes: { ApproximateReceiveCount: "2" } });
    expect(await ok("sqs", "receive-message", "--queue-url", queueUrl)).toBeNull();
  });

  it("reports batch entries one by one, failures beside successes", async () => {
    const queueUrl = await newQueue("MaximumMessageSize=1024");
    const entries = JSON.stringify([
      { Id: "small", MessageBody: "fits" },
      { Id: "large", MessageBody: "x".repeat(2_000) },
    ]);
    const sent = await aws("sqs", "send-message-batch", "--queue-url", queueUrl, "--entries", entries);
    const received = await ok("sqs", "receive-message", "--queue-url", queueUrl, "--max-number-of-messages", "10");
    const deleted = await aws(
      "sqs",
      "delete-message-batch",
      "--queue-url",
      queueUrl,
      "--entries",
      JSON.stringify([
        { Id: "real", ReceiptHandle: received.Messages[0].ReceiptHandle },
        { Id: "stale", ReceiptHandle: "1-00000000000000000000000000000000" },
      ]),
    );

    // The CLI exits 0 for a batch with failed entries, and reports them.
    expect(sent.status).toBe(0);
    expect(sent.json.Successful.map((entry: { Id: string }) => entry.Id)).toEqual(["small"]);
    expect(sent.json.Failed).toEqual([expect.objectContaining({ Id: "large", Code: "InvalidParameterValue", SenderFault: true })]);
    expect(deleted.json.Successful).toEqual([{ Id: "real" }]);
    expect(deleted.json.Failed).toEqual([expect.objectContaining({ Id: "stale", Code: "ReceiptHandleIsInvalid" })]);
  });

  it("sets and reads attributes, a dead-letter queue and its sources, and purges", async () => {
    const deadLetterUrl = await newQueue();
    const deadLetterArn = (await ok("sqs", "get-queue-attributes", "--queue-url", deadLetterUrl, "--attribute-names", "QueueArn")).Attributes.QueueArn;
    const queueUrl = await newQueue();
    const redrive = JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: "3" });
    await ok("sqs", "set-queue-attributes", "--queue-url", queueUrl, "--attributes", JSON.stringify({ DelaySeconds: "5", RedrivePolicy: redrive }));
    const { Attributes } = await ok("sqs", "get-queue-attributes", "--queue-url", queueUrl, "--attribute-names", "All");
    await ok("sqs", "send-message", "--queue-url", queueUrl, "--message-body", "to purge");
    const before = (await ok("sqs", "get-queue-attributes", "--queue-url", queueUrl, "--attribute-names", "ApproximateNumberOfMessagesDelayed")).Attributes;
    await ok("sqs", "purge-queue", "--queue-url", queueUrl);
    const after = (await ok("sqs", "get-queue-attributes", "--queue-url", queueUrl, "--attribute-names", "ApproximateNumberOfMessagesDelayed")).Attributes;

    expect(Attributes).toMatchObject({ DelaySeconds: "5", QueueArn: expect.stringMatching(/^arn:aws:sqs:local:default:cli-/) });
    expect(JSON.parse(Attributes.RedrivePolicy)).toEqual({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: 3 });
    expect((await ok("sqs", "list-dead-letter-source-queues", "--queue-url", deadLetterUrl)).queueUrls).toEqual([queueUrl]);
    expect(before).toEqual({ ApproximateNumberOfMessagesDelayed: "1" });
    expect(after).toEqual({ ApproximateNumberOfMessagesDelayed: "0" });
  });

  it("tags, lists tags and untags a queue", async () => {
    const queueUrl = await newQueue();
    await ok("sqs", "tag-queue", "--queue-url", queueUrl, "--tags", "team=billing,tier=gold");
    const tagged = await ok("sqs", "list-queue-tags", "--queue-url", queueUrl);
    await ok("sqs", "untag-queue", "--queue-url", queueUrl, "--tag-keys", "tier");

    expect(tagged).toEqual({ Tags: { team: "billing", tier: "gold" } });
    expect(await ok("sqs", "list-queue-tags", "--queue-url", queueUrl)).toEqual({ Tags: { team: "billing" } });
  });

  it("fails with SQS's codes: a missing queue, a value out of range, a wrong secret", async () => {
    const queueUrl = await newQueue();
    const missing = await aws("sqs", "receive-message", "--queue-url", `${service.url}/default/${uniqueName("absent")}`);
    const outOfRange = await aws("sqs", "receive-message", "--queue-url", queueUrl, "--max-number-of-messages", "11");
    const wrongSecret = await awsCliFor({ endpoint: service.url, secretId: service.key.secretId, secretKey: "not-the-secret" })("sqs", "list-queues");

    // The CLI exits 254 when the service answers an error, and prints its code.
    expect(missing).toMatchObject({ status: 254, json: null });
    expect(missing.stderr).toContain("(AWS.SimpleQueueService.NonExistentQueue) when calling the ReceiveMessage operation");
    expect(outOfRange.status).toBe(254);
    expect(outOfRange.stderr).toContain("(InvalidParameterValue) when calling the ReceiveMessage operation");
    expect(wrongSecret.status).toBe(254);
    expect(wrongSecret.stderr).toContain("(SignatureDoesNotMatch) when calling the ListQueues operation");
  });

  it("deletes a queue", async () => {
    const queueUrl = await newQueue();
    await ok("sqs", "delete-queue", "--queue-url", queueUrl);
    const after = await aws("sqs", "get-queue-url", "--queue-name", queueUrl.split("/").pop()!);

    expect(after.status).toBe(254);
    expect(after.stderr).toContain("AWS.SimpleQueueService.NonExistentQueue");
  });
});
