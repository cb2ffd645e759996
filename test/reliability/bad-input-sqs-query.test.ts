import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../support/http";
import { rootCredentials } from "../support/sqs";
import { queryError, sqsQueryHeaders, sqsQueryWithHeaders, type SqsQueryAnswer } from "../support/sqs-query";
import { checkProperty, propertyTimeoutMs } from "./fc-params";

/**
 * Bad input over SQS's query protocol, correctly signed so that it reaches the form's decoding:
 * malformed forms, unknown actions, bad list indexes, members of the wrong kind, missing or wrong
 * Action and Version. Each gets a 400 `<ErrorResponse>` with a stable query code, and the queue is
 * the same afterwards.
 */
let queue: string;
let queueUrl: string;
let before: unknown;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);

async function snapshot(): Promise<unknown> {
  const info = await api("GET", `/v1/queues/${queue}`);
  const peek = await api("GET", `/v1/queues/${queue}/messages?limit=100`);
  expect(info.status).toBe(200);
  return { info: info.body, messages: peek.body.messages };
}

beforeAll(async () => {
  queue = `badq-${crypto.randomUUID().slice(0, 8)}`;
  expect((await api("PUT", `/v1/queues/${queue}`, { visibilityTimeout: 3_600 })).status).toBe(201);
  expect((await api("POST", `/v1/queues/${queue}/messages`, { messages: [{ body: "one" }, { body: "two" }] })).status).toBe(200);
  queueUrl = `http://cmq.test/default/${queue}`;
  before = await snapshot();
});

/** Sends a raw form body, signed with the root credentials. */
async function post(body: string): Promise<SqsQueryAnswer> {
  return sqsQueryWithHeaders(body, await sqsQueryHeaders(body, rootCredentials()));
}

const form = (pairs: Array<[string, string]>) => pairs.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&");
const head = (action: string): Array<[string, string]> => [
  ["Action", action],
  ["Version", "2012-11-05"],
];

async function expectRefused(body: string, code: string, names?: string): Promise<void> {
  const answer = await post(body);

  expect(queryError(answer), `${body}\n${answer.text}`).toEqual({ status: 400, type: "Sender", code });
  expect(answer.headers.get("content-type")).toBe("text/xml");
  if (names !== undefined) expect(answer.text, body).toContain(names);
  expect(await snapshot()).toEqual(before);
}

describe("SQS query: Action and Version", () => {
  it.each([
    ["no Action", () => form([["Version", "2012-11-05"], ["QueueUrl", queueUrl]]), "MissingAction"],
    ["an empty Action", () => form([["Action", ""], ["Version", "2012-11-05"]]), "MissingAction"],
    ["no Version", () => form([["Action", "PurgeQueue"], ["QueueUrl", queueUrl]]), "MissingParameter"],
    ["another Version", () => form([["Action", "PurgeQueue"], ["Version", "2008-01-01"], ["QueueUrl", queueUrl]]), "NoSuchVersion"],
    ["Action twice", () => form([...head("PurgeQueue"), ["Action", "PurgeQueue"], ["QueueUrl", queueUrl]]), "InvalidParameterValue"],
    ["an unknown action", () => form([...head("PurgeEverything"), ["QueueUrl", queueUrl]]), "InvalidAction"],
    ["an action of another service", () => form([...head("Publish"), ["TopicArn", "x"]]), "InvalidAction"],
    ["an action named like an object's property", () => form([...head("constructor"), ["QueueUrl", queueUrl]]), "InvalidAction"],
    ["an action named __proto__", () => form([...head("__proto__"), ["QueueUrl", queueUrl]]), "InvalidAction"],
  ])("refuses %s", async (_case, body, code) => {
    await expectRefused(body(), code);
  });
});

describe("SQS query: flattened lists and maps", () => {
  it.each([
    ["an index 0", [["AttributeName.0", "All"]], "AttributeName.0"],
    ["a leading zero", [["AttributeName.01", "All"]], "AttributeName.01"],
    ["a negative index", [["AttributeName.-1", "All"]], "AttributeName.-1"],
    ["a word for an index", [["AttributeName.first", "All"]], "AttributeName.first"],
    ["a gap", [["AttributeName.1", "All"], ["AttributeName.3", "QueueArn"]], "AttributeName.2"],
    ["an index past any list", [["AttributeName.99999", "All"]], "AttributeName.99999"],
    ["a list given as one value", [["AttributeName", "All"]], "AttributeName"],
    ["a list element given twice", [["AttributeName.1", "All"], ["AttributeName.1", "QueueArn"]], "AttributeName.1"],
    ["an empty name part", [["AttributeName..1", "All"]], "AttributeName..1"],
    ["a trailing dot", [["AttributeName.1.", "All"]], "AttributeName.1."],
    ["a member that is a value and a list", [["AttributeName", "All"], ["AttributeName.1", "All"]], "AttributeName"],
    ["QueueUrl given as a list", [["QueueUrl.1", queueUrl]], "QueueUrl"],
    ["the JSON name of the list", [["AttributeNames.1", "All"]], "AttributeNames"],
    ["the list under both its names", [["AttributeName.1", "All"], ["AttributeNames", "QueueArn"]], "AttributeNames"],
  ] as Array<[string, Array<[string, string]>, string]>)("GetQueueAttributes refuses %s with InvalidParameterValue naming it", async (_case, pairs, names) => {
    const withQueue = pairs.some(([name]) => name.startsWith("QueueUrl")) ? pairs : [["QueueUrl", queueUrl] as [string, string], ...pairs];

    await expectRefused(form([...head("GetQueueAttributes"), ...withQueue]), "InvalidParameterValue", names);
  });

  it.each([
    ["an entry without a Name", [["Attribute.1.Value", "40"]], "MissingParameter", "Attribute.1.Name"],
    ["an entry without a Value", [["Attribute.1.Name", "VisibilityTimeout"]], "MissingParameter", "Attribute.1.Value"],
    ["an entry with a third member", [["Attribute.1.Name", "VisibilityTimeout"], ["Attribute.1.Value", "40"], ["Attribute.1.Type", "x"]], "InvalidParameterValue", "Attribute.1.Type"],
    ["an entry given as one value", [["Attribute.1", "VisibilityTimeout"]], "InvalidParameterValue", "Attribute.1"],
    ["a name given twice", [["Attribute.1.Name", "VisibilityTimeout"], ["Attribute.1.Value", "40"], ["Attribute.2.Name", "VisibilityTimeout"], ["Attribute.2.Value", "50"]], "InvalidParameterValue", "Attribute"],
    ["a value that is no integer", [["Attribute.1.Name", "VisibilityTimeout"], ["Attribute.1.Value", "forty"]], "InvalidAttributeValue", "VisibilityTimeout"],
    ["an unknown attribute", [["Attribute.1.Name", "Colour"], ["Attribute.1.Value", "red"]], "InvalidAttributeName", "Colour"],
  ] as Array<[string, Array<[string, string]>, string, string]>)("SetQueueAttributes refuses %s", async (_case, pairs, code, names) => {
    await expectRefused(form([...head("SetQueueAttributes"), ["QueueUrl", queueUrl], ...pairs]), code, names);
  });

  it.each([
    ["an entry given as one value", [["SendMessageBatchRequestEntry.1", "x"]], "InvalidParameterValue"],
    ["an entry index 0", [["SendMessageBatchRequestEntry.0.Id", "a"], ["SendMessageBatchRequestEntry.0.MessageBody", "x"]], "InvalidParameterValue"],
    ["a gap between entries", [["SendMessageBatchRequestEntry.1.Id", "a"], ["SendMessageBatchRequestEntry.1.MessageBody", "x"], ["SendMessageBatchRequestEntry.3.Id", "c"], ["SendMessageBatchRequestEntry.3.MessageBody", "z"]], "InvalidParameterValue"],
    ["eleven entries", Array.from({ length: 11 }, (_, index) => [[`SendMessageBatchRequestEntry.${index + 1}.Id`, `e${index}`], [`SendMessageBatchRequestEntry.${index + 1}.MessageBody`, "x"]]).flat(), "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"],
    ["no entries", [["SendMessageBatchRequestEntry", ""]], "AWS.SimpleQueueService.EmptyBatchRequest"],
    ["no Entries member at all", [], "MissingParameter"],
    ["repeated ids", [["SendMessageBatchRequestEntry.1.Id", "a"], ["SendMessageBatchRequestEntry.1.MessageBody", "x"], ["SendMessageBatchRequestEntry.2.Id", "a"], ["SendMessageBatchRequestEntry.2.MessageBody", "y"]], "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"],
  ] as Array<[string, Array<[string, string]>, string]>)("SendMessageBatch refuses %s and sends nothing", async (_case, pairs, code) => {
    await expectRefused(form([...head("SendMessageBatch"), ["QueueUrl", queueUrl], ...pairs]), code);
  });
});

describe("SQS query: scalar members", () => {
  it.each([
    ["MaxNumberOfMessages", "1.5"],
    ["MaxNumberOfMessages", "ten"],
    ["MaxNumberOfMessages", " 1"],
    ["MaxNumberOfMessages", ""],
    ["MaxNumberOfMessages", "11"],
    ["WaitTimeSeconds", "-1"],
    ["WaitTimeSeconds", "99999999999999999999"],
    ["VisibilityTimeout", "0x10"],
    ["Unknown", "1"],
  ])("ReceiveMessage refuses %s=%j with InvalidParameterValue naming it, and receives nothing", async (name, value) => {
    await expectRefused(form([...head("ReceiveMessage"), ["QueueUrl", queueUrl], [name, value]]), "InvalidParameterValue", name);
  });

  it("SendMessage without a MessageBody is MissingParameter", async () => {
    await expectRefused(form([...head("SendMessage"), ["QueueUrl", queueUrl]]), "MissingParameter", "MessageBody");
  });
});

describe("SQS query: generated malformed forms", () => {
  it(
    "a form of arbitrary names and values gets a 400 query error with a stable code, unless it is a valid ReceiveMessage",
    async () => {
      const name = fc.oneof(
        fc.constantFrom("Action", "Version", "QueueUrl", "AttributeName", "Attribute", "SendMessageBatchRequestEntry", "MessageAttribute", "__proto__", "constructor"),
        fc.string({ maxLength: 12 }),
      );
      const suffix = fc.oneof(fc.constant(""), fc.string({ maxLength: 6 }).map((text) => `.${text}`), fc.nat({ max: 12 }).map((index) => `.${index}`));
      const pair = fc.tuple(name, suffix, fc.string({ maxLength: 12 })).map(([base, tail, value]) => `${encodeURIComponent(base + tail)}=${encodeURIComponent(value)}`);
      const raw = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("%", "%zz", "&&&", "=", "==", "a=%", "Action=%E0%A4%A"));
      const body = fc.oneof(
        fc.array(pair, { maxLength: 8 }).map((pairs) => pairs.join("&")),
        fc.tuple(fc.array(pair, { maxLength: 6 }), raw).map(([pairs, junk]) => [`Action=ReceiveMessage&Version=2012-11-05&QueueUrl=${encodeURIComponent(queueUrl)}`, ...pairs, junk].join("&")),
      );
      const stableCodes = new Set(["MissingAction", "MissingParameter", "NoSuchVersion", "InvalidAction", "InvalidParameterValue", "AWS.SimpleQueueService.UnsupportedOperation"]);
      await checkProperty(
        "SQS query malformed forms",
        fc.asyncProperty(body, async (text) => {
          const answer = await post(text);

          // A generated form may happen to be a valid ReceiveMessage: then it must answer 200.
          if (answer.status === 200) {
            expect(answer.text, text).toMatch(/^<\?xml version="1.0"\?><ReceiveMessageResponse /);
            return;
          }
          const error = queryError(answer);
          expect(error.status, `${text}\n${answer.text}`).toBe(400);
          expect(error.type).toBe("Sender");
          expect(stableCodes.has(error.code ?? ""), `${text}\n${answer.text}`).toBe(true);
          expect(Object.getOwnPropertyNames(Object.prototype), "Object.prototype changed").toEqual(prototypeKeys);
        }),
        200,
      );
      expect((await api("GET", `/v1/queues/${queue}`)).status).toBe(200);
    },
    propertyTimeoutMs(),
  );
});
