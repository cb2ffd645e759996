import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cmqAdapter } from "../../src/api/cmq";
import { api } from "../support/http";
import { createAccount, createKey } from "../support/auth";
import { cmq, cmqOk, formEncode, listParams, signedParams, uniqueName } from "../support/cmq";

/** Every queue action of the legacy CMQ API, with the fields and types SDKs read, and its errors. */
async function newQueue(params: Record<string, string | number> = {}): Promise<string> {
  const queue = uniqueName("cq");
  await cmqOk("CreateQueue", { queueName: queue, ...params });
  return queue;
}

const seconds = () => Math.floor(Date.now() / 1000);

/** An answer's code and the module code in front of its message. */
const codeOf = (body: { code: number; message: string }) => ({ code: body.code, module: Number(/^\((\d+)\)/.exec(body.message)?.[1]) });

describe("queues", () => {
  it("creates a queue with the attributes the Python SDK always sends, and answers its queueId", async () => {
    const queue = uniqueName("cq");

    const created = await cmq("CreateQueue", {
      queueName: queue,
      pollingWaitSeconds: 0,
      visibilityTimeout: 30,
      maxMsgSize: 65536,
      msgRetentionSeconds: 345600,
      rewindSeconds: 0,
    });

    expect(created.body).toEqual({ code: 0, message: "", requestId: expect.any(String), queueId: queue });
  });

  it("answers every attribute and counter as an integer, times in Unix seconds, the rewind count under both spellings", async () => {
    const before = seconds();
    const queue = await newQueue({ maxMsgHeapNum: 1000000, pollingWaitSeconds: 5, visibilityTimeout: 45, maxMsgSize: 2048, msgRetentionSeconds: 3600, rewindSeconds: 600 });
    await cmqOk("SendMessage", { queueName: queue, msgBody: "active" });
    await cmqOk("SendMessage", { queueName: queue, msgBody: "delayed", delaySeconds: 120 });
    await cmqOk("SendMessage", { queueName: queue, msgBody: "received" });
    const received = await cmqOk("ReceiveMessage", { queueName: queue, pollingWaitSeconds: 0 });
    const toDelete = await cmqOk("ReceiveMessage", { queueName: queue, pollingWaitSeconds: 0 });
    await cmqOk("DeleteMessage", { queueName: queue, receiptHandle: toDelete.receiptHandle });

    const attributes = await cmqOk("GetQueueAttributes", { queueName: queue });

    expect(received.code).toBe(0);
    expect(attributes).toEqual({
      code: 0,
      message: "",
      requestId: expect.any(String),
      queueId: queue,
      queueName: queue,
      maxMsgHeapNum: 1000000,
      pollingWaitSeconds: 5,
      visibilityTimeout: 45,
      maxMsgSize: 2048,
      msgRetentionSeconds: 3600,
      rewindSeconds: 600,
      createTime: expect.any(Number),
      lastModifyTime: expect.any(Number),
      activeMsgNum: 0,
      inactiveMsgNum: 1,
      delayMsgNum: 1,
      rewindmsgNum: 1,
      rewindMsgNum: 1,
      minMsgTime: expect.any(Number),
    });
    for (const field of ["createTime", "lastModifyTime", "minMsgTime"]) {
      expect(Number.isInteger(attributes[field])).toBe(true);
      expect(attributes[field]).toBeGreaterThanOrEqual(before);
      expect(attributes[field]).toBeLessThanOrEqual(seconds());
    }
  });

  it("answers minMsgTime 0 for an empty queue", async () => {
    const queue = await newQueue();

    expect((await cmqOk("GetQueueAttributes", { queueName: queue })).minMsgTime).toBe(0);
  });

  it("changes attributes and echoes the new values", async () => {
    const queue = await newQueue();

    const changed = await cmqOk("SetQueueAttributes", { queueName: queue, visibilityTimeout: 99, maxMsgHeapNum: 5000000 });
    const attributes = await cmqOk("GetQueueAttributes", { queueName: queue });

    expect(changed).toMatchObject({ visibilityTimeout: 99, maxMsgHeapNum: 5000000, pollingWaitSeconds: 0, maxMsgSize: 65536, msgRetentionSeconds: 345600, rewindSeconds: 0 });
    expect(attributes).toMatchObject({ visibilityTimeout: 99, maxMsgHeapNum: 5000000 });
  });

  it("lists queues with totalCount, searchWord, offset and limit", async () => {
    const word = uniqueName("lw");
    const names = [`${word}-a`, `${word}-b`, `${word}-c`];
    for (const name of names) await cmqOk("CreateQueue", { queueName: name });

    const all = await cmqOk("ListQueue", { searchWord: word.slice(3).toUpperCase() });
    const page = await cmqOk("ListQueue", { searchWord: word, offset: 1, limit: 1 });

    expect(all.totalCount).toBe(3);
    expect(all.queueList).toEqual(names.map((name) => ({ queueId: name, queueName: name })));
    expect(page).toMatchObject({ totalCount: 3, queueList: [{ queueId: names[1], queueName: names[1] }] });
  });

  it("lists 20 queues when no limit is given, as CMQ does, with the totalCount of all", async () => {
    const word = uniqueName("many");
    await Promise.all(Array.from({ length: 21 }, (_, index) => cmqOk("CreateQueue", { queueName: `${word}-${String(index).padStart(2, "0")}` })));

    const page = await cmqOk("ListQueue", { searchWord: word });
    const rest = await cmqOk("ListQueue", { searchWord: word, offset: 20 });

    expect(page.totalCount).toBe(21);
    expect(page.queueList).toHaveLength(20);
    expect(rest.queueList.map((item: { queueName: string }) => item.queueName)).toEqual([`${word}-20`]);
  });

  it("deletes a queue, which then does not exist (4440)", async () => {
    const queue = await newQueue();

    const deleted = await cmq("DeleteQueue", { queueName: queue });
    const again = await cmq("GetQueueAttributes", { queueName: queue });

    expect(deleted.body.code).toBe(0);
    expect(codeOf(again.body)).toEqual({ code: 4440, module: 10100 });
  });

  it("refuses to create a queue that exists, identical or not (4460)", async () => {
    const queue = await newQueue();

    const identical = await cmq("CreateQueue", { queueName: queue });
    const otherCase = await cmq("CreateQueue", { queueName: queue.toUpperCase(), visibilityTimeout: 60 });

    expect(identical.body.code).toBe(4460);
    expect(otherCase.body.code).toBe(4460);
  });
});

describe("messages", () => {
  it("sends and receives with every receive field SDKs read, times in seconds", async () => {
    const queue = await newQueue({ visibilityTimeout: 40 });
    const before = seconds();

    const sent = await cmqOk("SendMessage", { queueName: queue, msgBody: "hello" });
    const received = await cmqOk("ReceiveMessage", { queueName: queue });

    expect(received).toEqual({
      code: 0,
      message: "",
      requestId: expect.any(String),
      msgId: sent.msgId,
      msgBody: "hello",
      receiptHandle: expect.stringMatching(/^[A-Za-z0-9_-]{1,256}$/),
      enqueueTime: expect.any(Number),
      firstDequeueTime: expect.any(Number),
      nextVisibleTime: expect.any(Number),
      dequeueCount: 1,
    });
    expect(received.enqueueTime).toBeGreaterThanOrEqual(before);
    expect(received.firstDequeueTime).toBeGreaterThanOrEqual(received.enqueueTime);
    expect(received.nextVisibleTime - received.firstDequeueTime).toBeGreaterThanOrEqual(39);
    expect(received.nextVisibleTime - received.firstDequeueTime).toBeLessThanOrEqual(41);
  });

  it("answers 7000 (10200)no message when the queue stays empty through the wait", async () => {
    const queue = await newQueue();
    const startedMs = Date.now();

    const single = await cmq("ReceiveMessage", { queueName: queue, pollingWaitSeconds: 1 });
    const waitedMs = Date.now() - startedMs;
    const batch = await cmq("BatchReceiveMessage", { queueName: queue, numOfMsg: 16, pollingWaitSeconds: 0 });

    expect(single.status).toBe(200);
    expect(single.body).toEqual({ code: 7000, message: "(10200)no message", requestId: expect.any(String) });
    expect(waitedMs).toBeGreaterThanOrEqual(900);
    expect(batch.body).toMatchObject({ code: 7000, message: "(10200)no message" });
  });

  it("waits the queue's pollingWaitSeconds when the receive names none", async () => {
    const queue = await newQueue({ pollingWaitSeconds: 1 });
    const startedMs = Date.now();

    const received = await cmq("ReceiveMessage", { queueName: queue });

    expect(received.body.code).toBe(7000);
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(900);
  });

  it("delays a message by delaySeconds", async () => {
    const queue = await newQueue();

    await cmqOk("SendMessage", { queueName: queue, msgBody: "later", delaySeconds: 60 });
    const received = await cmq("ReceiveMessage", { queueName: queue });
    const attributes = await cmqOk("GetQueueAttributes", { queueName: queue });

    expect(received.body.code).toBe(7000);
    expect(attributes.delayMsgNum).toBe(1);
  });

  it("batch-sends, batch-receives at most numOfMsg and batch-deletes", async () => {
    const queue = await newQueue();
    await cmqOk("BatchSendMessage", { queueName: queue, ...listParams("msgBody", ["a", "b", "c"]) });

    const received = await cmqOk("BatchReceiveMessage", { queueName: queue, numOfMsg: 2 });
    const handles = received.msgInfoList.map((message: { receiptHandle: string }) => message.receiptHandle);
    const deleted = await cmq("BatchDeleteMessage", { queueName: queue, ...listParams("receiptHandle", handles) });
    const attributes = await cmqOk("GetQueueAttributes", { queueName: queue });

    expect(received.msgInfoList).toHaveLength(2);
    expect(Object.keys(received.msgInfoList[0]).sort()).toEqual(
      ["dequeueCount", "enqueueTime", "firstDequeueTime", "msgBody", "msgId", "nextVisibleTime", "receiptHandle"],
    );
    expect(deleted.body).toEqual({ code: 0, message: "", requestId: expect.any(String) });
    expect(attributes).toMatchObject({ activeMsgNum: 1, inactiveMsgNum: 0 });
  });

  it("answers 6010 with errorList when some handles of a batch delete fail", async () => {
    const queue = await newQueue();
    await cmqOk("SendMessage", { queueName: queue, msgBody: "m" });
    const { receiptHandle } = await cmqOk("ReceiveMessage", { queueName: queue });

    const deleted = await cmq("BatchDeleteMessage", { queueName: queue, ...listParams("receiptHandle", [receiptHandle, "1-00000000000000000000000000000000"]) });

    expect(deleted.body).toEqual({
      code: 6010,
      message: "(10150)delete message partially failed",
      requestId: expect.any(String),
      errorList: [{ code: 4430, message: expect.any(String), receiptHandle: "1-00000000000000000000000000000000" }],
    });
  });

  it("answers 6020 with errorList when every handle of a batch delete fails", async () => {
    const queue = await newQueue();

    const deleted = await cmq("BatchDeleteMessage", { queueName: queue, ...listParams("receiptHandle", ["bad", "worse"]) });

    expect(codeOf(deleted.body)).toEqual({ code: 6020, module: 10290 });
    expect(deleted.body.errorList.map((item: { code: number; receiptHandle: string }) => [item.code, item.receiptHandle])).toEqual([
      [4430, "bad"],
      [4430, "worse"],
    ]);
  });

  it("answers 4430 for a receipt handle superseded by a later receive, and deletes with the newest", async () => {
    const queue = await newQueue({ visibilityTimeout: 1 });
    await cmqOk("SendMessage", { queueName: queue, msgBody: "m" });
    const first = await cmqOk("ReceiveMessage", { queueName: queue });
    const second = await cmqOk("ReceiveMessage", { queueName: queue, pollingWaitSeconds: 3 });

    const stale = await cmq("DeleteMessage", { queueName: queue, receiptHandle: first.receiptHandle });
    const fresh = await cmq("DeleteMessage", { queueName: queue, receiptHandle: second.receiptHandle });

    expect(second.dequeueCount).toBe(2);
    expect(codeOf(stale.body)).toEqual({ code: 4430, module: 10260 });
    expect(fresh.body.code).toBe(0);
  });

  it("answers 4400 for a body over maxMsgSize and 4470 for a batch over 1 MiB", async () => {
    const queue = await newQueue({ maxMsgSize: 1024 });
    const big = await newQueue({ maxMsgSize: 1048576 });

    const tooLarge = await cmq("SendMessage", { queueName: queue, msgBody: "x".repeat(1025) });
    const batch = await cmq("BatchSendMessage", { queueName: big, ...listParams("msgBody", ["y".repeat(600_000), "z".repeat(600_000)]) });

    expect(codeOf(tooLarge.body)).toEqual({ code: 4400, module: 10230 });
    expect(codeOf(batch.body)).toEqual({ code: 4470, module: 10300 });
  });

  it("answers 4410 when the queue holds maxMsgHeapNum messages", async () => {
    const queue = await newQueue({ maxMsgHeapNum: 1 });
    await cmqOk("SendMessage", { queueName: queue, msgBody: "first" });

    const full = await cmq("SendMessage", { queueName: queue, msgBody: "second" });

    expect(codeOf(full.body)).toEqual({ code: 4410, module: 10240 });
  });
});

describe("rewind", () => {
  it("makes deleted messages receivable again from startConsumeTime (Unix seconds)", async () => {
    const queue = await newQueue({ rewindSeconds: 3600 });
    const start = seconds() - 1;
    await cmqOk("SendMessage", { queueName: queue, msgBody: "again" });
    const { receiptHandle } = await cmqOk("ReceiveMessage", { queueName: queue });
    await cmqOk("DeleteMessage", { queueName: queue, receiptHandle });

    const rewound = await cmq("RewindQueue", { queueName: queue, startConsumeTime: start });
    const received = await cmqOk("ReceiveMessage", { queueName: queue });

    expect(rewound.body.code).toBe(0);
    expect(received.msgBody).toBe("again");
  });

  it("answers 6050 on a queue without rewind and 4000 (10680) for a time outside the window", async () => {
    const off = await newQueue();
    const on = await newQueue({ rewindSeconds: 60 });

    const disabled = await cmq("RewindQueue", { queueName: off, startConsumeTime: seconds() });
    const tooEarly = await cmq("RewindQueue", { queueName: on, startConsumeTime: seconds() - 3600 });

    expect(codeOf(disabled.body)).toEqual({ code: 6050, module: 10670 });
    expect(codeOf(tooEarly.body)).toEqual({ code: 4000, module: 10680 });
  });
});

describe("dead-letter queues", () => {
  it("takes deadLetterPolicy as a JSON string and answers it as one", async () => {
    const deadLetters = await newQueue();
    const policy = JSON.stringify({ deadLetterQueue: deadLetters, policy: 0, maxReceiveCount: 3 });

    const queue = await newQueue({ deadLetterPolicy: policy });
    const attributes = await cmqOk("GetQueueAttributes", { queueName: queue });
    const changed = await cmqOk("SetQueueAttributes", {
      queueName: queue,
      deadLetterPolicy: JSON.stringify({ deadLetterQueue: deadLetters, policy: 1, maxTimeToLive: 600 }),
    });

    expect(JSON.parse(attributes.deadLetterPolicy)).toEqual({ deadLetterQueue: deadLetters, policy: 0, maxReceiveCount: 3 });
    expect(JSON.parse(changed.deadLetterPolicy)).toEqual({ deadLetterQueue: deadLetters, policy: 1, maxTimeToLive: 600 });
  });

  it("lists the source queues of a dead-letter queue and unbinds one", async () => {
    const deadLetters = await newQueue();
    const policy = JSON.stringify({ deadLetterQueue: deadLetters, policy: 0, maxReceiveCount: 2 });
    const first = await newQueue({ deadLetterPolicy: policy });
    const second = await newQueue({ deadLetterPolicy: policy });

    const sources = await cmqOk("ListDeadLetterSourceQueues", { deadLetterQueueName: deadLetters });
    const unbound = await cmq("UnbindDeadLetterQueue", { queueName: first });
    const after = await cmqOk("ListDeadLetterSourceQueues", { deadLetterQueueName: deadLetters, limit: 10 });
    const attributes = await cmqOk("GetQueueAttributes", { queueName: first });

    expect(sources.totalCount).toBe(2);
    expect(sources.queueList.map((item: { queueName: string }) => item.queueName).sort()).toEqual([first, second].sort());
    expect(unbound.body.code).toBe(0);
    expect(after).toMatchObject({ totalCount: 1, queueList: [{ queueId: second, queueName: second }] });
    expect(attributes.deadLetterPolicy).toBeUndefined();
  });

  it("refuses to delete a dead-letter queue in use (4000, 10750)", async () => {
    const deadLetters = await newQueue();
    await newQueue({ deadLetterPolicy: JSON.stringify({ deadLetterQueue: deadLetters, policy: 0, maxReceiveCount: 2 }) });

    const deleted = await cmq("DeleteQueue", { queueName: deadLetters });

    expect(codeOf(deleted.body)).toEqual({ code: 4000, module: 10750 });
  });

  it.each([
    ["not JSON", "{deadLetterQueue", 10710],
    ["a JSON array", "[]", 10710],
    ["without deadLetterQueue", JSON.stringify({ policy: 0, maxReceiveCount: 2 }), 10760],
    ["with policy 2", JSON.stringify({ deadLetterQueue: "x", policy: 2, maxReceiveCount: 2 }), 10770],
    ["with policy 0 and no maxReceiveCount", JSON.stringify({ deadLetterQueue: "x", policy: 0 }), 10720],
    ["with policy 1 and maxReceiveCount", JSON.stringify({ deadLetterQueue: "x", policy: 1, maxTimeToLive: 600, maxReceiveCount: 2 }), 10720],
    ["with an unknown field", JSON.stringify({ deadLetterQueue: "x", policy: 0, maxReceiveCount: 2, extra: 1 }), 10720],
    ["naming a queue that does not exist", JSON.stringify({ deadLetterQueue: "nowhere-queue", policy: 0, maxReceiveCount: 2 }), 10730],
  ])("refuses a deadLetterPolicy %s with 4000 and its module code, creating nothing", async (_name, policy, module) => {
    const queue = uniqueName("cq");

    const created = await cmq("CreateQueue", { queueName: queue, deadLetterPolicy: policy });
    const after = await cmq("GetQueueAttributes", { queueName: queue });

    expect(codeOf(created.body)).toEqual({ code: 4000, module });
    expect(after.body.code).toBe(4440);
  });
});

describe("bad parameters", () => {
  it.each([
    ["a missing queueName", "SendMessage", { msgBody: "m" }, 10010],
    ["an unknown parameter", "SendMessage", { msgBody: "m", queueName: "q", colour: "red" }, 10320],
    ["a list form of a single parameter", "SendMessage", { "msgBody.1": "m", msgBody: "n", queueName: "q" }, 10330],
    ["a list that skips an index", "BatchSendMessage", { queueName: "q", "msgBody.1": "a", "msgBody.3": "b" }, 10380],
    ["a list numbered from 2", "BatchSendMessage", { queueName: "q", "msgBody.2": "a" }, 10380],
    ["a bare name for a list", "BatchSendMessage", { queueName: "q", msgBody: "a" }, 10010],
    ["a bare name beside its list", "BatchSendMessage", { queueName: "q", msgBody: "a", "msgBody.1": "b" }, 10320],
    ["a number that is not one", "SendMessage", { queueName: "q", msgBody: "m", delaySeconds: "soon" }, 10360],
    ["an unknown action", "SendMessages", { queueName: "q" }, 10430],
    ["a TDMQ-only action", "QueryQueueRoute", { queueName: "q" }, 10430],
    ["a bad queue name", "SendMessage", { queueName: "1-starts-with-a-digit", msgBody: "m" }, 10110],
    ["a value out of range", "CreateQueue", { queueName: "q-range", visibilityTimeout: 0 }, 10110],
    ["an empty body", "SendMessage", { queueName: "q", msgBody: "" }, 10110],
  ])("answers %s with 4000 and its module code", async (_name, action, params, module) => {
    const answer = await cmq(action, params as Record<string, string>);

    expect(codeOf(answer.body)).toEqual({ code: 4000, module });
  });

  it("names the parameter as CMQ does in the message", async () => {
    const answer = await cmq("CreateQueue", { queueName: "q-range", visibilityTimeout: 0 });

    expect(answer.body.message).toMatch(/^\(10110\)visibilityTimeout: /);
  });

  it("answers a missing queue with 4440 on every queue action", async () => {
    const queue = uniqueName("missing");
    const calls: Array<[string, Record<string, string | number>]> = [
      ["GetQueueAttributes", {}],
      ["SetQueueAttributes", { visibilityTimeout: 5 }],
      ["DeleteQueue", {}],
      ["RewindQueue", { startConsumeTime: seconds() }],
      ["SendMessage", { msgBody: "m" }],
      ["BatchSendMessage", listParams("msgBody", ["m"])],
      ["ReceiveMessage", {}],
      ["BatchReceiveMessage", { numOfMsg: 2 }],
      ["DeleteMessage", { receiptHandle: "1-00000000000000000000000000000000" }],
      ["BatchDeleteMessage", listParams("receiptHandle", ["1-00000000000000000000000000000000"])],
      ["UnbindDeadLetterQueue", {}],
    ];

    const answers = await Promise.all(calls.map(([action, params]) => cmq(action, { queueName: queue, ...params })));

    expect(answers.map((answer) => answer.body.code)).toEqual(calls.map(() => 4440));
    expect((await api("GET", `/v1/queues/${queue}`)).status).toBe(404);
  });
});

describe("quotas", () => {
  it("answers 4450 when the account holds its quota of queues or topics", async () => {
    const account = await createAccount(uniqueName("quota"));
    const key = await createKey([{ actions: ["*"], resources: ["*"] }], account);
    const limited = { ...env, MAX_QUEUES_PER_ACCOUNT: "1", MAX_TOPICS_PER_ACCOUNT: "1" };
    const call = async (action: string, params: Record<string, string>) => {
      const signed = await signedParams(action, params, { credentials: key });
      const request = new Request("http://cmq.test/v2/index.php", { method: "POST", body: formEncode(signed), headers: { "content-type": "application/x-www-form-urlencoded" } });
      const response = await cmqAdapter.handle(request, limited, createExecutionContext(), crypto.randomUUID());
      return codeOf(await response.json());
    };

    const firstQueue = await call("CreateQueue", { queueName: "first" });
    const secondQueue = await call("CreateQueue", { queueName: "second" });
    const firstTopic = await call("CreateTopic", { topicName: "first" });
    const secondTopic = await call("CreateTopic", { topicName: "second" });

    expect(firstQueue.code).toBe(0);
    expect(secondQueue).toEqual({ code: 4450, module: 10220 });
    expect(firstTopic.code).toBe(0);
    expect(secondTopic).toEqual({ code: 4450, module: 10220 });
  });
});
