import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, startSdkHarness, uniqueName, type SdkHarness, type TdmqClient } from "./sdk";

/** Every CMQ action of API 3.0 through tencentcloud-sdk-nodejs, on its successful paths (see sdk.ts). */
let harness: SdkHarness;
let client: TdmqClient;
let service: SdkHarness["service"];
const clientFor: SdkHarness["clientFor"] = (...args) => harness.clientFor(...args);
const receiveOne: SdkHarness["receiveOne"] = (...args) => harness.receiveOne(...args);

beforeAll(async () => {
  harness = await startSdkHarness();
  ({ client, service } = harness);
});

afterAll(async () => {
  await harness?.service.stop();
});

describe("queues through tencentcloud-sdk-nodejs", () => {
  it("creates a queue with its attributes and describes it as a CmqQueue, times in ms", async () => {
    const name = uniqueName("tc");
    const before = Date.now();

    const created = await client.CreateCmqQueue({ QueueName: name, VisibilityTimeout: 45, PollingWaitSeconds: 2, MaxMsgSize: 2048, MsgRetentionSeconds: 3600, RewindSeconds: 600 });
    const { QueueDescribe: queue } = await client.DescribeCmqQueueDetail({ QueueName: name });

    expect(created.QueueId).toBe(name);
    expect(created.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(queue).toMatchObject({
      QueueId: name,
      QueueName: name,
      VisibilityTimeout: 45,
      PollingWaitSeconds: 2,
      MaxMsgSize: 2048,
      MsgRetentionSeconds: 3600,
      RewindSeconds: 600,
      ActiveMsgNum: 0,
      InactiveMsgNum: 0,
      DelayMsgNum: 0,
      RewindMsgNum: 0,
      MinMsgTime: 0,
      Transaction: false,
      Trace: false,
      DeadLetterPolicy: null,
      DeadLetterSource: [],
      Tags: [],
      TenantId: "default",
    });
    expect(queue!.MaxMsgHeapNum).toBeGreaterThan(0);
    expect(queue!.MaxDelaySeconds).toBeGreaterThan(0);
    expect(queue!.CreateTime).toBeGreaterThanOrEqual(before - 1000);
    expect(queue!.LastModifyTime).toBeGreaterThanOrEqual(queue!.CreateTime!);
  });

  it("sends a message that a consumer receives, and counts it in ActiveMsgNum until ClearCmqQueue", async () => {
    const name = uniqueName("tc");
    await client.CreateCmqQueue({ QueueName: name });

    const sent = await client.SendCmqMsg({ QueueName: name, MsgContent: "héllo from API 3.0 ✓", DelaySeconds: 0 });
    const counted = (await client.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;
    await client.ClearCmqQueue({ QueueName: name });
    const cleared = (await client.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;
    await client.SendCmqMsg({ QueueName: name, MsgContent: "after the clear", DelaySeconds: 0 });
    const received = await receiveOne(name);

    expect(sent.Result).toBe(true);
    expect(sent.MsgId).toEqual(expect.any(String));
    expect(counted.ActiveMsgNum).toBe(1);
    expect(counted.MinMsgTime).toBeGreaterThan(1_700_000_000);
    expect(cleared.ActiveMsgNum).toBe(0);
    expect(received?.body).toBe("after the clear");
  });

  it("serves a partitioned queue as one: sends spread over its partitions, counted, modified and cleared as a whole", async () => {
    const name = uniqueName("tc");
    expect((await service.rest("PUT", `/v1/queues/${name}`, { partitions: 4 })).status).toBe(201);

    for (let i = 0; i < 8; i++) await client.SendCmqMsg({ QueueName: name, MsgContent: `m${i}`, DelaySeconds: 0 });
    const counted = (await client.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;
    await client.ModifyCmqQueueAttribute({ QueueName: name, VisibilityTimeout: 77 });
    const received = await service.rest("POST", `/v1/queues/${name}/messages/receive`, { max: 16 });
    await client.ClearCmqQueue({ QueueName: name });
    const cleared = (await client.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;

    expect(counted.ActiveMsgNum).toBe(8);
    const messages = received.body.messages as Array<{ body: string; receiptHandle: string; nextVisibleAt: number }>;
    expect(messages.map((message) => message.body).sort()).toEqual(["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
    // Handles of partitions past the first name theirs; the sends went to more than one.
    const partitionsSeen = new Set(messages.map((message) => /^p(\d+)_/.exec(message.receiptHandle)?.[1] ?? "0"));
    expect(partitionsSeen.size).toBeGreaterThan(1);
    // The visibility timeout was changed in every partition the messages came from.
    for (const message of messages) expect(message.nextVisibleAt - Date.now()).toBeGreaterThan(60_000);
    expect([cleared.ActiveMsgNum, cleared.InactiveMsgNum]).toEqual([0, 0]);
  });

  it("delays a message by DelaySeconds", async () => {
    const name = uniqueName("tc");
    await client.CreateCmqQueue({ QueueName: name });

    await client.SendCmqMsg({ QueueName: name, MsgContent: "later", DelaySeconds: 600 });
    const queue = (await client.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;

    expect([queue.DelayMsgNum, queue.ActiveMsgNum]).toEqual([1, 0]);
  });

  it("modifies attributes, sets and unbinds a dead-letter queue, and lists the dead-letter queue's sources", async () => {
    const name = uniqueName("tc");
    const deadLetters = uniqueName("tc-dlq");
    await client.CreateCmqQueue({ QueueName: deadLetters });
    await client.CreateCmqQueue({ QueueName: name, DeadLetterQueueName: deadLetters, Policy: 0, MaxReceiveCount: 3 });

    const bound = (await client.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;
    await client.ModifyCmqQueueAttribute({ QueueName: name, VisibilityTimeout: 90, MaxReceiveCount: 5 });
    const modified = (await client.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;
    const deadLetterQueue = (await client.DescribeCmqQueueDetail({ QueueName: deadLetters })).QueueDescribe!;
    // Absent from the SDK's methods: called through its generic request().
    const sources = await client.request("DescribeCmqDeadLetterSourceQueues", { DeadLetterQueueName: deadLetters });
    await client.UnbindCmqDeadLetter({ SourceQueueName: name });
    const unbound = (await client.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;
    const noSources = await client.request("DescribeCmqDeadLetterSourceQueues", { DeadLetterQueueName: deadLetters });

    expect(bound.DeadLetterPolicy).toEqual({ DeadLetterQueue: deadLetters, Policy: 0, MaxReceiveCount: 3, MaxTimeToLive: null });
    expect(modified.VisibilityTimeout).toBe(90);
    expect(modified.DeadLetterPolicy).toEqual({ DeadLetterQueue: deadLetters, Policy: 0, MaxReceiveCount: 5, MaxTimeToLive: null });
    expect(deadLetterQueue.DeadLetterSource).toEqual([{ QueueId: name, QueueName: name }]);
    expect(sources).toMatchObject({ TotalCount: 1, QueueSet: [{ QueueId: name, QueueName: name }] });
    expect(unbound.DeadLetterPolicy).toBeNull();
    expect(noSources).toMatchObject({ TotalCount: 0, QueueSet: [] });
  });

  it("switches a dead-letter policy to MaxTimeToLive with Policy 1", async () => {
    const name = uniqueName("tc");
    const deadLetters = uniqueName("tc-dlq");
    await client.CreateCmqQueue({ QueueName: deadLetters });
    await client.CreateCmqQueue({ QueueName: name, MsgRetentionSeconds: 3600 });

    await client.ModifyCmqQueueAttribute({ QueueName: name, DeadLetterQueueName: deadLetters, Policy: 1, MaxTimeToLive: 600 });
    const queue = (await client.DescribeCmqQueueDetail({ QueueName: name })).QueueDescribe!;

    expect(queue.DeadLetterPolicy).toEqual({ DeadLetterQueue: deadLetters, Policy: 1, MaxReceiveCount: null, MaxTimeToLive: 600 });
  });

  it("rewinds a queue to StartConsumeTime, in Unix seconds", async () => {
    const name = uniqueName("tc");
    await client.CreateCmqQueue({ QueueName: name, RewindSeconds: 3600 });
    const startSeconds = Math.floor(Date.now() / 1000) - 1;
    await client.SendCmqMsg({ QueueName: name, MsgContent: "again", DelaySeconds: 0 });
    const first = await receiveOne(name);
    expect((await service.rest("DELETE", `/v1/queues/${name}/messages/${first!.receiptHandle}`)).status).toBe(204);

    await client.RewindCmqQueue({ QueueName: name, StartConsumeTime: startSeconds });
    const again = await receiveOne(name);

    expect(again?.body).toBe("again");
  });

  it("lists queues by name filter with Offset, Limit and the TotalCount of every match", async () => {
    const prefix = uniqueName("tcl");
    for (const suffix of ["a", "b", "c"]) await client.CreateCmqQueue({ QueueName: `${prefix}-${suffix}` });
    await client.SendCmqMsg({ QueueName: `${prefix}-a`, MsgContent: "counted", DelaySeconds: 0 });

    const first = await client.DescribeCmqQueues({ QueueName: prefix.toUpperCase(), Limit: 2 });
    const second = await client.DescribeCmqQueues({ QueueName: prefix, Offset: 2, Limit: 2 });
    const exact = await client.DescribeCmqQueues({ QueueNameList: [`${prefix}-c`, `${prefix}-missing`] });

    expect(first.TotalCount).toBe(3);
    expect(first.QueueList?.map((queue) => queue.QueueName)).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect(first.QueueList?.[0]?.ActiveMsgNum).toBe(1);
    expect(second.TotalCount).toBe(3);
    expect(second.QueueList?.map((queue) => queue.QueueName)).toEqual([`${prefix}-c`]);
    expect(exact.TotalCount).toBe(1);
    expect(exact.QueueList?.map((queue) => queue.QueueName)).toEqual([`${prefix}-c`]);
  });

  it("deletes a queue, after which it is ResourceNotFound.Queue", async () => {
    const name = uniqueName("tc");
    await client.CreateCmqQueue({ QueueName: name });

    await client.DeleteCmqQueue({ QueueName: name });
    const error = await failure(() => client.DescribeCmqQueueDetail({ QueueName: name }));

    expect(error.code).toBe("ResourceNotFound.Queue");
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("works with GET and the parameters in the query string", async () => {
    const getClient = clientFor(service.key, "GET");
    const name = uniqueName("tcget");

    await getClient.CreateCmqQueue({ QueueName: name, VisibilityTimeout: 77 });
    const listed = await getClient.DescribeCmqQueues({ QueueNameList: [name] });
    const refused = await failure(() => getClient.CreateCmqQueue({ QueueName: uniqueName("tcget"), Trace: true }));

    expect(listed.QueueList?.[0]).toMatchObject({ QueueName: name, VisibilityTimeout: 77 });
    expect(refused.code).toBe("UnsupportedOperation");
  });
});

describe("topics and subscriptions through tencentcloud-sdk-nodejs", () => {
  it("creates, describes, modifies, lists and deletes a topic", async () => {
    const name = uniqueName("tct");

    const created = await client.CreateCmqTopic({ TopicName: name, MaxMsgSize: 4096, MsgRetentionSeconds: 3600 });
    const detail = (await client.DescribeCmqTopicDetail({ TopicName: name })).TopicDescribe!;
    await client.ModifyCmqTopicAttribute({ TopicName: name, MaxMsgSize: 8192 });
    const listed = await client.DescribeCmqTopics({ TopicName: name });
    const exact = await client.DescribeCmqTopics({ TopicNameList: [name] });
    await client.DeleteCmqTopic({ TopicName: name });
    const gone = await failure(() => client.DescribeCmqTopicDetail({ TopicName: name }));

    expect(created.TopicId).toBe(name);
    expect(detail).toMatchObject({ TopicId: name, TopicName: name, MaxMsgSize: 4096, MsgRetentionSeconds: 3600, FilterType: 1, MsgCount: 0, SubscriptionCount: 0, Trace: false, Tags: [] });
    expect(detail.CreateTime).toBeGreaterThan(1_700_000_000_000);
    expect(listed.TotalCount).toBe(1);
    expect(listed.TopicList?.[0]).toMatchObject({ TopicName: name, MaxMsgSize: 8192 });
    expect(exact.TopicList?.map((topic) => topic.TopicName)).toEqual([name]);
    expect(gone.code).toBe("ResourceNotFound.Topic");
  });

  it("routes a published message by its one MsgTag as a routing key on a FilterType 2 topic", async () => {
    const topic = uniqueName("tct");
    const queue = uniqueName("tc");
    await client.CreateCmqQueue({ QueueName: queue });
    await client.CreateCmqTopic({ TopicName: topic, FilterType: 2 });

    const subscribed = await client.CreateCmqSubscribe({
      TopicName: topic,
      SubscriptionName: "orders",
      Protocol: "queue",
      Endpoint: queue,
      BindingKey: ["order.*.eu"],
      NotifyContentFormat: "SIMPLIFIED",
    });
    const skipped = await client.PublishCmqMsg({ TopicName: topic, MsgContent: "us order", MsgTag: ["order.created.us"] });
    const published = await client.PublishCmqMsg({ TopicName: topic, MsgContent: "eu order", MsgTag: ["order.created.eu"] });
    const delivered = await receiveOne(queue, 10);

    expect(subscribed.SubscriptionId).toBe("orders");
    expect([skipped.Result, published.Result]).toEqual([true, true]);
    expect(published.MsgId).toEqual(expect.any(String));
    expect(delivered?.body).toBe("eu order");
  });

  it("filters by tag, changes and clears a subscription's filter tags, and deletes the subscription", async () => {
    const topic = uniqueName("tct");
    const queue = uniqueName("tc");
    await client.CreateCmqQueue({ QueueName: queue });
    await client.CreateCmqTopic({ TopicName: topic });
    await client.CreateCmqSubscribe({ TopicName: topic, SubscriptionName: "tagged", Protocol: "queue", Endpoint: queue, FilterTag: ["red"], NotifyContentFormat: "SIMPLIFIED" });

    await client.ModifyCmqSubscriptionAttribute({ TopicName: topic, SubscriptionName: "tagged", FilterTags: ["blue", "green"], NotifyStrategy: "BACKOFF_RETRY" });
    const modified = await client.DescribeCmqSubscriptionDetail({ TopicName: topic });
    await client.PublishCmqMsg({ TopicName: topic, MsgContent: "red one", MsgTag: ["red"] });
    await client.PublishCmqMsg({ TopicName: topic, MsgContent: "blue one", MsgTag: ["blue", "yellow"] });
    const delivered = await receiveOne(queue, 10);
    await client.ClearCmqSubscriptionFilterTags({ TopicName: topic, SubscriptionName: "tagged" });
    const cleared = await client.DescribeCmqSubscriptionDetail({ TopicName: topic, SubscriptionName: "TAG" });
    await client.DeleteCmqSubscribe({ TopicName: topic, SubscriptionName: "tagged" });
    const none = await client.DescribeCmqSubscriptionDetail({ TopicName: topic });

    expect(modified.TotalCount).toBe(1);
    expect(modified.SubscriptionSet?.[0]).toMatchObject({
      SubscriptionName: "tagged",
      SubscriptionId: "tagged",
      TopicName: topic,
      Protocol: "queue",
      Endpoint: queue,
      FilterTags: ["blue", "green"],
      BindingKey: [],
      NotifyStrategy: "BACKOFF_RETRY",
      NotifyContentFormat: "SIMPLIFIED",
      MsgCount: expect.any(Number),
    });
    expect(modified.SubscriptionSet?.[0]?.CreateTime).toBeGreaterThan(1_700_000_000_000);
    expect(delivered?.body).toBe("blue one");
    expect(cleared.SubscriptionSet?.[0]?.FilterTags).toEqual([]);
    expect(none).toMatchObject({ TotalCount: 0, SubscriptionSet: [] });
  });

  it("publishes one MsgTag too long for a tag untagged on a FilterType 1 topic: only unfiltered subscriptions get it", async () => {
    const topic = uniqueName("tct");
    const [all, filtered] = [uniqueName("tc"), uniqueName("tc")];
    await client.CreateCmqQueue({ QueueName: all });
    await client.CreateCmqQueue({ QueueName: filtered });
    await client.CreateCmqTopic({ TopicName: topic, FilterType: 1 });
    await client.CreateCmqSubscribe({ TopicName: topic, SubscriptionName: "all", Protocol: "queue", Endpoint: all, NotifyContentFormat: "SIMPLIFIED" });
    await client.CreateCmqSubscribe({
      TopicName: topic,
      SubscriptionName: "filtered",
      Protocol: "queue",
      Endpoint: filtered,
      FilterTag: ["order.created.eu"],
      NotifyContentFormat: "SIMPLIFIED",
    });

    await client.PublishCmqMsg({ TopicName: topic, MsgContent: "long tag", MsgTag: ["order.created.eu.west"] });
    const toAll = await receiveOne(all, 10);
    const toFiltered = await receiveOne(filtered, 1);

    expect(toAll).toMatchObject({ body: "long tag", tags: [] });
    expect(toFiltered).toBeUndefined();
  });

  it("subscribes an https endpoint with Protocol http", async () => {
    const topic = uniqueName("tct");
    await client.CreateCmqTopic({ TopicName: topic });

    await client.CreateCmqSubscribe({ TopicName: topic, SubscriptionName: "hook", Protocol: "http", Endpoint: "https://receiver.example/cmq" });
    const listed = await client.DescribeCmqSubscriptionDetail({ TopicName: topic });
    const rest = await service.rest("GET", `/v1/topics/${topic}/subscriptions/hook`);

    expect(listed.SubscriptionSet?.[0]).toMatchObject({ Protocol: "http", Endpoint: "https://receiver.example/cmq", NotifyStrategy: "EXPONENTIAL_DECAY_RETRY", NotifyContentFormat: "JSON" });
    expect(rest.body.protocol).toBe("https");
  });
});
