import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { HttpStatusOfError } from "../../src/api/rest/errors";
import type { ErrorCode } from "../../src/errors";
import { Actions, type Action } from "../../src/schema/account";
import { api, RootSecretKey } from "../support/http";
import { deadLetters as deadLetterMessages, Prefix } from "../objects/support";
import { bearer, createAccount, createKey, forgeValidToken, tc3Headers, type TestKey } from "../support/auth";
import { sigV4Headers, type SigV4Signing } from "../support/sigv4";
import { sqsWireHeaders, sqsWithHeaders } from "../support/sqs";

/**
 * Every endpoint against every way a caller may lack the right to it: each is refused with its
 * stable code (or, for lists, shows nothing of what the caller may not see), and the state of the
 * account is the same afterwards.
 */
const id = crypto.randomUUID().slice(0, 8);
const Q = `sq-${id}`;
const T = `st-${id}`;
const S = `ss-${id}`;
/** A dead-letter queue holding a dead letter from Q. */
const D = `sd-${id}`;

type Need = Action | "root" | "any";

interface Endpoint {
  name: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  need: Need;
  /** For a key of another account: the code it gets, "list" when it gets an empty list, or "own" when it acts in its own account. */
  otherAccount: ErrorCode | "list" | "own";
  list?: { field: string; name: string };
  /** Undoes what a key of another account legitimately created in its own account. */
  undo?: { method: string; path: () => string };
}

let keys: Record<string, TestKey>;
let sacrificialKey: TestKey;
/** Minted with every right by a key that was rotated afterwards. */
let tokenOfRotatedKey: string;

const endpoints: Endpoint[] = [
  { name: "health", method: "GET", path: () => "/v1/health", need: "any", otherAccount: "own" },
  { name: "list queues", method: "GET", path: () => "/v1/queues", need: "read", otherAccount: "list", list: { field: "queues", name: Q } },
  { name: "create queue", method: "PUT", path: () => `/v1/queues/${Q}`, body: () => ({ visibilityTimeout: 31 }), need: "manage", otherAccount: "own", undo: { method: "DELETE", path: () => `/v1/queues/${Q}` } },
  { name: "get queue", method: "GET", path: () => `/v1/queues/${Q}`, need: "read", otherAccount: "QueueNotFound" },
  { name: "update queue", method: "PATCH", path: () => `/v1/queues/${Q}`, body: () => ({ visibilityTimeout: 99 }), need: "manage", otherAccount: "QueueNotFound" },
  { name: "raise partitions", method: "PATCH", path: () => `/v1/queues/${Q}`, body: () => ({ partitions: 8 }), need: "manage", otherAccount: "QueueNotFound" },
  { name: "delete queue", method: "DELETE", path: () => `/v1/queues/${Q}`, need: "manage", otherAccount: "QueueNotFound" },
  { name: "list dead-letter sources", method: "GET", path: () => `/v1/queues/${D}/dead-letter-sources`, need: "read", otherAccount: "QueueNotFound" },
  { name: "send", method: "POST", path: () => `/v1/queues/${Q}/messages`, body: () => ({ body: "intruder" }), need: "send", otherAccount: "QueueNotFound" },
  { name: "receive", method: "POST", path: () => `/v1/queues/${Q}/messages/receive`, body: () => ({ max: 16 }), need: "receive", otherAccount: "QueueNotFound" },
  { name: "batch delete", method: "POST", path: () => `/v1/queues/${Q}/messages/delete`, body: () => ({ receiptHandles: ["1-00000000000000000000000000000000"] }), need: "receive", otherAccount: "QueueNotFound" },
  { name: "delete message", method: "DELETE", path: () => `/v1/queues/${Q}/messages/1-00000000000000000000000000000000`, need: "receive", otherAccount: "QueueNotFound" },
  { name: "batch delete, partition handle", method: "POST", path: () => `/v1/queues/${Q}/messages/delete`, body: () => ({ receiptHandles: ["p1_1-00000000000000000000000000000000"] }), need: "receive", otherAccount: "QueueNotFound" },
  { name: "change visibility, partition handle", method: "POST", path: () => `/v1/queues/${Q}/messages/visibility`, body: () => ({ receiptHandle: "p3_1-00000000000000000000000000000000", visibilityTimeout: 5 }), need: "receive", otherAccount: "QueueNotFound" },
  { name: "change visibility", method: "POST", path: () => `/v1/queues/${Q}/messages/visibility`, body: () => ({ receiptHandle: "1-00000000000000000000000000000000", visibilityTimeout: 5 }), need: "receive", otherAccount: "QueueNotFound" },
  { name: "peek", method: "GET", path: () => `/v1/queues/${Q}/messages`, need: "read", otherAccount: "QueueNotFound" },
  { name: "purge", method: "POST", path: () => `/v1/queues/${Q}/purge`, need: "manage", otherAccount: "QueueNotFound" },
  { name: "rewind", method: "POST", path: () => `/v1/queues/${Q}/rewind`, body: () => ({ since: Date.now() - 1000 }), need: "manage", otherAccount: "QueueNotFound" },
  { name: "start redrive", method: "POST", path: () => `/v1/queues/${Q}/redrive`, body: () => ({}), need: "manage", otherAccount: "QueueNotFound" },
  { name: "redrive to the source queues", method: "POST", path: () => `/v1/queues/${D}/redrive`, body: () => ({}), need: "send", otherAccount: "QueueNotFound" },
  { name: "get redrive", method: "GET", path: () => `/v1/queues/${Q}/redrive`, need: "read", otherAccount: "QueueNotFound" },
  { name: "list redrives", method: "GET", path: () => `/v1/queues/${D}/redrives`, need: "read", otherAccount: "QueueNotFound" },
  { name: "get rates", method: "GET", path: () => `/v1/queues/${Q}/rates`, need: "read", otherAccount: "QueueNotFound" },
  { name: "cancel redrive", method: "DELETE", path: () => `/v1/queues/${Q}/redrive`, need: "manage", otherAccount: "QueueNotFound" },
  { name: "list queue tags", method: "GET", path: () => `/v1/queues/${Q}/tags`, need: "read", otherAccount: "QueueNotFound" },
  { name: "tag queue", method: "PATCH", path: () => `/v1/queues/${Q}/tags`, body: () => ({ tags: { intruder: "yes" } }), need: "manage", otherAccount: "QueueNotFound" },
  { name: "untag queue", method: "POST", path: () => `/v1/queues/${Q}/tags/delete`, body: () => ({ keys: ["owner"] }), need: "manage", otherAccount: "QueueNotFound" },
  { name: "set consumer", method: "PUT", path: () => `/v1/queues/${Q}/consumer`, body: () => ({ binding: "SINK" }), need: "manage", otherAccount: "QueueNotFound" },
  // A consumer takes and deletes the queue's messages: setting one also needs the right to receive them.
  { name: "set consumer without receive", method: "PUT", path: () => `/v1/queues/${Q}/consumer`, body: () => ({ binding: "SINK" }), need: "receive", otherAccount: "QueueNotFound" },
  { name: "get consumer", method: "GET", path: () => `/v1/queues/${Q}/consumer`, need: "read", otherAccount: "QueueNotFound" },
  { name: "delete consumer", method: "DELETE", path: () => `/v1/queues/${Q}/consumer`, need: "manage", otherAccount: "QueueNotFound" },
  { name: "pause consumer", method: "POST", path: () => `/v1/queues/${Q}/consumer/pause`, need: "manage", otherAccount: "QueueNotFound" },
  { name: "resume consumer", method: "POST", path: () => `/v1/queues/${Q}/consumer/resume`, need: "manage", otherAccount: "QueueNotFound" },
  { name: "list topics", method: "GET", path: () => "/v1/topics", need: "read", otherAccount: "list", list: { field: "topics", name: T } },
  { name: "create topic", method: "PUT", path: () => `/v1/topics/${T}`, body: () => ({ maxMsgSize: 2048 }), need: "manage", otherAccount: "own", undo: { method: "DELETE", path: () => `/v1/topics/${T}` } },
  { name: "get topic", method: "GET", path: () => `/v1/topics/${T}`, need: "read", otherAccount: "TopicNotFound" },
  { name: "update topic", method: "PATCH", path: () => `/v1/topics/${T}`, body: () => ({ maxMsgSize: 2048 }), need: "manage", otherAccount: "TopicNotFound" },
  { name: "delete topic", method: "DELETE", path: () => `/v1/topics/${T}`, need: "manage", otherAccount: "TopicNotFound" },
  { name: "publish", method: "POST", path: () => `/v1/topics/${T}/messages`, body: () => ({ body: "intruder" }), need: "publish", otherAccount: "TopicNotFound" },
  { name: "list subscriptions", method: "GET", path: () => `/v1/topics/${T}/subscriptions`, need: "read", otherAccount: "TopicNotFound" },
  { name: "subscribe", method: "PUT", path: () => `/v1/topics/${T}/subscriptions/${S}-2`, body: () => ({ protocol: "http", endpoint: "http://sink.test/ok/intruder" }), need: "manage", otherAccount: "TopicNotFound" },
  { name: "get subscription", method: "GET", path: () => `/v1/topics/${T}/subscriptions/${S}`, need: "read", otherAccount: "TopicNotFound" },
  { name: "update subscription", method: "PATCH", path: () => `/v1/topics/${T}/subscriptions/${S}`, body: () => ({ notifyStrategy: "BACKOFF_RETRY" }), need: "manage", otherAccount: "TopicNotFound" },
  { name: "unsubscribe", method: "DELETE", path: () => `/v1/topics/${T}/subscriptions/${S}`, need: "manage", otherAccount: "TopicNotFound" },
  { name: "create account", method: "POST", path: () => "/v1/accounts", body: () => ({ name: `intruder-${id}` }), need: "root", otherAccount: "Forbidden" },
  { name: "list accounts", method: "GET", path: () => "/v1/accounts", need: "root", otherAccount: "Forbidden" },
  { name: "get account", method: "GET", path: () => "/v1/accounts/default", need: "manage", otherAccount: "AccountNotFound" },
  { name: "update account", method: "PATCH", path: () => "/v1/accounts/default", body: () => ({ allowedOrigins: ["https://evil.test"] }), need: "manage", otherAccount: "AccountNotFound" },
  { name: "create key", method: "POST", path: () => "/v1/accounts/default/keys", body: () => ({ policy: { statements: [{ actions: ["*"], resources: ["*"] }] } }), need: "manage", otherAccount: "AccountNotFound" },
  { name: "list keys", method: "GET", path: () => "/v1/accounts/default/keys", need: "manage", otherAccount: "AccountNotFound" },
  { name: "disable key", method: "PATCH", path: () => `/v1/accounts/default/keys/${sacrificialKey.secretId}`, body: () => ({ disabled: true }), need: "manage", otherAccount: "AccountNotFound" },
  { name: "change key policy", method: "PATCH", path: () => `/v1/accounts/default/keys/${sacrificialKey.secretId}`, body: () => ({ policy: { statements: [{ actions: ["*"], resources: ["*"] }] } }), need: "manage", otherAccount: "AccountNotFound" },
  { name: "rotate key", method: "POST", path: () => `/v1/accounts/default/keys/${sacrificialKey.secretId}/rotate`, need: "manage", otherAccount: "AccountNotFound" },
  { name: "delete key", method: "DELETE", path: () => `/v1/accounts/default/keys/${sacrificialKey.secretId}`, need: "manage", otherAccount: "AccountNotFound" },
  // Any valid credentials may ask who they are; another account's key is told its own account.
  { name: "who am I", method: "GET", path: () => "/v1/whoami", need: "any", otherAccount: "own" },
  { name: "mint token", method: "POST", path: () => "/v1/tokens", body: () => ({ actions: ["read"], resources: [`queue:${Q}`] }), need: "read", otherAccount: "own" },
];

/** Everything an intruder could have changed, read with the root credentials. */
async function accountState(): Promise<unknown> {
  const [queue, peek, deadLetters, redrive, topic, subscriptions, keyList, accounts, consumer] = await Promise.all([
    api("GET", `/v1/queues/${Q}`),
    api("GET", `/v1/queues/${Q}/messages`),
    api("GET", `/v1/queues/${D}/messages`),
    api("GET", `/v1/queues/${D}/redrive`),
    api("GET", `/v1/topics/${T}`),
    api("GET", `/v1/topics/${T}/subscriptions`),
    api("GET", "/v1/accounts/default/keys"),
    api("GET", "/v1/accounts"),
    api("GET", `/v1/queues/${Q}/consumer`),
  ]);
  // The consumer's settings and state; its counters' lag moves with the clock.
  const { stats: _stats, ...consumerSettings } = consumer.body;
  return {
    queue: queue.body,
    peek: peek.body,
    deadLetters: deadLetters.body,
    redrive: { status: redrive.status, state: redrive.body.status ?? redrive.body.error?.code, moved: redrive.body.moved },
    topic: topic.body,
    subscriptions: subscriptions.body,
    keys: keyList.body,
    accounts: accounts.body,
    consumer: consumerSettings,
  };
}

const allActions = (except?: Action) => Actions.filter((action) => action !== except);

beforeAll(async () => {
  await api("PUT", `/v1/queues/${Q}`, { tags: { owner: "matrix" } });
  await api("POST", `/v1/queues/${Q}/messages`, { body: "kept" });
  await api("PUT", `/v1/queues/${D}`, {});
  // D is a dead-letter queue by policy too, so that a move task may start from it.
  await api("PUT", `/v1/queues/${Q}-src`, { deadLetter: { queue: D, maxReceiveCount: 5 } });
  const deadLetterQueue = env.QUEUES.get(env.QUEUES.idFromName(`${Prefix}${D}`));
  expect(await deadLetterQueue.accept(deadLetterMessages(Q, "dead"))).toMatchObject({ ok: true });
  // A paused consumer, so that Q keeps its message; a batch would also wait a minute to fill.
  await api("PUT", `/v1/queues/${Q}/consumer`, { binding: "QUEUE_CONSUMER", batchSize: 100, maxWaitMs: 60_000 });
  await api("POST", `/v1/queues/${Q}/consumer/pause`);
  await api("PUT", `/v1/topics/${T}`, {});
  await api("PUT", `/v1/topics/${T}/subscriptions/${S}`, { protocol: "queue", endpoint: Q });
  const otherAccount = await createAccount(`other-${id}`);
  keys = {
    all: await createKey([{ actions: ["*"], resources: ["*"] }]),
    disabled: await createKey([{ actions: ["*"], resources: ["*"] }]),
    otherResource: await createKey([{ actions: ["*"], resources: ["queue:zz-other-*", "topic:zz-other-*"] }]),
    otherAccount: await createKey([{ actions: ["*"], resources: ["*"] }], otherAccount),
    manageOnly: await createKey([{ actions: ["manage"], resources: ["*"] }]),
  };
  for (const action of Actions) keys[`allBut-${action}`] = await createKey([{ actions: allActions(action), resources: ["*"] }]);
  sacrificialKey = await createKey([{ actions: ["read"], resources: ["*"] }]);
  await api("PATCH", `/v1/accounts/default/keys/${keys.disabled!.secretId}`, { disabled: true });
  const rotatedKey = await createKey([{ actions: ["*"], resources: ["*"] }]);
  const minted = await api("POST", "/v1/tokens", { actions: [...Actions], resources: ["*"], ttlSeconds: 600 }, { auth: bearer(rotatedKey.secretKey) });
  tokenOfRotatedKey = minted.body.token;
  await api("POST", `/v1/accounts/default/keys/${rotatedKey.secretId}/rotate`);
});

type Attack = {
  name: string;
  applies: (endpoint: Endpoint) => boolean;
  credentials: (endpoint: Endpoint) => Promise<{ auth?: string | null; headers?: Record<string, string> }>;
  expected: (endpoint: Endpoint) => ErrorCode | "list" | "own";
};

const needsRights = (endpoint: Endpoint) => endpoint.need !== "any";
const actionOf = (endpoint: Endpoint): Action => (endpoint.need === "root" || endpoint.need === "any" ? "manage" : endpoint.need);
const forbidden = (endpoint: Endpoint): ErrorCode | "list" => (endpoint.list ? "list" : "Forbidden");

/** Endpoints that make lasting changes to credentials or account settings: no token may call them. */
const credentialChanges = new Set(["update account", "create key", "disable key", "change key policy", "rotate key", "delete key"]);
const changesCredentials = (endpoint: Endpoint) => credentialChanges.has(endpoint.name);

const attacks: Attack[] = [
  // Health is open to load balancers: without credentials it answers as to anyone (sent ones are checked).
  { name: "no credentials", applies: () => true, credentials: async () => ({ auth: null }), expected: (endpoint) => (endpoint.name === "health" ? "own" : "Unauthenticated") },
  { name: "a wrong secret", applies: () => true, credentials: async () => ({ auth: bearer(`${RootSecretKey}x`) }), expected: () => "Unauthenticated" },
  { name: "a disabled key", applies: () => true, credentials: async () => ({ auth: bearer(keys.disabled!.secretKey) }), expected: () => "Unauthenticated" },
  {
    name: "a key of another account",
    applies: () => true,
    credentials: async () => ({ auth: bearer(keys.otherAccount!.secretKey) }),
    expected: (endpoint) => endpoint.otherAccount,
  },
  {
    name: "a policy that forbids the action",
    applies: needsRights,
    credentials: async (endpoint) => ({ auth: bearer(keys[`allBut-${actionOf(endpoint)}`]!.secretKey) }),
    expected: forbidden,
  },
  {
    name: "a policy that allows only another resource",
    applies: needsRights,
    credentials: async () => ({ auth: bearer(keys.otherResource!.secretKey) }),
    expected: forbidden,
  },
  {
    name: "an expired token",
    applies: () => true,
    credentials: async () => ({
      auth: bearer(
        await forgeValidToken({
          account: "default",
          secretId: keys.all!.secretId,
          actions: [...Actions],
          resources: ["*"],
          expiresAt: Date.now() - 1,
        }),
      ),
    }),
    expected: () => "Unauthenticated",
  },
  {
    name: "a token minted before its key was rotated",
    applies: () => true,
    credentials: async () => ({ auth: bearer(tokenOfRotatedKey) }),
    expected: () => "Unauthenticated",
  },
  {
    name: "a token used beyond its scope",
    applies: needsRights,
    credentials: async (endpoint) => {
      const minted = await api(
        "POST",
        "/v1/tokens",
        { actions: allActions(actionOf(endpoint)), resources: ["*"], ttlSeconds: 600 },
        { auth: bearer(keys.all!.secretKey) },
      );
      return { auth: bearer(minted.body.token) };
    },
    expected: forbidden,
  },
  {
    name: "a token with every right",
    applies: changesCredentials,
    credentials: async () => {
      const minted = await api("POST", "/v1/tokens", { actions: [...Actions], resources: ["*"], ttlSeconds: 600 }, { auth: bearer(keys.all!.secretKey) });
      return { auth: bearer(minted.body.token) };
    },
    expected: () => "Forbidden",
  },
  {
    name: "a key granting rights it does not hold",
    applies: (endpoint) => changesCredentials(endpoint) && endpoint.name !== "update account",
    credentials: async () => ({ auth: bearer(keys.manageOnly!.secretKey) }),
    expected: () => "Forbidden",
  },
  {
    name: "a tampered signature",
    applies: () => true,
    credentials: async (endpoint) => {
      const headers = await tc3Headers(endpoint.method, endpoint.path(), bodyText(endpoint), keys.all!);
      const last = headers.authorization!.slice(-1);
      headers.authorization = headers.authorization!.slice(0, -1) + (last === "0" ? "1" : "0");
      return { auth: null, headers };
    },
    expected: () => "Unauthenticated",
  },
  {
    name: "a signature by an unknown SecretId",
    applies: () => true,
    credentials: async (endpoint) => ({
      auth: null,
      headers: await tc3Headers(endpoint.method, endpoint.path(), bodyText(endpoint), { secretId: `AKID${"0".repeat(32)}`, secretKey: keys.all!.secretKey }),
    }),
    expected: () => "Unauthenticated",
  },
  {
    name: "a stale timestamp",
    applies: () => true,
    credentials: async (endpoint) => ({
      auth: null,
      headers: await tc3Headers(endpoint.method, endpoint.path(), bodyText(endpoint), keys.all!, Math.floor(Date.now() / 1000) - 301),
    }),
    expected: () => "Unauthenticated",
  },
];

const bodyText = (endpoint: Endpoint) => (endpoint.body ? JSON.stringify(endpoint.body()) : "");

const cases = endpoints.flatMap((endpoint) =>
  attacks.filter((attack) => attack.applies(endpoint)).map((attack) => [endpoint.name, attack.name, endpoint, attack] as const),
);

describe("every endpoint refuses callers without the right", () => {
  it.each(cases)("%s with %s", async (_endpoint, _attack, endpoint, attack) => {
    const before = await accountState();
    const credentials = await attack.credentials(endpoint);
    const body = endpoint.body ? bodyText(endpoint) : undefined;

    const response = await api(endpoint.method, endpoint.path(), undefined, {
      ...credentials,
      rawBody: body,
      headers: { "content-type": "application/json", ...credentials.headers },
    });

    const expected = attack.expected(endpoint);
    if (expected === "list") {
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      const names = (response.body[endpoint.list!.field] as Array<{ name: string }>).map((item) => item.name);
      expect(names).not.toContain(endpoint.list!.name);
    } else if (expected === "own") {
      expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
      if (endpoint.undo) {
        const undone = await api(endpoint.undo.method, endpoint.undo.path(), undefined, credentials);
        expect(undone.status).toBe(204);
      }
    } else {
      expect({ status: response.status, code: response.body?.error?.code }, JSON.stringify(response.body)).toEqual({
        status: HttpStatusOfError[expected],
        code: expected,
      });
    }
    expect(await accountState()).toEqual(before);
  });
});

describe("the same endpoints with the right credentials", () => {
  it("a signed request with the key's secret is accepted", async () => {
    const path = `/v1/queues/${Q}`;

    const response = await api("GET", path, undefined, { auth: null, headers: await tc3Headers("GET", path, "", keys.all!) });

    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.name).toBe(Q);
  });

  it("a token within its scope is accepted for exactly what it names", async () => {
    const minted = await api("POST", "/v1/tokens", { actions: ["send"], resources: [`queue:${Q}`], ttlSeconds: 60 }, { auth: bearer(keys.all!.secretKey) });
    const auth = bearer(minted.body.token);

    const sent = await api("POST", `/v1/queues/${Q}/messages`, { body: "from a page" }, { auth });
    const read = await api("GET", `/v1/queues/${Q}`, undefined, { auth });

    expect(minted.status).toBe(201);
    expect(sent.status).toBe(200);
    expect(read.body.error.code).toBe("Forbidden");
  });
});

describe("answers to a page of an origin the account does not allow", () => {
  const credentialKinds: Array<[string, () => Promise<{ auth?: string | null; headers?: Record<string, string> }>]> = [
    ["the root secret", async () => ({})],
    ["a root signature", async () => ({ auth: null, headers: await tc3Headers("GET", `/v1/queues/${Q}`, "", { secretId: env.ROOT_SECRET_ID!, secretKey: RootSecretKey }) })],
    ["a token minted by root", async () => ({ auth: bearer((await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"] })).body.token) })],
    ["a key", async () => ({ auth: bearer(keys.all!.secretKey) })],
    ["a token minted by a key", async () => ({ auth: bearer((await api("POST", "/v1/tokens", { actions: ["read"], resources: ["*"] }, { auth: bearer(keys.all!.secretKey) })).body.token) })],
  ];

  it.each(credentialKinds)("carry no Access-Control-Allow-Origin with %s", async (_kind, credentials) => {
    await api("PATCH", "/v1/accounts/default", { allowedOrigins: ["https://console.example"] });
    const given = await credentials();

    const response = await api("GET", `/v1/queues/${Q}`, undefined, { ...given, headers: { ...given.headers, origin: "https://evil.example" } });
    await api("PATCH", "/v1/accounts/default", { allowedOrigins: null });

    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

/**
 * The SQS interface (AWS JSON 1.0, SigV4) against the same intruders: each action is refused with
 * SQS's error for the service's code, and the account's state is the same afterwards.
 */
interface SqsEndpoint {
  action: string;
  input: () => Record<string, unknown>;
  need: Action;
  otherAccount: "QueueDoesNotExist" | "ResourceNotFoundException" | "list" | "own";
}

const sqsQueueUrl = (name: string, account = "default") => `http://cmq.test/${account}/${name}`;
const receipt = "1-00000000000000000000000000000000";
const sqsQueueArn = (name: string) => `arn:aws:sqs:local:default:${name}`;
/** A move task handle naming D's redrive started at time 1: base64url of `{"queue","startedAt"}`. */
const taskHandle = () => btoa(JSON.stringify({ queue: D, startedAt: 1 })).replaceAll("=", "");
/** A queue only an intruder's CreateQueue would bring into being. */
const N = `${Q}-new`;

const sqsEndpoints: SqsEndpoint[] = [
  { action: "ListQueues", input: () => ({ QueueNamePrefix: Q }), need: "read", otherAccount: "list" },
  { action: "CreateQueue", input: () => ({ QueueName: N }), need: "manage", otherAccount: "own" },
  { action: "GetQueueUrl", input: () => ({ QueueName: Q }), need: "read", otherAccount: "QueueDoesNotExist" },
  { action: "GetQueueAttributes", input: () => ({ QueueUrl: sqsQueueUrl(Q), AttributeNames: ["All"] }), need: "read", otherAccount: "QueueDoesNotExist" },
  { action: "SetQueueAttributes", input: () => ({ QueueUrl: sqsQueueUrl(Q), Attributes: { VisibilityTimeout: "99" } }), need: "manage", otherAccount: "QueueDoesNotExist" },
  { action: "DeleteQueue", input: () => ({ QueueUrl: sqsQueueUrl(Q) }), need: "manage", otherAccount: "QueueDoesNotExist" },
  { action: "PurgeQueue", input: () => ({ QueueUrl: sqsQueueUrl(Q) }), need: "manage", otherAccount: "QueueDoesNotExist" },
  { action: "SendMessage", input: () => ({ QueueUrl: sqsQueueUrl(Q), MessageBody: "intruder" }), need: "send", otherAccount: "QueueDoesNotExist" },
  { action: "SendMessageBatch", input: () => ({ QueueUrl: sqsQueueUrl(Q), Entries: [{ Id: "a", MessageBody: "intruder" }] }), need: "send", otherAccount: "QueueDoesNotExist" },
  { action: "ReceiveMessage", input: () => ({ QueueUrl: sqsQueueUrl(Q), MaxNumberOfMessages: 10 }), need: "receive", otherAccount: "QueueDoesNotExist" },
  { action: "DeleteMessage", input: () => ({ QueueUrl: sqsQueueUrl(Q), ReceiptHandle: receipt }), need: "receive", otherAccount: "QueueDoesNotExist" },
  { action: "DeleteMessageBatch", input: () => ({ QueueUrl: sqsQueueUrl(Q), Entries: [{ Id: "a", ReceiptHandle: receipt }] }), need: "receive", otherAccount: "QueueDoesNotExist" },
  { action: "ChangeMessageVisibility", input: () => ({ QueueUrl: sqsQueueUrl(Q), ReceiptHandle: receipt, VisibilityTimeout: 5 }), need: "receive", otherAccount: "QueueDoesNotExist" },
  {
    action: "ChangeMessageVisibilityBatch",
    input: () => ({ QueueUrl: sqsQueueUrl(Q), Entries: [{ Id: "a", ReceiptHandle: receipt, VisibilityTimeout: 5 }] }),
    need: "receive",
    otherAccount: "QueueDoesNotExist",
  },
  { action: "TagQueue", input: () => ({ QueueUrl: sqsQueueUrl(Q), Tags: { intruder: "yes" } }), need: "manage", otherAccount: "QueueDoesNotExist" },
  { action: "UntagQueue", input: () => ({ QueueUrl: sqsQueueUrl(Q), TagKeys: ["owner"] }), need: "manage", otherAccount: "QueueDoesNotExist" },
  { action: "ListQueueTags", input: () => ({ QueueUrl: sqsQueueUrl(Q) }), need: "read", otherAccount: "QueueDoesNotExist" },
  { action: "ListDeadLetterSourceQueues", input: () => ({ QueueUrl: sqsQueueUrl(D) }), need: "read", otherAccount: "QueueDoesNotExist" },
  { action: "StartMessageMoveTask", input: () => ({ SourceArn: sqsQueueArn(D), DestinationArn: sqsQueueArn(Q) }), need: "manage", otherAccount: "ResourceNotFoundException" },
  { action: "ListMessageMoveTasks", input: () => ({ SourceArn: sqsQueueArn(D) }), need: "read", otherAccount: "ResourceNotFoundException" },
  { action: "CancelMessageMoveTask", input: () => ({ TaskHandle: taskHandle() }), need: "manage", otherAccount: "ResourceNotFoundException" },
];

type SqsExpected = string | "list" | "own";

interface SqsAttack {
  name: string;
  headers: (endpoint: SqsEndpoint, body: string) => Promise<Record<string, string>>;
  expected: (endpoint: SqsEndpoint) => SqsExpected;
}

const signedAs = (key: TestKey, options: Partial<SigV4Signing> = {}) => (endpoint: SqsEndpoint, body: string) =>
  sigV4Headers("POST", "http://cmq.test/", body, sqsWireHeaders(endpoint.action), { accessKeyId: key.secretId, secretAccessKey: key.secretKey, ...options });
const bearerHeaders = (endpoint: SqsEndpoint, secret: string) => ({ ...sqsWireHeaders(endpoint.action), authorization: bearer(secret) });
const sqsForbidden = (endpoint: SqsEndpoint): SqsExpected => (endpoint.otherAccount === "list" ? "list" : "AccessDenied");
const SignatureRefused = "SignatureDoesNotMatch";

const sqsAttacks: SqsAttack[] = [
  { name: "no credentials", headers: async (endpoint) => sqsWireHeaders(endpoint.action), expected: () => "MissingAuthenticationToken" },
  { name: "a wrong secret", headers: (endpoint, body) => signedAs({ ...keys.all!, secretKey: `${keys.all!.secretKey}x` })(endpoint, body), expected: () => SignatureRefused },
  { name: "an unknown access key id", headers: (endpoint, body) => signedAs({ ...keys.all!, secretId: `AKID${"0".repeat(32)}` })(endpoint, body), expected: () => SignatureRefused },
  { name: "a disabled key", headers: (endpoint, body) => signedAs(keys.disabled!)(endpoint, body), expected: () => SignatureRefused },
  { name: "a key of another account", headers: (endpoint, body) => signedAs(keys.otherAccount!)(endpoint, body), expected: (endpoint) => endpoint.otherAccount },
  { name: "a policy that forbids the action", headers: (endpoint, body) => signedAs(keys[`allBut-${endpoint.need}`]!)(endpoint, body), expected: sqsForbidden },
  { name: "a policy that allows only another resource", headers: (endpoint, body) => signedAs(keys.otherResource!)(endpoint, body), expected: sqsForbidden },
  {
    name: "a tampered signature",
    headers: async (endpoint, body) => {
      const headers = await signedAs(keys.all!)(endpoint, body);
      return { ...headers, authorization: headers.authorization!.replace(/.$/, (last) => (last === "0" ? "1" : "0")) };
    },
    expected: () => SignatureRefused,
  },
  { name: "a stale X-Amz-Date", headers: (endpoint, body) => signedAs(keys.all!, { signingDate: new Date(Date.now() - 16 * 60_000) })(endpoint, body), expected: () => SignatureRefused },
  { name: "temporary credentials", headers: (endpoint, body) => signedAs(keys.all!, { sessionToken: "session" })(endpoint, body), expected: () => SignatureRefused },
  {
    name: "an expired token",
    headers: async (endpoint) =>
      bearerHeaders(endpoint, await forgeValidToken({ account: "default", secretId: keys.all!.secretId, actions: [...Actions], resources: ["*"], expiresAt: Date.now() - 1 })),
    expected: () => SignatureRefused,
  },
  {
    name: "a token used beyond its scope",
    headers: async (endpoint) => {
      const minted = await api("POST", "/v1/tokens", { actions: allActions(endpoint.need), resources: ["*"], ttlSeconds: 600 }, { auth: bearer(keys.all!.secretKey) });
      return bearerHeaders(endpoint, minted.body.token);
    },
    expected: sqsForbidden,
  },
];

const sqsCases = sqsEndpoints.flatMap((endpoint) => sqsAttacks.map((attack) => [endpoint.action, attack.name, endpoint, attack] as const));

const sqsState = async () => ({ ...((await accountState()) as object), intruderQueue: (await api("GET", `/v1/queues/${N}`)).status });

describe("every SQS action refuses callers without the right", () => {
  it.each(sqsCases)("%s with %s", async (_action, _attack, endpoint, attack) => {
    const before = await sqsState();
    const body = JSON.stringify(endpoint.input());

    const response = await sqsWithHeaders(body, await attack.headers(endpoint, body));

    const expected = attack.expected(endpoint);
    if (expected === "list") {
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body.QueueUrls ?? []).not.toContain(sqsQueueUrl(Q));
    } else if (expected === "own") {
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      const undo = JSON.stringify({ QueueUrl: sqsQueueUrl(N, keys.otherAccount!.accountId) });
      const undone = await sqsWithHeaders(undo, await signedAs(keys.otherAccount!)({ ...endpoint, action: "DeleteQueue" }, undo));
      expect(undone.status).toBe(200);
    } else {
      expect(response.body?.__type, JSON.stringify(response.body)).toBe(`com.amazonaws.sqs#${expected}`);
      expect(response.status).toBe(({ QueueDoesNotExist: 400, ResourceNotFoundException: 404 } as Record<string, number>)[expected] ?? 403);
    }
    expect(await sqsState()).toEqual(before);
  });
});

describe("the same SQS actions with the right credentials", () => {
  it("a request signed with SigV4 by a key with the right is accepted", async () => {
    const body = JSON.stringify({ QueueUrl: sqsQueueUrl(Q), AttributeNames: ["QueueArn"] });

    const response = await sqsWithHeaders(body, await signedAs(keys.all!)({ action: "GetQueueAttributes", input: () => ({}), need: "read", otherAccount: "QueueDoesNotExist" }, body));

    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.Attributes.QueueArn).toBe(`arn:aws:sqs:local:default:${Q}`);
  });
});
