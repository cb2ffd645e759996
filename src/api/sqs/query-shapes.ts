/**
 * How SQS's query protocol lays out each action's members, from the SQS service model
 * (botocore `sqs/2012-11-05/service-2.json`, the `Aws_query` serializers of `@aws-sdk/client-sqs`
 * before 3.446). The JSON protocol names a member by its JSON name; the query protocol by its
 * `locationName`, and every SQS list and map is flattened: a list `AttributeNames` travels as
 * `AttributeName.1`, `AttributeName.2`; a map `Attributes` as `Attribute.1.Name`, `Attribute.1.Value`;
 * a list of structures as `SendMessageBatchRequestEntry.1.Id`. Answers are XML with the same names:
 * a list is its elements repeated (`<QueueUrl>` after `<QueueUrl>`), a map one element per entry
 * holding `<Name>` (or `<Key>`) and `<Value>`.
 *
 * Only what differs from "a string under its JSON name" is listed: integers, lists, maps and
 * structures, and their location names. Members not listed pass through as strings under their own
 * name, and the action's JSON wire schema (wire.ts) then accepts or refuses them exactly as it does
 * for the JSON protocol, so the two protocols cannot drift apart.
 */
export type QueryShape =
  | { kind: "string" }
  | { kind: "integer" }
  | { kind: "list"; member: QueryShape }
  | { kind: "map"; keyName: "Name" | "Key"; value: QueryShape }
  | { kind: "structure"; members: Readonly<Record<string, QueryMember>> };

export interface QueryMember {
  shape: QueryShape;
  /** The query parameter and XML element name, when it is not the JSON name. */
  location?: string;
}

const string: QueryShape = { kind: "string" };
const integer: QueryShape = { kind: "integer" };
const list = (member: QueryShape): QueryShape => ({ kind: "list", member });
const map = (keyName: "Name" | "Key", value: QueryShape = string): QueryShape => ({ kind: "map", keyName, value });
const structure = (members: Record<string, QueryShape | QueryMember>): Extract<QueryShape, { kind: "structure" }> => ({
  kind: "structure",
  members: Object.fromEntries(Object.entries(members).map(([name, member]) => [name, "kind" in member ? { shape: member } : member])),
});
/** A member whose query and XML name is `location`. */
const at = (location: string, shape: QueryShape): QueryMember => ({ shape, location });

/** MessageAttributeValue and MessageSystemAttributeValue. */
const AttributeValue = structure({
  StringListValues: at("StringListValue", list(string)),
  BinaryListValues: at("BinaryListValue", list(string)),
});
const MessageAttributes = at("MessageAttribute", map("Name", AttributeValue));
const MessageSystemAttributes = at("MessageSystemAttribute", map("Name", AttributeValue));
const QueueAttributes = at("Attribute", map("Name"));
const Tags = (location: string) => at(location, map("Key"));
const AttributeNames = at("AttributeName", list(string));

const OutgoingMessage = { DelaySeconds: integer, MessageAttributes, MessageSystemAttributes };

type Structure = Extract<QueryShape, { kind: "structure" }>;

/** A request naming a queue by `QueueUrl`, which a request posted to the queue's URL may leave out. */
const ofQueue = (members: Record<string, QueryShape | QueryMember>) => structure({ QueueUrl: string, ...members });

/** Each action's request. */
export const QueryRequestShapes: Readonly<Record<string, Structure>> = {
  CreateQueue: structure({ Attributes: QueueAttributes, tags: Tags("Tag") }),
  GetQueueUrl: structure({}),
  ListQueues: structure({ MaxResults: integer }),
  GetQueueAttributes: ofQueue({ AttributeNames }),
  SetQueueAttributes: ofQueue({ Attributes: QueueAttributes }),
  DeleteQueue: ofQueue({}),
  PurgeQueue: ofQueue({}),
  SendMessage: ofQueue(OutgoingMessage),
  SendMessageBatch: ofQueue({ Entries: at("SendMessageBatchRequestEntry", list(structure(OutgoingMessage))) }),
  ReceiveMessage: ofQueue({
    AttributeNames,
    MessageSystemAttributeNames: at("MessageSystemAttributeName", list(string)),
    MessageAttributeNames: at("MessageAttributeName", list(string)),
    MaxNumberOfMessages: integer,
    VisibilityTimeout: integer,
    WaitTimeSeconds: integer,
  }),
  DeleteMessage: ofQueue({}),
  DeleteMessageBatch: ofQueue({ Entries: at("DeleteMessageBatchRequestEntry", list(structure({}))) }),
  ChangeMessageVisibility: ofQueue({ VisibilityTimeout: integer }),
  ChangeMessageVisibilityBatch: ofQueue({
    Entries: at("ChangeMessageVisibilityBatchRequestEntry", list(structure({ VisibilityTimeout: integer }))),
  }),
  TagQueue: ofQueue({ Tags: Tags("Tag") }),
  UntagQueue: ofQueue({ TagKeys: at("TagKey", list(string)) }),
  ListQueueTags: ofQueue({}),
  ListDeadLetterSourceQueues: ofQueue({ MaxResults: integer }),
  StartMessageMoveTask: structure({ MaxNumberOfMessagesPerSecond: integer }),
  ListMessageMoveTasks: structure({ MaxResults: integer }),
  CancelMessageMoveTask: structure({}),
  AddPermission: ofQueue({ AWSAccountIds: at("AWSAccountId", list(string)), Actions: at("ActionName", list(string)) }),
  RemovePermission: ofQueue({}),
};

const BatchFailures = at("BatchResultErrorEntry", list(structure({})));
const batchResult = (entry: string) => structure({ Successful: at(entry, list(structure({}))), Failed: BatchFailures });

/**
 * Each action's answer inside `<{Action}Result>`; null for actions whose answer holds no result
 * element (only `<ResponseMetadata>`). Scalars need no entry: they are elements of their JSON name.
 */
export const QueryResponseShapes: Readonly<Record<string, Structure | null>> = {
  CreateQueue: structure({}),
  GetQueueUrl: structure({}),
  ListQueues: structure({ QueueUrls: at("QueueUrl", list(string)) }),
  GetQueueAttributes: structure({ Attributes: QueueAttributes }),
  SetQueueAttributes: null,
  DeleteQueue: null,
  PurgeQueue: null,
  SendMessage: structure({}),
  SendMessageBatch: batchResult("SendMessageBatchResultEntry"),
  ReceiveMessage: structure({
    Messages: at("Message", list(structure({ Attributes: QueueAttributes, MessageAttributes }))),
  }),
  DeleteMessage: null,
  DeleteMessageBatch: batchResult("DeleteMessageBatchResultEntry"),
  ChangeMessageVisibility: null,
  ChangeMessageVisibilityBatch: batchResult("ChangeMessageVisibilityBatchResultEntry"),
  TagQueue: null,
  UntagQueue: null,
  ListQueueTags: structure({ Tags: Tags("Tag") }),
  ListDeadLetterSourceQueues: structure({ queueUrls: at("QueueUrl", list(string)) }),
  StartMessageMoveTask: structure({}),
  ListMessageMoveTasks: structure({ Results: at("ListMessageMoveTasksResultEntry", list(structure({}))) }),
  CancelMessageMoveTask: structure({}),
  AddPermission: null,
  RemovePermission: null,
};
