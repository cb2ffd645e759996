import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { api, RootSecretKey, type ApiResponse } from "../support/http";
import { sqs as sqsCall, type SqsAnswer } from "../support/sqs";
import { checkProperty, propertyTimeoutMs } from "./fc-params";

/**
 * Generated bad input, per interface (REST through the Worker's fetch handler; the RPC entrypoint
 * through the consumer Worker, which reaches it only over its service binding). Each input is
 * answered with its documented error code (the README's table, hard-coded here so that the table
 * itself is what is tested), the service keeps serving, and the state is verified unchanged.
 * Hand-written cases live in test/api/ (malformed.test.ts, attributes.test.ts, rpc.test.ts); these
 * are the generated ones.
 */

/** README "Errors" table: code → HTTP status. */
const Documented: Record<string, number> = {
  MalformedRequest: 400,
  InvalidParameter: 400,
  RequestTooLarge: 413,
  NotFound: 404,
  MethodNotAllowed: 405,
  Unauthenticated: 401,
  NotConfigured: 503,
  QueueNotFound: 404,
  QueueAlreadyExists: 409,
  QueueInUse: 409,
  InvalidDeadLetterQueue: 400,
  MessageTooLarge: 413,
  BatchTooLarge: 413,
  QueueFull: 409,
  ReceiptHandleInvalid: 400,
  RewindNotEnabled: 409,
  InvalidRewindTime: 400,
  RedriveInProgress: 409,
  RedriveNotFound: 404,
  ConsumerNotFound: 404,
  TopicNotFound: 404,
  TopicAlreadyExists: 409,
  SubscriptionNotFound: 404,
  SubscriptionAlreadyExists: 409,
  TooManySubscriptions: 409,
  Forbidden: 403,
  AccountNotFound: 404,
  AccountAlreadyExists: 409,
  KeyNotFound: 404,
  QuotaExceeded: 409,
};

/** The README's rule for queue, topic and subscription names. */
const NamePattern = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

const tried = { rest: 0, rpc: 0, sqs: 0 };

function expectRestError(response: ApiResponse, code: string, label: string): void {
  const got = { status: response.status, code: response.body?.error?.code };
  expect(got, `${label}: ${JSON.stringify(response.body)?.slice(0, 300)}`).toEqual({ status: Documented[code], code });
  expect(response.headers.get("x-request-id"), label).toBe(response.body.error.requestId);
}

async function rest(method: string, path: string, body?: unknown, rawBody?: string | Uint8Array): Promise<ApiResponse> {
  tried.rest++;
  if (rawBody instanceof Uint8Array) {
    const response = await (exports as unknown as { default: Fetcher }).default.fetch(
      new Request(`http://cmq.test${path}`, { method, headers: { authorization: `Bearer ${RootSecretKey}` }, body: rawBody }),
    );
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  }
  return api(method, path, body, rawBody === undefined ? {} : { rawBody, headers: { "content-type": "application/json" } });
}

type RpcOutcome = { ok: true; value: any } | { ok: false; name: string; message: string };

/** Calls a QueueService method through the consumer Worker. */
async function rpc(method: string, ...args: unknown[]): Promise<RpcOutcome> {
  tried.rpc++;
  const response = await env.CONSUMER.fetch("http://consumer/", { method: "POST", body: JSON.stringify({ method, args }) });
  expect(response.status).toBe(200);
  return response.json<RpcOutcome>();
}

function rpcCode(outcome: RpcOutcome): string {
  if (outcome.ok) return "ok";
  if (outcome.name !== "ServiceError") return `${outcome.name}: ${outcome.message}`;
  return /^\[(\w+)\] /.exec(outcome.message)?.[1] ?? `unparsed: ${outcome.message}`;
}

/** A queue's attributes, counts and every stored message, for "nothing changed" comparisons. */
async function snapshot(queue: string): Promise<unknown> {
  const info = await api("GET", `/v1/queues/${queue}`);
  const peek = await api("GET", `/v1/queues/${queue}/messages?limit=100`);
  expect(info.status).toBe(200);
  return { info: info.body, messages: peek.body.messages };
}

async function stillServing(queue: string): Promise<void> {
  expect((await api("GET", "/v1/health")).status).toBe(200);
  expect(rpcCode(await rpc("getQueue", queue))).toBe("ok");
}

const uid = () => crypto.randomUUID().slice(0, 8);

// ---------------------------------------------------------------------------------------------
// Value generators

const anyJson = fc.jsonValue({ maxDepth: 2 });
/** A JSON value that is not an integer. */
const notAnInteger = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom("1", "30", "", "1e3", "0x10"),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
  fc.constantFrom(0.5, 1.5, -0.1, 29.999, 1e-9),
);
/** An integer outside [min, max], or a value that is no integer at all. */
const badInteger = (min: number, max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(min - 1, max + 1, -1, min - 1000, max * 10 + 7, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER).filter((x) => x < min || x > max) },
    { weight: 2, arbitrary: fc.oneof(fc.integer({ max: min - 1 }), fc.integer({ min: max + 1 })) },
    { weight: 1, arbitrary: fc.constantFrom(1e21, -1e21, 1e300) },
    { weight: 3, arbitrary: notAnInteger },
  );
const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }));
const notABoolean = fc.oneof(fc.constantFrom("true", "false", "", 0, 1, null), fc.array(fc.boolean(), { maxLength: 2 }));
/** A FIFO group or deduplication id that is not 1 to 128 ASCII letters, digits and punctuation. */
const badFifoId = fc.oneof(notAString, fc.constantFrom("", "g".repeat(129), "a b", "ü", "tab\t", "日本"));
const notAnArray = fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean(), fc.constant(null), fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }));
/** Keys no request body knows, including ones that would matter to a careless object merge. */
const unknownKey = (known: readonly string[]) =>
  fc
    .oneof(
      fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", " ", "Body", "MAX", "visibility_timeout", "extra", "id", "$where"),
      fc.string({ minLength: 1, maxLength: 12 }),
    )
    .filter((key) => !known.includes(key));

/** A field of a request body and values it must refuse. */
interface FieldSpec {
  field: string;
  bad: fc.Arbitrary<unknown>;
}

interface RouteSpec {
  label: string;
  method: string;
  path: (ctx: Fixture) => string;
  /** A valid body; mutating one field of it, or adding a key, makes it invalid. */
  valid: (ctx: Fixture) => Record<string, unknown>;
  fields: FieldSpec[];
  /** Where fields live: the body itself, or the first message of a batch. */
  nested?: "messages.0";
}

interface Fixture {
  queue: string;
  topic: string;
  handles: string[];
}

const queueAttributeFields: FieldSpec[] = [
  { field: "visibilityTimeout", bad: badInteger(1, 43_200) },
  { field: "pollingWaitSeconds", bad: badInteger(0, 30) },
  { field: "maxMsgSize", bad: badInteger(1_024, 1_048_576) },
  { field: "msgRetentionSeconds", bad: badInteger(60, 1_296_000) },
  { field: "rewindSeconds", bad: badInteger(0, 1_296_000) },
  { field: "maxMsgHeapNum", bad: badInteger(1, 1_000_000_000) },
  {
    field: "deadLetter",
    bad: fc.oneof(
      fc.string({ maxLength: 5 }),
      fc.integer(),
      fc.record({ queue: fc.constant("dlq"), maxReceiveCount: badInteger(1, 1_000) }),
      fc.record({ queue: fc.constant("dlq"), maxTimeToLive: badInteger(300, 43_200) }),
      fc.record({ queue: fc.constantFrom("", "1dlq", "a/b", "d".repeat(65)), maxReceiveCount: fc.constant(3) }),
      fc.record({ queue: fc.constant("dlq") }),
      fc.record({ queue: fc.constant("dlq"), maxReceiveCount: fc.constant(3), maxTimeToLive: fc.constant(300) }),
    ),
  },
  // The FIFO attributes: of the wrong type, not documented, or (valid ones) on a standard queue.
  { field: "contentBasedDeduplication", bad: fc.oneof(notABoolean, fc.constant(true)) },
  { field: "deduplicationScope", bad: fc.oneof(notAString, fc.constantFrom("group", "Queue", "", "messageGroup")) },
  { field: "fifoThroughputLimit", bad: fc.oneof(notAString, fc.constantFrom("perGroup", "", "perMessageGroupId")) },
  { field: "partitions", bad: badInteger(1, 64) },
];

const messageFields: FieldSpec[] = [
  { field: "body", bad: fc.oneof(notAString, fc.constant("")) },
  { field: "delaySeconds", bad: fc.oneof(badInteger(0, 1_296_000)) },
  {
    field: "tags",
    bad: fc.oneof(
      notAnArray,
      fc.array(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 17, maxLength: 20 }),
      fc.tuple(fc.constantFrom("", "t".repeat(65)), fc.array(fc.constant("ok"), { maxLength: 2 })).map(([bad, rest]) => [...rest, bad]),
      fc.array(fc.oneof(fc.integer(), fc.constant(null)), { minLength: 1, maxLength: 2 }),
    ),
  },
  { field: "groupId", bad: badFifoId },
  { field: "deduplicationId", bad: badFifoId },
];

const routes: RouteSpec[] = [
  { label: "create queue", method: "PUT", path: () => `/v1/queues/bad-${uid()}`, valid: () => ({}), fields: [
      ...queueAttributeFields,
      { field: "locationHint", bad: fc.oneof(notAString, fc.constantFrom("WEUR", "mars", "", "weur ")) },
      // A standard queue's name: fifo true is refused too.
      { field: "fifo", bad: fc.oneof(notABoolean, fc.constant(true)) },
    ] },
  { label: "update queue", method: "PATCH", path: (c) => `/v1/queues/${c.queue}`, valid: () => ({}), fields: queueAttributeFields },
  { label: "send", method: "POST", path: (c) => `/v1/queues/${c.queue}/messages`, valid: () => ({ body: "x" }), fields: messageFields },
  {
    label: "send batch",
    method: "POST",
    path: (c) => `/v1/queues/${c.queue}/messages`,
    valid: () => ({ messages: [{ body: "x" }, { body: "y" }] }),
    fields: messageFields,
    nested: "messages.0",
  },
  {
    label: "receive",
    method: "POST",
    path: (c) => `/v1/queues/${c.queue}/messages/receive`,
    valid: () => ({ max: 1, waitSeconds: 0 }),
    fields: [
      { field: "max", bad: badInteger(1, 16) },
      { field: "waitSeconds", bad: badInteger(0, 30) },
      { field: "visibilityTimeout", bad: badInteger(1, 43_200) },
    ],
  },
  {
    label: "delete",
    method: "POST",
    path: (c) => `/v1/queues/${c.queue}/messages/delete`,
    valid: (c) => ({ receiptHandles: [c.handles[0]] }),
    fields: [
      {
        field: "receiptHandles",
        bad: fc.oneof(notAnArray, fc.constant([]), fc.array(fc.constant("h"), { minLength: 17, maxLength: 40 }), fc.array(notAString, { minLength: 1, maxLength: 3 })),
      },
    ],
  },
  {
    label: "change visibility",
    method: "POST",
    path: (c) => `/v1/queues/${c.queue}/messages/visibility`,
    valid: (c) => ({ receiptHandle: c.handles[0], visibilityTimeout: 3_600 }),
    fields: [
      { field: "receiptHandle", bad: notAString },
      { field: "visibilityTimeout", bad: badInteger(0, 43_200) },
    ],
  },
  {
    label: "rewind",
    method: "POST",
    path: (c) => `/v1/queues/${c.queue}/rewind`,
    valid: () => ({ since: Date.now() - 1_000 }),
    fields: [{ field: "since", bad: fc.oneof(notAnInteger, fc.integer({ max: -1 })) }],
  },
  {
    label: "redrive",
    method: "POST",
    path: (c) => `/v1/queues/${c.queue}/redrive`,
    valid: () => ({ maxPerSecond: 10 }),
    fields: [
      { field: "maxPerSecond", bad: badInteger(1, 500) },
      { field: "maxMessages", bad: fc.oneof(notAnInteger, fc.integer({ max: 0 })) },
      { field: "destination", bad: fc.oneof(notAString, fc.constantFrom("", "1q", "a/b", "q".repeat(65), "ü")) },
    ],
  },
  {
    label: "set consumer",
    method: "PUT",
    path: (c) => `/v1/queues/${c.queue}/consumer`,
    valid: () => ({ binding: "QUEUE_CONSUMER", batchSize: 10 }),
    fields: [
      // Names that are no service binding: this Worker's object namespaces, variables and secrets too.
      { field: "binding", bad: fc.oneof(notAString, fc.constantFrom("", "1A", "a-b", "B".repeat(65), "QUEUES", "CATALOG", "REGION", "ROOT_SECRET_KEY", "constructor", "toString", "NOPE")) },
      { field: "batchSize", bad: badInteger(1, 100) },
      { field: "maxWaitMs", bad: badInteger(0, 60_000) },
      { field: "maxConcurrency", bad: badInteger(1, 250) },
      { field: "maxRetries", bad: badInteger(0, 100) },
      { field: "retryDelaySeconds", bad: badInteger(0, 43_200) },
    ],
  },
  {
    label: "create topic",
    method: "PUT",
    path: () => `/v1/topics/bad-${uid()}`,
    valid: () => ({}),
    fields: [
      { field: "maxMsgSize", bad: badInteger(1_024, 1_048_576) },
      { field: "msgRetentionSeconds", bad: badInteger(60, 86_400) },
      { field: "filterType", bad: fc.oneof(notAString, fc.constantFrom("Tag", "routingkey", "")) },
    ],
  },
  {
    label: "publish",
    method: "POST",
    path: (c) => `/v1/topics/${c.topic}/messages`,
    valid: () => ({ body: "x" }),
    fields: [
      { field: "body", bad: fc.oneof(notAString, fc.constant("")) },
      { field: "tags", bad: fc.oneof(notAnArray, fc.array(fc.constant("t"), { minLength: 6, maxLength: 8 }), fc.constant(["t".repeat(17)])) },
      { field: "routingKey", bad: fc.oneof(notAString, fc.constantFrom("", "a..b", ".a", "a.", "a.*", "#", "k".repeat(65), Array(17).fill("w").join("."))) },
      { field: "groupId", bad: badFifoId },
      { field: "deduplicationId", bad: badFifoId },
    ],
  },
  {
    label: "subscribe",
    method: "PUT",
    path: (c) => `/v1/topics/${c.topic}/subscriptions/bad-${uid()}`,
    valid: (c) => ({ protocol: "queue", endpoint: c.queue }),
    fields: [
      { field: "protocol", bad: fc.oneof(notAString, fc.constantFrom("QUEUE", "ftp", "")) },
      { field: "endpoint", bad: fc.oneof(notAString, fc.constant(""), fc.constant(`http://x/${"p".repeat(500)}`)) },
      { field: "notifyStrategy", bad: fc.oneof(notAString, fc.constantFrom("backoff_retry", "NONE")) },
      { field: "filterTags", bad: fc.oneof(notAnArray, fc.array(fc.constant("t"), { minLength: 6, maxLength: 7 }), fc.constant(["t".repeat(17)])) },
      { field: "signingSecret", bad: fc.oneof(fc.integer(), fc.constantFrom("short", "s".repeat(129))) },
    ],
  },
];

// ---------------------------------------------------------------------------------------------

let fixture: Fixture;
let before: unknown;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);

beforeAll(async () => {
  const queue = `bad-${uid()}`;
  expect((await api("PUT", `/v1/queues/${queue}`, { visibilityTimeout: 3_600, rewindSeconds: 3_600, maxMsgSize: 1_024 })).status).toBe(201);
  expect((await api("POST", `/v1/queues/${queue}/messages`, { messages: [{ body: "one" }, { body: "two" }, { body: "three" }] })).status).toBe(200);
  const received = await api("POST", `/v1/queues/${queue}/messages/receive`, { max: 2 });
  const topic = `badt-${uid()}`;
  expect((await api("PUT", `/v1/topics/${topic}`, {})).status).toBe(201);
  fixture = { queue, topic, handles: received.body.messages.map((m: { receiptHandle: string }) => m.receiptHandle) };
  expect(fixture.handles).toHaveLength(2);
  before = await snapshot(queue);
});

function setPath(target: Record<string, unknown>, nested: string | undefined, field: string, value: unknown): void {
  const holder = nested ? ((target.messages as Record<string, unknown>[])[0] as Record<string, unknown>) : target;
  if (field === "__proto__") Object.defineProperty(holder, field, { value, enumerable: true, configurable: true, writable: true });
  else holder[field] = value;
}

describe("REST: generated request bodies", () => {
  it(
    "one field of a valid body set to a value of the wrong type or out of range is 400 InvalidParameter naming it, and changes nothing",
    async () => {
      const cases = routes.flatMap((route) => route.fields.map((field) => ({ route, field })));
      await checkProperty(
        "REST bad field values",
        fc.asyncProperty(fc.constantFrom(...cases).chain(({ route, field }) => field.bad.map((value) => ({ route, field: field.field, value }))), async ({ route, field, value }) => {
          const body = structuredClone(route.valid(fixture));
          setPath(body, route.nested, field, value);
          const path = route.path(fixture);
          const response = await rest(route.method, path, body);
          expectRestError(response, "InvalidParameter", `${route.label} with ${field} = ${JSON.stringify(value)}`);
          expect(response.body.error.message).toContain(route.nested ? `${route.nested}.${field}` : field);
          if (route.method === "PUT") expect((await api("GET", path)).status, `${path} was created`).toBe(404);
          expect(await snapshot(fixture.queue)).toEqual(before);
        }),
        400,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "an unknown key in a valid body (including __proto__ and constructor) is 400 InvalidParameter, and changes nothing",
    async () => {
      await checkProperty(
        "REST unknown keys",
        fc.asyncProperty(fc.constantFrom(...routes).chain((route) => fc.tuple(fc.constant(route), unknownKey(route.fields.map((f) => f.field).concat(Object.keys(route.valid(fixture)))), anyJson)), async ([route, key, value]) => {
          const body = structuredClone(route.valid(fixture));
          setPath(body, route.nested, key, value);
          const path = route.path(fixture);
          const response = await rest(route.method, path, undefined, JSON.stringify(body));
          expectRestError(response, "InvalidParameter", `${route.label} with key ${JSON.stringify(key)}`);
          if (route.method === "PUT") expect((await api("GET", path)).status).toBe(404);
          expect(Object.getOwnPropertyNames(Object.prototype), "Object.prototype changed").toEqual(prototypeKeys);
          expect(await snapshot(fixture.queue)).toEqual(before);
        }),
        200,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "any JSON text cut short, or corrupted so that it no longer parses, or made invalid UTF-8, is 400 MalformedRequest, and changes nothing",
    async () => {
      await checkProperty(
        "REST malformed JSON",
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.nat(),
          fc.constantFrom("cut", "corrupt", "utf8"),
          fc.constantFrom("{", "}", "[", "]", '"', ",", ":", "\\", "\u0000", "'", "\n", "x", "01", "NaN", "undefined", "/*"),
          async (route, position, how, junk) => {
            const text = JSON.stringify(route.valid(fixture));
            const at = 1 + (position % (text.length - 1));
            let payload: string | Uint8Array;
            if (how === "cut") payload = text.slice(0, at);
            else if (how === "corrupt") payload = text.slice(0, at) + junk + text.slice(at);
            else {
              const bytes = new TextEncoder().encode(text);
              payload = new Uint8Array([...bytes.slice(0, at), 0xc3, 0x28, ...bytes.slice(at)]);
            }
            if (typeof payload === "string") {
              let parses = true;
              try {
                JSON.parse(payload);
              } catch {
                parses = false;
              }
              fc.pre(!parses);
            }
            const path = route.path(fixture);
            const response = await rest(route.method, path, undefined, payload);
            expectRestError(response, "MalformedRequest", `${route.label} with ${how} body ${JSON.stringify(typeof payload === "string" ? payload : "bytes")}`);
            if (route.method === "PUT") expect((await api("GET", path)).status).toBe(404);
            expect(await snapshot(fixture.queue)).toEqual(before);
          },
        ),
        250,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "random attribute sets around every documented bound: a valid set creates exactly that queue (201), any other is 400 and creates nothing",
    async () => {
      const bounded = (min: number, max: number) =>
        fc.oneof(fc.constantFrom(min - 1, min, min + 1, max - 1, max, max + 1), fc.integer({ min, max }), badInteger(min, max));
      const attributes = fc.record(
        {
          visibilityTimeout: bounded(1, 43_200),
          pollingWaitSeconds: bounded(0, 30),
          maxMsgSize: bounded(1_024, 1_048_576),
          msgRetentionSeconds: bounded(60, 1_296_000),
          rewindSeconds: bounded(0, 1_296_000),
          maxMsgHeapNum: bounded(1, 1_000_000_000),
        },
        { requiredKeys: [] },
      );
      const ranges: Record<string, [number, number]> = {
        visibilityTimeout: [1, 43_200],
        pollingWaitSeconds: [0, 30],
        maxMsgSize: [1_024, 1_048_576],
        msgRetentionSeconds: [60, 1_296_000],
        rewindSeconds: [0, 1_296_000],
        maxMsgHeapNum: [1, 1_000_000_000],
      };
      const defaults = { visibilityTimeout: 30, pollingWaitSeconds: 0, maxMsgSize: 65_536, msgRetentionSeconds: 345_600, rewindSeconds: 0, maxMsgHeapNum: 100_000_000 };
      await checkProperty(
        "REST attribute bounds",
        fc.asyncProperty(attributes, async (input) => {
          const body = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
          const eachValid = Object.entries(body).every(([key, value]) => typeof value === "number" && Number.isInteger(value) && value >= ranges[key]![0] && value <= ranges[key]![1]);
          const merged = { ...defaults, ...body } as Record<string, number>;
          const valid = eachValid && merged.rewindSeconds! <= merged.msgRetentionSeconds!;
          const name = `bnd-${uid()}`;
          const response = await rest("PUT", `/v1/queues/${name}`, body);
          if (valid) {
            expect(response.status, JSON.stringify(response.body)).toBe(201);
            expect(response.body).toMatchObject(merged);
            expect((await api("GET", `/v1/queues/${name}`)).body).toMatchObject(merged);
            expect((await api("DELETE", `/v1/queues/${name}`)).status).toBe(204);
          } else {
            expectRestError(response, "InvalidParameter", JSON.stringify(body));
            expect((await api("GET", `/v1/queues/${name}`)).status).toBe(404);
          }
        }),
        150,
      );
    },
    propertyTimeoutMs(),
  );
});

/** Names: letters, digits and the characters that break naive path or name handling. */
const nameArb = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(..."aZ09-_./ %?#:;é日😀\u0000\u202e\t+&=~!*'()@$,"), minLength: 1, maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(..."abcXYZ019-_"), minLength: 60, maxLength: 70 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(..."abcXYZ019-_"), minLength: 1, maxLength: 8 }) },
);

describe("names", () => {
  it(
    "over REST, a queue or topic name is InvalidParameter unless it follows the rule (then QueueNotFound / TopicNotFound), on every kind of route",
    async () => {
      await checkProperty(
        "REST names",
        fc.asyncProperty(
          nameArb.filter((name) => name !== "." && name !== ".."),
          fc.constantFrom("get queue", "send", "receive", "delete queue", "list redrives", "get topic", "publish", "subscribe"),
          async (name, what) => {
            // A valid name gets a unique prefix, so that it names nothing that exists.
            const ghost = NamePattern.test(name) ? `zz${uid()}${name}`.slice(0, 64) : name;
            const encoded = encodeURIComponent(ghost);
            const valid = NamePattern.test(ghost);
            const calls: Record<string, () => Promise<ApiResponse>> = {
              "get queue": () => rest("GET", `/v1/queues/${encoded}`),
              send: () => rest("POST", `/v1/queues/${encoded}/messages`, { body: "x" }),
              receive: () => rest("POST", `/v1/queues/${encoded}/messages/receive`, {}),
              "delete queue": () => rest("DELETE", `/v1/queues/${encoded}`),
              "list redrives": () => rest("GET", `/v1/queues/${encoded}/redrives`),
              "get topic": () => rest("GET", `/v1/topics/${encoded}`),
              publish: () => rest("POST", `/v1/topics/${encoded}/messages`, { body: "x" }),
              subscribe: () => rest("PUT", `/v1/topics/${fixture.topic}/subscriptions/${encoded}`, { protocol: "queue", endpoint: fixture.queue }),
            };
            const response = await calls[what]!();
            const notFound = what.includes("topic") || what === "publish" ? "TopicNotFound" : "QueueNotFound";
            if (what === "subscribe") {
              if (valid) {
                expect(response.status, JSON.stringify(response.body)).toBe(201);
                expect((await api("DELETE", `/v1/topics/${fixture.topic}/subscriptions/${encoded}`)).status).toBe(204);
              } else {
                expectRestError(response, "InvalidParameter", `subscription name ${JSON.stringify(name)}`);
              }
            } else {
              expectRestError(response, valid ? notFound : "InvalidParameter", `${what} ${JSON.stringify(ghost)}`);
            }
          },
        ),
        300,
      );
      const listed = await api("GET", "/v1/queues?limit=1000");
      for (const queue of listed.body.queues) expect(queue.name).toMatch(NamePattern);
      expect(await snapshot(fixture.queue)).toEqual(before);
    },
    propertyTimeoutMs(),
  );

  it(
    "over RPC, any string (lone surrogates included) or non-string as a name is [InvalidParameter] unless it follows the rule",
    async () => {
      await checkProperty(
        "RPC names",
        fc.asyncProperty(
          fc.oneof(nameArb, fc.string({ unit: "binary", maxLength: 70 }), notAString),
          fc.constantFrom("getQueue", "send", "receive", "purge", "getTopic", "publish"),
          async (name, method) => {
            const args: Record<string, unknown[]> = {
              getQueue: [],
              send: ["x"],
              receive: [{}],
              purge: [],
              getTopic: [],
              publish: ["x"],
            };
            const ghost = typeof name === "string" && NamePattern.test(name) ? `zz${uid()}${name}`.slice(0, 64) : name;
            const outcome = await rpc(method, ghost, ...args[method]!);
            const valid = typeof ghost === "string" && NamePattern.test(ghost);
            const notFound = method.toLowerCase().includes("topic") || method === "publish" ? "TopicNotFound" : "QueueNotFound";
            expect(rpcCode(outcome), `${method}(${JSON.stringify(ghost)})`).toBe(valid ? notFound : "InvalidParameter");
          },
        ),
        60,
      );
      await stillServing(fixture.queue);
    },
    propertyTimeoutMs(),
  );
});

describe("sizes one byte over each limit", () => {
  /** A string of exactly `bytes` UTF-8 bytes made of characters `width` bytes wide (ASCII fills the rest). */
  function ofBytes(bytes: number, width: 1 | 2 | 3 | 4): string {
    const char = { 1: "x", 2: "é", 3: "日", 4: "😀" }[width];
    return char.repeat(Math.floor(bytes / width)) + "x".repeat(bytes % width);
  }

  it(
    "a body of exactly maxMsgSize UTF-8 bytes is accepted and one byte more is 413 MessageTooLarge, over REST and RPC, for queues and topics",
    async () => {
      await checkProperty(
        "maxMsgSize boundary",
        fc.asyncProperty(
          fc.oneof(fc.constantFrom(1_024, 65_536, 1_048_576), fc.integer({ min: 1_024, max: 200_000 })),
          fc.constantFrom<1 | 2 | 3 | 4>(1, 2, 3, 4),
          fc.constantFrom("rest", "rpc"),
          fc.constantFrom("queue", "topic"),
          async (maxMsgSize, width, via, kind) => {
            const name = `sz-${uid()}`;
            const collection = kind === "queue" ? "queues" : "topics";
            expect((await api("PUT", `/v1/${collection}/${name}`, { maxMsgSize })).status).toBe(201);
            const exact = ofBytes(maxMsgSize, width);
            const over = ofBytes(maxMsgSize + 1, width);
            expect(new TextEncoder().encode(exact).byteLength).toBe(maxMsgSize);
            const send = async (body: string) => {
              if (via === "rest") {
                const response = await rest("POST", `/v1/${collection}/${name}/messages`, { body });
                return response.status === 200 ? "ok" : response.body.error.code;
              }
              return rpcCode(await rpc(kind === "queue" ? "send" : "publish", name, body));
            };
            expect(await send(over), `${maxMsgSize}+1 bytes`).toBe("MessageTooLarge");
            expect(await send(exact), `${maxMsgSize} bytes`).toBe("ok");
            const info = (await api("GET", `/v1/${collection}/${name}`)).body;
            if (kind === "queue") expect(info.counts.total).toBe(1);
            else expect(info.messageCount).toBe(1);
            expect((await api("DELETE", `/v1/${collection}/${name}`)).status).toBe(204);
          },
        ),
        16,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "a batch whose bodies total exactly 1 MiB is accepted and one byte more is 413 BatchTooLarge, storing nothing, over REST and RPC",
    async () => {
      await checkProperty(
        "batch boundary",
        fc.asyncProperty(
          fc.integer({ min: 2, max: 16 }),
          fc.constantFrom<1 | 2 | 3>(1, 2, 3),
          fc.constantFrom("rest", "rpc"),
          fc.boolean(),
          async (count, width, via, escaped) => {
            const name = `szb-${uid()}`;
            expect((await api("PUT", `/v1/queues/${name}`, { maxMsgSize: 1_048_576 })).status).toBe(201);
            const total = 1_048_576;
            const share = Math.floor(total / count);
            const bodies = (extra: number) =>
              Array.from({ length: count }, (_, i) => {
                const bytes = share + (i === 0 ? total - share * count + extra : 0);
                // Quotes and backslashes double in JSON: the request grows, the counted bytes do not.
                return escaped ? `"\\`.repeat(Math.floor(bytes / 2)) + "x".repeat(bytes % 2) : ofBytes(bytes, width);
              });
            const send = async (extra: number) => {
              const messages = bodies(extra).map((body) => ({ body }));
              if (via === "rest") {
                const response = await rest("POST", `/v1/queues/${name}/messages`, { messages });
                return response.status === 200 ? "ok" : response.body.error.code;
              }
              return rpcCode(await rpc("sendBatch", name, messages));
            };
            expect(await send(1), `${count} bodies, 1 MiB + 1`).toBe("BatchTooLarge");
            expect((await api("GET", `/v1/queues/${name}`)).body.counts.total).toBe(0);
            expect(await send(0), `${count} bodies, 1 MiB`).toBe("ok");
            expect((await api("GET", `/v1/queues/${name}`)).body.counts.total).toBe(count);
            expect((await api("DELETE", `/v1/queues/${name}`)).status).toBe(204);
          },
        ),
        8,
      );
    },
    propertyTimeoutMs(),
  );
});

describe("receipt handles in a batch", () => {
  it(
    "duplicates, stale, foreign and made-up handles in one delete: each handle answered as the model says, over REST and RPC; over 16 is InvalidParameter and deletes nothing",
    async () => {
      await checkProperty(
        "delete batches",
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.array(fc.oneof(fc.record({ kind: fc.constantFrom("valid", "stale", "foreign"), k: fc.nat(20) }), fc.record({ kind: fc.constant("made-up"), text: fc.string({ maxLength: 40 }) })), { minLength: 1, maxLength: 24 }),
          fc.constantFrom("rest", "rpc"),
          async (count, picks, via) => {
            const queue = `rh-${uid()}`;
            expect((await api("PUT", `/v1/queues/${queue}`, { visibilityTimeout: 3_600 })).status).toBe(201);
            await api("POST", `/v1/queues/${queue}/messages`, { messages: Array.from({ length: count }, (_, i) => ({ body: `m${i}` })) });
            const first = (await api("POST", `/v1/queues/${queue}/messages/receive`, { max: 16 })).body.messages as Array<{ receiptHandle: string }>;
            // Make one handle stale: its message is made visible and received again under a new handle.
            const stale = first[0]!.receiptHandle;
            await api("POST", `/v1/queues/${queue}/messages/visibility`, { receiptHandle: stale, visibilityTimeout: 0 });
            const again = (await api("POST", `/v1/queues/${queue}/messages/receive`, { max: 1 })).body.messages as Array<{ receiptHandle: string }>;
            const valid = [again[0]!.receiptHandle, ...first.slice(1).map((m) => m.receiptHandle)];
            const handles = picks.map((pick) => {
              if (pick.kind === "valid") return valid[pick.k % valid.length]!;
              if (pick.kind === "stale") return stale;
              if (pick.kind === "foreign") return fixture.handles[pick.k % fixture.handles.length]!;
              return "text" in pick ? pick.text : "";
            });
            const expected = new Set<string>();
            const results = handles.map((handle) => {
              const deletes = valid.includes(handle) && !expected.has(handle);
              if (deletes) expected.add(handle);
              return deletes;
            });
            let outcome: Array<{ receiptHandle: string; deleted: boolean; error?: { code: string } }> | string;
            if (via === "rest") {
              const response = await rest("POST", `/v1/queues/${queue}/messages/delete`, { receiptHandles: handles });
              outcome = response.status === 200 ? response.body.results : response.body.error.code;
            } else {
              const response = await rpc("deleteMessages", queue, handles);
              outcome = response.ok ? response.value.results : rpcCode(response);
            }
            const remaining = (await api("GET", `/v1/queues/${queue}`)).body.counts.total;
            if (handles.length > 16) {
              expect(outcome).toBe("InvalidParameter");
              expect(remaining).toBe(count);
            } else {
              expect(Array.isArray(outcome), JSON.stringify(outcome)).toBe(true);
              const answered = outcome as Array<{ receiptHandle: string; deleted: boolean; error?: { code: string } }>;
              expect(answered.map((r) => r.receiptHandle)).toEqual(handles);
              expect(answered.map((r) => (r.deleted ? "deleted" : r.error?.code))).toEqual(results.map((d) => (d ? "deleted" : "ReceiptHandleInvalid")));
              expect(remaining).toBe(count - expected.size);
            }
            await api("DELETE", `/v1/queues/${queue}`);
          },
        ),
        60,
      );
      expect(await snapshot(fixture.queue)).toEqual(before);
    },
    propertyTimeoutMs(),
  );

  it("huge batches (thousands of messages or handles) are InvalidParameter over REST and RPC, quickly, storing and deleting nothing", async () => {
    for (const size of [17, 1_000, 20_000]) {
      const messages = Array.from({ length: size }, (_, i) => ({ body: `m${i}` }));
      const handles = Array.from({ length: size }, () => fixture.handles[0]!);
      const started = Date.now();
      expectRestError(await rest("POST", `/v1/queues/${fixture.queue}/messages`, { messages }), "InvalidParameter", `send ${size}`);
      expectRestError(await rest("POST", `/v1/queues/${fixture.queue}/messages/delete`, { receiptHandles: handles }), "InvalidParameter", `delete ${size}`);
      expectRestError(await rest("POST", `/v1/topics/${fixture.topic}/messages`, { messages }), "InvalidParameter", `publish ${size}`);
      expect(rpcCode(await rpc("sendBatch", fixture.queue, messages))).toBe("InvalidParameter");
      expect(rpcCode(await rpc("deleteMessages", fixture.queue, handles))).toBe("InvalidParameter");
      expect(rpcCode(await rpc("publishBatch", fixture.topic, messages))).toBe("InvalidParameter");
      expect(Date.now() - started, `batches of ${size}`).toBeLessThan(10_000);
    }
    expect(await snapshot(fixture.queue)).toEqual(before);
    await stillServing(fixture.queue);
  });
});

// ---------------------------------------------------------------------------------------------
// The SQS interface (AWS JSON 1.0): SQS's own error shapes, SQS's own bounds on the wire.

async function sqs(action: string, input: unknown): Promise<SqsAnswer> {
  tried.sqs++;
  return sqsCall(action, input);
}

function expectSqsError(answer: SqsAnswer, code: string, label: string): void {
  expect({ status: answer.status, type: answer.body?.__type }, `${label}: ${JSON.stringify(answer.body)?.slice(0, 300)}`).toEqual({
    status: 400,
    type: `com.amazonaws.sqs#${code}`,
  });
  expect(answer.headers.get("x-amzn-query-error"), label).toMatch(/;Sender$/);
}

interface SqsActionSpec {
  action: string;
  valid: (ctx: Fixture) => Record<string, unknown>;
  fields: FieldSpec[];
}

const sqsQueueUrl = (queue: string) => `http://cmq.test/default/${queue}`;

const sqsActions: SqsActionSpec[] = [
  {
    action: "ReceiveMessage",
    // A receive that could take a message changes the queue; an invalid one must not.
    valid: (c) => ({ QueueUrl: sqsQueueUrl(c.queue), MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }),
    fields: [
      { field: "MaxNumberOfMessages", bad: badInteger(1, 10) },
      { field: "WaitTimeSeconds", bad: badInteger(0, 20) },
      { field: "VisibilityTimeout", bad: badInteger(0, 43_200) },
      { field: "AttributeNames", bad: notAnArray },
      { field: "QueueUrl", bad: notAString },
    ],
  },
  {
    action: "SendMessage",
    valid: (c) => ({ QueueUrl: sqsQueueUrl(c.queue), MessageBody: "x" }),
    fields: [
      { field: "MessageBody", bad: fc.oneof(notAString, fc.constant("")) },
      { field: "DelaySeconds", bad: badInteger(0, 900) },
    ],
  },
  {
    action: "ChangeMessageVisibility",
    valid: (c) => ({ QueueUrl: sqsQueueUrl(c.queue), ReceiptHandle: c.handles[0], VisibilityTimeout: 3_600 }),
    fields: [
      { field: "VisibilityTimeout", bad: badInteger(0, 43_200) },
      { field: "ReceiptHandle", bad: notAString },
    ],
  },
  {
    action: "ListQueues",
    valid: () => ({ QueueNamePrefix: "bad-" }),
    fields: [
      { field: "MaxResults", bad: badInteger(1, 1_000) },
      { field: "QueueNamePrefix", bad: notAString },
    ],
  },
  {
    action: "DeleteMessageBatch",
    valid: (c) => ({ QueueUrl: sqsQueueUrl(c.queue), Entries: [{ Id: "a", ReceiptHandle: c.handles[0] }] }),
    fields: [{ field: "Entries", bad: notAnArray }],
  },
];

describe("SQS: generated request bodies", () => {
  it(
    "one member of a valid request set to a value of the wrong type or outside SQS's bounds is 400 InvalidParameterValue naming it, and changes nothing",
    async () => {
      const cases = sqsActions.flatMap((spec) => spec.fields.map((field) => ({ spec, field })));
      await checkProperty(
        "SQS bad member values",
        fc.asyncProperty(fc.constantFrom(...cases).chain(({ spec, field }) => field.bad.map((value) => ({ spec, field: field.field, value }))), async ({ spec, field, value }) => {
          const input = { ...spec.valid(fixture), [field]: value };

          const answer = await sqs(spec.action, input);

          expectSqsError(answer, "InvalidParameterValue", `${spec.action} with ${field} = ${JSON.stringify(value)}`);
          expect(answer.body.message).toContain(field);
          expect(await snapshot(fixture.queue)).toEqual(before);
        }),
        300,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "an unknown member in a valid request (including __proto__ and constructor) is 400 InvalidParameterValue, and changes nothing",
    async () => {
      await checkProperty(
        "SQS unknown members",
        fc.asyncProperty(fc.constantFrom(...sqsActions).chain((spec) => fc.tuple(fc.constant(spec), unknownKey(Object.keys(spec.valid(fixture)).concat(spec.fields.map((f) => f.field))), anyJson)), async ([spec, key, value]) => {
          const input = spec.valid(fixture);
          if (key === "__proto__") Object.defineProperty(input, key, { value, enumerable: true, configurable: true, writable: true });
          else input[key] = value;

          const answer = await sqs(spec.action, JSON.stringify(input));

          expectSqsError(answer, "InvalidParameterValue", `${spec.action} with member ${JSON.stringify(key)}`);
          expect(Object.getOwnPropertyNames(Object.prototype), "Object.prototype changed").toEqual(prototypeKeys);
          expect(await snapshot(fixture.queue)).toEqual(before);
        }),
        150,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "a request body cut short or corrupted so that it no longer parses is 400 SerializationException, and changes nothing",
    async () => {
      await checkProperty(
        "SQS malformed JSON",
        fc.asyncProperty(fc.constantFrom(...sqsActions), fc.nat(), fc.constantFrom("{", "}", "[", '"', ",", ":", "\\", "x", "NaN"), async (spec, position, junk) => {
          const text = JSON.stringify(spec.valid(fixture));
          const at = 1 + (position % (text.length - 1));
          const payload = position % 2 === 0 ? text.slice(0, at) : text.slice(0, at) + junk + text.slice(at);
          let parses = true;
          try {
            JSON.parse(payload);
          } catch {
            parses = false;
          }
          fc.pre(!parses);

          const answer = await sqs(spec.action, payload);

          expectSqsError(answer, "SerializationException", `${spec.action} with body ${JSON.stringify(payload)}`);
          expect(await snapshot(fixture.queue)).toEqual(before);
        }),
        150,
      );
    },
    propertyTimeoutMs(),
  );

  it(
    "CreateQueue with an attribute value that is no integer, or outside SQS's or the service's bounds, is 400 InvalidAttributeValue and creates nothing",
    async () => {
      const badValue = (min: number, max: number) =>
        fc.oneof(
          fc.constantFrom(String(min - 1), String(max + 1), "", " 1", "1.5", "-1", "1e3", "0x10", "abc", "99999999999"),
          fc.integer({ min: max + 1 }).map(String),
        );
      const attribute = fc.oneof(
        badValue(0, 43_200).map((value) => ["VisibilityTimeout", value] as const),
        badValue(60, 1_209_600).map((value) => ["MessageRetentionPeriod", value] as const),
        badValue(1_024, 1_048_576).map((value) => ["MaximumMessageSize", value] as const),
        badValue(0, 20).map((value) => ["ReceiveMessageWaitTimeSeconds", value] as const),
        fc.constant(["VisibilityTimeout", "0"] as const),
      );
      await checkProperty(
        "SQS bad attribute values",
        fc.asyncProperty(attribute, async ([name, value]) => {
          const queue = `bad-${uid()}`;

          const answer = await sqs("CreateQueue", { QueueName: queue, Attributes: { [name]: value } });

          expectSqsError(answer, "InvalidAttributeValue", `${name} = ${JSON.stringify(value)}`);
          expect((await api("GET", `/v1/queues/${queue}`)).status, `${queue} was created`).toBe(404);
        }),
        150,
      );
    },
    propertyTimeoutMs(),
  );
});

describe("unknown actions and parameters", () => {
  const segment = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz-_.0123456789"), minLength: 1, maxLength: 12 });

  it(
    "an unknown action under a queue, topic or /v1 is 404 NotFound for every method; an unknown query parameter is 400; nothing changes",
    async () => {
      const known = new Set(["messages", "purge", "rewind", "redrive", "subscriptions", "queues", "topics", "accounts", "tokens", "health", "whoami", "redrives"]);
      await checkProperty(
        "REST unknown actions",
        fc.asyncProperty(
          segment.filter((s) => !known.has(s) && s !== "." && s !== ".."),
          fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"),
          fc.constantFrom("queue", "topic", "root", "query"),
          async (action, method, where) => {
            if (where === "query") {
              const response = await rest("GET", `/v1/queues?${encodeURIComponent(action)}=1`);
              if (["prefix", "limit", "cursor"].includes(action)) return;
              expectRestError(response, "InvalidParameter", `query ${action}`);
              return;
            }
            const path = where === "queue" ? `/v1/queues/${fixture.queue}/${action}` : where === "topic" ? `/v1/topics/${fixture.topic}/${action}` : `/v1/${action}`;
            const response = await rest(method, path, method === "GET" || method === "DELETE" ? undefined : { body: "x" });
            expectRestError(response, "NotFound", `${method} ${path}`);
          },
        ),
        150,
      );
      expect(await snapshot(fixture.queue)).toEqual(before);
    },
    propertyTimeoutMs(),
  );

  it(
    "an RPC method that does not exist fails without a ServiceError and leaves the service serving",
    async () => {
      const methods = new Set(
        Object.getOwnPropertyNames(Object.prototype).concat(
          ["fetch", "connect", "withCredentials", "root", "dup", "constructor", "then"],
          ["createQueue", "getQueue", "listQueues", "updateQueue", "deleteQueue", "send", "sendBatch", "receive", "deleteMessage", "deleteMessages"],
          ["changeVisibility", "peek", "purge", "rewind", "startRedrive", "getRedrive", "cancelRedrive", "whoami", "getQueueRates", "createTopic", "getTopic", "listTopics"],
          ["updateTopic", "deleteTopic", "publish", "publishBatch", "subscribe", "getSubscription", "listSubscriptions", "updateSubscription", "unsubscribe"],
        ),
      );
      await checkProperty(
        "RPC unknown methods",
        fc.asyncProperty(segment.filter((s) => !methods.has(s)), async (method) => {
          const outcome = await rpc(method, fixture.queue);
          expect(outcome.ok, method).toBe(false);
          if (!outcome.ok) expect(outcome.name).not.toBe("ServiceError");
        }),
        20,
      );
      await stillServing(fixture.queue);
    },
    propertyTimeoutMs(),
  );
});

describe("values that would be stored but could not be delivered as given", () => {
  // Lone surrogates cannot be stored as UTF-8 (they came back as U+FFFD); CR, LF and NUL in a tag or
  // key made every HTTP push of the message fail; a delay reaching the retention purged the message
  // the moment it became visible. Each is refused before anything is stored.
  let keyTopic: string;
  const retention = 345_600; // the fixture queue's (the default)

  beforeAll(async () => {
    keyTopic = `badk-${uid()}`;
    expect((await api("PUT", `/v1/topics/${keyTopic}`, { filterType: "routingKey" })).status).toBe(201);
  });

  interface Case {
    label: string;
    /** The part of the error message that names the field. */
    field: string;
    rest: (f: Fixture) => [string, string, unknown];
    rpc: (f: Fixture) => [string, ...unknown[]];
  }
  const send = (field: string, label: string, message: Record<string, unknown>): Case => ({
    label: `send: ${label}`,
    field,
    rest: (f) => ["POST", `/v1/queues/${f.queue}/messages`, message],
    rpc: (f) => ["send", f.queue, message],
  });
  const sendBatch = (field: string, label: string, message: Record<string, unknown>): Case => ({
    label: `send batch: ${label}`,
    field,
    rest: (f) => ["POST", `/v1/queues/${f.queue}/messages`, { messages: [{ body: "fine" }, message] }],
    rpc: (f) => ["sendBatch", f.queue, [{ body: "fine" }, message]],
  });
  const publish = (field: string, label: string, message: Record<string, unknown>, routed = false): Case => ({
    label: `publish: ${label}`,
    field,
    rest: (f) => ["POST", `/v1/topics/${routed ? keyTopic : f.topic}/messages`, message],
    rpc: (f) => ["publish", routed ? keyTopic : f.topic, message],
  });
  const subscribe = (field: string, label: string, attributes: Record<string, unknown>, routed = false): Case => ({
    label: `subscribe: ${label}`,
    field,
    rest: (f) => ["PUT", `/v1/topics/${routed ? keyTopic : f.topic}/subscriptions/never`, { protocol: "http", endpoint: "http://127.0.0.1/hook", ...attributes }],
    rpc: (f) => ["subscribe", routed ? keyTopic : f.topic, "never", { protocol: "http", endpoint: "http://127.0.0.1/hook", ...attributes }],
  });

  const cases: Case[] = [
    send("body", "a lone high surrogate in the body", { body: "ab\ud800cd" }),
    send("body", "a lone low surrogate in the body", { body: "\udc00" }),
    send("tags.0", "a lone surrogate in a tag", { body: "x", tags: ["eu\ud83d"] }),
    send("tags.0", "CR LF in a tag", { body: "x", tags: ["eu\r\nx-injected: 1"] }),
    send("tags.1", "NUL in a tag", { body: "x", tags: ["ok", "a\u0000b"] }),
    send("tags.0", "LF in a tag", { body: "x", tags: ["\n"] }),
    send("delaySeconds", "a delay equal to the retention", { body: "x", delaySeconds: retention }),
    send("delaySeconds", "a delay leaving less than 60 s receivable", { body: "x", delaySeconds: retention - 59 }),
    sendBatch("messages.1.body", "a lone surrogate in the second body", { body: "\ud800" }),
    sendBatch("messages.1.tags.0", "CR in a tag of the second message", { body: "x", tags: ["a\rb"] }),
    sendBatch("delaySeconds", "a delay equal to the retention in the second message", { body: "x", delaySeconds: retention }),
    publish("body", "a lone surrogate in the body", { body: "ab\ud800cd" }),
    publish("tags.0", "CR LF in a tag", { body: "x", tags: ["eu\r\n"] }),
    publish("tags.0", "NUL in a tag", { body: "x", tags: ["\u0000"] }),
    publish("routingKey", "LF in the routing key", { body: "x", routingKey: "order.eu\nx" }, true),
    publish("routingKey", "NUL in the routing key", { body: "x", routingKey: "order.\u0000" }, true),
    publish("routingKey", "a lone surrogate in the routing key", { body: "x", routingKey: "order.\udfff" }, true),
    subscribe("filterTags.0", "CR LF in a filter tag", { filterTags: ["eu\r\n"] }),
    subscribe("filterTags.0", "a lone surrogate in a filter tag", { filterTags: ["\ud800"] }),
    subscribe("bindingKeys.0", "LF in a binding key", { bindingKeys: ["order.\n"] }, true),
    subscribe("bindingKeys.1", "NUL in a binding key", { bindingKeys: ["#", "a\u0000"] }, true),
  ];

  async function topicsState(): Promise<unknown> {
    const topics = [fixture.topic, keyTopic];
    return Promise.all(
      topics.map(async (topic) => {
        const info = await api("GET", `/v1/topics/${topic}`);
        const subscriptions = await api("GET", `/v1/topics/${topic}/subscriptions`);
        return { messageCount: info.body.messageCount, subscriptions: subscriptions.body.subscriptions };
      }),
    );
  }

  it.each(cases)("REST $label is 400 InvalidParameter naming the field, and changes nothing", async (spec) => {
    const topicsBefore = await topicsState();

    const [method, path, body] = spec.rest(fixture);
    const response = await rest(method, path, body);

    expectRestError(response, "InvalidParameter", spec.label);
    expect(response.body.error.message).toContain(spec.field);
    expect(await snapshot(fixture.queue)).toEqual(before);
    expect(await topicsState()).toEqual(topicsBefore);
  });

  it.each(cases)("RPC $label is InvalidParameter, and changes nothing", async (spec) => {
    const topicsBefore = await topicsState();

    const [method, ...args] = spec.rpc(fixture);
    const outcome = await rpc(method, ...args);

    expect(rpcCode(outcome), spec.label).toBe("InvalidParameter");
    expect(outcome.ok ? "" : outcome.message).toContain(spec.field);
    expect(await snapshot(fixture.queue)).toEqual(before);
    expect(await topicsState()).toEqual(topicsBefore);
  });

  it("RPC send of a plain string body with a lone surrogate is InvalidParameter, and stores nothing", async () => {
    const outcome = await rpc("send", fixture.queue, "ab\ud800cd");

    expect(rpcCode(outcome)).toBe("InvalidParameter");
    expect(await snapshot(fixture.queue)).toEqual(before);
  });
});

describe("RPC: arguments of any type", () => {
  const methods: Array<[string, number]> = [
    ["createQueue", 1],
    ["updateQueue", 1],
    ["send", 1],
    ["sendBatch", 1],
    ["receive", 1],
    ["deleteMessage", 1],
    ["deleteMessages", 1],
    ["changeVisibility", 2],
    ["peek", 1],
    ["rewind", 1],
    ["startRedrive", 1],
    ["listQueues", 0],
    ["publish", 1],
    ["publishBatch", 1],
    ["subscribe", 2],
    ["updateTopic", 1],
  ];
  /** JSON values, biased towards ones close to valid: objects with known keys and wrong values. */
  const argument = fc.oneof(
    anyJson,
    fc.dictionary(fc.constantFrom("body", "max", "waitSeconds", "visibilityTimeout", "limit", "cursor", "prefix", "messages", "protocol", "endpoint", "maxPerSecond", "tags", "__proto__"), fc.oneof(notAnInteger, fc.integer(), anyJson), { maxKeys: 3 }),
    fc.array(fc.oneof(anyJson, fc.record({ body: fc.oneof(notAString, fc.constant("")) })), { maxLength: 3 }),
  );

  it(
    "every operation given values of any type answers ok or a documented ServiceError, never another error, and changes nothing it refuses",
    async () => {
      // Its own queue: a call valid by chance changes it, and that becomes the state to compare with.
      const queue = `rpca-${uid()}`;
      expect((await api("PUT", `/v1/queues/${queue}`, { visibilityTimeout: 3_600, rewindSeconds: 3_600 })).status).toBe(201);
      await api("POST", `/v1/queues/${queue}/messages`, { messages: [{ body: "one" }, { body: "two" }] });
      await api("POST", `/v1/queues/${queue}/messages/receive`, {});
      let baseline = await snapshot(queue);
      const codes = new Map<string, number>();
      await checkProperty(
        "RPC argument types",
        fc.asyncProperty(fc.constantFrom(...methods), fc.array(argument, { minLength: 0, maxLength: 3 }), async ([method, arity], args) => {
          // No long polls, no delays and no short visibility timeouts: a state that changes with time
          // alone would not compare. (Out-of-range values stay as they are.)
          const safe = JSON.parse(
            JSON.stringify(args, (key, value) => {
              if (typeof value !== "number") return value;
              if ((key === "waitSeconds" || key === "delaySeconds") && value > 0) return 0;
              if (key === "visibilityTimeout" && value >= 1 && value < 3_600) return 3_600;
              return value;
            }),
          );
          const target = method.includes("Topic") || method.startsWith("publish") || method === "subscribe" ? fixture.topic : queue;
          const outcome = await rpc(method, target, ...safe.slice(0, Math.max(arity, safe.length)));
          const code = rpcCode(outcome);
          codes.set(code, (codes.get(code) ?? 0) + 1);
          expect(code === "ok" || code in Documented, `${method}(${JSON.stringify(safe)}) → ${code}`).toBe(true);
          if (code === "ok") baseline = await snapshot(queue);
          else expect(await snapshot(queue), `${method}(${JSON.stringify(safe)})`).toEqual(baseline);
        }),
        120,
      );
      console.log(`RPC argument outcomes: ${JSON.stringify(Object.fromEntries(codes))}`);
      await stillServing(fixture.queue);
    },
    propertyTimeoutMs(),
  );

  it("prints how many inputs were tried", () => {
    console.log(`bad inputs tried: ${tried.rest} REST requests, ${tried.rpc} RPC calls, ${tried.sqs} SQS requests`);
  });
});
