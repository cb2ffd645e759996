import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { restRoutes } from "../../src/api/rest";
import { rpcMethods } from "../../src/api/rpc";
import { ErrorTraitsOf } from "../../src/errors";
import { catalog, operationNames, type OperationName } from "../../src/operations";
import { api, uniqueName } from "../support/http";

/**
 * Every operation of the catalog through both native interfaces: the REST route and the RPC method
 * that run it must refuse the same bad input with the same code, and refuse a caller without rights
 * the same way.
 */
type Call = { rest: [method: string, path: string, body?: unknown]; rpc: [method: string, ...args: unknown[]] };
type RpcAnswer = { ok: true; value: unknown } | { ok: false; name: string; message: string; code: string; fault: string; retryable: boolean };

async function rpcAs(credentials: string | null, method: string, args: unknown[]): Promise<RpcAnswer> {
  const response = await env.CONSUMER.fetch("http://consumer/", {
    method: "POST",
    body: JSON.stringify({ method, args, ...(credentials && { credentials }) }),
  });
  return (await response.json()) as RpcAnswer;
}

const bad = "1-not-a-name";
const handle = `1-${"0".repeat(32)}`;
const secretId = `AKID${"0".repeat(32)}`;

/** One input per operation that its schema refuses, as each interface sends it. */
const invalidInputs: Record<OperationName, Call> = {
  health: { rest: ["GET", "/v1/health"], rpc: ["health"] },
  createQueue: { rest: ["PUT", `/v1/queues/${bad}`, {}], rpc: ["createQueue", bad, {}] },
  listQueues: { rest: ["GET", "/v1/queues?limit=0"], rpc: ["listQueues", { limit: 0 }] },
  getQueue: { rest: ["GET", `/v1/queues/${bad}`], rpc: ["getQueue", bad] },
  updateQueue: { rest: ["PATCH", "/v1/queues/q1", { visibilityTimeout: 0 }], rpc: ["updateQueue", "q1", { visibilityTimeout: 0 }] },
  deleteQueue: { rest: ["DELETE", `/v1/queues/${bad}`], rpc: ["deleteQueue", bad] },
  listDeadLetterSourceQueues: {
    rest: ["GET", "/v1/queues/q1/dead-letter-sources?offset=-1"],
    rpc: ["listDeadLetterSourceQueues", "q1", { offset: -1 }],
  },
  purgeQueue: { rest: ["POST", `/v1/queues/${bad}/purge`], rpc: ["purge", bad] },
  rewindQueue: { rest: ["POST", "/v1/queues/q1/rewind", { since: -1 }], rpc: ["rewind", "q1", -1] },
  sendMessages: { rest: ["POST", "/v1/queues/q1/messages", { body: "" }], rpc: ["send", "q1", ""] },
  receiveMessages: { rest: ["POST", "/v1/queues/q1/messages/receive", { max: 17 }], rpc: ["receive", "q1", { max: 17 }] },
  deleteMessage: { rest: ["DELETE", `/v1/queues/${bad}/messages/${handle}`], rpc: ["deleteMessage", bad, handle] },
  deleteMessages: { rest: ["POST", "/v1/queues/q1/messages/delete", { receiptHandles: [] }], rpc: ["deleteMessages", "q1", []] },
  changeVisibility: {
    rest: ["POST", "/v1/queues/q1/messages/visibility", { receiptHandle: handle, visibilityTimeout: 43_201 }],
    rpc: ["changeVisibility", "q1", handle, 43_201],
  },
  peekMessages: { rest: ["GET", "/v1/queues/q1/messages?limit=101"], rpc: ["peek", "q1", { limit: 101 }] },
  startRedrive: { rest: ["POST", "/v1/queues/q1/redrive", { maxPerSecond: 501 }], rpc: ["startRedrive", "q1", { maxPerSecond: 501 }] },
  getRedrive: { rest: ["GET", `/v1/queues/${bad}/redrive`], rpc: ["getRedrive", bad] },
  listRedrives: { rest: ["GET", `/v1/queues/${bad}/redrives`], rpc: ["listRedrives", bad] },
  getQueueRates: { rest: ["GET", `/v1/queues/${bad}/rates`], rpc: ["getQueueRates", bad] },
  tagQueue: { rest: ["PATCH", "/v1/queues/q1/tags", { tags: { "aws:team": "a" } }], rpc: ["tagQueue", "q1", { "aws:team": "a" }] },
  untagQueue: { rest: ["POST", "/v1/queues/q1/tags/delete", { keys: [] }], rpc: ["untagQueue", "q1", []] },
  listQueueTags: { rest: ["GET", `/v1/queues/${bad}/tags`], rpc: ["listQueueTags", bad] },
  cancelRedrive: { rest: ["DELETE", `/v1/queues/${bad}/redrive`], rpc: ["cancelRedrive", bad] },
  setQueueConsumer: { rest: ["PUT", "/v1/queues/q1/consumer", { binding: "SINK", batchSize: 101 }], rpc: ["setQueueConsumer", "q1", { binding: "SINK", batchSize: 101 }] },
  getQueueConsumer: { rest: ["GET", `/v1/queues/${bad}/consumer`], rpc: ["getQueueConsumer", bad] },
  deleteQueueConsumer: { rest: ["DELETE", `/v1/queues/${bad}/consumer`], rpc: ["deleteQueueConsumer", bad] },
  pauseQueueConsumer: { rest: ["POST", `/v1/queues/${bad}/consumer/pause`], rpc: ["pauseQueueConsumer", bad] },
  resumeQueueConsumer: { rest: ["POST", `/v1/queues/${bad}/consumer/resume`], rpc: ["resumeQueueConsumer", bad] },
  createTopic: { rest: ["PUT", "/v1/topics/t1", { filterType: "color" }], rpc: ["createTopic", "t1", { filterType: "color" }] },
  listTopics: { rest: ["GET", "/v1/topics?limit=1001"], rpc: ["listTopics", { limit: 1001 }] },
  getTopic: { rest: ["GET", `/v1/topics/${bad}`], rpc: ["getTopic", bad] },
  updateTopic: { rest: ["PATCH", "/v1/topics/t1", { maxMsgSize: 1 }], rpc: ["updateTopic", "t1", { maxMsgSize: 1 }] },
  deleteTopic: { rest: ["DELETE", `/v1/topics/${bad}`], rpc: ["deleteTopic", bad] },
  publishMessages: { rest: ["POST", "/v1/topics/t1/messages", { body: "x", extra: 1 }], rpc: ["publish", "t1", { body: "x", extra: 1 }] },
  subscribe: {
    rest: ["PUT", "/v1/topics/t1/subscriptions/s1", { protocol: "smtp", endpoint: "x" }],
    rpc: ["subscribe", "t1", "s1", { protocol: "smtp", endpoint: "x" }],
  },
  listSubscriptions: { rest: ["GET", `/v1/topics/${bad}/subscriptions`], rpc: ["listSubscriptions", bad] },
  getSubscription: { rest: ["GET", `/v1/topics/t1/subscriptions/${bad}`], rpc: ["getSubscription", "t1", bad] },
  updateSubscription: {
    rest: ["PATCH", "/v1/topics/t1/subscriptions/s1", { notifyStrategy: "NEVER" }],
    rpc: ["updateSubscription", "t1", "s1", { notifyStrategy: "NEVER" }],
  },
  unsubscribe: { rest: ["DELETE", `/v1/topics/${bad}/subscriptions/s1`], rpc: ["unsubscribe", bad, "s1"] },
  createAccount: { rest: ["POST", "/v1/accounts", { name: bad }], rpc: ["createAccount", bad] },
  listAccounts: { rest: ["GET", "/v1/accounts?limit=0"], rpc: ["listAccounts", { limit: 0 }] },
  getAccount: { rest: ["GET", `/v1/accounts/${"a".repeat(65)}`], rpc: ["getAccount", "a".repeat(65)] },
  updateAccount: { rest: ["PATCH", "/v1/accounts/default", { allowedOrigins: ["ftp://x"] }], rpc: ["updateAccount", "default", { allowedOrigins: ["ftp://x"] }] },
  createKey: { rest: ["POST", "/v1/accounts/default/keys", { policy: {} }], rpc: ["createKey", "default", { policy: {} }] },
  listKeys: { rest: ["GET", `/v1/accounts/${"a".repeat(65)}/keys`], rpc: ["listKeys", "a".repeat(65)] },
  updateKey: { rest: ["PATCH", `/v1/accounts/default/keys/${secretId}`, { disabled: "yes" }], rpc: ["updateKey", "default", secretId, { disabled: "yes" }] },
  rotateKey: { rest: ["POST", `/v1/accounts/default/keys/${"k".repeat(65)}/rotate`], rpc: ["rotateKey", "default", "k".repeat(65)] },
  deleteKey: { rest: ["DELETE", `/v1/accounts/default/keys/${"k".repeat(65)}`], rpc: ["deleteKey", "default", "k".repeat(65)] },
  createToken: { rest: ["POST", "/v1/tokens", { actions: ["fly"], resources: ["*"] }], rpc: ["createToken", { actions: ["fly"], resources: ["*"] }] },
  whoami: { rest: ["GET", "/v1/whoami"], rpc: ["whoami"] },
};

/** Operations without an input their schema can refuse. */
const WithoutInput = new Set<OperationName>(["health", "whoami"]);

describe("the operation catalog", () => {
  it("has a REST route and an RPC method for every operation, and neither runs anything else", () => {
    const routed = new Set(restRoutes.map((route) => route.operation));
    const methods = new Set(Object.values(rpcMethods).map((method) => method.operation));
    expect([...routed].sort()).toEqual([...operationNames].sort());
    expect([...methods].sort()).toEqual([...operationNames].sort());
  });

  it("names the access and the errors of every operation with known codes", () => {
    for (const name of operationNames) {
      const definition = catalog[name];
      expect(["resource", "accountAdmin", "root", "authenticated", "public"], name).toContain(definition.access.kind);
      for (const code of definition.errors) expect(Object.keys(ErrorTraitsOf), `${name}: ${code}`).toContain(code);
    }
  });

  it.each(operationNames.filter((name) => !WithoutInput.has(name)))(
    "%s refuses the same bad input through REST and RPC with InvalidParameter",
    async (name) => {
      const { rest, rpc } = invalidInputs[name];

      const response = await api(rest[0], rest[1], rest[2]);
      const answer = await rpcAs(null, rpc[0], rpc.slice(1));

      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.error.code).toBe("InvalidParameter");
      expect(answer).toMatchObject({ ok: false, name: "ServiceError", code: "InvalidParameter", fault: "client", retryable: false });
    },
  );

  describe("a key without rights", () => {
    let key: { secretId: string; secretKey: string };
    const queue = uniqueName("cat");
    const topic = uniqueName("cat");

    beforeAll(async () => {
      expect((await api("PUT", `/v1/queues/${queue}`, {})).status).toBe(201);
      expect((await api("PUT", `/v1/topics/${topic}`, {})).status).toBe(201);
      const created = await api("POST", "/v1/accounts/default/keys", { policy: { statements: [] } });
      expect(created.status).toBe(201);
      key = created.body;
    });

    /** Valid calls of every operation, on resources that exist. */
    const validCalls = (): Record<OperationName, Call> => ({
      health: { rest: ["GET", "/v1/health"], rpc: ["health"] },
      createQueue: { rest: ["PUT", `/v1/queues/${queue}`, {}], rpc: ["createQueue", queue, {}] },
      listQueues: { rest: ["GET", "/v1/queues"], rpc: ["listQueues", {}] },
      getQueue: { rest: ["GET", `/v1/queues/${queue}`], rpc: ["getQueue", queue] },
      updateQueue: { rest: ["PATCH", `/v1/queues/${queue}`, {}], rpc: ["updateQueue", queue, {}] },
      deleteQueue: { rest: ["DELETE", `/v1/queues/${queue}`], rpc: ["deleteQueue", queue] },
      listDeadLetterSourceQueues: { rest: ["GET", `/v1/queues/${queue}/dead-letter-sources`], rpc: ["listDeadLetterSourceQueues", queue, {}] },
      purgeQueue: { rest: ["POST", `/v1/queues/${queue}/purge`], rpc: ["purge", queue] },
      rewindQueue: { rest: ["POST", `/v1/queues/${queue}/rewind`, { since: 0 }], rpc: ["rewind", queue, 0] },
      sendMessages: { rest: ["POST", `/v1/queues/${queue}/messages`, { body: "x" }], rpc: ["send", queue, "x"] },
      receiveMessages: { rest: ["POST", `/v1/queues/${queue}/messages/receive`, {}], rpc: ["receive", queue, {}] },
      deleteMessage: { rest: ["DELETE", `/v1/queues/${queue}/messages/${handle}`], rpc: ["deleteMessage", queue, handle] },
      deleteMessages: { rest: ["POST", `/v1/queues/${queue}/messages/delete`, { receiptHandles: [handle] }], rpc: ["deleteMessages", queue, [handle]] },
      changeVisibility: {
        rest: ["POST", `/v1/queues/${queue}/messages/visibility`, { receiptHandle: handle, visibilityTimeout: 1 }],
        rpc: ["changeVisibility", queue, handle, 1],
      },
      peekMessages: { rest: ["GET", `/v1/queues/${queue}/messages`], rpc: ["peek", queue, {}] },
      startRedrive: { rest: ["POST", `/v1/queues/${queue}/redrive`, {}], rpc: ["startRedrive", queue, {}] },
      getRedrive: { rest: ["GET", `/v1/queues/${queue}/redrive`], rpc: ["getRedrive", queue] },
      listRedrives: { rest: ["GET", `/v1/queues/${queue}/redrives`], rpc: ["listRedrives", queue] },
      getQueueRates: { rest: ["GET", `/v1/queues/${queue}/rates`], rpc: ["getQueueRates", queue] },
      tagQueue: { rest: ["PATCH", `/v1/queues/${queue}/tags`, { tags: { team: "a" } }], rpc: ["tagQueue", queue, { team: "a" }] },
      untagQueue: { rest: ["POST", `/v1/queues/${queue}/tags/delete`, { keys: ["team"] }], rpc: ["untagQueue", queue, ["team"]] },
      listQueueTags: { rest: ["GET", `/v1/queues/${queue}/tags`], rpc: ["listQueueTags", queue] },
      cancelRedrive: { rest: ["DELETE", `/v1/queues/${queue}/redrive`], rpc: ["cancelRedrive", queue] },
      setQueueConsumer: { rest: ["PUT", `/v1/queues/${queue}/consumer`, { binding: "QUEUE_CONSUMER" }], rpc: ["setQueueConsumer", queue, { binding: "QUEUE_CONSUMER" }] },
      getQueueConsumer: { rest: ["GET", `/v1/queues/${queue}/consumer`], rpc: ["getQueueConsumer", queue] },
      deleteQueueConsumer: { rest: ["DELETE", `/v1/queues/${queue}/consumer`], rpc: ["deleteQueueConsumer", queue] },
      pauseQueueConsumer: { rest: ["POST", `/v1/queues/${queue}/consumer/pause`], rpc: ["pauseQueueConsumer", queue] },
      resumeQueueConsumer: { rest: ["POST", `/v1/queues/${queue}/consumer/resume`], rpc: ["resumeQueueConsumer", queue] },
      createTopic: { rest: ["PUT", `/v1/topics/${topic}`, {}], rpc: ["createTopic", topic, {}] },
      listTopics: { rest: ["GET", "/v1/topics"], rpc: ["listTopics", {}] },
      getTopic: { rest: ["GET", `/v1/topics/${topic}`], rpc: ["getTopic", topic] },
      updateTopic: { rest: ["PATCH", `/v1/topics/${topic}`, {}], rpc: ["updateTopic", topic, {}] },
      deleteTopic: { rest: ["DELETE", `/v1/topics/${topic}`], rpc: ["deleteTopic", topic] },
      publishMessages: { rest: ["POST", `/v1/topics/${topic}/messages`, { body: "x" }], rpc: ["publish", topic, "x"] },
      subscribe: {
        rest: ["PUT", `/v1/topics/${topic}/subscriptions/s1`, { protocol: "queue", endpoint: queue }],
        rpc: ["subscribe", topic, "s1", { protocol: "queue", endpoint: queue }],
      },
      listSubscriptions: { rest: ["GET", `/v1/topics/${topic}/subscriptions`], rpc: ["listSubscriptions", topic] },
      getSubscription: { rest: ["GET", `/v1/topics/${topic}/subscriptions/s1`], rpc: ["getSubscription", topic, "s1"] },
      updateSubscription: { rest: ["PATCH", `/v1/topics/${topic}/subscriptions/s1`, {}], rpc: ["updateSubscription", topic, "s1", {}] },
      unsubscribe: { rest: ["DELETE", `/v1/topics/${topic}/subscriptions/s1`], rpc: ["unsubscribe", topic, "s1"] },
      createAccount: { rest: ["POST", "/v1/accounts", { name: uniqueName("acct") }], rpc: ["createAccount", uniqueName("acct")] },
      listAccounts: { rest: ["GET", "/v1/accounts"], rpc: ["listAccounts"] },
      getAccount: { rest: ["GET", "/v1/accounts/default"], rpc: ["getAccount", "default"] },
      updateAccount: { rest: ["PATCH", "/v1/accounts/default", { allowedOrigins: null }], rpc: ["updateAccount", "default", { allowedOrigins: null }] },
      createKey: { rest: ["POST", "/v1/accounts/default/keys", { policy: { statements: [] } }], rpc: ["createKey", "default", { policy: { statements: [] } }] },
      listKeys: { rest: ["GET", "/v1/accounts/default/keys"], rpc: ["listKeys", "default"] },
      updateKey: { rest: ["PATCH", `/v1/accounts/default/keys/${key.secretId}`, {}], rpc: ["updateKey", "default", key.secretId, {}] },
      rotateKey: { rest: ["POST", `/v1/accounts/default/keys/${key.secretId}/rotate`], rpc: ["rotateKey", "default", key.secretId] },
      deleteKey: { rest: ["DELETE", `/v1/accounts/default/keys/${key.secretId}`], rpc: ["deleteKey", "default", key.secretId] },
      createToken: { rest: ["POST", "/v1/tokens", { actions: ["send"], resources: ["*"] }], rpc: ["createToken", { actions: ["send"], resources: ["*"] }] },
      whoami: { rest: ["GET", "/v1/whoami"], rpc: ["whoami"] },
    });

    const guarded = operationNames.filter((name) => catalog[name].access.kind !== "authenticated" && catalog[name].access.kind !== "public");

    it.each(guarded)("is refused %s through REST and RPC alike with Forbidden", async (name) => {
      const { rest, rpc } = validCalls()[name];

      const response = await api(rest[0], rest[1], rest[2], { auth: `Bearer ${key.secretKey}` });
      const answer = await rpcAs(key.secretKey, rpc[0], rpc.slice(1));

      expect(response.status, JSON.stringify(response.body)).toBe(403);
      expect(response.body.error.code).toBe("Forbidden");
      expect(answer).toMatchObject({ ok: false, code: "Forbidden" });
    });

    it("still lists (nothing it may not read) and answers health and who it is through both", async () => {
      for (const name of ["listQueues", "listTopics", "health", "whoami"] as const) {
        const { rest, rpc } = validCalls()[name];
        const response = await api(rest[0], rest[1], rest[2], { auth: `Bearer ${key.secretKey}` });
        const answer = await rpcAs(key.secretKey, rpc[0], rpc.slice(1));
        expect(response.status).toBe(200);
        expect(answer).toMatchObject({ ok: true, value: response.body });
      }
    });
  });
});
