import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { Actions, type Action } from "../../src/schema/account";
import { bearer, createAccount, createKey, forgeValidToken, type TestKey } from "../support/auth";
import { api, RootSecretKey } from "../support/http";
import { cmq } from "../support/cmq";
import { tc, tcCode, tcForm, tcFormParams, tcFormSend, tcHeaders, tcSend, TcEndpoint, type TcAnswer, type TcFormSigning } from "../support/tcapi";

/**
 * The Tencent Cloud API 3.0 interface (CMQ actions of TDMQ, TC3-HMAC-SHA256) against every way a
 * caller may lack the right to an action: each is refused with API 3.0's code (or, for lists,
 * shows nothing of what the caller may not see), and the account's state is the same afterwards.
 */
const id = crypto.randomUUID().slice(0, 8);
const Q = `tq-${id}`;
const D = `td-${id}`;
const T = `tt-${id}`;
const S = `ts-${id}`;
/** A queue and a topic only an intruder's create would bring into being. */
const NewQueue = `${Q}-new`;
const NewTopic = `${T}-new`;

interface TcEndpointCase {
  action: string;
  input: () => Record<string, unknown>;
  need: Action;
  /** For a key of another account: the code it gets, "list" when it lists nothing, "own" when it acts in its own account. */
  otherAccount: string;
  /** For a list, the field holding the entries and the name that must not show. */
  list?: { field: string; name: string };
  /** Undoes what a key of another account legitimately created in its own account. */
  undo?: { action: string; input: Record<string, unknown> };
}

const QueueMissing = "ResourceNotFound.Queue";
const TopicMissing = "ResourceNotFound.Topic";

const actions: TcEndpointCase[] = [
  { action: "CreateCmqQueue", input: () => ({ QueueName: NewQueue }), need: "manage", otherAccount: "own", undo: { action: "DeleteCmqQueue", input: { QueueName: NewQueue } } },
  { action: "DescribeCmqQueues", input: () => ({ QueueName: Q }), need: "read", otherAccount: "list", list: { field: "QueueList", name: Q } },
  { action: "DescribeCmqQueueDetail", input: () => ({ QueueName: Q }), need: "read", otherAccount: QueueMissing },
  { action: "ModifyCmqQueueAttribute", input: () => ({ QueueName: Q, VisibilityTimeout: 99 }), need: "manage", otherAccount: QueueMissing },
  { action: "DeleteCmqQueue", input: () => ({ QueueName: Q }), need: "manage", otherAccount: QueueMissing },
  { action: "ClearCmqQueue", input: () => ({ QueueName: Q }), need: "manage", otherAccount: QueueMissing },
  { action: "RewindCmqQueue", input: () => ({ QueueName: Q, StartConsumeTime: Math.floor(Date.now() / 1000) - 60 }), need: "manage", otherAccount: QueueMissing },
  { action: "UnbindCmqDeadLetter", input: () => ({ SourceQueueName: Q }), need: "manage", otherAccount: QueueMissing },
  { action: "DescribeCmqDeadLetterSourceQueues", input: () => ({ DeadLetterQueueName: D }), need: "read", otherAccount: QueueMissing },
  { action: "SendCmqMsg", input: () => ({ QueueName: Q, MsgContent: "intruder", DelaySeconds: 0 }), need: "send", otherAccount: QueueMissing },
  { action: "CreateCmqTopic", input: () => ({ TopicName: NewTopic }), need: "manage", otherAccount: "own", undo: { action: "DeleteCmqTopic", input: { TopicName: NewTopic } } },
  { action: "DescribeCmqTopics", input: () => ({ TopicName: T }), need: "read", otherAccount: "list", list: { field: "TopicList", name: T } },
  { action: "DescribeCmqTopicDetail", input: () => ({ TopicName: T }), need: "read", otherAccount: TopicMissing },
  { action: "ModifyCmqTopicAttribute", input: () => ({ TopicName: T, MaxMsgSize: 2048 }), need: "manage", otherAccount: TopicMissing },
  { action: "DeleteCmqTopic", input: () => ({ TopicName: T }), need: "manage", otherAccount: TopicMissing },
  { action: "PublishCmqMsg", input: () => ({ TopicName: T, MsgContent: "intruder" }), need: "publish", otherAccount: TopicMissing },
  { action: "CreateCmqSubscribe", input: () => ({ TopicName: T, SubscriptionName: `${S}-2`, Protocol: "http", Endpoint: "http://sink.test/ok/intruder" }), need: "manage", otherAccount: TopicMissing },
  { action: "DescribeCmqSubscriptionDetail", input: () => ({ TopicName: T }), need: "read", otherAccount: TopicMissing },
  { action: "ModifyCmqSubscriptionAttribute", input: () => ({ TopicName: T, SubscriptionName: S, NotifyStrategy: "BACKOFF_RETRY" }), need: "manage", otherAccount: TopicMissing },
  { action: "DeleteCmqSubscribe", input: () => ({ TopicName: T, SubscriptionName: S }), need: "manage", otherAccount: TopicMissing },
  { action: "ClearCmqSubscriptionFilterTags", input: () => ({ TopicName: T, SubscriptionName: S }), need: "manage", otherAccount: TopicMissing },
];

let keys: Record<string, TestKey>;

/** Everything an intruder could have changed, read with the root credentials. */
async function accountState(): Promise<unknown> {
  const [queue, peek, deadLetters, topic, subscriptions, newQueue, newTopic] = await Promise.all([
    api("GET", `/v1/queues/${Q}`),
    api("GET", `/v1/queues/${Q}/messages`),
    api("GET", `/v1/queues/${D}`),
    api("GET", `/v1/topics/${T}`),
    api("GET", `/v1/topics/${T}/subscriptions`),
    api("GET", `/v1/queues/${NewQueue}`),
    api("GET", `/v1/topics/${NewTopic}`),
  ]);
  return {
    queue: queue.body,
    peek: peek.body,
    deadLetters: deadLetters.body,
    topic: topic.body,
    subscriptions: subscriptions.body,
    intruderQueue: newQueue.status,
    intruderTopic: newTopic.status,
  };
}

beforeAll(async () => {
  await api("PUT", `/v1/queues/${D}`, {});
  await api("PUT", `/v1/queues/${Q}`, { rewindSeconds: 3600, deadLetter: { queue: D, maxReceiveCount: 5 } });
  await api("POST", `/v1/queues/${Q}/messages`, { body: "kept" });
  await api("PUT", `/v1/topics/${T}`, {});
  await api("PUT", `/v1/topics/${T}/subscriptions/${S}`, { protocol: "queue", endpoint: Q, filterTags: ["kept"], notifyContentFormat: "SIMPLIFIED" });
  const otherAccount = await createAccount(`tc-other-${id}`);
  keys = {
    all: await createKey([{ actions: ["*"], resources: ["*"] }]),
    disabled: await createKey([{ actions: ["*"], resources: ["*"] }]),
    otherResource: await createKey([{ actions: ["*"], resources: ["queue:zz-other-*", "topic:zz-other-*"] }]),
    otherAccount: await createKey([{ actions: ["*"], resources: ["*"] }], otherAccount),
  };
  for (const action of Actions) keys[`allBut-${action}`] = await createKey([{ actions: Actions.filter((other) => other !== action), resources: ["*"] }]);
  await api("PATCH", `/v1/accounts/default/keys/${keys.disabled!.secretId}`, { disabled: true });
});

interface Attack {
  name: string;
  send: (endpoint: TcEndpointCase, body: string) => Promise<TcAnswer>;
  expected: (endpoint: TcEndpointCase) => string;
}

const signedBy = (key: TestKey, signing: Parameters<typeof tcHeaders>[3] = {}) => async (endpoint: TcEndpointCase, body: string) =>
  tcSend(body, await tcHeaders(endpoint.action, body, key, signing));
/** The same request as API 3.0's form variant (profile.signMethod HmacSHA256 or HmacSHA1). */
const formSignedBy = (key: TestKey, signing: TcFormSigning = {}) => (endpoint: TcEndpointCase, body: string) => tcForm(endpoint.action, JSON.parse(body), key, signing);
const forbidden = (endpoint: TcEndpointCase) => (endpoint.list ? "list" : "AuthFailure.UnauthorizedOperation");
const SignatureFailure = "AuthFailure.SignatureFailure";

const attacks: Attack[] = [
  {
    name: "no credentials",
    send: async (endpoint, body) => {
      const { authorization: _dropped, ...unsigned } = await tcHeaders(endpoint.action, body, keys.all!);
      return tcSend(body, unsigned);
    },
    expected: () => "AuthFailure.InvalidAuthorization",
  },
  { name: "a wrong secret", send: (endpoint, body) => signedBy({ ...keys.all!, secretKey: `${keys.all!.secretKey}x` })(endpoint, body), expected: () => SignatureFailure },
  { name: "an unknown SecretId", send: (endpoint, body) => signedBy({ ...keys.all!, secretId: `AKID${"0".repeat(32)}` })(endpoint, body), expected: () => SignatureFailure },
  { name: "a disabled key", send: (endpoint, body) => signedBy(keys.disabled!)(endpoint, body), expected: () => "AuthFailure.SecretIdNotFound" },
  { name: "a key of another account", send: (endpoint, body) => signedBy(keys.otherAccount!)(endpoint, body), expected: (endpoint) => endpoint.otherAccount },
  { name: "a policy that forbids the action", send: (endpoint, body) => signedBy(keys[`allBut-${endpoint.need}`]!)(endpoint, body), expected: forbidden },
  { name: "a policy that allows only another resource", send: (endpoint, body) => signedBy(keys.otherResource!)(endpoint, body), expected: forbidden },
  {
    name: "a tampered signature",
    send: async (endpoint, body) => {
      const headers = await tcHeaders(endpoint.action, body, keys.all!);
      return tcSend(body, { ...headers, authorization: headers.authorization!.replace(/.$/, (last) => (last === "0" ? "1" : "0")) });
    },
    expected: () => SignatureFailure,
  },
  {
    name: "a body changed after signing",
    send: async (endpoint, body) => tcSend(body.replace(/}$/, ', "Limit": 1}'), await tcHeaders(endpoint.action, body, keys.all!)),
    expected: () => SignatureFailure,
  },
  {
    name: "another action than the one signed for",
    send: async (endpoint, body) => {
      // X-TC-Action is not among the signed headers (as the SDKs sign): the scope of the key still decides.
      const headers = await tcHeaders("DescribeCmqQueues", body, keys[`allBut-${endpoint.need}`]!);
      return tcSend(body, { ...headers, "x-tc-action": endpoint.action });
    },
    expected: forbidden,
  },
  { name: "a stale timestamp", send: (endpoint, body) => signedBy(keys.all!, { timestampSeconds: Math.floor(Date.now() / 1000) - 301 })(endpoint, body), expected: () => "AuthFailure.SignatureExpire" },
  { name: "a timestamp from the future", send: (endpoint, body) => signedBy(keys.all!, { timestampSeconds: Math.floor(Date.now() / 1000) + 330 })(endpoint, body), expected: () => "AuthFailure.SignatureExpire" },
  {
    name: "an expired token",
    send: async (endpoint, body) => {
      const token = await forgeValidToken({ account: "default", secretId: keys.all!.secretId, actions: [...Actions], resources: ["*"], expiresAt: Date.now() - 1 });
      const { authorization: _signature, ...headers } = await tcHeaders(endpoint.action, body, keys.all!);
      return tcSend(body, { ...headers, authorization: bearer(token) });
    },
    expected: () => SignatureFailure,
  },
  { name: "a form with a wrong secret", send: (endpoint, body) => formSignedBy({ ...keys.all!, secretKey: `${keys.all!.secretKey}x` })(endpoint, body), expected: () => SignatureFailure },
  { name: "a form with an unknown SecretId", send: (endpoint, body) => formSignedBy({ ...keys.all!, secretId: `AKID${"0".repeat(32)}` }, { signatureMethod: "HmacSHA1" })(endpoint, body), expected: () => SignatureFailure },
  { name: "a form signed by a disabled key", send: (endpoint, body) => formSignedBy(keys.disabled!)(endpoint, body), expected: () => "AuthFailure.SecretIdNotFound" },
  { name: "a form signed by a key of another account", send: (endpoint, body) => formSignedBy(keys.otherAccount!)(endpoint, body), expected: (endpoint) => endpoint.otherAccount },
  { name: "a form under a policy that forbids the action", send: (endpoint, body) => formSignedBy(keys[`allBut-${endpoint.need}`]!, { signatureMethod: "HmacSHA1" })(endpoint, body), expected: forbidden },
  { name: "a form with a stale timestamp", send: (endpoint, body) => formSignedBy(keys.all!, { timestampSeconds: Math.floor(Date.now() / 1000) - 301 })(endpoint, body), expected: () => "AuthFailure.SignatureExpire" },
  {
    name: "a replayed form",
    send: async (endpoint, body) => {
      // The first copy authenticates (and is refused the action), so its nonce is taken; the second is the replay.
      const params = await tcFormParams(endpoint.action, JSON.parse(body), keys[`allBut-${endpoint.need}`]!);
      const first = await tcFormSend(params);
      expect(tcCode(first)).toBe(endpoint.list ? "ok" : "AuthFailure.UnauthorizedOperation");
      return tcFormSend(params);
    },
    expected: () => SignatureFailure,
  },
];

const cases = actions.flatMap((endpoint) => attacks.map((attack) => [endpoint.action, attack.name, endpoint, attack] as const));

describe("every API 3.0 action refuses callers without the right", () => {
  it.each(cases)("%s with %s", async (_action, _attack, endpoint, attack) => {
    const before = await accountState();
    const body = JSON.stringify(endpoint.input());

    const answer = await attack.send(endpoint, body);

    const expected = attack.expected(endpoint);
    expect(answer.status).toBe(200);
    expect(answer.body.Response.RequestId).toBe(answer.headers.get("x-request-id"));
    if (expected === "list") {
      expect(tcCode(answer), JSON.stringify(answer.body)).toBe("ok");
      expect(answer.body.Response.TotalCount).toBe(0);
      expect(answer.body.Response[endpoint.list!.field]).toEqual([]);
    } else if (expected === "own") {
      expect(tcCode(answer), JSON.stringify(answer.body)).toBe("ok");
      const undone = await tc(endpoint.undo!.action, endpoint.undo!.input, keys.otherAccount!);
      expect(tcCode(undone)).toBe("ok");
    } else {
      expect(tcCode(answer), JSON.stringify(answer.body)).toBe(expected);
    }
    expect(await accountState()).toEqual(before);
  });
});

describe("the same actions with the right credentials", () => {
  it("accepts a request signed as tencentcloud-sdk-nodejs signs at a custom endpoint: service host:port, host without port", async () => {
    const answer = await tc("DescribeCmqQueueDetail", { QueueName: Q }, keys.all!);

    expect(tcCode(answer), JSON.stringify(answer.body)).toBe("ok");
    expect(answer.body.Response.QueueDescribe.QueueName).toBe(Q);
  });

  it("accepts the scope's service as the client names it, and the host with its port", async () => {
    const service = await tc("DescribeCmqQueueDetail", { QueueName: Q }, keys.all!, { service: "tdmq" });
    const root = await tc("DescribeCmqQueueDetail", { QueueName: Q }, { secretId: env.ROOT_SECRET_ID!, secretKey: RootSecretKey });

    expect(tcCode(service)).toBe("ok");
    expect(tcCode(root)).toBe("ok");
  });

  it("refuses a signature over another host than the request's", async () => {
    const body = JSON.stringify({ QueueName: Q });
    const headers = await tcHeaders("DescribeCmqQueueDetail", body, keys.all!, { url: "http://elsewhere.test/" });

    const answer = await tcSend(body, headers, "POST", TcEndpoint);

    expect(tcCode(answer)).toBe(SignatureFailure);
  });
});

describe("answers to pages", () => {
  it("carry Access-Control-Allow-Origin for an origin the account allows, and none for another", async () => {
    const body = JSON.stringify({ QueueName: Q });
    const headers = await tcHeaders("DescribeCmqQueueDetail", body, keys.all!);
    await api("PATCH", "/v1/accounts/default", { allowedOrigins: ["https://console.example"] });

    const allowed = await tcSend(body, { ...headers, origin: "https://console.example" });
    const other = await tcSend(body, { ...headers, origin: "https://evil.example" });
    await api("PATCH", "/v1/accounts/default", { allowedOrigins: null });

    expect([tcCode(allowed), tcCode(other)]).toEqual(["ok", "ok"]);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://console.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("carry the same headers for a form of the form variant", async () => {
    const signed = () => tcFormParams("DescribeCmqQueueDetail", { QueueName: Q }, keys.all!);
    await api("PATCH", "/v1/accounts/default", { allowedOrigins: ["https://console.example"] });

    const allowed = await tcFormSend(await signed(), "POST", "", { origin: "https://console.example" });
    const other = await tcFormSend(await signed(), "POST", "", { origin: "https://evil.example" });
    await api("PATCH", "/v1/accounts/default", { allowedOrigins: null });

    expect([tcCode(allowed), tcCode(other)]).toEqual(["ok", "ok"]);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://console.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the form variant and the CMQ action API, which share the form transport", () => {
  it("answers a form naming Version=2020-02-17 in API 3.0's dialect, by POST and by GET", async () => {
    const posted = await tcForm("DescribeCmqQueueDetail", { QueueName: Q }, keys.all!);
    const got = await tcForm("DescribeCmqQueues", { QueueNameList: [Q] }, keys.all!, { method: "GET", signatureMethod: "HmacSHA1" });

    expect(tcCode(posted), JSON.stringify(posted.body)).toBe("ok");
    expect(posted.body.Response.QueueDescribe.QueueName).toBe(Q);
    expect(posted.body.Response.RequestId).toBe(posted.headers.get("x-request-id"));
    expect(got.body.Response.QueueList.map((queue: { QueueName: string }) => queue.QueueName)).toEqual([Q]);
  });

  it("leaves a form without Version to the CMQ action API", async () => {
    const legacy = await cmq("GetQueueAttributes", { queueName: Q }, { signatureMethod: "HmacSHA256", path: "/" });

    expect(legacy.body).toMatchObject({ code: 0, message: "" });
    expect(legacy.body.Response).toBeUndefined();
  });

  it("leaves a form naming another Version to the CMQ action API, which has no such action", async () => {
    const other = await tcForm("DescribeCmqQueueDetail", { QueueName: Q }, keys.all!, { version: "2019-03-04" });

    expect(other.body).toMatchObject({ code: 4000, message: "(10430)action name DescribeCmqQueueDetail is not existed" });
    expect(other.body.Response).toBeUndefined();
  });

  it("refuses a form sent again with its Nonce and Timestamp in API 3.0's dialect", async () => {
    const params = await tcFormParams("SendCmqMsg", { QueueName: Q, MsgContent: "once", DelaySeconds: 0 }, keys.all!);

    const first = await tcFormSend(params);
    const afterFirst = await accountState();
    const replay = await tcFormSend(params);

    expect(tcCode(first)).toBe("ok");
    expect(tcCode(replay)).toBe(SignatureFailure);
    expect(replay.body.Response.Error.Message).toContain("Nonce");
    expect(await accountState()).toEqual(afterFirst);
  });

  it("takes a browser token of this service in Token, signed with the token, within the token's scope", async () => {
    const minted = await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"], ttlSeconds: 600 }, { auth: bearer(keys.all!.secretKey) });
    const holder = { secretId: keys.all!.secretId, secretKey: minted.body.token, token: minted.body.token };
    const before = await accountState();

    const read = await tcForm("DescribeCmqQueueDetail", { QueueName: Q }, holder);
    const send = await tcForm("SendCmqMsg", { QueueName: Q, MsgContent: "beyond the token", DelaySeconds: 0 }, holder);
    const wrongSecret = await tcForm("DescribeCmqQueueDetail", { QueueName: Q }, { ...holder, secretKey: keys.all!.secretKey });

    expect(minted.status).toBe(201);
    expect(tcCode(read), JSON.stringify(read.body)).toBe("ok");
    expect(tcCode(send)).toBe("AuthFailure.UnauthorizedOperation");
    expect(tcCode(wrongSecret)).toBe(SignatureFailure);
    expect(await accountState()).toEqual(before);
  });

  it("refuses a form whose Timestamp is out of the window with AuthFailure.SignatureExpire", async () => {
    const stale = await tcForm("DescribeCmqQueueDetail", { QueueName: Q }, keys.all!, { timestampSeconds: Math.floor(Date.now() / 1000) - 301, signatureMethod: "HmacSHA1" });
    const future = await tcForm("DescribeCmqQueueDetail", { QueueName: Q }, keys.all!, { timestampSeconds: Math.floor(Date.now() / 1000) + 330 });

    expect([tcCode(stale), tcCode(future)]).toEqual(["AuthFailure.SignatureExpire", "AuthFailure.SignatureExpire"]);
  });

  it("refuses a form signed for another host or path", async () => {
    const params = await tcFormParams("DescribeCmqQueueDetail", { QueueName: Q }, keys.all!);
    const request = new Request("http://localhost:18787/v2/index.php", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(params).toString(),
    });

    const answer = await (exports as unknown as { default: Fetcher }).default.fetch(request);

    expect(((await answer.json()) as { Response: { Error: { Code: string } } }).Response.Error.Code).toBe(SignatureFailure);
  });
});
