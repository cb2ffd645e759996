import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { md5OfAttributes } from "../../src/api/sqs/message-attributes";
import { api, type ApiResponse } from "../support/http";
import { queueUrl, sqs } from "../support/sqs";
import { checkProperty, propertyTimeoutMs } from "./fc-params";

/**
 * Generated message attributes, through every interface that takes them: REST send and publish,
 * RPC send, SQS SendMessage. The rules are the README's (hard-coded here, so that the documented
 * rules are what is tested): at most 10; a name of 1 to 256 characters of `[A-Za-z0-9_.-]`, no
 * leading, trailing or doubled `.`, not `AWS.`/`Amazon.` in any case; a type `String`, `Number` or
 * `Binary`, optionally `.label`; a non-empty value, a number for Number, base64 for Binary.
 * A set breaking one rule is refused everywhere with the interface's code and changes nothing; a
 * valid set comes back unchanged from every interface.
 */

type Attribute = { type: string; value: string };
type Attributes = Record<string, Attribute>;

const uid = () => crypto.randomUUID().slice(0, 8);

// ---------------------------------------------------------------------------------------------
// Valid parts

const validName = fc
  .stringMatching(/^[A-Za-z0-9_-](?:[A-Za-z0-9_.-]{0,18}[A-Za-z0-9_-])?$/)
  .filter((name) => !name.includes("..") && !/^(aws|amazon)\./i.test(name) && !["__proto__", "constructor", "prototype"].includes(name));
const label = fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), { nil: undefined }).map((suffix) => (suffix === undefined ? "" : `.${suffix}`));
/** Text SQS allows in a string value (its body characters), never empty. */
const sqsText = fc.string({ minLength: 1, maxLength: 16, unit: fc.constantFrom(..."az AZ09.-_é日😀\t\n") });
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.tuple(fc.integer({ min: -999, max: 999 }), fc.nat({ max: 9999 })).map(([whole, fraction]) => `${whole}.${fraction}`),
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: -120, max: 120 })).map(([digit, exponent]) => `${digit}e${exponent}`),
);
const base64Of = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const validAttribute: fc.Arbitrary<Attribute> = fc.oneof(
  fc.tuple(label, sqsText).map(([suffix, value]) => ({ type: `String${suffix}`, value })),
  fc.tuple(label, numberText).map(([suffix, value]) => ({ type: `Number${suffix}`, value })),
  fc.tuple(label, fc.uint8Array({ minLength: 1, maxLength: 12 })).map(([suffix, bytes]) => ({ type: `Binary${suffix}`, value: base64Of(bytes) })),
);
const validSet = (maxKeys: number) => fc.dictionary(validName, validAttribute, { minKeys: 1, maxKeys });

// ---------------------------------------------------------------------------------------------
// One broken rule

const badName = fc.constantFrom("", "a b", "AWS.x", "aws.trace", "Amazon.y", "AMAZON.z", ".a", "a.", "a..b", "n".repeat(257), "é", "a/b", "a:b", "constructor", "prototype");
const badType = fc.constantFrom("", "string", "Text", "String.", "Binaryx", "Number ", " String", "String.\n", "Number.\u0000");
const badValue: fc.Arbitrary<Attribute> = fc.oneof(
  fc.constantFrom("String", "String.x", "Number", "Binary").map((type) => ({ type, value: "" })),
  fc.constantFrom("ten", "1e127", "1e-129", "NaN", "Infinity", "0x1", "1,5", " 1", "1 ", "--1", "1".repeat(39)).map((value) => ({ type: "Number", value })),
  fc.constantFrom("abc", "a===", "!!!!", "YQ", "YWJj\n", "Y W=").map((value) => ({ type: "Binary.x", value })),
);

/** A set of valid attributes with one rule broken, described for the failure report. */
const brokenSet: fc.Arbitrary<{ why: string; attributes: Attributes }> = fc.oneof(
  fc.tuple(validSet(4), badName, validAttribute).map(([set, name, attribute]) => ({ why: `name ${JSON.stringify(name)}`, attributes: { ...set, [name]: attribute } })),
  fc.tuple(validSet(4), validName, badType, sqsText).map(([set, name, type, value]) => ({ why: `type ${JSON.stringify(type)}`, attributes: { ...set, [name]: { type, value } } })),
  fc.tuple(validSet(4), validName, badValue).map(([set, name, attribute]) => ({ why: `value ${JSON.stringify(attribute)}`, attributes: { ...set, [name]: attribute } })),
  fc.dictionary(validName, validAttribute, { minKeys: 11, maxKeys: 14 }).map((set) => ({ why: `${Object.keys(set).length} attributes`, attributes: set })),
);

// ---------------------------------------------------------------------------------------------

type RpcOutcome = { ok: true; value: any } | { ok: false; name: string; message: string };

async function rpc(method: string, ...args: unknown[]): Promise<RpcOutcome> {
  const response = await env.CONSUMER.fetch("http://consumer/", { method: "POST", body: JSON.stringify({ method, args }) });
  expect(response.status).toBe(200);
  return response.json<RpcOutcome>();
}

const rpcCode = (outcome: RpcOutcome) => (outcome.ok ? "ok" : (/^\[(\w+)\] /.exec(outcome.message)?.[1] ?? outcome.message));

const toWire = (attributes: Attributes) =>
  Object.fromEntries(
    Object.entries(attributes).map(([name, { type, value }]) => [
      name,
      type.startsWith("Binary") ? { DataType: type, BinaryValue: value } : { DataType: type, StringValue: value },
    ]),
  );

function expectRestError(response: ApiResponse, label: string): void {
  expect({ status: response.status, code: response.body?.error?.code }, `${label}: ${JSON.stringify(response.body)}`).toEqual({ status: 400, code: "InvalidParameter" });
}

let queue: string;
let topic: string;

/** The queue's attributes, counts and stored messages, and the topic's stored message count. */
async function snapshot(): Promise<unknown> {
  const info = await api("GET", `/v1/queues/${queue}`);
  const peek = await api("GET", `/v1/queues/${queue}/messages?limit=100`);
  const topicInfo = await api("GET", `/v1/topics/${topic}`);
  return { info: info.body, messages: peek.body.messages, topicMessages: topicInfo.body.messageCount };
}

beforeAll(async () => {
  queue = `attrs-${uid()}`;
  topic = `attrt-${uid()}`;
  expect((await api("PUT", `/v1/queues/${queue}`, {})).status).toBe(201);
  expect((await api("POST", `/v1/queues/${queue}/messages`, { body: "kept", attributes: { k: { type: "String", value: "v" } } })).status).toBe(200);
  expect((await api("PUT", `/v1/topics/${topic}`, {})).status).toBe(201);
});

describe("generated message attributes", () => {
  it(
    "a set breaking one rule is refused by REST send and publish, RPC send and SQS SendMessage with their codes, and changes nothing",
    async () => {
      const before = await snapshot();
      await checkProperty(
        "bad message attributes",
        fc.asyncProperty(brokenSet, async ({ why, attributes }) => {
          const body = { body: "x", attributes };
          // JSON keeps a "__proto__"-like name an own key; the requests are made from the text.
          const text = JSON.stringify(body);

          const sent = await api("POST", `/v1/queues/${queue}/messages`, undefined, { rawBody: text, headers: { "content-type": "application/json" } });
          const published = await api("POST", `/v1/topics/${topic}/messages`, undefined, { rawBody: text, headers: { "content-type": "application/json" } });
          const overRpc = await rpc("send", queue, JSON.parse(text));
          const overSqs = await sqs("SendMessage", JSON.stringify({ QueueUrl: queueUrl(queue), MessageBody: "x", MessageAttributes: toWire(attributes) }));

          expectRestError(sent, `send with ${why}`);
          expectRestError(published, `publish with ${why}`);
          expect(rpcCode(overRpc), `rpc with ${why}`).toBe("InvalidParameter");
          expect({ status: overSqs.status, type: overSqs.body?.__type }, `sqs with ${why}: ${JSON.stringify(overSqs.body)}`).toEqual({
            status: 400,
            type: "com.amazonaws.sqs#InvalidParameterValue",
          });
          expect(await snapshot()).toEqual(before);
        }),
        60,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "an SQS MessageAttributeValue with a member missing, misplaced, reserved, unknown or of the wrong type is InvalidParameterValue, and changes nothing",
    async () => {
      const before = await snapshot();
      type WireValue = Record<string, unknown>;
      const breakings: Array<[string, (value: WireValue) => WireValue]> = [
        ["no DataType", ({ DataType: _type, ...rest }) => rest],
        ["an empty DataType", (value) => ({ ...value, DataType: "" })],
        ["no value", ({ DataType }) => ({ DataType })],
        ["the value in the other member", ({ DataType, BinaryValue }) => (BinaryValue === undefined ? { DataType, BinaryValue: "eA==" } : { DataType, StringValue: "x" })],
        ["both members", (value) => ({ ...value, StringValue: "x", BinaryValue: "eA==" })],
        ["StringListValues", (value) => ({ ...value, StringListValues: ["a"] })],
        ["BinaryListValues", (value) => ({ ...value, BinaryListValues: ["YQ=="] })],
        ["an unknown member", (value) => ({ ...value, Colour: "red" })],
        ["a value that is no string", (value) => (value.BinaryValue === undefined ? { ...value, StringValue: 7 } : { ...value, BinaryValue: [1, 2] })],
      ];
      await checkProperty(
        "bad SQS attribute values",
        fc.asyncProperty(validSet(5), fc.constantFrom(...breakings), fc.nat(), async (attributes, [why, breakIt], which) => {
          const wire: Record<string, WireValue> = toWire(attributes);
          const name = Object.keys(wire)[which % Object.keys(wire).length]!;
          wire[name] = breakIt(wire[name]!);

          const answer = await sqs("SendMessage", { QueueUrl: queueUrl(queue), MessageBody: "x", MessageAttributes: wire });

          expect({ status: answer.status, type: answer.body?.__type }, `${why}: ${JSON.stringify(answer.body)}`).toEqual({
            status: 400,
            type: "com.amazonaws.sqs#InvalidParameterValue",
          });
          expect(await snapshot()).toEqual(before);
        }),
        60,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "a valid set comes back unchanged from REST, RPC and SQS, with SQS's digest of it",
    async () => {
      const roundTrip = `attrs-ok-${uid()}`;
      expect((await api("PUT", `/v1/queues/${roundTrip}`, {})).status).toBe(201);
      await checkProperty(
        "valid message attributes",
        fc.asyncProperty(validSet(10), async (attributes) => {
          expect((await api("POST", `/v1/queues/${roundTrip}/messages`, { body: "rest", attributes })).status).toBe(200);
          const overRest = (await api("POST", `/v1/queues/${roundTrip}/messages/receive`, {})).body.messages[0];
          expect(rpcCode(await rpc("send", roundTrip, { body: "rpc", attributes }))).toBe("ok");
          const rpcReceived = await rpc("receive", roundTrip, {});
          const sent = await sqs("SendMessage", { QueueUrl: queueUrl(roundTrip), MessageBody: "sqs", MessageAttributes: toWire(attributes) });
          const overSqs = (await sqs("ReceiveMessage", { QueueUrl: queueUrl(roundTrip), MessageAttributeNames: ["All"] })).body.Messages[0];

          expect(overRest.attributes).toEqual(attributes);
          expect(rpcReceived.ok && rpcReceived.value.messages[0].attributes).toEqual(attributes);
          expect(overSqs.MessageAttributes).toEqual(toWire(attributes));
          expect(sent.body.MD5OfMessageAttributes).toBe(await md5OfAttributes(attributes));
          expect(overSqs.MD5OfMessageAttributes).toBe(sent.body.MD5OfMessageAttributes);
          const handles = [overRest.receiptHandle, rpcReceived.ok ? rpcReceived.value.messages[0].receiptHandle : "", overSqs.ReceiptHandle];
          expect((await api("POST", `/v1/queues/${roundTrip}/messages/delete`, { receiptHandles: handles })).body.results.every((r: { deleted: boolean }) => r.deleted)).toBe(true);
        }),
        40,
      );
    },
    propertyTimeoutMs(),
  );
});
