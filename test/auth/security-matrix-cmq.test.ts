import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { Actions, type Action } from "../../src/schema/account";
import { api } from "../support/http";
import { bearer, createAccount, createKey, forgeValidToken, type TestKey } from "../support/auth";
import { cmq, listParams, sendParams, signedParams, type CmqAnswer, type CmqCredentials, type CmqRequestOptions } from "../support/cmq";

/**
 * Every action of the legacy CMQ API against every way a caller may lack the right to it: each is
 * refused with CMQ's code (or, for lists, shows nothing the caller may not see), and the state of
 * the account is the same afterwards.
 */
const id = crypto.randomUUID().slice(0, 8);
const Q = `cq-${id}`;
const D = `cd-${id}`;
const T = `ct-${id}`;
const S = `cs-${id}`;
const Handle = "1-00000000000000000000000000000000";

interface CmqEndpoint {
  action: string;
  params: () => Record<string, string | number>;
  need: Action;
  /** For a key of another account: CMQ's code, "list" for an empty list, or "own" when it acts in its own account. */
  otherAccount: number | "list" | "own";
  /** The list field that must not show the resource. */
  list?: { field: string; name: string; key: string };
  /** Undoes what a key of another account legitimately created in its own account. */
  undo?: { action: string; params: () => Record<string, string> };
}

const endpoints: CmqEndpoint[] = [
  { action: "CreateQueue", params: () => ({ queueName: `${Q}-new` }), need: "manage", otherAccount: "own", undo: { action: "DeleteQueue", params: () => ({ queueName: `${Q}-new` }) } },
  { action: "ListQueue", params: () => ({ searchWord: id }), need: "read", otherAccount: "list", list: { field: "queueList", name: Q, key: "queueName" } },
  { action: "GetQueueAttributes", params: () => ({ queueName: Q }), need: "read", otherAccount: 4440 },
  { action: "SetQueueAttributes", params: () => ({ queueName: Q, visibilityTimeout: 99 }), need: "manage", otherAccount: 4440 },
  { action: "DeleteQueue", params: () => ({ queueName: Q }), need: "manage", otherAccount: 4440 },
  { action: "RewindQueue", params: () => ({ queueName: Q, startConsumeTime: Math.floor(Date.now() / 1000) - 10 }), need: "manage", otherAccount: 4440 },
  { action: "SendMessage", params: () => ({ queueName: Q, msgBody: "intruder" }), need: "send", otherAccount: 4440 },
  { action: "BatchSendMessage", params: () => ({ queueName: Q, ...listParams("msgBody", ["intruder"]) }), need: "send", otherAccount: 4440 },
  { action: "ReceiveMessage", params: () => ({ queueName: Q, pollingWaitSeconds: 0 }), need: "receive", otherAccount: 4440 },
  { action: "BatchReceiveMessage", params: () => ({ queueName: Q, numOfMsg: 16, pollingWaitSeconds: 0 }), need: "receive", otherAccount: 4440 },
  { action: "DeleteMessage", params: () => ({ queueName: Q, receiptHandle: Handle }), need: "receive", otherAccount: 4440 },
  { action: "BatchDeleteMessage", params: () => ({ queueName: Q, ...listParams("receiptHandle", [Handle]) }), need: "receive", otherAccount: 4440 },
  { action: "UnbindDeadLetterQueue", params: () => ({ queueName: Q }), need: "manage", otherAccount: 4440 },
  { action: "ListDeadLetterSourceQueues", params: () => ({ deadLetterQueueName: D }), need: "read", otherAccount: 4440 },
  { action: "CreateTopic", params: () => ({ topicName: `${T}-new` }), need: "manage", otherAccount: "own", undo: { action: "DeleteTopic", params: () => ({ topicName: `${T}-new` }) } },
  { action: "ListTopic", params: () => ({ searchWord: id }), need: "read", otherAccount: "list", list: { field: "topicList", name: T, key: "topicName" } },
  { action: "GetTopicAttributes", params: () => ({ topicName: T }), need: "read", otherAccount: 4440 },
  { action: "SetTopicAttributes", params: () => ({ topicName: T, maxMsgSize: 2048 }), need: "manage", otherAccount: 4440 },
  { action: "DeleteTopic", params: () => ({ topicName: T }), need: "manage", otherAccount: 4440 },
  { action: "PublishMessage", params: () => ({ topicName: T, msgBody: "intruder" }), need: "publish", otherAccount: 4440 },
  { action: "BatchPublishMessage", params: () => ({ topicName: T, ...listParams("msgBody", ["intruder"]) }), need: "publish", otherAccount: 4440 },
  { action: "Subscribe", params: () => ({ topicName: T, subscriptionName: `${S}-2`, protocol: "http", endpoint: "http://sink.test/ok/intruder" }), need: "manage", otherAccount: 4440 },
  { action: "ListSubscriptionByTopic", params: () => ({ topicName: T }), need: "read", otherAccount: 4440 },
  { action: "GetSubscriptionAttributes", params: () => ({ topicName: T, subscriptionName: S }), need: "read", otherAccount: 4440 },
  { action: "SetSubscriptionAttributes", params: () => ({ topicName: T, subscriptionName: S, notifyStrategy: "BACKOFF_RETRY" }), need: "manage", otherAccount: 4440 },
  { action: "Unsubscribe", params: () => ({ topicName: T, subscriptionName: S }), need: "manage", otherAccount: 4440 },
  { action: "ClearSubscriptionFilterTags", params: () => ({ topicName: T, subscriptionName: S }), need: "manage", otherAccount: 4440 },
];

let keys: Record<string, TestKey>;

/** Everything an intruder could have changed, read with the root credentials. */
async function accountState(): Promise<unknown> {
  const [queue, peek, deadLetters, topic, subscriptions] = await Promise.all([
    api("GET", `/v1/queues/${Q}`),
    api("GET", `/v1/queues/${Q}/messages`),
    api("GET", `/v1/queues/${D}`),
    api("GET", `/v1/topics/${T}`),
    api("GET", `/v1/topics/${T}/subscriptions`),
  ]);
  return { queue: queue.body, peek: peek.body, deadLetters: deadLetters.body, topic: topic.body, subscriptions: subscriptions.body };
}

beforeAll(async () => {
  await api("PUT", `/v1/queues/${D}`, {});
  await api("PUT", `/v1/queues/${Q}`, { rewindSeconds: 3600, deadLetter: { queue: D, maxReceiveCount: 5 } });
  await api("POST", `/v1/queues/${Q}/messages`, { body: "kept" });
  await api("PUT", `/v1/topics/${T}`, {});
  await api("PUT", `/v1/topics/${T}/subscriptions/${S}`, { protocol: "queue", endpoint: Q, filterTags: ["kept"] });
  const otherAccount = await createAccount(`cmq-other-${id}`);
  keys = {
    all: await createKey([{ actions: ["*"], resources: ["*"] }]),
    disabled: await createKey([{ actions: ["*"], resources: ["*"] }]),
    otherResource: await createKey([{ actions: ["*"], resources: ["queue:zz-other-*", "topic:zz-other-*"] }]),
    otherAccount: await createKey([{ actions: ["*"], resources: ["*"] }], otherAccount),
  };
  for (const action of Actions) keys[`allBut-${action}`] = await createKey([{ actions: Actions.filter((each) => each !== action), resources: ["*"] }]);
  await api("PATCH", `/v1/accounts/default/keys/${keys.disabled!.secretId}`, { disabled: true });
});

type Expected = number | "list" | "own";

interface Attack {
  name: string;
  send: (endpoint: CmqEndpoint) => Promise<CmqAnswer>;
  expected: (endpoint: CmqEndpoint) => Expected;
}

const as = (credentials: CmqCredentials, options: CmqRequestOptions = {}) => (endpoint: CmqEndpoint) =>
  cmq(endpoint.action, endpoint.params(), { ...options, credentials });
const forbidden = (endpoint: CmqEndpoint): Expected => (endpoint.list ? "list" : 4000);

async function tokenOf(key: TestKey, actions: readonly Action[]): Promise<CmqCredentials> {
  const minted = await api("POST", "/v1/tokens", { actions, resources: ["*"], ttlSeconds: 600 }, { auth: bearer(key.secretKey) });
  return { secretId: key.secretId, secretKey: minted.body.token, token: minted.body.token };
}

/** Timestamps outside the ±300 s window by 30 s, so that a loaded machine's clock drift between signing and checking cannot bring them back in. */
const attacks: Attack[] = [
  { name: "a wrong secret", send: (endpoint) => as({ ...keys.all!, secretKey: `${keys.all!.secretKey}x` })(endpoint), expected: () => 4100 },
  { name: "an unknown SecretId", send: (endpoint) => as({ ...keys.all!, secretId: `AKID${"0".repeat(32)}` })(endpoint), expected: () => 4100 },
  { name: "a disabled key", send: (endpoint) => as(keys.disabled!)(endpoint), expected: () => 4100 },
  { name: "a key of another account", send: (endpoint) => as(keys.otherAccount!)(endpoint), expected: (endpoint) => endpoint.otherAccount },
  { name: "a policy that forbids the action", send: (endpoint) => as(keys[`allBut-${endpoint.need}`]!)(endpoint), expected: forbidden },
  { name: "a policy that allows only another resource", send: (endpoint) => as(keys.otherResource!)(endpoint), expected: forbidden },
  { name: "a stale timestamp", send: (endpoint) => as(keys.all!, { timestampSeconds: Math.floor(Date.now() / 1000) - 330 })(endpoint), expected: () => 4100 },
  { name: "a timestamp too far ahead", send: (endpoint) => as(keys.all!, { timestampSeconds: Math.floor(Date.now() / 1000) + 330 })(endpoint), expected: () => 4100 },
  { name: "a tampered signature", send: (endpoint) => as(keys.all!, { tamper: (signature) => (signature[0] === "A" ? "B" : "A") + signature.slice(1) })(endpoint), expected: () => 4100 },
  { name: "a token used beyond its scope", send: async (endpoint) => as(await tokenOf(keys.all!, Actions.filter((action) => action !== endpoint.need)))(endpoint), expected: forbidden },
  {
    name: "an expired token",
    send: async (endpoint) => {
      const token = await forgeValidToken({ account: "default", secretId: keys.all!.secretId, actions: [...Actions], resources: ["*"], expiresAt: Date.now() - 1 });
      return as({ secretId: keys.all!.secretId, secretKey: token, token })(endpoint);
    },
    expected: () => 4100,
  },
  {
    name: "a replayed nonce",
    send: async (endpoint) => {
      // The first use is refused for lack of a right, so the replay alone is what is tested.
      const options = { credentials: keys[`allBut-${endpoint.need}`]! };
      const params = await signedParams(endpoint.action, endpoint.params(), options);
      await sendParams(params, options);
      return sendParams(params, options);
    },
    expected: () => 4100,
  },
];

const cases = endpoints.flatMap((endpoint) => attacks.map((attack) => [endpoint.action, attack.name, endpoint, attack] as const));

describe("every CMQ action refuses callers without the right", () => {
  it.each(cases)("%s with %s", async (_action, _attack, endpoint, attack) => {
    const before = await accountState();

    const answer = await attack.send(endpoint);

    const expected = attack.expected(endpoint);
    expect(answer.status).toBe(200);
    if (expected === "list") {
      expect(answer.body.code, JSON.stringify(answer.body)).toBe(0);
      const names = (answer.body[endpoint.list!.field] as Array<Record<string, string>>).map((item) => item[endpoint.list!.key]);
      expect(names).not.toContain(endpoint.list!.name);
    } else if (expected === "own") {
      expect(answer.body.code, JSON.stringify(answer.body)).toBe(0);
      const undone = await cmq(endpoint.undo!.action, endpoint.undo!.params(), { credentials: keys.otherAccount! });
      expect(undone.body.code).toBe(0);
    } else {
      expect(answer.body.code, JSON.stringify(answer.body)).toBe(expected);
      if (expected === 4000) expect(answer.body.message).toMatch(/^\(10461\)not allowed/);
      if (expected === 4100) expect(answer.body.message).toMatch(/^\(10030\)/);
    }
    expect(await accountState()).toEqual(before);
  });

  it("answers an unknown SecretId and a wrong secret alike", async () => {
    const unknown = await cmq("GetQueueAttributes", { queueName: Q }, { credentials: { ...keys.all!, secretId: `AKID${"1".repeat(32)}` } });
    const wrong = await cmq("GetQueueAttributes", { queueName: Q }, { credentials: { ...keys.all!, secretKey: "wrong" } });

    expect(unknown.body.message).toBe(wrong.body.message);
    expect(unknown.body.code).toBe(4100);
  });

  it("acts for a key with the right, in its own account", async () => {
    const answer = await cmq("GetQueueAttributes", { queueName: Q }, { credentials: keys.all! });

    expect(answer.body).toMatchObject({ code: 0, queueName: Q, activeMsgNum: 1 });
  });

  it("acts for the root credentials", async () => {
    const answer = await cmq("GetTopicAttributes", { topicName: T }, { credentials: { secretId: env.ROOT_SECRET_ID!, secretKey: "test-root-secret-key-0123456789abcdef" } });

    expect(answer.body).toMatchObject({ code: 0, topicName: T });
  });
});
