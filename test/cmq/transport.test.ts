import { describe, expect, it } from "vitest";
import { api } from "../support/http";
import { bearer, createKey } from "../support/auth";
import { cmq, cmqOk, formEncode, listParams, sendParams, sendRequest, signedParams, uniqueName, type CmqRequestOptions } from "../support/cmq";

/** How the legacy CMQ action API is reached: methods, paths, content types, signatures, nonces. */
async function newQueue(): Promise<string> {
  const queue = uniqueName("cq");
  await cmqOk("CreateQueue", { queueName: queue });
  return queue;
}

describe("requests every CMQ SDK sends", () => {
  const variants: Array<[string, CmqRequestOptions]> = [
    ["a POST form without Content-Type (Python SDK)", { contentType: null }],
    ["a POST with Content-Type */* (Java SDK)", { contentType: "*/*;charset=utf-8" }],
    ["a POST with application/x-www-form-urlencoded (C++ and Go SDKs)", {}],
    ["a GET with the query string", { method: "GET" }],
    ["a POST to / (Java SDK 1.1)", { path: "/" }],
    ["a POST to another path", { path: "/cmq/gateway" }],
    ["a POST signed with HmacSHA256", { signatureMethod: "HmacSHA256" }],
    ["a GET signed with HmacSHA256", { method: "GET", signatureMethod: "HmacSHA256" }],
    ["a POST signed with an explicit HmacSHA1", { signatureMethod: "HmacSHA1" }],
    ["a host with its port", { host: "localhost:8787" }],
  ];

  it.each(variants)("sends and receives with %s", async (_name, options) => {
    const queue = await newQueue();

    const sent = await cmq("SendMessage", { queueName: queue, msgBody: "hello world & more=1+1 ünïcode" }, options);
    const received = await cmq("ReceiveMessage", { queueName: queue }, options);

    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ code: 0, message: "" });
    expect(received.body).toMatchObject({ code: 0, msgId: sent.body.msgId, msgBody: "hello world & more=1+1 ünïcode" });
    expect(received.body.requestId).toBe(received.headers.get("x-request-id"));
  });

  it.each(["SendMessage", "sendMessage", "SENDMESSAGE", "sendmessage"])("matches the action %s without regard to case", async (action) => {
    const queue = await newQueue();

    const sent = await cmq(action, { queueName: queue, msgBody: "m" });

    expect(sent.body.code).toBe(0);
    expect(typeof sent.body.msgId).toBe("string");
  });

  it("takes the Java SDK's ClearSUbscriptionFIlterTags spelling", async () => {
    const topic = uniqueName("ct");
    await cmqOk("CreateTopic", { topicName: topic });
    await cmqOk("Subscribe", { topicName: topic, subscriptionName: "s", protocol: "http", endpoint: "http://sink.test/ok/x", ...listParams("filterTag", ["a"]) });

    const cleared = await cmq("ClearSUbscriptionFIlterTags", { topicName: topic, subscriptionName: "s" });
    const attributes = await cmqOk("GetSubscriptionAttributes", { topicName: topic, subscriptionName: "s" });

    expect(cleared.body.code).toBe(0);
    expect(attributes.filterTag).toEqual([]);
  });

  it.each([0, 1] as const)("reads list parameters numbered from %i", async (base) => {
    const queue = await newQueue();

    const sent = await cmqOk("BatchSendMessage", { queueName: queue, ...listParams("msgBody", ["a", "b", "c"], base) });
    const received = await cmqOk("BatchReceiveMessage", { queueName: queue, numOfMsg: 16 });
    const deleted = await cmq("BatchDeleteMessage", {
      queueName: queue,
      ...listParams("receiptHandle", received.msgInfoList.map((message: { receiptHandle: string }) => message.receiptHandle), base),
    });

    expect(sent.msgList).toHaveLength(3);
    expect(received.msgInfoList.map((message: { msgBody: string }) => message.msgBody).sort()).toEqual(["a", "b", "c"]);
    expect(deleted.body.code).toBe(0);
  });

  it("reads msgBody.10 as the eleventh message, in index order", async () => {
    const queue = await newQueue();
    const bodies = Array.from({ length: 12 }, (_, index) => `m${index + 1}`);

    const sent = await cmqOk("BatchSendMessage", { queueName: queue, ...listParams("msgBody", bodies) });
    const peeked = await api("GET", `/v1/queues/${queue}/messages`);

    expect(sent.msgList).toHaveLength(12);
    expect(peeked.body.messages.map((message: { id: string; body: string }) => [message.id, message.body])).toEqual(
      sent.msgList.map((entry: { msgId: string }, index: number) => [entry.msgId, bodies[index]]),
    );
  });

  it("takes msgBody_1 as msgBody.1, as CMQ's PHP servers read form keys", async () => {
    const queue = await newQueue();

    const sent = await cmq("BatchSendMessage", { queueName: queue, msgBody_1: "a", msgBody_2: "b" });

    expect(sent.body.code).toBe(0);
    expect(sent.body.msgList).toHaveLength(2);
  });

  it("takes the parameters SDKs add (Region, RequestClient, clientRequestId, UserpollingWaitSeconds), signed", async () => {
    const queue = await newQueue();

    const sent = await cmq("SendMessage", { queueName: queue, msgBody: "m", Region: "gz", clientRequestId: "c-1", UserpollingWaitSeconds: 40 });

    expect(sent.body.code).toBe(0);
  });

  it("takes a POST signed without its @-values, as the Python SDK signs it", async () => {
    const queue = await newQueue();
    const params = await signedParams("SendMessage", { queueName: queue });
    const withMention = { ...params, msgBody: "@channel deploy done" };

    const sent = await sendParams(withMention);
    const received = await cmqOk("ReceiveMessage", { queueName: queue });

    expect(sent.body.code).toBe(0);
    expect(received.msgBody).toBe("@channel deploy done");
  });

  it("keeps a + and a %2B apart: a space and a plus", async () => {
    const queue = await newQueue();

    await cmqOk("SendMessage", { queueName: queue, msgBody: "1 + 1" });
    const received = await cmqOk("ReceiveMessage", { queueName: queue });

    expect(received.msgBody).toBe("1 + 1");
  });

  it("answers with a JSON content type and the CORS headers of any other answer", async () => {
    const queue = await newQueue();

    const answer = await cmq("GetQueueAttributes", { queueName: queue }, { headers: { origin: "https://page.example" } });

    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("what the adapter leaves to the other interfaces", () => {
  it("lets a GET without Action reach the native API", async () => {
    const response = await sendRequest(new Request("http://cmq.test/v1/health"));

    expect(response.body).toEqual({ status: "ok" });
  });

  it("lets a POST to /v1 reach the native API, even with a form", async () => {
    const params = await signedParams("ListQueue", {});

    const response = await sendRequest(
      new Request("http://cmq.test/v1/queues", { method: "POST", body: formEncode(params), headers: { "content-type": "application/x-www-form-urlencoded" } }),
    );

    expect(response.body.error.code).toBe("MethodNotAllowed");
  });

  it("lets a request with an Authorization header go to the native API", async () => {
    const response = await sendRequest(new Request("http://cmq.test/?Action=ListQueue", { headers: { authorization: "Bearer nope" } }));

    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("NotFound");
  });
});

describe("signatures", () => {
  it("refuses a signature computed over another path", async () => {
    const params = await signedParams("ListQueue", {}, { path: "/v2/index.php" });

    const answer = await sendParams(params, { path: "/" });

    expect(answer.body.code).toBe(4100);
  });

  it("refuses a signature computed for another host", async () => {
    const params = await signedParams("ListQueue", {}, { host: "cmq-queue-gz.api.qcloud.com" });

    const answer = await sendParams(params);

    expect(answer.body.code).toBe(4100);
  });

  it("refuses a signature computed for GET on a POST", async () => {
    const params = await signedParams("ListQueue", {}, { method: "GET" });

    const answer = await sendParams(params, { method: "POST" });

    expect(answer.body.code).toBe(4100);
  });

  it("refuses a parameter changed after signing, and stores nothing", async () => {
    const queue = await newQueue();
    const params = await signedParams("SendMessage", { queueName: queue, msgBody: "signed" });

    const answer = await sendParams({ ...params, msgBody: "altered" });
    const attributes = await cmqOk("GetQueueAttributes", { queueName: queue });

    expect(answer.body).toMatchObject({ code: 4100, message: expect.stringMatching(/^\(10030\)/) });
    expect(attributes.activeMsgNum).toBe(0);
  });

  it.each([
    ["missing", (params: Record<string, string>) => { const { Signature: _, ...rest } = params; return rest; }],
    ["without SecretId", (params: Record<string, string>) => { const { SecretId: _, ...rest } = params; return rest; }],
    ["without Nonce", (params: Record<string, string>) => { const { Nonce: _, ...rest } = params; return rest; }],
    ["with a negative Nonce", (params: Record<string, string>) => ({ ...params, Nonce: "-5" })],
    ["without Timestamp", (params: Record<string, string>) => { const { Timestamp: _, ...rest } = params; return rest; }],
    ["with a Timestamp that is not a number", (params: Record<string, string>) => ({ ...params, Timestamp: "soon" })],
  ])("refuses a request with its signature parameters %s", async (_name, change) => {
    const params = await signedParams("ListQueue", {});

    const answer = await sendParams(change(params));

    expect(answer.body.code).toBe(4100);
  });
});

describe("the timestamp window and nonces", () => {
  const now = () => Math.floor(Date.now() / 1000);

  it.each([
    ["300 s old", -290, 0],
    ["300 s ahead", 290, 0],
    ["more than 300 s old", -301, 4100],
    ["more than 300 s ahead", 301, 4100],
  ])("a timestamp %s is answered %i", async (_name, offsetSeconds, code) => {
    const answer = await cmq("ListQueue", {}, { timestampSeconds: now() + offsetSeconds });

    expect(answer.body.code).toBe(code);
  });

  it("says a stale signature expired", async () => {
    const answer = await cmq("ListQueue", {}, { timestampSeconds: now() - 3600 });

    expect(answer.body.message).toMatch(/^\(10030\)signature expired/);
  });

  it("refuses a replayed request, which then changes nothing", async () => {
    const queue = await newQueue();
    const params = await signedParams("SendMessage", { queueName: queue, msgBody: "once" });

    const first = await sendParams(params);
    const replay = await sendParams(params);
    const attributes = await cmqOk("GetQueueAttributes", { queueName: queue });

    expect(first.body.code).toBe(0);
    expect(replay.body).toMatchObject({ code: 4100, message: "(10030)Nonce already used with this Timestamp: each request needs a new Nonce" });
    expect(attributes.activeMsgNum).toBe(1);
  });

  it("refuses a nonce used again with the same timestamp, and takes it with another (a new request)", async () => {
    const nonce = "9223372036854775807";
    const timestampSeconds = now();

    const first = await cmq("ListQueue", {}, { nonce, timestampSeconds });
    const sameSecond = await cmq("ListQueue", { limit: 5 }, { nonce, timestampSeconds });
    const nextSecond = await cmq("ListQueue", {}, { nonce, timestampSeconds: timestampSeconds - 1 });

    expect(first.body.code).toBe(0);
    expect(sameSecond.body.code).toBe(4100);
    expect(nextSecond.body.code).toBe(0);
  });

  it("keeps nonces apart per SecretId", async () => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const nonce = "4242424242";

    const timestampSeconds = now();

    const byRoot = await cmq("ListQueue", {}, { nonce, timestampSeconds });
    const byKey = await cmq("ListQueue", {}, { nonce, timestampSeconds, credentials: key });

    expect(byRoot.body.code).toBe(0);
    expect(byKey.body.code).toBe(0);
  });

  it("does not spend a nonce on a request whose signature is refused", async () => {
    const nonce = "777000777";
    const timestampSeconds = now();

    const forged = await cmq("ListQueue", {}, { nonce, timestampSeconds, tamper: (signature) => (signature[0] === "A" ? "B" : "A") + signature.slice(1) });
    const genuine = await cmq("ListQueue", {}, { nonce, timestampSeconds });

    expect(forged.body.code).toBe(4100);
    expect(genuine.body.code).toBe(0);
  });
});

describe("keys and tokens", () => {
  it("acts with a key's SecretId and SecretKey, within the key's policy", async () => {
    const queue = await newQueue();
    const key = await createKey([{ actions: ["send"], resources: [`queue:${queue}`] }]);

    const sent = await cmq("SendMessage", { queueName: queue, msgBody: "k" }, { credentials: key });
    const read = await cmq("GetQueueAttributes", { queueName: queue }, { credentials: key });

    expect(sent.body.code).toBe(0);
    expect(read.body).toMatchObject({ code: 4000, message: expect.stringMatching(/^\(10461\)not allowed: read on queue:/) });
  });

  it("acts with a browser token signed as its own secret, within the token's scope", async () => {
    const queue = await newQueue();
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const minted = await api("POST", "/v1/tokens", { actions: ["send"], resources: [`queue:${queue}`] }, { auth: bearer(key.secretKey) });
    const credentials = { secretId: key.secretId, secretKey: minted.body.token, token: minted.body.token };

    const sent = await cmq("SendMessage", { queueName: queue, msgBody: "from a token" }, { credentials });
    const read = await cmq("GetQueueAttributes", { queueName: queue }, { credentials });

    expect(sent.body.code).toBe(0);
    expect(read.body.code).toBe(4000);
    expect(read.body.message).toMatch(/^\(10461\)/);
  });

  it.each([
    ["signed with the key's secret instead of the token", (key: { secretKey: string }, token: string) => ({ secretKey: key.secretKey, token })],
    ["naming another SecretId", (_key: { secretKey: string }, token: string) => ({ secretKey: token, token, secretId: "AKIDother" })],
    ["with a tampered token", (_key: { secretKey: string }, token: string) => ({ secretKey: `${token}x`, token: `${token}x` })],
  ])("refuses a token request %s", async (_name, credentialsOf) => {
    const key = await createKey([{ actions: ["*"], resources: ["*"] }]);
    const minted = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"] }, { auth: bearer(key.secretKey) });

    const answer = await cmq("ListQueue", {}, { credentials: { secretId: key.secretId, ...credentialsOf(key, minted.body.token) } });

    expect(answer.body.code).toBe(4100);
  });
});
