import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasBoto3, md5Hex, runBoto3Client } from "./boto3.mjs";
import { startSqsService, type SqsTestService } from "./service.mjs";

/**
 * boto3 from Debian's packages (`python3-boto3`: boto3 1.26, botocore 1.29, which speak SQS's
 * query protocol) against the real service, with only its endpoint and credentials changed.
 * CI installs the package (.ci/run); without it this file reports itself skipped.
 */
let service: SqsTestService;
let outcome: Record<string, any>;

describe.skipIf(!hasBoto3())("boto3 (python3-boto3 from Debian, query protocol) against the service", () => {
  beforeAll(async () => {
    service = await startSqsService();
    outcome = await runBoto3Client({
      endpoint: service.url,
      secretId: service.key.secretId,
      secretKey: service.key.secretKey,
      queueName: `boto-${crypto.randomUUID().slice(0, 8)}`,
    });
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
  });

  it("is a botocore that speaks the query protocol", () => {
    expect(outcome.protocol).toBe("query");
  });

  it("creates, finds and lists a queue", () => {
    expect(outcome.created).toMatch(new RegExp(`^${service.url}/default/boto-[0-9a-f]{8}$`));
    expect(outcome.found).toBe(outcome.created);
    expect(outcome.listed).toEqual([outcome.created]);
  });

  it("long-polls until a send arrives, the body intact and its MD5 as SQS computes it", () => {
    const body = 'an <order> & "quotes"\r\nline two ✓';

    expect(outcome.longPoll).toEqual({ sameId: true, bodyIntact: true, md5: [md5Hex(body), md5Hex(body)], receiveCount: "1" });
  });

  it("reports batches with partial failures entry by entry", () => {
    expect(outcome.sendBatch).toEqual({ successful: ["one", "two"], failed: [["too-large", "InvalidParameterValue", true]] });
    expect(outcome.deleteBatch).toEqual({ successful: ["m0", "m1"], failed: [["stale", "ReceiptHandleIsInvalid"]] });
  });

  it("makes a message visible again with ChangeMessageVisibility", () => {
    expect(outcome.visibility).toEqual([[expect.any(String), "2"]]);
  });

  it("reads queue attributes and purges", () => {
    expect(outcome.attributes).toMatchObject({ VisibilityTimeout: "40", MaximumMessageSize: "1024", QueueArn: expect.stringMatching(/^arn:aws:sqs:local:default:boto-/) });
    expect(outcome.afterPurge).toBeNull();
  });

  it("raises the modelled QueueDoesNotExist, InvalidParameterValue and SignatureDoesNotMatch", () => {
    expect(outcome.missingQueue).toEqual({ code: "AWS.SimpleQueueService.NonExistentQueue", status: 400, type: "QueueDoesNotExist" });
    expect(outcome.outOfRange).toMatchObject({ code: "InvalidParameterValue", status: 400 });
    expect(outcome.wrongSecret).toMatchObject({ code: "SignatureDoesNotMatch", status: 403 });
  });
});
