import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, startSdkHarness, uniqueName, type FormSignMethod, type SdkHarness, type TdmqClient } from "./sdk";

/**
 * API 3.0's form variant through tencentcloud-sdk-nodejs: with `profile.signMethod` HmacSHA256 or
 * HmacSHA1 the SDK sends a signed form (no X-TC-* headers, no JSON), nested arrays flattened as
 * `Key.0`; the answers are API 3.0's all the same (see sdk.ts).
 */
let harness: SdkHarness;

beforeAll(async () => {
  harness = await startSdkHarness();
});

afterAll(async () => {
  await harness?.service.stop();
});

describe.each<FormSignMethod>(["HmacSHA256", "HmacSHA1"])("tencentcloud-sdk-nodejs signing forms with %s", (signMethod) => {
  let client: TdmqClient;
  let getClient: TdmqClient;

  beforeAll(() => {
    client = harness.clientFor(harness.service.key, "POST", signMethod);
    getClient = harness.clientFor(harness.service.key, "GET", signMethod);
  });

  it("creates, describes, modifies and deletes a queue", async () => {
    const name = uniqueName("tf");

    const created = await client.CreateCmqQueue({ QueueName: name, VisibilityTimeout: 45, RewindSeconds: 600, Trace: false });
    const modified = await client.ModifyCmqQueueAttribute({ QueueName: name, VisibilityTimeout: 90, PollingWaitSeconds: 3 });
    const { QueueDescribe: queue } = await client.DescribeCmqQueueDetail({ QueueName: name });
    await client.DeleteCmqQueue({ QueueName: name });
    const gone = await failure(() => client.DescribeCmqQueueDetail({ QueueName: name }));

    expect(created.QueueId).toBe(name);
    expect(modified.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(queue).toMatchObject({ QueueName: name, VisibilityTimeout: 90, PollingWaitSeconds: 3, RewindSeconds: 600, ActiveMsgNum: 0, Trace: false });
    expect(gone.code).toBe("ResourceNotFound.Queue");
  });

  it("sends a message whose body keeps spaces, signs and non-ASCII text, which a consumer receives", async () => {
    const name = uniqueName("tf");
    const body = "a+b = c & d%20 — héllo ✓";
    await client.CreateCmqQueue({ QueueName: name });

    const sent = await client.SendCmqMsg({ QueueName: name, MsgContent: body, DelaySeconds: 0 });
    const received = await harness.receiveOne(name);

    expect(sent).toMatchObject({ Result: true, MsgId: expect.any(String) });
    expect(received?.body).toBe(body);
  });

  it("lists queues by QueueNameList (flattened as QueueNameList.0, .1), by POST and by GET", async () => {
    const [first, second] = [uniqueName("tf"), uniqueName("tf")];
    await client.CreateCmqQueue({ QueueName: first });
    await client.CreateCmqQueue({ QueueName: second });

    const posted = await client.DescribeCmqQueues({ QueueNameList: [first, second, uniqueName("absent")], Limit: 10 });
    const got = await getClient.DescribeCmqQueues({ QueueNameList: [second] });

    expect(posted.TotalCount).toBe(2);
    expect(posted.QueueList!.map((queue) => queue.QueueName).sort()).toEqual([first, second].sort());
    expect(got.QueueList!.map((queue) => queue.QueueName)).toEqual([second]);
  });

  it("creates a topic, subscribes a queue with FilterTag, publishes with MsgTag, and tears it down", async () => {
    const [topic, queue] = [uniqueName("tft"), uniqueName("tf")];
    await client.CreateCmqQueue({ QueueName: queue });

    await client.CreateCmqTopic({ TopicName: topic, FilterType: 1, MsgRetentionSeconds: 3600 });
    await client.ModifyCmqTopicAttribute({ TopicName: topic, MaxMsgSize: 4096 });
    const subscribed = await client.CreateCmqSubscribe({ TopicName: topic, SubscriptionName: "orders", Protocol: "queue", Endpoint: queue, FilterTag: ["eu", "us"], NotifyContentFormat: "SIMPLIFIED" });
    const listed = await client.DescribeCmqTopics({ TopicNameList: [topic] });
    const subscriptions = await client.DescribeCmqSubscriptionDetail({ TopicName: topic });
    await client.PublishCmqMsg({ TopicName: topic, MsgContent: "for asia", MsgTag: ["asia"] });
    const published = await client.PublishCmqMsg({ TopicName: topic, MsgContent: "for europe", MsgTag: ["eu"] });
    const delivered = await harness.receiveOne(queue);
    await client.DeleteCmqSubscribe({ TopicName: topic, SubscriptionName: "orders" });
    await client.DeleteCmqTopic({ TopicName: topic });
    const gone = await failure(() => client.DescribeCmqTopicDetail({ TopicName: topic }));

    expect(subscribed.SubscriptionId).toBe("orders");
    expect(listed.TopicList).toEqual([expect.objectContaining({ TopicName: topic, FilterType: 1, MaxMsgSize: 4096, MsgRetentionSeconds: 3600 })]);
    expect(subscriptions.SubscriptionSet).toEqual([expect.objectContaining({ SubscriptionName: "orders", FilterTags: ["eu", "us"], Endpoint: queue })]);
    expect(published.Result).toBe(true);
    expect(delivered?.body).toBe("for europe");
    expect(gone.code).toBe("ResourceNotFound.Topic");
  });

  it("reads nested lists (Tags.0.TagKey) and refuses resource tags as the JSON variant does", async () => {
    const name = uniqueName("tf");

    const refused = await failure(() => client.CreateCmqQueue({ QueueName: name, Tags: [{ TagKey: "team", TagValue: "orders" }] }));
    const absent = await failure(() => client.DescribeCmqQueueDetail({ QueueName: name }));

    expect(refused.code).toBe("UnsupportedOperation");
    expect(refused.message).toContain("Tags");
    expect(absent.code).toBe("ResourceNotFound.Queue");
  });

  it("answers a missing queue with ResourceNotFound.Queue and a missing parameter with MissingParameter", async () => {
    const missingQueue = await failure(() => client.SendCmqMsg({ QueueName: uniqueName("missing"), MsgContent: "x", DelaySeconds: 0 }));
    const missingParameter = await failure(() => client.SendCmqMsg({ QueueName: uniqueName("tf"), MsgContent: "x" } as never));

    expect(missingQueue.code).toBe("ResourceNotFound.Queue");
    expect(missingParameter.code).toBe("MissingParameter");
    expect(missingParameter.message).toContain("DelaySeconds");
  });

  it("refuses a wrong secret with AuthFailure.SignatureFailure and changes nothing", async () => {
    const name = uniqueName("tf");
    const intruder = harness.clientFor({ ...harness.service.key, secretKey: `${harness.service.key.secretKey}x` }, "POST", signMethod);

    const refused = await failure(() => intruder.CreateCmqQueue({ QueueName: name }));
    const absent = await failure(() => client.DescribeCmqQueueDetail({ QueueName: name }));

    expect(refused.code).toBe("AuthFailure.SignatureFailure");
    expect(refused.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(absent.code).toBe("ResourceNotFound.Queue");
  });

  it("applies the key's policy: a key that may only send cannot create a queue", async () => {
    const name = uniqueName("tf");
    await client.CreateCmqQueue({ QueueName: name });
    const sender = harness.clientFor(await harness.service.createKey([{ actions: ["send"], resources: [`queue:${name}`] }]), "POST", signMethod);

    const sent = await sender.SendCmqMsg({ QueueName: name, MsgContent: "allowed", DelaySeconds: 0 });
    const refused = await failure(() => sender.CreateCmqQueue({ QueueName: uniqueName("tf") }));

    expect(sent.Result).toBe(true);
    expect(refused.code).toBe("AuthFailure.UnauthorizedOperation");
  });
});
