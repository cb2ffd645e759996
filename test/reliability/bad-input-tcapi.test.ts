import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { TcRequest } from "../../src/api/tcapi/wire";
import { api, RootSecretKey } from "../support/http";
import { tc, tcCode, tcFormParams, tcFormSend, tcHeaders, tcSend, type TcAnswer, type TcKey } from "../support/tcapi";
import { checkProperty, propertyTimeoutMs } from "./fc-params";

/**
 * Generated bad input for the Tencent Cloud API 3.0 interface (CMQ actions of TDMQ): each request
 * is answered with HTTP 200 and API 3.0's error code for it (MissingParameter, UnknownParameter,
 * InvalidParameter for a value of the wrong type, InvalidParameterValue for a value out of bounds,
 * InvalidAction, NoSuchVersion, UnsupportedProtocol), the service keeps serving, and the state is
 * verified unchanged.
 */
const root = (): TcKey => ({ secretId: env.ROOT_SECRET_ID!, secretKey: RootSecretKey });
const uid = () => crypto.randomUUID().slice(0, 8);

let tried = 0;

async function call(action: string, input: unknown): Promise<TcAnswer> {
  tried++;
  return tc(action, input, root());
}

function expectTcError(answer: TcAnswer, code: string, label: string): void {
  expect({ status: answer.status, code: tcCode(answer) }, `${label}: ${JSON.stringify(answer.body)?.slice(0, 300)}`).toEqual({ status: 200, code });
  expect(answer.body.Response.RequestId, label).toBe(answer.headers.get("x-request-id"));
}

const fixture = { queue: `tcbad-${uid()}`, topic: `tcbadt-${uid()}` };
let before: unknown;

/** The queue's and topic's attributes, counts and every stored message. */
async function snapshot(): Promise<unknown> {
  const [queue, messages, topic] = await Promise.all([
    api("GET", `/v1/queues/${fixture.queue}`),
    api("GET", `/v1/queues/${fixture.queue}/messages?limit=100`),
    api("GET", `/v1/topics/${fixture.topic}`),
  ]);
  expect([queue.status, topic.status]).toEqual([200, 200]);
  return { queue: queue.body, messages: messages.body.messages, topic: topic.body };
}

beforeAll(async () => {
  await api("PUT", `/v1/queues/${fixture.queue}`, { rewindSeconds: 600 });
  await api("POST", `/v1/queues/${fixture.queue}/messages`, { body: "kept" });
  await api("PUT", `/v1/topics/${fixture.topic}`, {});
  before = await snapshot();
});

// ---------------------------------------------------------------------------------------------
// Value generators

const notAnInteger = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom("1", "30", "", "1e3", "0x10"),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
  fc.constantFrom(0.5, 1.5, -0.1, 29.999, 1e-9),
);
/** An integer outside [min, max], or a value that is no integer at all. */
const badInteger = (min: number, max: number) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(min - 1, max + 1, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER).filter((x) => x < min || x > max) },
    { weight: 2, arbitrary: fc.oneof(fc.integer({ max: min - 1 }), fc.integer({ min: max + 1 })) },
    { weight: 3, arbitrary: notAnInteger },
  );
const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }));
const notAnArray = fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean(), fc.constant(null), fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }));
/** Parameters no action knows, including ones that would matter to a careless object merge. */
const unknownKey = (known: readonly string[]) =>
  fc
    .oneof(
      fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", " ", "queueName", "Action", "Version", "RequestId", "msgBody"),
      fc.string({ minLength: 1, maxLength: 12 }),
    )
    .filter((key) => !known.includes(key));

/**
 * The code API 3.0 gives a bad value: a number of the right type but out of bounds is
 * InvalidParameterValue; a value of another type (null included) is InvalidParameter.
 */
const codeForBadNumber = (value: unknown) => (typeof value === "number" ? "InvalidParameterValue" : "InvalidParameter");
const codeForBadString = (value: unknown) => (typeof value === "string" ? "InvalidParameterValue" : "InvalidParameter");

interface FieldSpec {
  field: string;
  bad: fc.Arbitrary<unknown>;
  code: (value: unknown) => string;
}

interface ActionSpec {
  action: string;
  valid: () => Record<string, unknown>;
  required: string[];
  fields: FieldSpec[];
}

const queueFields: FieldSpec[] = [
  { field: "VisibilityTimeout", bad: badInteger(1, 43_200), code: codeForBadNumber },
  { field: "PollingWaitSeconds", bad: badInteger(0, 30), code: codeForBadNumber },
  { field: "MaxMsgSize", bad: badInteger(1_024, 1_048_576), code: codeForBadNumber },
  { field: "MsgRetentionSeconds", bad: badInteger(60, 1_296_000), code: codeForBadNumber },
  { field: "RewindSeconds", bad: badInteger(0, 1_296_000), code: codeForBadNumber },
  { field: "MaxMsgHeapNum", bad: badInteger(1, 1_000_000_000), code: codeForBadNumber },
];

const specs: ActionSpec[] = [
  {
    action: "SendCmqMsg",
    valid: () => ({ QueueName: fixture.queue, MsgContent: "x", DelaySeconds: 0 }),
    required: ["QueueName", "MsgContent", "DelaySeconds"],
    fields: [
      { field: "MsgContent", bad: fc.oneof(notAString, fc.constant("")), code: codeForBadString },
      { field: "DelaySeconds", bad: badInteger(0, 1_296_000), code: codeForBadNumber },
      { field: "QueueName", bad: fc.oneof(notAString, fc.constantFrom("", "1q", "a b", "q".repeat(65), "a/b")), code: codeForBadString },
    ],
  },
  { action: "ModifyCmqQueueAttribute", valid: () => ({ QueueName: fixture.queue, VisibilityTimeout: 30 }), required: ["QueueName"], fields: queueFields },
  {
    action: "RewindCmqQueue",
    valid: () => ({ QueueName: fixture.queue, StartConsumeTime: Math.floor(Date.now() / 1000) - 1 }),
    required: ["QueueName", "StartConsumeTime"],
    fields: [{ field: "StartConsumeTime", bad: fc.oneof(notAnInteger, fc.integer({ max: -1 })), code: codeForBadNumber }],
  },
  {
    action: "DescribeCmqQueues",
    valid: () => ({ QueueName: fixture.queue }),
    required: [],
    fields: [
      { field: "Limit", bad: badInteger(1, 50), code: codeForBadNumber },
      { field: "Offset", bad: fc.oneof(notAnInteger, fc.integer({ max: -1 })), code: codeForBadNumber },
      { field: "QueueNameList", bad: notAnArray, code: () => "InvalidParameter" },
    ],
  },
  {
    action: "PublishCmqMsg",
    valid: () => ({ TopicName: fixture.topic, MsgContent: "x", MsgTag: ["a"] }),
    required: ["TopicName", "MsgContent"],
    fields: [
      { field: "MsgTag", bad: notAnArray, code: () => "InvalidParameter" },
      { field: "MsgContent", bad: fc.oneof(notAString, fc.constant("")), code: codeForBadString },
    ],
  },
  {
    action: "ModifyCmqTopicAttribute",
    valid: () => ({ TopicName: fixture.topic, MaxMsgSize: 65_536 }),
    required: ["TopicName"],
    fields: [
      { field: "MaxMsgSize", bad: badInteger(1_024, 1_048_576), code: codeForBadNumber },
      { field: "MsgRetentionSeconds", bad: badInteger(60, 86_400), code: codeForBadNumber },
      { field: "Trace", bad: fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)), code: () => "InvalidParameter" },
    ],
  },
];

describe("API 3.0: generated request bodies", () => {
  it(
    "one parameter of a valid request set to a value of the wrong type or out of bounds is refused naming it, and changes nothing",
    async () => {
      const cases = specs.flatMap((spec) => spec.fields.map((field) => ({ spec, field })));
      await checkProperty(
        "API 3.0 bad parameter values",
        fc.asyncProperty(fc.constantFrom(...cases).chain(({ spec, field }) => field.bad.map((value) => ({ spec, field, value }))), async ({ spec, field, value }) => {
          const answer = await call(spec.action, { ...spec.valid(), [field.field]: value });

          expectTcError(answer, field.code(value), `${spec.action} with ${field.field} = ${JSON.stringify(value)}`);
          expect(answer.body.Response.Error.Message).toContain(field.field);
          expect(await snapshot()).toEqual(before);
        }),
        300,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "an unknown parameter in a valid request (including __proto__ and constructor) is UnknownParameter naming it, and changes nothing",
    async () => {
      const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);
      await checkProperty(
        "API 3.0 unknown parameters",
        fc.asyncProperty(
          fc.constantFrom(...specs).chain((spec) => fc.tuple(fc.constant(spec), unknownKey([...Object.keys(spec.valid()), ...spec.fields.map((field) => field.field)]), fc.jsonValue({ maxDepth: 2 }))),
          async ([spec, key, value]) => {
            const input = spec.valid();
            Object.defineProperty(input, key, { value, enumerable: true, configurable: true, writable: true });

            const answer = await call(spec.action, JSON.stringify(input));

            expectTcError(answer, "UnknownParameter", `${spec.action} with parameter ${JSON.stringify(key)}`);
            expect(answer.body.Response.Error.Message).toContain(`\`${key}\``);
            expect(Object.getOwnPropertyNames(Object.prototype), "Object.prototype changed").toEqual(prototypeKeys);
            expect(await snapshot()).toEqual(before);
          },
        ),
        150,
      );
    },
    propertyTimeoutMs(),
  );

  it.each(specs.flatMap((spec) => spec.required.map((field) => [spec.action, field, spec] as const)))(
    "%s without %s is MissingParameter naming it, and changes nothing",
    async (action, field, spec) => {
      const { [field]: _left, ...input } = spec.valid();

      const answer = await call(action, input);

      expectTcError(answer, "MissingParameter", `${action} without ${field}`);
      expect(answer.body.Response.Error.Message).toContain(`\`${field}\``);
      expect(await snapshot()).toEqual(before);
    },
  );

  it(
    "a request body cut short or corrupted so that it no longer parses is InvalidParameter, and changes nothing",
    async () => {
      await checkProperty(
        "API 3.0 malformed JSON",
        fc.asyncProperty(fc.constantFrom(...specs), fc.nat(), fc.constantFrom("{", "}", "[", '"', ",", ":", "\\", "x", "NaN"), async (spec, position, junk) => {
          const text = JSON.stringify(spec.valid());
          const at = 1 + (position % (text.length - 1));
          const payload = position % 2 === 0 ? text.slice(0, at) : text.slice(0, at) + junk + text.slice(at);
          let parses = true;
          try {
            JSON.parse(payload);
          } catch {
            parses = false;
          }
          fc.pre(!parses);

          const answer = await call(spec.action, payload);

          expectTcError(answer, "InvalidParameter", `${spec.action} with body ${JSON.stringify(payload)}`);
          expect(await snapshot()).toEqual(before);
        }),
        150,
      );
    },
    propertyTimeoutMs(),
  );

  it.each([["[]"], ["null"], ["42"], ['"SendCmqMsg"'], ["true"]])("a body that is JSON but not an object (%s) is InvalidParameter", async (body) => {
    const answer = await call("SendCmqMsg", body);

    expectTcError(answer, "InvalidParameter", body);
    expect(await snapshot()).toEqual(before);
  });

  it("a message body that is not well-formed Unicode is InvalidParameterValue and is not stored", async () => {
    const answer = await call("SendCmqMsg", `{"QueueName":"${fixture.queue}","MsgContent":"half \\ud800 pair","DelaySeconds":0}`);

    expectTcError(answer, "InvalidParameterValue", "lone surrogate");
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ["a Policy without MaxReceiveCount or MaxTimeToLive", { Policy: 0, DeadLetterQueueName: "dlq" }, "MissingParameter"],
    ["MaxTimeToLive with Policy 0", { Policy: 0, DeadLetterQueueName: "dlq", MaxReceiveCount: 3, MaxTimeToLive: 600 }, "InvalidParameterValue"],
    ["a dead-letter queue that does not exist", { DeadLetterQueueName: `absent-${uid()}`, MaxReceiveCount: 3 }, "InvalidParameterValue"],
    ["Transaction 1", { Transaction: 1 }, "UnsupportedOperation"],
    ["FirstQueryInterval", { FirstQueryInterval: 10 }, "UnsupportedOperation"],
    ["Trace true", { Trace: true }, "UnsupportedOperation"],
    ["RetentionSizeInMB", { RetentionSizeInMB: 10_240 }, "UnsupportedOperation"],
  ])("ModifyCmqQueueAttribute with %s is %s, and changes nothing", async (_case, parameters, code) => {
    const answer = await call("ModifyCmqQueueAttribute", { QueueName: fixture.queue, ...parameters });

    expectTcError(answer, code, JSON.stringify(parameters));
    expect(await snapshot()).toEqual(before);
  });
});

describe("API 3.0: the form variant (signed with HmacSHA256 or HmacSHA1)", () => {
  const send = { QueueName: fixture.queue, MsgContent: "x", DelaySeconds: 0 };
  /** Signs `input` as a form, lets `alter` change the parameters after signing, and appends `raw` to the encoded form. */
  async function form(action: string, input: unknown, alter: (params: Record<string, string>) => void = () => {}, raw = ""): Promise<TcAnswer> {
    tried++;
    const params = await tcFormParams(action, input, root());
    alter(params);
    return tcFormSend(params, "POST", raw);
  }

  it.each<[string, string, () => Promise<TcAnswer>]>([
    ["a malformed %-escape", "InvalidParameter", () => form("SendCmqMsg", send, undefined, "&Note=%ZZ")],
    ["an escape that is not UTF-8", "InvalidParameter", () => form("SendCmqMsg", send, undefined, "&Note=%C3%28")],
    ["a malformed parameter name", "InvalidParameter", () => form("SendCmqMsg", send, undefined, "&Queue%20Name=x")],
    ["a parameter given twice", "InvalidParameter", () => form("SendCmqMsg", send, undefined, `&QueueName=${fixture.queue}`)],
    ["a value given both as a value and as a list", "InvalidParameter", () => form("DescribeCmqQueues", { QueueNameList: "x", "QueueNameList.0": fixture.queue })],
    ["no Signature", "MissingParameter", () => form("SendCmqMsg", send, (params) => delete params.Signature)],
    ["no Nonce", "MissingParameter", () => form("SendCmqMsg", send, (params) => delete params.Nonce)],
    ["no Action", "MissingParameter", () => form("SendCmqMsg", send, (params) => delete params.Action)],
    ["a Nonce that is not a number", "AuthFailure.SignatureFailure", () => form("SendCmqMsg", send, (params) => (params.Nonce = "abc"))],
    ["an unknown action", "InvalidAction", () => form("ReceiveMessage", send)],
    ["a parameter the action does not have", "UnknownParameter", () => form("SendCmqMsg", { ...send, queueName: fixture.queue })],
    ["a missing parameter", "MissingParameter", () => form("SendCmqMsg", { QueueName: fixture.queue, MsgContent: "x" })],
    ["an integer that is not one", "InvalidParameter", () => form("SendCmqMsg", { ...send, DelaySeconds: "soon" })],
    ["a boolean that is not one", "InvalidParameter", () => form("CreateCmqTopic", { TopicName: fixture.topic, Trace: "yes" })],
    ["a Limit out of bounds", "InvalidParameterValue", () => form("DescribeCmqQueues", { Limit: 0 })],
    ["a list of an object's fields out of place", "UnknownParameter", () => form("CreateCmqQueue", { QueueName: `${fixture.queue}-new`, Tags: [{ TagKey: "k", TagValue: "v", Other: "x" }] })],
  ])("%s is %s and changes nothing", async (label, code, request) => {
    const answer = await request();

    expectTcError(answer, code, label);
    expect(await snapshot()).toEqual(before);
  });
});

describe("API 3.0: the envelope", () => {
  it(
    "an action that is not one of the CMQ actions of tdmq 2020-02-17 is InvalidAction",
    async () => {
      await checkProperty(
        "API 3.0 unknown actions",
        fc.asyncProperty(
          fc.oneof(fc.constantFrom("ReceiveMessage", "SendMessage", "sendcmqmsg", "SENDCMQMSG", "DescribeCmqQueue", "__proto__", "constructor", "toString", "createCmqQueue"), fc.string({ minLength: 1, maxLength: 20 }).filter((s) => /^[\x21-\x7e]+$/.test(s))),
          async (action) => {
            fc.pre(!Object.hasOwn(TcRequest, action));
            const answer = await call(action, { QueueName: fixture.queue, MsgContent: "x", DelaySeconds: 0 });

            expectTcError(answer, "InvalidAction", action);
            expect(await snapshot()).toEqual(before);
          },
        ),
        100,
      );
    },
    propertyTimeoutMs(),
  );

  it.each([["2019-03-04"], ["2020-02-18"], [""], ["latest"]])("version %j is NoSuchVersion", async (version) => {
    const body = JSON.stringify({ QueueName: fixture.queue, MsgContent: "x", DelaySeconds: 0 });
    const headers = { ...(await tcHeaders("SendCmqMsg", body, root())), "x-tc-version": version };

    const answer = await tcSend(body, headers);

    expectTcError(answer, "NoSuchVersion", version);
    expect(await snapshot()).toEqual(before);
  });

  it("a request without X-TC-Version is MissingParameter", async () => {
    const body = JSON.stringify({ QueueName: fixture.queue });
    const { "x-tc-version": _version, ...headers } = await tcHeaders("ClearCmqQueue", body, root());

    const answer = await tcSend(body, headers);

    expectTcError(answer, "MissingParameter", "no version");
    expect(await snapshot()).toEqual(before);
  });

  it("temporary credentials (X-TC-Token) are AuthFailure.TokenFailure, not the key's own rights", async () => {
    const body = JSON.stringify({ QueueName: fixture.queue });
    const headers = { ...(await tcHeaders("ClearCmqQueue", body, root())), "x-tc-token": "sts-session-token" };

    const answer = await tcSend(body, headers);

    expectTcError(answer, "AuthFailure.TokenFailure", "X-TC-Token");
    expect(await snapshot()).toEqual(before);
  });

  it.each([["PUT"], ["DELETE"], ["PATCH"]])("method %s is UnsupportedProtocol", async (method) => {
    const body = JSON.stringify({ QueueName: fixture.queue });
    const headers = await tcHeaders("ClearCmqQueue", body, root());

    const answer = await tcSend(method === "DELETE" ? undefined : body, headers, method);

    expectTcError(answer, "UnsupportedProtocol", method);
    expect(await snapshot()).toEqual(before);
  });

  it("a POST with parameters in its query string is InvalidParameter", async () => {
    const url = "http://localhost:18787/?QueueName=x";
    const body = JSON.stringify({ QueueName: fixture.queue });

    const answer = await tcSend(body, await tcHeaders("ClearCmqQueue", body, root(), { url }), "POST", url);

    expectTcError(answer, "InvalidParameter", "query on POST");
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ["a repeated parameter", "QueueName=a&QueueName=b", "InvalidParameter"],
    ["a list given as a value too", "QueueNameList=a&QueueNameList.0=b", "InvalidParameter"],
    ["an unknown parameter", "Colour=red", "UnknownParameter"],
    ["a number that is no number", "Limit=ten", "InvalidParameter"],
    ["a list with a gap", "QueueNameList.1=a", "InvalidParameter"],
    ["__proto__", "__proto__.polluted=1", "UnknownParameter"],
  ])("a GET with %s is %s", async (_case, query, code) => {
    const url = `http://localhost:18787/?${query}`;
    const headers = await tcHeaders("DescribeCmqQueues", "", root(), { url, method: "GET" });

    const answer = await tcSend(undefined, headers, "GET", url);

    expectTcError(answer, code, query);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("a GET with valid parameters is answered", async () => {
    const url = `http://localhost:18787/?QueueNameList.0=${fixture.queue}&Limit=5&IsTagFilter=false`;
    const headers = await tcHeaders("DescribeCmqQueues", "", root(), { url, method: "GET" });

    const answer = await tcSend(undefined, headers, "GET", url);

    expect(tcCode(answer), JSON.stringify(answer.body)).toBe("ok");
    expect(answer.body.Response.QueueList.map((queue: { QueueName: string }) => queue.QueueName)).toEqual([fixture.queue]);
    tried++;
    console.log(`bad inputs tried: ${tried} API 3.0 requests`);
  });
});
