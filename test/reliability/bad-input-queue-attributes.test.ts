import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { api, type ApiResponse } from "../support/http";
import { sqs, type SqsAnswer } from "../support/sqs";
import { checkProperty, propertyTimeoutMs } from "./fc-params";

/**
 * Generated bad input for the queue-level attributes (delaySeconds, redriveAllow, tags) and the SQS
 * actions over them (DelaySeconds, RedrivePolicy, RedriveAllowPolicy, TagQueue, UntagQueue, move
 * tasks): each is refused with its stable code in the interface's dialect, and the queues are
 * unchanged afterwards.
 */
const uid = () => crypto.randomUUID().slice(0, 8);
const queue = `bqa-${uid()}`;
const deadLetterQueue = `bqd-${uid()}`;
const source = `bqs-${uid()}`;
const arn = (name: string) => `arn:aws:sqs:local:default:${name}`;
const queueUrl = (name: string) => `http://cmq.test/default/${name}`;

type RpcOutcome = { ok: true; value: unknown } | { ok: false; name: string; message: string };

async function rpc(method: string, ...args: unknown[]): Promise<RpcOutcome> {
  const response = await env.CONSUMER.fetch("http://consumer/", { method: "POST", body: JSON.stringify({ method, args }) });
  return response.json<RpcOutcome>();
}

const rpcCode = (outcome: RpcOutcome) => (outcome.ok ? "ok" : (/^\[(\w+)\] /.exec(outcome.message)?.[1] ?? outcome.message));

/** Everything the bad requests could have changed. */
async function state(): Promise<unknown> {
  const names = [queue, deadLetterQueue, source];
  const infos = await Promise.all(names.map((name) => api("GET", `/v1/queues/${name}`)));
  const redrive = await api("GET", `/v1/queues/${deadLetterQueue}/redrive`);
  return { queues: infos.map((info) => info.body), redrive: redrive.body.status ?? redrive.body.error?.code };
}

function expectRestError(response: ApiResponse, code: string, status: number, label: string): void {
  expect({ status: response.status, code: response.body?.error?.code }, `${label}: ${JSON.stringify(response.body)?.slice(0, 300)}`).toEqual({ status, code });
}

function expectSqsError(answer: SqsAnswer, code: string, label: string): void {
  expect({ status: answer.status, type: answer.body?.__type }, `${label}: ${JSON.stringify(answer.body)?.slice(0, 300)}`).toEqual({
    status: 400,
    type: `com.amazonaws.sqs#${code}`,
  });
  expect(answer.headers.get("x-amzn-query-error"), label).toMatch(/;Sender$/);
}

let before: unknown;

beforeAll(async () => {
  expect((await api("PUT", `/v1/queues/${queue}`, { tags: { kept: "yes" }, delaySeconds: 5 })).status).toBe(201);
  expect((await api("PUT", `/v1/queues/${deadLetterQueue}`, {})).status).toBe(201);
  expect((await api("PUT", `/v1/queues/${source}`, { deadLetter: { queue: deadLetterQueue, maxReceiveCount: 3 } })).status).toBe(201);
  before = await state();
});

// Generators

const notAnInteger = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constantFrom(0.5, -0.1, 1e-9, 899.5),
);
const badInteger = (min: number, max: number) =>
  fc.oneof(fc.integer({ max: min - 1 }), fc.integer({ min: max + 1 }), fc.constantFrom(1e21, Number.MAX_SAFE_INTEGER), notAnInteger);
/** Characters outside AWS's tag set, and control characters. */
const badTagCharacter = fc.constantFrom("#", "!", "*", "?", "<", ">", "\n", "\u0000", "\t", "&", "%", "$", "\"", "'", ",", ";", "|", "\\");
const tagWith = (bad: string) => fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })).map(([a, b]) => `${a.replace(/[^a-z]/g, "")}${bad}${b.replace(/[^a-z]/g, "")}`);
const badTagKey = fc.oneof(
  fc.constant(""),
  fc.string({ minLength: 0, maxLength: 8 }).map((rest) => `aws:${rest}`),
  fc.constantFrom("AWS:x", "Aws:team", "aws:"),
  fc.integer({ min: 129, max: 400 }).map((length) => "k".repeat(length)),
  badTagCharacter.chain(tagWith),
);
const badTagValue = fc.oneof(fc.integer({ min: 257, max: 600 }).map((length) => "v".repeat(length)), badTagCharacter.chain(tagWith));
const notAMap = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null), fc.array(fc.string({ maxLength: 3 }), { minLength: 1, maxLength: 2 }));
const badTags = fc.oneof(
  badTagKey.map((key) => ({ [key]: "v" })),
  badTagValue.map((value) => ({ k: value })),
  fc.constantFrom(1, true, null).map((value) => ({ k: value })),
  notAMap,
  fc.constant({}),
  fc.integer({ min: 51, max: 80 }).map((count) => Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, "v"]))),
);
const badRedriveAllow = fc.oneof(
  fc.string({ maxLength: 8 }).filter((permission) => !["allowAll", "denyAll", "byQueue"].includes(permission)).map((permission) => ({ permission })),
  fc.constant({ permission: "byQueue" }),
  fc.constant({ permission: "byQueue", sourceQueues: [] }),
  fc.integer({ min: 11, max: 20 }).map((count) => ({ permission: "byQueue", sourceQueues: Array.from({ length: count }, (_, index) => `q${index}`) })),
  fc.constantFrom("1bad", "", "a b", "x".repeat(65)).map((name) => ({ permission: "byQueue", sourceQueues: [name] })),
  fc.constantFrom("allowAll", "denyAll").map((permission) => ({ permission, sourceQueues: ["a"] })),
  notAMap,
);
/** JSON that is no RedrivePolicy SQS takes, or not JSON at all. */
const badRedrivePolicy = fc.oneof(
  fc.string({ maxLength: 10 }).filter((text) => text !== ""),
  fc.jsonValue({ maxDepth: 1 }).map((value) => JSON.stringify(value)).filter((text) => !text.startsWith("{")),
  fc.constant(JSON.stringify({ deadLetterTargetArn: arn(deadLetterQueue) })),
  fc.constant(JSON.stringify({ maxReceiveCount: 3 })),
  badInteger(1, 1_000).map((maxReceiveCount) => JSON.stringify({ deadLetterTargetArn: arn(deadLetterQueue), maxReceiveCount })),
  fc.constantFrom("arn:aws:sqs:elsewhere:default:x", "arn:aws:sqs:local:999:x", "x", "arn:aws:sns:local:default:x", "").map((target) =>
    JSON.stringify({ deadLetterTargetArn: target, maxReceiveCount: 3 }),
  ),
  fc.string({ minLength: 1, maxLength: 6 }).map((key) => JSON.stringify({ deadLetterTargetArn: arn(deadLetterQueue), maxReceiveCount: 3, [`x${key}`]: 1 })),
);
const badRedriveAllowPolicy = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.constant(JSON.stringify({})),
  fc.string({ maxLength: 8 }).filter((permission) => !["allowAll", "denyAll", "byQueue"].includes(permission)).map((redrivePermission) => JSON.stringify({ redrivePermission })),
  fc.constant(JSON.stringify({ redrivePermission: "byQueue" })),
  fc.constant(JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: "x" })),
  fc.constantFrom("arn:aws:sqs:elsewhere:default:x", "x", "arn:aws:sqs:local:default:1bad").map((sourceArn) =>
    JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [sourceArn] }),
  ),
  fc.constant(JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: Array.from({ length: 11 }, (_, index) => arn(`q${index}`)) })),
  fc.constant(JSON.stringify({ redrivePermission: "denyAll", sourceQueueArns: [arn("a")] })),
);
const badDelayString = fc.oneof(
  fc.integer({ min: 901, max: 10_000_000 }).map(String),
  fc.constantFrom("-1", "1.5", "", " 5", "5s", "0x10", "1e3", "９"),
);
const badTaskHandle = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }).filter((text) => /[^A-Za-z0-9_-]/.test(text)),
  fc.jsonValue({ maxDepth: 1 }).filter((value) => typeof value !== "object" || value === null).map((value) => btoa(JSON.stringify(value)).replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_")),
  fc.constant(btoa(JSON.stringify({ queue: 1, startedAt: 1 })).replace(/=+$/, "")),
  fc.constant(btoa(JSON.stringify({ queue: "x", startedAt: "soon" })).replace(/=+$/, "")),
);

describe("native interfaces: queue-level attributes", () => {
  it(
    "a bad delaySeconds, redriveAllow or tag set is 400 InvalidParameter over REST and RPC, and changes nothing",
    async () => {
      const cases = fc.oneof(
        badInteger(0, 1_296_000).map((value) => ({ kind: "attribute", body: { delaySeconds: value } })),
        badRedriveAllow.map((value) => ({ kind: "attribute", body: { redriveAllow: value } })),
        badTags.map((value) => ({ kind: "tags", body: { tags: value } })),
        fc
          .oneof(
            fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null), fc.constant({ k: "v" })),
            fc.constantFrom([], [""], [1], [null], ["k".repeat(129)]),
            fc.integer({ min: 51, max: 80 }).map((count) => Array.from({ length: count }, (_, index) => `k${index}`)),
          )
          .map((value) => ({ kind: "untag", body: { keys: value } })),
      );
      await checkProperty(
        "queue-level attributes, native",
        fc.asyncProperty(cases, async ({ kind, body }) => {
          const label = `${kind} ${JSON.stringify(body).slice(0, 200)}`;
          const [response, outcome] =
            kind === "attribute"
              ? [await api("PATCH", `/v1/queues/${queue}`, body), await rpc("updateQueue", queue, body)]
              : kind === "tags"
                ? [await api("PATCH", `/v1/queues/${queue}/tags`, body), await rpc("tagQueue", queue, (body as { tags: unknown }).tags)]
                : [await api("POST", `/v1/queues/${queue}/tags/delete`, body), await rpc("untagQueue", queue, (body as { keys: unknown }).keys)];

          expectRestError(response, "InvalidParameter", 400, label);
          expect(rpcCode(outcome), label).toBe("InvalidParameter");
          expect(await state()).toEqual(before);
        }),
        150,
      );
    },
    propertyTimeoutMs(),
  );

  it("a dead-letter link a denyAll queue refuses is 409 DeadLetterSourceNotAllowed and links nothing", async () => {
    const closed = `bqc-${uid()}`;
    expect((await api("PUT", `/v1/queues/${closed}`, { redriveAllow: { permission: "denyAll" } })).status).toBe(201);

    const response = await api("PATCH", `/v1/queues/${queue}`, { deadLetter: { queue: closed, maxReceiveCount: 2 } });

    expectRestError(response, "DeadLetterSourceNotAllowed", 409, "denyAll");
    expect(await state()).toEqual(before);
    expect((await api("DELETE", `/v1/queues/${closed}`)).status).toBe(204);
  });
});

describe("SQS: queue-level attributes and actions", () => {
  it(
    "a bad DelaySeconds, RedrivePolicy, RedriveAllowPolicy, tag, rate or task handle is refused with SQS's error, and changes nothing",
    async () => {
      const cases = fc.oneof(
        badDelayString.map((value) => ({ action: "SetQueueAttributes", input: { QueueUrl: queueUrl(queue), Attributes: { DelaySeconds: value } }, code: "InvalidAttributeValue" })),
        badRedrivePolicy.map((value) => ({ action: "SetQueueAttributes", input: { QueueUrl: queueUrl(queue), Attributes: { RedrivePolicy: value } }, code: "InvalidParameterValue" })),
        badRedriveAllowPolicy.map((value) => ({
          action: "SetQueueAttributes",
          input: { QueueUrl: queueUrl(deadLetterQueue), Attributes: { RedriveAllowPolicy: value } },
          code: "InvalidParameterValue",
        })),
        badTags
          .filter((tags) => typeof tags === "object" && tags !== null && !Array.isArray(tags) && Object.values(tags).every((value) => typeof value === "string"))
          .map((tags) => ({ action: "TagQueue", input: { QueueUrl: queueUrl(queue), Tags: tags }, code: "InvalidParameterValue" })),
        badTags
          .filter((tags) => typeof tags === "object" && tags !== null && !Array.isArray(tags) && Object.keys(tags).length > 0 && Object.values(tags).every((value) => typeof value === "string"))
          .map((tags) => ({ action: "CreateQueue", input: { QueueName: `bqn-${uid()}`, tags }, code: "InvalidParameterValue" })),
        fc.oneof(fc.integer({ min: 501, max: 100_000 }), fc.integer({ max: 0 }), fc.constantFrom(1.5, 0.5)).map((rate) => ({
          action: "StartMessageMoveTask",
          input: { SourceArn: arn(deadLetterQueue), MaxNumberOfMessagesPerSecond: rate },
          code: "InvalidParameterValue",
        })),
        badTaskHandle.map((handle) => ({ action: "CancelMessageMoveTask", input: { TaskHandle: handle }, code: "InvalidParameterValue" })),
      );
      await checkProperty(
        "queue-level attributes, SQS",
        fc.asyncProperty(cases, async ({ action, input, code }) => {
          const answer = await sqs(action, input);

          expectSqsError(answer, code, `${action} ${JSON.stringify(input).slice(0, 200)}`);
          expect(await state()).toEqual(before);
          if (action === "CreateQueue") expect((await api("GET", `/v1/queues/${(input as { QueueName: string }).QueueName}`)).status).toBe(404);
        }),
        150,
      );
    },
    propertyTimeoutMs(),
  );

  it("a source that is no dead-letter queue starts no move task", async () => {
    const answer = await sqs("StartMessageMoveTask", { SourceArn: arn(queue) });

    expectSqsError(answer, "InvalidParameterValue", "not a dead-letter queue");
    expect((await api("GET", `/v1/queues/${queue}/redrive`)).body.error.code).toBe("RedriveNotFound");
    expect(await state()).toEqual(before);
  });
});

describe("SQS: names inside ARNs and task handles", () => {
  it.each([
    ["StartMessageMoveTask", { SourceArn: "arn:aws:sqs:local:default:1-bad" }, "SourceArn"],
    ["StartMessageMoveTask", { SourceArn: arn(deadLetterQueue), DestinationArn: "arn:aws:sqs:local:default:1-bad" }, "DestinationArn"],
    ["ListMessageMoveTasks", { SourceArn: "arn:aws:sqs:local:default:a b" }, "SourceArn"],
    ["CancelMessageMoveTask", { TaskHandle: btoa(JSON.stringify({ queue: "1-bad", startedAt: 1 })).replace(/=+$/, "") }, "TaskHandle"],
  ])("%s with a queue name the service refuses is InvalidParameterValue naming %s", async (action, input, parameter) => {
    const answer = await sqs(action, input);

    expectSqsError(answer, "InvalidParameterValue", action);
    expect(answer.body.message).toContain(parameter);
    expect(await state()).toEqual(before);
  });
});
