import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../support/http";
import { cmq, cmqOk, formEncode, listParams, sendParams, sendRequest, signedParams, type CmqAnswer } from "../support/cmq";
import { checkProperty, propertyTimeoutMs } from "./fc-params";

/**
 * Generated bad input for the legacy CMQ action API: malformed forms, values of the wrong type or
 * out of range, unknown and repeated parameters, broken list numbering, bad dead-letter policies.
 * Each is answered (HTTP 200, as CMQ answers everything) with CMQ's code and a `(module)` message,
 * the service keeps serving, and the queue and topic are unchanged.
 */
const uid = () => crypto.randomUUID().slice(0, 8);
const fixture = { queue: `bq-${uid()}`, topic: `bt-${uid()}`, handle: "" };
let before: unknown;
let tried = 0;

async function snapshot(): Promise<unknown> {
  const [queue, peek, topic, subscriptions] = await Promise.all([
    api("GET", `/v1/queues/${fixture.queue}`),
    api("GET", `/v1/queues/${fixture.queue}/messages?limit=100`),
    api("GET", `/v1/topics/${fixture.topic}`),
    api("GET", `/v1/topics/${fixture.topic}/subscriptions`),
  ]);
  expect(queue.status).toBe(200);
  return { queue: queue.body, messages: peek.body.messages, topic: topic.body, subscriptions: subscriptions.body };
}

function expectCmqError(answer: CmqAnswer, codes: readonly number[], label: string): void {
  tried++;
  expect(answer.status, label).toBe(200);
  expect(codes, `${label}: ${JSON.stringify(answer.body).slice(0, 300)}`).toContain(answer.body.code);
  expect(answer.body.message, label).toMatch(/^\(\d{5}\)./);
  expect(answer.body.requestId, label).toBe(answer.headers.get("x-request-id"));
}

beforeAll(async () => {
  await cmqOk("CreateQueue", { queueName: fixture.queue, visibilityTimeout: 3600 });
  await cmqOk("BatchSendMessage", { queueName: fixture.queue, ...listParams("msgBody", ["a", "b", "c"]) });
  fixture.handle = (await cmqOk("ReceiveMessage", { queueName: fixture.queue })).receiptHandle;
  await cmqOk("CreateTopic", { topicName: fixture.topic });
  await cmqOk("Subscribe", { topicName: fixture.topic, subscriptionName: "s", protocol: "queue", endpoint: fixture.queue, ...listParams("filterTag", ["never"]) });
  before = await snapshot();
});

/** Text that is not a decimal integer. */
const notAnInteger = fc.oneof(
  fc.constantFrom("", " 1", "1 ", "1.5", "1e3", "0x10", "+1", "abc", "NaN", "Infinity", "--1", "1_000", "１"),
  fc.string({ minLength: 1, maxLength: 8 }).filter((text) => !/^-?\d{1,15}$/.test(text)),
);
/** Integers outside [min, max], as text. */
const outside = (min: number, max: number) =>
  fc.oneof(fc.integer({ min: -1_000_000, max: min - 1 }), fc.integer({ min: max + 1, max: 2_000_000_000 }), fc.constantFrom(min - 1, max + 1)).map(String);

interface FieldSpec {
  action: string;
  valid: () => Record<string, string | number>;
  field: string;
  range: [number, number];
}

/** Actions that change state when valid, each with an integer parameter and its bounds here. */
const integerFields: FieldSpec[] = [
  { action: "SendMessage", valid: () => ({ queueName: fixture.queue, msgBody: "x" }), field: "delaySeconds", range: [0, 1_295_940] },
  { action: "BatchReceiveMessage", valid: () => ({ queueName: fixture.queue, pollingWaitSeconds: 0 }), field: "numOfMsg", range: [1, 16] },
  { action: "ReceiveMessage", valid: () => ({ queueName: fixture.queue }), field: "pollingWaitSeconds", range: [0, 30] },
  { action: "SetQueueAttributes", valid: () => ({ queueName: fixture.queue }), field: "visibilityTimeout", range: [1, 43_200] },
  { action: "SetQueueAttributes", valid: () => ({ queueName: fixture.queue }), field: "maxMsgSize", range: [1_024, 1_048_576] },
  { action: "SetQueueAttributes", valid: () => ({ queueName: fixture.queue }), field: "msgRetentionSeconds", range: [60, 1_296_000] },
  { action: "SetQueueAttributes", valid: () => ({ queueName: fixture.queue }), field: "maxMsgHeapNum", range: [1, 1_000_000_000] },
  { action: "SetTopicAttributes", valid: () => ({ topicName: fixture.topic }), field: "maxMsgSize", range: [1_024, 1_048_576] },
];

describe("CMQ: generated parameter values", () => {
  it(
    "an integer parameter given text that is no integer is 4000 (10360), one outside its bounds 4000 (10110), and nothing changes",
    async () => {
      const cases = fc.constantFrom(...integerFields).chain((spec) =>
        fc.oneof(
          notAnInteger.map((value) => ({ spec, value, module: 10360 })),
          outside(...spec.range).map((value) => ({ spec, value, module: 10110 })),
        ),
      );
      await checkProperty(
        "CMQ bad integers",
        fc.asyncProperty(cases, async ({ spec, value, module }) => {
          const answer = await cmq(spec.action, { ...spec.valid(), [spec.field]: value });

          expectCmqError(answer, [4000], `${spec.action} ${spec.field}=${JSON.stringify(value)}`);
          expect(answer.body.message.startsWith(`(${module})`), answer.body.message).toBe(true);
          expect(await snapshot()).toEqual(before);
        }),
        200,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "an unknown parameter, or a single one given in list form, is 4000 (10320 or 10330), and nothing changes",
    async () => {
      const key = fc.oneof(
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,12}$/).filter((name) => !["queueName", "msgBody", "delaySeconds", "Action", "Region", "Timestamp", "Nonce", "SecretId", "SignatureMethod", "Signature", "Token", "RequestClient", "clientRequestId", "UserpollingWaitSeconds"].includes(name)).map((name) => ({ name, module: 10320 })),
        fc.constantFrom("queueName.1", "msgBody.0", "delaySeconds.1").map((name) => ({ name, module: 10330 })),
      );
      await checkProperty(
        "CMQ unknown parameters",
        fc.asyncProperty(key, fc.string({ maxLength: 8 }), async ({ name, module }, value) => {
          const answer = await cmq("SendMessage", { queueName: fixture.queue, msgBody: "x", [name]: value });

          expectCmqError(answer, [4000], `SendMessage with ${name}`);
          expect(answer.body.message.startsWith(`(${module})`), answer.body.message).toBe(true);
          expect(await snapshot()).toEqual(before);
        }),
        150,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "list indexes that do not run from 0 or 1 without gaps are 4000 (10380), and nothing is sent",
    async () => {
      const indexes = fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }).filter((list) => {
        const sorted = [...list].sort((a, b) => a - b);
        return !((sorted[0] === 0 || sorted[0] === 1) && sorted.every((index, position) => index === sorted[0]! + position));
      });
      await checkProperty(
        "CMQ list numbering",
        fc.asyncProperty(indexes, async (list) => {
          const bodies = Object.fromEntries(list.map((index) => [`msgBody.${index}`, `m${index}`]));

          const answer = await cmq("BatchSendMessage", { queueName: fixture.queue, ...bodies });

          expectCmqError(answer, [4000], `msgBody indexes ${list.join(",")}`);
          expect(answer.body.message).toMatch(/^\(10380\)/);
          expect(await snapshot()).toEqual(before);
        }),
        100,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "a deadLetterPolicy that is not a policy CMQ reads is 4000 with its module code, and the queue is unchanged",
    async () => {
      const policy = fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
        fc.record(
          { deadLetterQueue: fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), policy: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.string({ maxLength: 2 })), maxReceiveCount: fc.integer({ min: -5, max: 2000 }), maxTimeToLive: fc.integer({ min: -5, max: 50_000 }) },
          { requiredKeys: [] },
        ).map((value) => JSON.stringify(value)),
      );
      await checkProperty(
        "CMQ dead-letter policies",
        fc.asyncProperty(policy, async (text) => {
          const answer = await cmq("SetQueueAttributes", { queueName: fixture.queue, deadLetterPolicy: text });

          expectCmqError(answer, [4000, 4440], `deadLetterPolicy ${text}`);
          expect(await snapshot()).toEqual(before);
        }),
        150,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "names that break CMQ's rule are 4000, and create nothing",
    async () => {
      const badName = fc.oneof(
        fc.constantFrom("", "1abc", "-abc", "a".repeat(65), "a b", "a.b", "ä", "a/b", "a%2Fb"),
        fc.string({ minLength: 1, maxLength: 70 }).filter((name) => !/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name)),
      );
      await checkProperty(
        "CMQ bad names",
        fc.asyncProperty(badName, fc.constantFrom("CreateQueue", "CreateTopic"), async (name, action) => {
          const answer = await cmq(action, action === "CreateQueue" ? { queueName: name } : { topicName: name });

          expectCmqError(answer, [4000], `${action} ${JSON.stringify(name)}`);
          expect(await snapshot()).toEqual(before);
        }),
        100,
      );
    },
    propertyTimeoutMs(),
  );
});

/** Sends a raw POST body to the CMQ endpoint. */
function post(body: string | Uint8Array, contentType: string | null = "application/x-www-form-urlencoded"): Promise<CmqAnswer> {
  const headers = new Headers();
  if (contentType) headers.set("content-type", contentType);
  return sendRequest(new Request("http://cmq.test/v2/index.php", { method: "POST", headers, body: typeof body === "string" ? new TextEncoder().encode(body) : body }));
}

describe("CMQ: malformed forms", () => {
  it(
    "a signed form cut short or with junk inserted is refused (4000 or 4100), and nothing changes",
    async () => {
      await checkProperty(
        "CMQ corrupted forms",
        fc.asyncProperty(fc.nat(), fc.constantFrom("&", "=", "%", "%zz", "+", "&&", "=&=", "\u0000", "é", "&msgBody=evil"), async (position, junk) => {
          const params = await signedParams("SendMessage", { queueName: fixture.queue, msgBody: "corrupted?" });
          const text = formEncode(params);
          const at = 1 + (position % (text.length - 1));
          const body = position % 2 === 0 ? text.slice(0, at) : text.slice(0, at) + junk + text.slice(at);
          // An empty pair (`&&`) is no pair at all in a form: such a body is still the signed request.
          const pairs = (form: string) => JSON.stringify([...new URLSearchParams(form)]);
          fc.pre(pairs(body) !== pairs(text));

          const answer = await post(body);

          expectCmqError(answer, [4000, 4100], `body ${JSON.stringify(body)}`);
          expect(await snapshot()).toEqual(before);
        }),
        200,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "random bytes as a body, under any Content-Type, are refused and change nothing",
    async () => {
      await checkProperty(
        "CMQ random bodies",
        fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(null, "*/*", "application/x-www-form-urlencoded", "application/json", "text/plain"), async (bytes, contentType) => {
          const answer = await post(bytes, contentType);

          expectCmqError(answer, [4000, 4100], `bytes ${Array.from(bytes).join(",")}`);
          expect(await snapshot()).toEqual(before);
        }),
        150,
      );
    },
    propertyTimeoutMs(),
  );

  it.each([
    ["a body that is not UTF-8", new Uint8Array([0x41, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x3d, 0xff, 0xfe]), 4000, 10420],
    ["a key given twice", "Action=SendMessage&Action=SendMessage", 4000, 10330],
    ["a stray %", "Action=SendMessage&msgBody=100%", 4000, 10420],
    ["a %-escape that is not hex", "Action=SendMessage&msgBody=%zz", 4000, 10420],
    ["%-escapes that are not UTF-8", "Action=SendMessage&msgBody=%FF%FE", 4000, 10420],
    ["an escaped lone surrogate", "Action=SendMessage&msgBody=%ED%A0%80", 4000, 10420],
    ["a key with a character CMQ keys never have", "Action=SendMessage&queue%24Name=x", 4000, 10310],
    ["an empty key", "=x&Action=ListQueue", 4000, 10310],
    ["a JSON body", '{"Action":"SendMessage"}', 4000, 10310],
    ["no credentials at all", "Action=ListQueue", 4100, 10030],
    ["the Go SDK's unsigned appId mode", "Action=SendMessage&appId=1250000000&queueName=q&msgBody=m", 4100, 10030],
    ["an empty body", "", 4100, 10030],
  ] as const)("%s is answered with CMQ's code", async (_name, body, code, module) => {
    const answer = await post(body);

    expectCmqError(answer, [code], String(body));
    expect(answer.body.message.startsWith(`(${module})`), answer.body.message).toBe(true);
    expect(await snapshot()).toEqual(before);
  });

  it("a body over 4 MiB is 4000 (10420) before it is read whole", async () => {
    const answer = await post(`Action=SendMessage&msgBody=${"x".repeat(4 * 1024 * 1024)}`);

    expectCmqError(answer, [4000], "4 MiB body");
    expect(answer.body.message).toMatch(/^\(10420\)/);
  });

  it("a signed request whose Action is missing or unknown is 4000 (10010 or 10430)", async () => {
    const withoutAction = await signedParams("ListQueue", {});
    delete (withoutAction as Record<string, string>).Action;
    const resigned = await signedParams("NoSuchThing", {});

    const missing = await sendParams(withoutAction);
    const unknown = await sendParams(resigned);

    expect(missing.body.code).toBe(4100);
    expectCmqError(unknown, [4000], "unknown action");
    expect(unknown.body.message).toBe("(10430)action name NoSuchThing is not existed");
  });

  it("the service keeps serving after all of it", async () => {
    const answer = await cmq("GetQueueAttributes", { queueName: fixture.queue });
    const health = await (exports as unknown as { default: Fetcher }).default.fetch("http://cmq.test/v1/health");

    expect(answer.body.code).toBe(0);
    expect(health.status).toBe(200);
    console.log(`CMQ bad inputs tried: ${tried}`);
  });
});
