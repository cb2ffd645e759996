import { beforeAll, describe, expect, it } from "vitest";
import { Actions, type Action } from "../../src/schema/account";
import { bearer, createAccount, createKey, forgeValidToken, type TestKey } from "../support/auth";
import { api } from "../support/http";
import { sigV4Headers, type SigV4Signing } from "../support/sigv4";
import { FormContentType, formOf, queryError, sqsQueryWithHeaders, xmlTexts } from "../support/sqs-query";

/**
 * SQS's query protocol (form bodies, XML answers, SigV4) against every way a caller may lack the
 * right to an action: each is refused with SQS's query error for the service's code, and the
 * account's state is the same afterwards. The JSON protocol's matrix is in security-matrix.test.ts.
 */
const id = crypto.randomUUID().slice(0, 8);
const Q = `xq-${id}`;
/** A queue only an intruder's CreateQueue would bring into being. */
const N = `${Q}-new`;
const receipt = "1-00000000000000000000000000000000";
const queueUrl = (name: string, account = "default") => `http://cmq.test/${account}/${name}`;

interface QueryEndpoint {
  action: string;
  parameters: () => Record<string, string>;
  need: Action;
  /** For a key of another account: the code it gets, "list" when it gets an empty list, or "own" when it acts in its own account. */
  otherAccount: "AWS.SimpleQueueService.NonExistentQueue" | "list" | "own";
}

const NotFound = "AWS.SimpleQueueService.NonExistentQueue";
const ofQ = () => ({ QueueUrl: queueUrl(Q) });

const endpoints: QueryEndpoint[] = [
  { action: "ListQueues", parameters: () => ({ QueueNamePrefix: Q }), need: "read", otherAccount: "list" },
  { action: "CreateQueue", parameters: () => ({ QueueName: N }), need: "manage", otherAccount: "own" },
  { action: "GetQueueUrl", parameters: () => ({ QueueName: Q }), need: "read", otherAccount: NotFound },
  { action: "GetQueueAttributes", parameters: () => ({ ...ofQ(), "AttributeName.1": "All" }), need: "read", otherAccount: NotFound },
  { action: "SetQueueAttributes", parameters: () => ({ ...ofQ(), "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "99" }), need: "manage", otherAccount: NotFound },
  { action: "DeleteQueue", parameters: ofQ, need: "manage", otherAccount: NotFound },
  { action: "PurgeQueue", parameters: ofQ, need: "manage", otherAccount: NotFound },
  { action: "SendMessage", parameters: () => ({ ...ofQ(), MessageBody: "intruder" }), need: "send", otherAccount: NotFound },
  {
    action: "SendMessageBatch",
    parameters: () => ({ ...ofQ(), "SendMessageBatchRequestEntry.1.Id": "a", "SendMessageBatchRequestEntry.1.MessageBody": "intruder" }),
    need: "send",
    otherAccount: NotFound,
  },
  { action: "ReceiveMessage", parameters: () => ({ ...ofQ(), MaxNumberOfMessages: "10" }), need: "receive", otherAccount: NotFound },
  { action: "DeleteMessage", parameters: () => ({ ...ofQ(), ReceiptHandle: receipt }), need: "receive", otherAccount: NotFound },
  {
    action: "DeleteMessageBatch",
    parameters: () => ({ ...ofQ(), "DeleteMessageBatchRequestEntry.1.Id": "a", "DeleteMessageBatchRequestEntry.1.ReceiptHandle": receipt }),
    need: "receive",
    otherAccount: NotFound,
  },
  { action: "ChangeMessageVisibility", parameters: () => ({ ...ofQ(), ReceiptHandle: receipt, VisibilityTimeout: "5" }), need: "receive", otherAccount: NotFound },
  {
    action: "ChangeMessageVisibilityBatch",
    parameters: () => ({
      ...ofQ(),
      "ChangeMessageVisibilityBatchRequestEntry.1.Id": "a",
      "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle": receipt,
      "ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout": "5",
    }),
    need: "receive",
    otherAccount: NotFound,
  },
];

let keys: Record<string, TestKey>;

const allActions = (except?: Action) => Actions.filter((action) => action !== except);
const bodyOf = (endpoint: QueryEndpoint) => formOf({ Action: endpoint.action, Version: "2012-11-05", ...endpoint.parameters() });

beforeAll(async () => {
  await api("PUT", `/v1/queues/${Q}`, {});
  await api("POST", `/v1/queues/${Q}/messages`, { body: "kept" });
  const otherAccount = await createAccount(`xother-${id}`);
  keys = {
    all: await createKey([{ actions: ["*"], resources: ["*"] }]),
    disabled: await createKey([{ actions: ["*"], resources: ["*"] }]),
    otherResource: await createKey([{ actions: ["*"], resources: ["queue:zz-other-*"] }]),
    otherAccount: await createKey([{ actions: ["*"], resources: ["*"] }], otherAccount),
  };
  for (const action of Actions) keys[`allBut-${action}`] = await createKey([{ actions: allActions(action), resources: ["*"] }]);
  await api("PATCH", `/v1/accounts/default/keys/${keys.disabled!.secretId}`, { disabled: true });
});

/** Everything an intruder could have changed, read with the root credentials. */
async function state(): Promise<unknown> {
  const [queue, peek, intruderQueue] = await Promise.all([api("GET", `/v1/queues/${Q}`), api("GET", `/v1/queues/${Q}/messages`), api("GET", `/v1/queues/${N}`)]);
  return { queue: queue.body, peek: peek.body, intruderQueue: intruderQueue.status };
}

const signedAs = (key: TestKey, options: Partial<SigV4Signing> = {}) => (body: string) =>
  sigV4Headers("POST", "http://cmq.test/", body, { "content-type": FormContentType }, { accessKeyId: key.secretId, secretAccessKey: key.secretKey, ...options });
const bearerHeaders = (secret: string) => ({ "content-type": FormContentType, authorization: bearer(secret) });
const forbidden = (endpoint: QueryEndpoint) => (endpoint.otherAccount === "list" ? "list" : "AccessDenied");
const SignatureRefused = "SignatureDoesNotMatch";

interface Attack {
  name: string;
  headers: (endpoint: QueryEndpoint, body: string) => Promise<Record<string, string>>;
  expected: (endpoint: QueryEndpoint) => string;
}

const attacks: Attack[] = [
  { name: "no credentials", headers: async () => ({ "content-type": FormContentType }), expected: () => "MissingAuthenticationToken" },
  { name: "a wrong secret", headers: (_endpoint, body) => signedAs({ ...keys.all!, secretKey: `${keys.all!.secretKey}x` })(body), expected: () => SignatureRefused },
  { name: "an unknown access key id", headers: (_endpoint, body) => signedAs({ ...keys.all!, secretId: `AKID${"0".repeat(32)}` })(body), expected: () => SignatureRefused },
  { name: "a disabled key", headers: (_endpoint, body) => signedAs(keys.disabled!)(body), expected: () => SignatureRefused },
  { name: "a key of another account", headers: (_endpoint, body) => signedAs(keys.otherAccount!)(body), expected: (endpoint) => endpoint.otherAccount },
  { name: "a policy that forbids the action", headers: (endpoint, body) => signedAs(keys[`allBut-${endpoint.need}`]!)(body), expected: forbidden },
  { name: "a policy that allows only another resource", headers: (_endpoint, body) => signedAs(keys.otherResource!)(body), expected: forbidden },
  {
    name: "a tampered signature",
    headers: async (_endpoint, body) => {
      const headers = await signedAs(keys.all!)(body);
      return { ...headers, authorization: headers.authorization!.replace(/.$/, (last) => (last === "0" ? "1" : "0")) };
    },
    expected: () => SignatureRefused,
  },
  {
    name: "a body changed after signing",
    headers: async (_endpoint, body) => signedAs(keys.all!)(body.replace("Version=2012-11-05", "Version=2012-11-05&Extra=1")),
    expected: () => SignatureRefused,
  },
  { name: "a stale X-Amz-Date", headers: (_endpoint, body) => signedAs(keys.all!, { signingDate: new Date(Date.now() - 16 * 60_000) })(body), expected: () => SignatureRefused },
  { name: "temporary credentials", headers: (_endpoint, body) => signedAs(keys.all!, { sessionToken: "session" })(body), expected: () => SignatureRefused },
  {
    name: "an expired token",
    headers: async () =>
      bearerHeaders(await forgeValidToken({ account: "default", secretId: keys.all!.secretId, actions: [...Actions], resources: ["*"], expiresAt: Date.now() - 1 })),
    expected: () => SignatureRefused,
  },
  {
    name: "a token used beyond its scope",
    headers: async (endpoint) => {
      const minted = await api("POST", "/v1/tokens", { actions: allActions(endpoint.need), resources: ["*"], ttlSeconds: 600 }, { auth: bearer(keys.all!.secretKey) });
      return bearerHeaders(minted.body.token);
    },
    expected: forbidden,
  },
];

const cases = endpoints.flatMap((endpoint) => attacks.map((attack) => [endpoint.action, attack.name, endpoint, attack] as const));

describe("every SQS query action refuses callers without the right", () => {
  it.each(cases)("%s with %s", async (_action, _attack, endpoint, attack) => {
    const before = await state();
    const body = bodyOf(endpoint);

    const answer = await sqsQueryWithHeaders(body, await attack.headers(endpoint, body));

    const expected = attack.expected(endpoint);
    if (expected === "list") {
      expect(answer.status, answer.text).toBe(200);
      expect(xmlTexts(answer.text, "QueueUrl")).not.toContain(queueUrl(Q));
    } else if (expected === "own") {
      expect(answer.status, answer.text).toBe(200);
      const undo = formOf({ Action: "DeleteQueue", Version: "2012-11-05", QueueUrl: queueUrl(N, keys.otherAccount!.accountId) });
      const undone = await sqsQueryWithHeaders(undo, await signedAs(keys.otherAccount!)(undo));
      expect(undone.status, undone.text).toBe(200);
    } else {
      expect(queryError(answer), answer.text).toEqual({ status: expected === NotFound ? 400 : 403, type: "Sender", code: expected });
      expect(answer.headers.get("content-type")).toBe("text/xml");
    }
    expect(await state()).toEqual(before);
  });
});

describe("the same SQS query actions with the right credentials", () => {
  it("a request signed with SigV4 by a key with the right is accepted", async () => {
    const body = formOf({ Action: "GetQueueAttributes", Version: "2012-11-05", QueueUrl: queueUrl(Q), "AttributeName.1": "QueueArn" });

    const answer = await sqsQueryWithHeaders(body, await signedAs(keys.all!)(body));

    expect(answer.status, answer.text).toBe(200);
    expect(answer.text).toContain(`<Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:local:default:${Q}</Value></Attribute>`);
  });
});
