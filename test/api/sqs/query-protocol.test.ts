import { describe, expect, it } from "vitest";
import { decodeQueryRequest, encodeQueryResponse } from "../../../src/api/sqs/query";
import { QueryRequestShapes, QueryResponseShapes } from "../../../src/api/sqs/query-shapes";
import { SqsRequest } from "../../../src/api/sqs/wire";
import { escapeXml } from "../../../src/api/sqs/xml";
import { api, uniqueName } from "../../support/http";
import { queueUrl } from "../../support/sqs";
import { FormContentType, formOf, queryError, sqsQuery, sqsQueryHeaders, sqsQueryWithHeaders, xmlTexts } from "../../support/sqs-query";
import { rootCredentials } from "../../support/sqs";

const Namespace = "http://queue.amazonaws.com/doc/2012-11-05/";
const at = new URL("http://cmq.test/");
const decoded = (parameters: Record<string, string>, url = at) =>
  decodeQueryRequest(Object.entries({ Action: "SendMessage", Version: "2012-11-05", ...parameters }), url);

const md5Hex = async (text: string) =>
  Array.from(new Uint8Array(await crypto.subtle.digest("MD5", new TextEncoder().encode(text))), (byte) => byte.toString(16).padStart(2, "0")).join("");

describe("the query protocol's table", () => {
  it("covers every action the JSON protocol serves, request and answer", () => {
    const actions = Object.keys(SqsRequest);

    expect(actions.filter((action) => !Object.hasOwn(QueryRequestShapes, action))).toEqual([]);
    expect(actions.filter((action) => !Object.hasOwn(QueryResponseShapes, action))).toEqual([]);
  });
});

describe("decoding a form into the JSON protocol's input", () => {
  it("turns flattened message attributes, system attributes and string lists into maps and lists", () => {
    const { action, input } = decoded({
      QueueUrl: "http://cmq.test/default/q",
      MessageBody: "b",
      DelaySeconds: "5",
      "MessageAttribute.1.Name": "colour",
      "MessageAttribute.1.Value.DataType": "String",
      "MessageAttribute.1.Value.StringValue": "red",
      "MessageAttribute.2.Name": "blob",
      "MessageAttribute.2.Value.DataType": "Binary.png",
      "MessageAttribute.2.Value.BinaryValue": "AAE=",
      "MessageAttribute.3.Name": "list",
      "MessageAttribute.3.Value.DataType": "String",
      "MessageAttribute.3.Value.StringListValue.1": "a",
      "MessageAttribute.3.Value.StringListValue.2": "b",
      "MessageSystemAttribute.1.Name": "AWSTraceHeader",
      "MessageSystemAttribute.1.Value.DataType": "String",
      "MessageSystemAttribute.1.Value.StringValue": "Root=1",
    });

    expect(action).toBe("SendMessage");
    expect(input).toEqual({
      QueueUrl: "http://cmq.test/default/q",
      MessageBody: "b",
      DelaySeconds: 5,
      MessageAttributes: {
        colour: { DataType: "String", StringValue: "red" },
        blob: { DataType: "Binary.png", BinaryValue: "AAE=" },
        list: { DataType: "String", StringListValues: ["a", "b"] },
      },
      MessageSystemAttributes: { AWSTraceHeader: { DataType: "String", StringValue: "Root=1" } },
    });
  });

  it("turns batch entries into Entries, each with its own attributes, in index order", () => {
    const { input } = decodeQueryRequest(
      Object.entries({
        Action: "SendMessageBatch",
        Version: "2012-11-05",
        QueueUrl: "http://cmq.test/default/q",
        "SendMessageBatchRequestEntry.2.Id": "second",
        "SendMessageBatchRequestEntry.2.MessageBody": "two",
        "SendMessageBatchRequestEntry.1.Id": "first",
        "SendMessageBatchRequestEntry.1.MessageBody": "one",
        "SendMessageBatchRequestEntry.1.DelaySeconds": "3",
        "SendMessageBatchRequestEntry.1.MessageAttribute.1.Name": "k",
        "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType": "Number",
        "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue": "1",
      }),
      at,
    );

    expect(input.Entries).toEqual([
      { Id: "first", MessageBody: "one", DelaySeconds: 3, MessageAttributes: { k: { DataType: "Number", StringValue: "1" } } },
      { Id: "second", MessageBody: "two" },
    ]);
  });

  it.each([
    ["DeleteMessageBatch", { "DeleteMessageBatchRequestEntry.1.Id": "a", "DeleteMessageBatchRequestEntry.1.ReceiptHandle": "h" }, { Entries: [{ Id: "a", ReceiptHandle: "h" }] }],
    [
      "ChangeMessageVisibilityBatch",
      { "ChangeMessageVisibilityBatchRequestEntry.1.Id": "a", "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle": "h", "ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout": "9" },
      { Entries: [{ Id: "a", ReceiptHandle: "h", VisibilityTimeout: 9 }] },
    ],
    ["CreateQueue", { QueueName: "q", "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "40", "Tag.1.Key": "team", "Tag.1.Value": "a" }, { QueueName: "q", Attributes: { VisibilityTimeout: "40" }, tags: { team: "a" } }],
    ["SetQueueAttributes", { "Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "5" }, { Attributes: { DelaySeconds: "5" } }],
    ["GetQueueAttributes", { "AttributeName.1": "All", "AttributeName.2": "QueueArn" }, { AttributeNames: ["All", "QueueArn"] }],
    [
      "ReceiveMessage",
      { "AttributeName.1": "All", "MessageSystemAttributeName.1": "SentTimestamp", "MessageAttributeName.1": "colour", MaxNumberOfMessages: "10", WaitTimeSeconds: "20", VisibilityTimeout: "0" },
      { AttributeNames: ["All"], MessageSystemAttributeNames: ["SentTimestamp"], MessageAttributeNames: ["colour"], MaxNumberOfMessages: 10, WaitTimeSeconds: 20, VisibilityTimeout: 0 },
    ],
    ["TagQueue", { "Tag.1.Key": "team", "Tag.1.Value": "a", "Tag.2.Key": "env", "Tag.2.Value": "" }, { Tags: { team: "a", env: "" } }],
    ["UntagQueue", { "TagKey.1": "team", "TagKey.2": "env" }, { TagKeys: ["team", "env"] }],
    ["ListDeadLetterSourceQueues", { MaxResults: "5", NextToken: "t" }, { MaxResults: 5, NextToken: "t" }],
    ["StartMessageMoveTask", { SourceArn: "arn:aws:sqs:local:default:d", MaxNumberOfMessagesPerSecond: "50" }, { SourceArn: "arn:aws:sqs:local:default:d", MaxNumberOfMessagesPerSecond: 50 }],
    ["ListMessageMoveTasks", { SourceArn: "arn:aws:sqs:local:default:d", MaxResults: "10" }, { SourceArn: "arn:aws:sqs:local:default:d", MaxResults: 10 }],
    ["CancelMessageMoveTask", { TaskHandle: "t" }, { TaskHandle: "t" }],
    ["GetQueueAttributes", { AttributeName: "" }, { AttributeNames: [] }],
  ])("decodes %s's members as the JSON protocol names them", (action, parameters, expected) => {
    const { input } = decodeQueryRequest(Object.entries({ Action: action, Version: "2012-11-05", ...parameters }), at);

    expect(input).toEqual(expected);
  });

  it("takes the queue from the path when the form names none, and the form's when it does", () => {
    const url = new URL("http://cmq.test/default/orders");

    const fromPath = decoded({ MessageBody: "b" }, url);
    const fromForm = decoded({ MessageBody: "b", QueueUrl: "http://cmq.test/default/other" }, url);
    const notAQueueAction = decodeQueryRequest(Object.entries({ Action: "ListQueues", Version: "2012-11-05" }), url);

    expect(fromPath.input.QueueUrl).toBe("http://cmq.test/default/orders");
    expect(fromForm.input.QueueUrl).toBe("http://cmq.test/default/other");
    expect(notAQueueAction.input).toEqual({});
  });

  it("leaves a value that is no integer as text, for the action's schema to refuse by name", () => {
    expect(decoded({ DelaySeconds: "1.5" }).input.DelaySeconds).toBe("1.5");
  });
});

describe("encoding an answer as SQS's XML", () => {
  it("writes ReceiveMessage's messages, system attributes and message attributes flattened", () => {
    const xml = encodeQueryResponse(
      "ReceiveMessage",
      {
        Messages: [
          {
            MessageId: "m1",
            ReceiptHandle: "h1",
            MD5OfBody: "d",
            Body: "b",
            Attributes: { SentTimestamp: "1", ApproximateReceiveCount: "2" },
            MD5OfMessageAttributes: "e",
            MessageAttributes: { colour: { DataType: "String", StringValue: "red" }, list: { DataType: "String", StringListValues: ["a", "b"] } },
          },
        ],
      },
      "req-1",
    );

    expect(xml).toBe(
      `<?xml version="1.0"?><ReceiveMessageResponse xmlns="${Namespace}"><ReceiveMessageResult><Message><MessageId>m1</MessageId><ReceiptHandle>h1</ReceiptHandle>` +
        "<MD5OfBody>d</MD5OfBody><Body>b</Body><Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute><Attribute><Name>ApproximateReceiveCount</Name><Value>2</Value></Attribute>" +
        "<MD5OfMessageAttributes>e</MD5OfMessageAttributes><MessageAttribute><Name>colour</Name><Value><DataType>String</DataType><StringValue>red</StringValue></Value></MessageAttribute>" +
        "<MessageAttribute><Name>list</Name><Value><DataType>String</DataType><StringListValue>a</StringListValue><StringListValue>b</StringListValue></Value></MessageAttribute>" +
        "</Message></ReceiveMessageResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ReceiveMessageResponse>",
    );
  });

  it.each([
    [
      "SendMessageBatch",
      { Successful: [{ Id: "a", MessageId: "m", MD5OfMessageBody: "d" }], Failed: [{ Id: "b", SenderFault: true, Code: "InvalidParameterValue", Message: "too long" }] },
      "<SendMessageBatchResultEntry><Id>a</Id><MessageId>m</MessageId><MD5OfMessageBody>d</MD5OfMessageBody></SendMessageBatchResultEntry>" +
        "<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>InvalidParameterValue</Code><Message>too long</Message></BatchResultErrorEntry>",
    ],
    ["DeleteMessageBatch", { Successful: [{ Id: "a" }], Failed: [] }, "<DeleteMessageBatchResultEntry><Id>a</Id></DeleteMessageBatchResultEntry>"],
    ["ChangeMessageVisibilityBatch", { Successful: [], Failed: [] }, ""],
    ["ListQueues", { QueueUrls: ["u1", "u2"], NextToken: "t" }, "<QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl><NextToken>t</NextToken>"],
    ["GetQueueAttributes", { Attributes: { VisibilityTimeout: "30" } }, "<Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute>"],
    ["ListQueueTags", { Tags: { team: "a" } }, "<Tag><Key>team</Key><Value>a</Value></Tag>"],
    ["ListDeadLetterSourceQueues", { queueUrls: ["u1"] }, "<QueueUrl>u1</QueueUrl>"],
    ["StartMessageMoveTask", { TaskHandle: "t" }, "<TaskHandle>t</TaskHandle>"],
    ["CancelMessageMoveTask", { ApproximateNumberOfMessagesMoved: 3 }, "<ApproximateNumberOfMessagesMoved>3</ApproximateNumberOfMessagesMoved>"],
    [
      "ListMessageMoveTasks",
      { Results: [{ TaskHandle: "t", Status: "RUNNING", ApproximateNumberOfMessagesMoved: 1 }] },
      "<ListMessageMoveTasksResultEntry><TaskHandle>t</TaskHandle><Status>RUNNING</Status><ApproximateNumberOfMessagesMoved>1</ApproximateNumberOfMessagesMoved></ListMessageMoveTasksResultEntry>",
    ],
  ])("writes %s's result", (action, output, result) => {
    const xml = encodeQueryResponse(action, output, "r");

    expect(xml).toBe(
      `<?xml version="1.0"?><${action}Response xmlns="${Namespace}"><${action}Result>${result}</${action}Result>` +
        `<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`,
    );
  });

  it.each(["DeleteMessage", "DeleteQueue", "PurgeQueue", "SetQueueAttributes", "ChangeMessageVisibility", "TagQueue", "UntagQueue"])(
    "writes %s's answer with no result element, as SQS does",
    (action) => {
      expect(encodeQueryResponse(action, {}, "r")).toBe(
        `<?xml version="1.0"?><${action}Response xmlns="${Namespace}"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`,
      );
    },
  );

  it.each([
    ["a & b < c > d", "a &amp; b &lt; c &gt; d"],
    ['say "hi"', "say &quot;hi&quot;"],
    ["line\r\nbreak\ttab", "line&#xD;\nbreak\ttab"],
    ["bell \u0007 and lone \uD800 surrogate", "bell \uFFFD and lone \uFFFD surrogate"],
    ["plain ✓ 𝄞", "plain ✓ 𝄞"],
  ])("escapes %j as XML character data", (text, escaped) => {
    expect(escapeXml(text)).toBe(escaped);
  });
});

describe("the query protocol against the service", () => {
  async function createdQueue(): Promise<string> {
    const name = uniqueName("query");
    const answer = await sqsQuery("CreateQueue", { QueueName: name });
    expect(answer.status, answer.text).toBe(200);
    return xmlTexts(answer.text, "QueueUrl")[0]!;
  }

  it("answers in XML in SQS's namespace, the request id in the body and the header", async () => {
    const name = uniqueName("query");

    const answer = await sqsQuery("CreateQueue", { QueueName: name, "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "45" });
    const native = await api("GET", `/v1/queues/${name}`);

    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("text/xml");
    expect(answer.text).toBe(
      `<?xml version="1.0"?><CreateQueueResponse xmlns="${Namespace}"><CreateQueueResult><QueueUrl>${queueUrl(name)}</QueueUrl></CreateQueueResult>` +
        `<ResponseMetadata><RequestId>${answer.headers.get("x-amzn-requestid")}</RequestId></ResponseMetadata></CreateQueueResponse>`,
    );
    expect(answer.headers.get("x-amzn-requestid")).toBe(answer.headers.get("x-request-id"));
    expect(native.body.visibilityTimeout).toBe(45);
  });

  it("sends, receives and deletes, with the body's MD5 and the body escaped", async () => {
    const url = await createdQueue();
    const body = "a <b> & \r\n c";

    const sent = await sqsQuery("SendMessage", { QueueUrl: url, MessageBody: body });
    const received = await sqsQuery("ReceiveMessage", { QueueUrl: url, "AttributeName.1": "ApproximateReceiveCount" });
    const deleted = await sqsQuery("DeleteMessage", { QueueUrl: url, ReceiptHandle: xmlTexts(received.text, "ReceiptHandle")[0]! });

    expect(xmlTexts(sent.text, "MD5OfMessageBody")).toEqual([await md5Hex(body)]);
    expect(received.text).toContain("<Body>a &lt;b&gt; &amp; &#xD;\n c</Body>");
    expect(xmlTexts(received.text, "Body")).toEqual([body]);
    expect(xmlTexts(received.text, "MessageId")).toEqual(xmlTexts(sent.text, "MessageId"));
    expect(received.text).toContain("<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>");
    expect(deleted.status).toBe(200);
  });

  it("serves a request posted to the queue's URL without a QueueUrl parameter", async () => {
    const url = await createdQueue();

    const sent = await sqsQuery("SendMessage", { MessageBody: "to the path" }, { url });
    const received = await sqsQuery("ReceiveMessage", {}, { url });

    expect(sent.status, sent.text).toBe(200);
    expect(xmlTexts(received.text, "Body")).toEqual(["to the path"]);
  });

  it("answers a missing queue with SQS's ErrorResponse, query code and status", async () => {
    const answer = await sqsQuery("GetQueueUrl", { QueueName: uniqueName("missing") });
    const requestId = answer.headers.get("x-amzn-requestid");

    expect(answer.status).toBe(400);
    expect(answer.headers.get("content-type")).toBe("text/xml");
    expect(answer.text).toMatch(
      new RegExp(
        `^<\\?xml version="1.0"\\?><ErrorResponse xmlns="${Namespace.replace(/\./g, "\\.")}"><Error><Type>Sender</Type>` +
          `<Code>AWS\\.SimpleQueueService\\.NonExistentQueue</Code><Message>[^<]+</Message><Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>$`,
      ),
    );
  });

  it.each([
    ["a stale receipt handle", "DeleteMessage", { ReceiptHandle: "1-00000000000000000000000000000000" }, { status: 404, type: "Sender", code: "ReceiptHandleIsInvalid" }],
    ["MaxNumberOfMessages 11", "ReceiveMessage", { MaxNumberOfMessages: "11" }, { status: 400, type: "Sender", code: "InvalidParameterValue" }],
    ["an empty batch", "DeleteMessageBatch", { DeleteMessageBatchRequestEntry: "" }, { status: 400, type: "Sender", code: "AWS.SimpleQueueService.EmptyBatchRequest" }],
    ["an unknown queue attribute", "SetQueueAttributes", { "Attribute.1.Name": "Colour", "Attribute.1.Value": "red" }, { status: 400, type: "Sender", code: "InvalidAttributeName" }],
  ])("answers %s with the query code", async (_case, action, parameters, expected) => {
    const url = await createdQueue();

    const answer = await sqsQuery(action, { QueueUrl: url, ...parameters });

    expect(queryError(answer), answer.text).toEqual(expected);
  });

  it("answers an unsigned form posted to / in SQS's dialect", async () => {
    const body = formOf({ Action: "ListQueues", Version: "2012-11-05" });

    const answer = await sqsQueryWithHeaders(body, { "content-type": FormContentType });

    expect(queryError(answer)).toEqual({ status: 403, type: "Sender", code: "MissingAuthenticationToken" });
  });

  it("takes parameters from the URL's query string as well as the form", async () => {
    const name = uniqueName("query");
    const url = `http://cmq.test/?Action=CreateQueue&Version=2012-11-05`;
    const body = formOf({ QueueName: name });

    const answer = await sqsQueryWithHeaders(body, await sqsQueryHeaders(body, rootCredentials(), url), url);

    expect(xmlTexts(answer.text, "QueueUrl")).toEqual([queueUrl(name)]);
  });
});
