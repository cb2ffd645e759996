import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { failure, startSdkHarness, uniqueName, type SdkHarness, type TdmqClient } from "./sdk";

/** The error paths of API 3.0 through tencentcloud-sdk-nodejs: each refusal with API 3.0's code (see sdk.ts). */
let harness: SdkHarness;
let client: TdmqClient;
let service: SdkHarness["service"];
const clientFor: SdkHarness["clientFor"] = (...args) => harness.clientFor(...args);

beforeAll(async () => {
  harness = await startSdkHarness();
  ({ client, service } = harness);
});

afterAll(async () => {
  await harness?.service.stop();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("tencentcloud-sdk-nodejs error paths", () => {
  it("answers a missing topic and a missing subscription with ResourceNotFound.Topic and .Subscription", async () => {
    const topic = uniqueName("tct");
    await client.CreateCmqTopic({ TopicName: topic });

    const noTopic = await failure(() => client.PublishCmqMsg({ TopicName: uniqueName("missing"), MsgContent: "x" }));
    const noSubscription = await failure(() => client.ModifyCmqSubscriptionAttribute({ TopicName: topic, SubscriptionName: "absent", NotifyStrategy: "BACKOFF_RETRY" }));
    const noQueue = await failure(() => client.SendCmqMsg({ QueueName: uniqueName("missing"), MsgContent: "x", DelaySeconds: 0 }));

    expect(noTopic.code).toBe("ResourceNotFound.Topic");
    expect(noSubscription.code).toBe("ResourceNotFound.Subscription");
    expect(noQueue.code).toBe("ResourceNotFound.Queue");
  });

  it("answers a second queue, topic or subscription of the same name with ResourceInUse", async () => {
    const queue = uniqueName("tc");
    const topic = uniqueName("tct");
    await client.CreateCmqQueue({ QueueName: queue });
    await client.CreateCmqTopic({ TopicName: topic });
    await client.CreateCmqSubscribe({ TopicName: topic, SubscriptionName: "once", Protocol: "queue", Endpoint: queue, NotifyContentFormat: "SIMPLIFIED" });

    const queueAgain = await failure(() => client.CreateCmqQueue({ QueueName: queue }));
    const topicAgain = await failure(() => client.CreateCmqTopic({ TopicName: topic }));
    const subscriptionAgain = await failure(() =>
      client.CreateCmqSubscribe({ TopicName: topic, SubscriptionName: "once", Protocol: "queue", Endpoint: queue, NotifyContentFormat: "SIMPLIFIED" }),
    );

    expect([queueAgain.code, topicAgain.code, subscriptionAgain.code]).toEqual(["ResourceInUse.Queue", "ResourceInUse.Topic", "ResourceInUse.Subscription"]);
  });

  it("answers a rewind of a queue without RewindSeconds with FailedOperation, and one before the window with InvalidParameterValue", async () => {
    const [plain, rewindable] = [uniqueName("tc"), uniqueName("tc")];
    await client.CreateCmqQueue({ QueueName: plain });
    await client.CreateCmqQueue({ QueueName: rewindable, RewindSeconds: 60 });
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;

    const off = await failure(() => client.RewindCmqQueue({ QueueName: plain, StartConsumeTime: hourAgo }));
    const tooEarly = await failure(() => client.RewindCmqQueue({ QueueName: rewindable, StartConsumeTime: hourAgo }));

    expect(off.code).toBe("FailedOperation");
    expect(tooEarly.code).toBe("InvalidParameterValue");
  });

  it("answers the delete of a dead-letter queue still in use with ResourceInUse, and keeps it", async () => {
    const [source, deadLetters] = [uniqueName("tc"), uniqueName("tc-dlq")];
    await client.CreateCmqQueue({ QueueName: deadLetters });
    await client.CreateCmqQueue({ QueueName: source, DeadLetterQueueName: deadLetters, MaxReceiveCount: 2 });

    const error = await failure(() => client.DeleteCmqQueue({ QueueName: deadLetters }));
    const kept = await client.DescribeCmqQueueDetail({ QueueName: deadLetters });

    expect(error.code).toBe("ResourceInUse");
    expect(kept.QueueDescribe?.DeadLetterSource).toEqual([{ QueueId: source, QueueName: source }]);
  });

  it.each([
    ["VisibilityTimeout 0", { VisibilityTimeout: 0 }, "InvalidParameterValue", "VisibilityTimeout"],
    ["MaxMsgSize over 1 MiB", { MaxMsgSize: 2_000_000 }, "InvalidParameterValue", "MaxMsgSize"],
    ["a name with a space", { QueueName: "bad name" }, "InvalidParameterValue", "QueueName"],
    ["VisibilityTimeout as a string", { VisibilityTimeout: "30" }, "InvalidParameter", "VisibilityTimeout"],
    ["Policy 2", { DeadLetterQueueName: "dlq", Policy: 2, MaxReceiveCount: 3 }, "InvalidParameterValue", "Policy"],
    ["MaxReceiveCount without a dead-letter queue", { MaxReceiveCount: 3 }, "MissingParameter", "DeadLetterQueueName"],
    ["an unknown parameter", { Colour: "red" }, "UnknownParameter", "Colour"],
    ["Transaction 1", { Transaction: 1 }, "UnsupportedOperation", "Transaction"],
    ["Tags", { Tags: [{ TagKey: "team", TagValue: "a" }] }, "UnsupportedOperation", "Tags"],
  ])("refuses CreateCmqQueue with %s and creates nothing", async (_case, parameters, code, named) => {
    const name = uniqueName("tcbad");

    const error = await failure(() => client.CreateCmqQueue({ QueueName: name, ...parameters } as never));
    const listed = await client.DescribeCmqQueues({ QueueName: name });

    expect(error.code).toBe(code);
    expect(error.message).toContain(named);
    expect(listed.TotalCount).toBe(0);
  });

  it("accepts the values that mean off for settings it does not support", async () => {
    const name = uniqueName("tc");

    await client.CreateCmqQueue({ QueueName: name, Transaction: 0, Trace: false, Tags: [], RetentionSizeInMB: 0 });
    const listed = await client.DescribeCmqQueues({ QueueName: name, IsTagFilter: false, Filters: [] });

    expect(listed.TotalCount).toBe(1);
  });

  it("refuses a message body over the queue's MaxMsgSize and a missing required parameter", async () => {
    const name = uniqueName("tc");
    await client.CreateCmqQueue({ QueueName: name, MaxMsgSize: 1024 });

    const tooLarge = await failure(() => client.SendCmqMsg({ QueueName: name, MsgContent: "x".repeat(1025), DelaySeconds: 0 }));
    const missing = await failure(() => client.request("SendCmqMsg", { QueueName: name, MsgContent: "x" }));
    const queue = (await client.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;

    expect(tooLarge.code).toBe("InvalidParameterValue");
    expect(missing.code).toBe("MissingParameter");
    expect(missing.message).toContain("DelaySeconds");
    expect(queue.ActiveMsgNum).toBe(0);
  });

  it("answers an unknown action with InvalidAction and another API version with NoSuchVersion", async () => {
    const other = clientFor(service.key);
    (other as unknown as { apiVersion: string }).apiVersion = "2019-01-01";

    const unknown = await failure(() => client.request("ReceiveCmqMsg", { QueueName: "x" }));
    const version = await failure(() => other.DescribeCmqQueues({}));

    expect(unknown.code).toBe("InvalidAction");
    expect(version.code).toBe("NoSuchVersion");
  });

  it("answers a wrong secret and an unknown SecretId with the same AuthFailure.SignatureFailure", async () => {
    const wrongSecret = clientFor({ ...service.key, secretKey: `${service.key.secretKey}x` });
    const unknownId = clientFor({ secretId: `AKID${"q".repeat(32)}`, secretKey: service.key.secretKey });

    const byWrongSecret = await failure(() => wrongSecret.DescribeCmqQueues({}));
    const byUnknownId = await failure(() => unknownId.DescribeCmqQueues({}));

    expect(byWrongSecret.code).toBe("AuthFailure.SignatureFailure");
    expect([byUnknownId.code, byUnknownId.message]).toEqual([byWrongSecret.code, byWrongSecret.message]);
  });

  it("answers a signature made with a clock 10 minutes slow with AuthFailure.SignatureExpire", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() - 10 * 60_000 });

    const error = await failure(() => client.DescribeCmqQueues({}));

    expect(error.code).toBe("AuthFailure.SignatureExpire");
  });

  it("answers a disabled key with AuthFailure.SecretIdNotFound", async () => {
    const key = await service.createKey([{ actions: ["*"], resources: ["*"] }]);
    expect((await service.rest("PATCH", `/v1/accounts/default/keys/${key.secretId}`, { disabled: true })).status).toBe(200);

    const error = await failure(() => clientFor(key).DescribeCmqQueues({}));

    expect(error.code).toBe("AuthFailure.SecretIdNotFound");
  });

  it("answers an action the key's policy forbids with AuthFailure.UnauthorizedOperation, and changes nothing", async () => {
    const name = uniqueName("tc");
    await client.CreateCmqQueue({ QueueName: name });
    const readOnly = clientFor(await service.createKey([{ actions: ["read"], resources: ["*"] }]));

    const send = await failure(() => readOnly.SendCmqMsg({ QueueName: name, MsgContent: "x", DelaySeconds: 0 }));
    const remove = await failure(() => readOnly.DeleteCmqQueue({ QueueName: name }));
    const queue = (await readOnly.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;

    expect([send.code, remove.code]).toEqual(["AuthFailure.UnauthorizedOperation", "AuthFailure.UnauthorizedOperation"]);
    expect(queue.ActiveMsgNum).toBe(0);
  });

  it("lists nothing of another account", async () => {
    const name = uniqueName("tc");
    await client.CreateCmqQueue({ QueueName: name });
    const account = await service.rest("POST", "/v1/accounts", { name: uniqueName("other") });
    const other = clientFor(await service.createKey([{ actions: ["*"], resources: ["*"] }], account.body.id));

    const listed = await other.DescribeCmqQueues({ QueueName: name });
    const detail = await failure(() => other.DescribeCmqQueueDetail({ QueueName: name }));

    expect(listed.TotalCount).toBe(0);
    expect(detail.code).toBe("ResourceNotFound.Queue");
  });
});
