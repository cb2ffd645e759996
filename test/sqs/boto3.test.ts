import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqsService, type SqsTestService } from "./service.mjs";

/**
 * boto3 from Debian's packages (`python3-boto3`: boto3 1.26, botocore 1.29, which speak SQS's
 * query protocol) against the real service, with only its endpoint and credentials changed.
 * CI installs the package (.ci/run); without it this file reports itself skipped.
 */
const python = "/usr/bin/python3";
const hasBoto3 = spawnSync(python, ["-c", "import boto3"], { stdio: "ignore" }).status === 0;

let service: SqsTestService;
let outcome: Record<string, any>;

const md5Hex = (text: string) => createHash("md5").update(text, "utf8").digest("hex");

describe.skipIf(!hasBoto3)("boto3 (python3-boto3 from Debian, query protocol) against the service", () => {
  beforeAll(async () => {
    service = await startSqsService();
    const { stdout } = await promisify(execFile)(python, [path.join(import.meta.dirname, "boto3-client.py")], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        SQS_ENDPOINT: service.url,
        SQS_SECRET_ID: service.key.secretId,
        SQS_SECRET_KEY: service.key.secretKey,
        SQS_QUEUE_NAME: `boto-${crypto.randomUUID().slice(0, 8)}`,
      },
      timeout: 60_000,
    });
    outcome = JSON.parse(stdout);
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
