import type * as v from "valibot";
import { ErrorCode, ServiceError } from "../../errors";
import { catalog, runOperation, type OperationContext, type OperationName, type OperationOutput } from "../../operations";
import { QueueLimits } from "../../schema/queue";
import { arnOfQueue, arnScopeOf } from "./arn";
import { attributeOfField, attributesToInput, queueAttributesOf } from "./attributes";
import { deadLetterActions } from "./dead-letters";
import { checkCreateTags, queueTagActions } from "./tags";
import { sqsErrorOf, SqsWire, SqsWireError } from "./errors";
import {
  attributesFromWire,
  attributesToWire,
  md5OfAttributes,
  md5OfBody,
  selectAttributes,
  traceHeaderFromWire,
  TraceHeaderAttribute,
} from "./message-attributes";
import { queueNameOf, queueUrlOf } from "./queue-url";
import {
  MessageBodyCharacters,
  parseWire,
  SqsBatchEntry,
  SqsLimits,
  type SqsAction,
  type SqsInput,
  type SqsMessageAttributeValue,
} from "./wire";

/** What an action runs with: the operation context of the caller and the origin its URLs name. */
export interface SqsCall {
  context: OperationContext;
  origin: string;
}

/** Where a field of an operation's input came from on the SQS wire, for error messages. */
const WireNameOf: Record<string, string> = {
  queue: "QueueName",
  body: "MessageBody",
  delaySeconds: "DelaySeconds",
  max: "MaxNumberOfMessages",
  waitSeconds: "WaitTimeSeconds",
  visibilityTimeout: "VisibilityTimeout",
  receiptHandle: "ReceiptHandle",
  receiptHandles: "ReceiptHandle",
  prefix: "QueueNamePrefix",
  limit: "MaxResults",
  cursor: "NextToken",
  traceHeader: "MessageSystemAttributes.AWSTraceHeader",
  groupId: "MessageGroupId",
  deduplicationId: "MessageDeduplicationId",
  ...attributeOfField,
};

const locate = (keys: string[]) => {
  // A message attribute's problem names the attribute: MessageAttributes.<name>.
  const attributesAt = keys.indexOf("attributes");
  if (attributesAt !== -1) return ["MessageAttributes", ...keys.slice(attributesAt + 1, attributesAt + 2)];
  const last = keys.filter((key) => !/^\d+$/.test(key)).pop() ?? "";
  return [WireNameOf[last] ?? last];
};

function run<TName extends OperationName>(call: SqsCall, name: TName, input: unknown): Promise<OperationOutput<TName>> {
  return runOperation(catalog[name] as never, call.context, input, locate) as Promise<OperationOutput<TName>>;
}

const account = (call: SqsCall) => call.context.principal.account;
const queueOf = (call: SqsCall, queueUrl: string) => queueNameOf(queueUrl, account(call));

/** What SQS refuses in a message before the service sees it: characters SQS does not allow in a body. */
function checkMessage(message: { MessageBody: string }) {
  if (!MessageBodyCharacters.test(message.MessageBody)) {
    throw new SqsWireError(SqsWire.InvalidMessageContents, "Invalid characters found in MessageBody: SQS allows #x9, #xA, #xD, #x20 to #xD7FF, #xE000 to #xFFFD and #x10000 to #x10FFFF.");
  }
}

/** An invalid attribute value found by the service is SQS's InvalidAttributeValue. */
async function withAttributeErrors<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ServiceError && error.code === ErrorCode.InvalidParameter) throw new SqsWireError(SqsWire.InvalidAttributeValue, error.message);
    throw error;
  }
}

/** A message of SendMessage or of a SendMessageBatch entry, as the service takes it. */
function toMessage(message: {
  MessageBody: string;
  DelaySeconds?: number;
  MessageAttributes?: Record<string, SqsMessageAttributeValue>;
  MessageSystemAttributes?: { AWSTraceHeader?: SqsMessageAttributeValue };
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}) {
  return {
    body: message.MessageBody,
    delaySeconds: message.DelaySeconds,
    attributes: attributesFromWire(message.MessageAttributes),
    traceHeader: traceHeaderFromWire(message.MessageSystemAttributes),
    groupId: message.MessageGroupId,
    deduplicationId: message.MessageDeduplicationId,
  };
}

/** A FIFO queue's message answers its sequence number (SQS's SequenceNumber). */
const sequenceOf = (sent: { sequenceNumber?: string }) => (sent.sequenceNumber === undefined ? {} : { SequenceNumber: sent.sequenceNumber });

/**
 * The digests SQS answers a sent message with: MD5OfMessageAttributes when it has attributes,
 * MD5OfMessageSystemAttributes (the same algorithm) when it has a trace header.
 */
async function digestsOf(
  message: ReturnType<typeof toMessage>,
): Promise<{ MD5OfMessageBody: string; MD5OfMessageAttributes?: string; MD5OfMessageSystemAttributes?: string }> {
  const attributesDigest = await md5OfAttributes(message.attributes ?? {});
  const systemDigest =
    message.traceHeader === undefined ? null : await md5OfAttributes({ [TraceHeaderAttribute]: { type: "String", value: message.traceHeader } });
  return {
    MD5OfMessageBody: await md5OfBody(message.body),
    ...(attributesDigest === null ? {} : { MD5OfMessageAttributes: attributesDigest }),
    ...(systemDigest === null ? {} : { MD5OfMessageSystemAttributes: systemDigest }),
  };
}

interface FailedEntry {
  Id: string;
  SenderFault: boolean;
  Code: string;
  Message: string;
}

/**
 * Errors that concern one entry of a batch; any other (a missing queue, a refused right, a failure
 * of the service) concerns the whole request and is answered as the request's error.
 */
const EntryErrorCodes: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.InvalidParameter,
  ErrorCode.MissingParameter,
  ErrorCode.MessageTooLarge,
  ErrorCode.ReceiptHandleInvalid,
]);

const concernsEntry = (error: unknown): error is ServiceError | SqsWireError =>
  error instanceof SqsWireError || (error instanceof ServiceError && EntryErrorCodes.has(error.code));

function failedEntry(id: string, error: unknown): FailedEntry {
  if (!concernsEntry(error)) throw error;
  const { shape, fault, message } = sqsErrorOf(error, "");
  return { Id: id, SenderFault: fault === "Sender", Code: shape.code, Message: message };
}

/** The request-level rules of every batch action: 1 to 10 entries, each id well formed and distinct. */
function checkBatch(entries: ReadonlyArray<{ Id: string }>): void {
  if (entries.length < SqsLimits.batchEntries.min) throw new SqsWireError(SqsWire.EmptyBatchRequest, "There should be at least one entry in the request.");
  if (entries.length > SqsLimits.batchEntries.max) {
    throw new SqsWireError(SqsWire.TooManyEntriesInBatchRequest, `Maximum number of entries per request are ${SqsLimits.batchEntries.max}. You have sent ${entries.length}.`);
  }
  const seen = new Set<string>();
  for (const { Id } of entries) {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(Id)) {
      throw new SqsWireError(SqsWire.InvalidBatchEntryId, `A batch entry id can only contain alphanumeric characters, hyphens and underscores, up to ${SqsLimits.batchEntryIdLength}: ${Id}.`);
    }
    if (seen.has(Id)) throw new SqsWireError(SqsWire.BatchEntryIdsNotDistinct, `Id ${Id} repeated.`);
    seen.add(Id);
  }
}

/** Parses each entry on its own: an entry that breaks a wire rule fails alone, as SQS reports it. */
function parseEntries<TSchema extends v.GenericSchema>(
  schema: TSchema,
  entries: ReadonlyArray<{ Id: string }>,
  check: (entry: v.InferOutput<TSchema>) => void = () => undefined,
): { valid: Array<v.InferOutput<TSchema>>; failed: FailedEntry[] } {
  const valid: Array<v.InferOutput<TSchema>> = [];
  const failed: FailedEntry[] = [];
  entries.forEach((entry, index) => {
    try {
      const parsed = parseWire(schema, entry, `Entries.${index + 1}`);
      check(parsed);
      valid.push(parsed);
    } catch (error) {
      failed.push(failedEntry(entry.Id, error));
    }
  });
  return { valid, failed };
}

type Handler<TAction extends SqsAction> = (call: SqsCall, input: SqsInput<TAction>) => Promise<Record<string, unknown>>;

/** Each SQS action translated onto the operation catalog. */
export const sqsActions: { [TAction in SqsAction]: Handler<TAction> } = {
  ...queueTagActions,
  ...deadLetterActions,

  async CreateQueue(call, input) {
    const attributes = attributesToInput(input.Attributes, arnScopeOf(call.context), true);
    // SQS's answer, in its words, to a name and a FifoQueue attribute that disagree (the service refuses them too).
    if (input.QueueName.endsWith(".fifo") !== (attributes.fifo === true)) {
      throw new SqsWireError(
        SqsWire.InvalidParameterValue,
        attributes.fifo === true
          ? "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix."
          : "Can only include alphanumeric characters, hyphens, or underscores; only a FIFO queue (FifoQueue true) has a name ending in .fifo.",
      );
    }
    checkCreateTags(input.tags);
    const { queue } = await withAttributeErrors(() => run(call, "createQueue", { queue: input.QueueName, ...attributes, tags: input.tags }));
    return { QueueUrl: queueUrlOf(call.origin, account(call), queue.name) };
  },

  async GetQueueUrl(call, input) {
    if (input.QueueOwnerAWSAccountId !== undefined && input.QueueOwnerAWSAccountId !== account(call)) {
      throw new ServiceError(ErrorCode.QueueNotFound, "The specified queue does not exist: it is not in the caller's account.");
    }
    const queue = await run(call, "getQueue", { queue: input.QueueName });
    return { QueueUrl: queueUrlOf(call.origin, account(call), queue.name) };
  },

  async ListQueues(call, input) {
    // Without MaxResults SQS lists up to 1,000 queues, the most a page holds.
    const page = await run(call, "listQueues", { prefix: input.QueueNamePrefix, limit: input.MaxResults ?? QueueLimits.listMax, cursor: input.NextToken });
    return {
      QueueUrls: page.queues.map((queue) => queueUrlOf(call.origin, account(call), queue.name)),
      ...(page.nextCursor === null ? {} : { NextToken: page.nextCursor }),
    };
  },

  async GetQueueAttributes(call, input) {
    const queue = await run(call, "getQueue", { queue: queueOf(call, input.QueueUrl) });
    const attributes = queueAttributesOf(queue, input.AttributeNames ?? [], call.context.scope.region, account(call));
    return Object.keys(attributes).length === 0 ? {} : { Attributes: attributes };
  },

  async SetQueueAttributes(call, input) {
    const queue = queueOf(call, input.QueueUrl);
    const attributes = attributesToInput(input.Attributes, arnScopeOf(call.context));
    await withAttributeErrors(() => run(call, "updateQueue", { queue, ...attributes }));
    return {};
  },

  async DeleteQueue(call, input) {
    await run(call, "deleteQueue", { queue: queueOf(call, input.QueueUrl) });
    return {};
  },

  async PurgeQueue(call, input) {
    await run(call, "purgeQueue", { queue: queueOf(call, input.QueueUrl) });
    return {};
  },

  async SendMessage(call, input) {
    checkMessage(input);
    const queue = queueOf(call, input.QueueUrl);
    const message = toMessage(input);
    const sent = await run(call, "sendMessages", { queue, messages: [message] });
    return { MessageId: sent.messages[0]!.id, ...(await digestsOf(message)), ...sequenceOf(sent.messages[0]!) };
  },

  async SendMessageBatch(call, input) {
    const queue = queueOf(call, input.QueueUrl);
    checkBatch(input.Entries);
    const { valid, failed } = parseEntries(SqsBatchEntry.SendMessageBatch, input.Entries, checkMessage);
    const successful: Array<{ Id: string; MessageId: string; SequenceNumber?: string } & Awaited<ReturnType<typeof digestsOf>>> = [];
    const succeed = async (entry: (typeof valid)[number], sent: { id: string; sequenceNumber?: string }) =>
      successful.push({ Id: entry.Id, MessageId: sent.id, ...(await digestsOf(toMessage(entry))), ...sequenceOf(sent) });
    if (valid.length > 0) {
      try {
        const sent = await run(call, "sendMessages", { queue, messages: valid.map(toMessage) });
        for (const [index, entry] of valid.entries()) await succeed(entry, sent.messages[index]!);
      } catch (error) {
        // The service stores a batch whole or not at all; SQS reports each entry, so a batch the
        // sender got wrong is sent again entry by entry to find which ones fail.
        if (!concernsEntry(error)) throw error;
        for (const entry of valid) {
          try {
            const sent = await run(call, "sendMessages", { queue, messages: [toMessage(entry)] });
            await succeed(entry, sent.messages[0]!);
          } catch (entryError) {
            failed.push(failedEntry(entry.Id, entryError));
          }
        }
      }
    }
    return { Successful: successful, Failed: failed };
  },

  async ReceiveMessage(call, input) {
    const queue = queueOf(call, input.QueueUrl);
    const received = await run(call, "receiveMessages", {
      queue,
      max: input.MaxNumberOfMessages,
      waitSeconds: input.WaitTimeSeconds,
      visibilityTimeout: input.VisibilityTimeout,
    });
    const names = new Set([...(input.AttributeNames ?? []), ...(input.MessageSystemAttributeNames ?? [])]);
    const wanted = (name: string) => names.has("All") || names.has(name);
    const messages = await Promise.all(
      received.messages.map(async (message) => {
        const attributes: Record<string, string> = {};
        if (wanted("ApproximateReceiveCount")) attributes.ApproximateReceiveCount = String(message.receiveCount);
        if (wanted("ApproximateFirstReceiveTimestamp")) attributes.ApproximateFirstReceiveTimestamp = String(message.firstReceivedAt);
        if (wanted("DeadLetterQueueSourceArn") && message.sourceQueue) attributes.DeadLetterQueueSourceArn = arnOfQueue(arnScopeOf(call.context), message.sourceQueue);
        if (wanted("SentTimestamp")) attributes.SentTimestamp = String(message.enqueuedAt);
        if (wanted("SenderId") && message.senderId !== null) attributes.SenderId = message.senderId;
        if (wanted(TraceHeaderAttribute) && message.traceHeader !== undefined) attributes[TraceHeaderAttribute] = message.traceHeader;
        if (wanted("MessageGroupId") && message.groupId !== undefined) attributes.MessageGroupId = message.groupId;
        if (wanted("MessageDeduplicationId") && message.deduplicationId !== undefined) attributes.MessageDeduplicationId = message.deduplicationId;
        if (wanted("SequenceNumber") && message.sequenceNumber !== undefined) attributes.SequenceNumber = message.sequenceNumber;
        // Only the attributes asked for are returned, and the digest covers exactly those (as SQS does).
        const selected = selectAttributes(message.attributes, input.MessageAttributeNames ?? []);
        const attributesDigest = await md5OfAttributes(selected);
        return {
          MessageId: message.id,
          ReceiptHandle: message.receiptHandle,
          MD5OfBody: await md5OfBody(message.body),
          Body: message.body,
          ...(Object.keys(attributes).length === 0 ? {} : { Attributes: attributes }),
          ...(attributesDigest === null ? {} : { MessageAttributes: attributesToWire(selected), MD5OfMessageAttributes: attributesDigest }),
        };
      }),
    );
    return messages.length === 0 ? {} : { Messages: messages };
  },

  async DeleteMessage(call, input) {
    await run(call, "deleteMessage", { queue: queueOf(call, input.QueueUrl), receiptHandle: input.ReceiptHandle });
    return {};
  },

  async DeleteMessageBatch(call, input) {
    const queue = queueOf(call, input.QueueUrl);
    checkBatch(input.Entries);
    const { valid, failed } = parseEntries(SqsBatchEntry.DeleteMessageBatch, input.Entries);
    const successful: Array<{ Id: string }> = [];
    if (valid.length > 0) {
      const { results } = await run(call, "deleteMessages", { queue, receiptHandles: valid.map((entry) => entry.ReceiptHandle) });
      results.forEach((result, index) => {
        const id = valid[index]!.Id;
        if (result.deleted) successful.push({ Id: id });
        else failed.push(failedEntry(id, new ServiceError((result.error?.code ?? ErrorCode.ReceiptHandleInvalid) as ErrorCode, result.error?.message ?? "not deleted")));
      });
    }
    return { Successful: successful, Failed: failed };
  },

  async ChangeMessageVisibility(call, input) {
    const queue = queueOf(call, input.QueueUrl);
    await run(call, "changeVisibility", { queue, receiptHandle: input.ReceiptHandle, visibilityTimeout: input.VisibilityTimeout });
    return {};
  },

  async ChangeMessageVisibilityBatch(call, input) {
    const queue = queueOf(call, input.QueueUrl);
    checkBatch(input.Entries);
    const { valid, failed } = parseEntries(SqsBatchEntry.ChangeMessageVisibilityBatch, input.Entries);
    const successful: Array<{ Id: string }> = [];
    const outcomes = await Promise.all(
      valid.map((entry) =>
        run(call, "changeVisibility", { queue, receiptHandle: entry.ReceiptHandle, visibilityTimeout: entry.VisibilityTimeout }).then(
          () => null,
          (error: unknown) => failedEntry(entry.Id, error),
        ),
      ),
    );
    outcomes.forEach((outcome, index) => (outcome === null ? successful.push({ Id: valid[index]!.Id }) : failed.push(outcome)));
    return { Successful: successful, Failed: failed };
  },
};
