import { ErrorCode, ErrorTraitsOf, ServiceError, type ErrorCode as Code } from "../../errors";
import { element, escapeXml, SqsXmlNamespace, XmlContentType } from "./xml";

/**
 * An SQS error as the AWS JSON 1.0 protocol carries it: `__type` names the error shape
 * (`com.amazonaws.sqs#QueueDoesNotExist`), `x-amzn-query-error: <query code>;Sender|Receiver`
 * gives the code the query protocol used, which the SDKs read for query compatibility (the
 * `awsQueryError` trait of each error in the SQS model). Shapes and statuses follow that model.
 */
export interface SqsErrorShape {
  /** The error's name, `__type` after the namespace. */
  code: string;
  /** The query protocol's code, when it differs from `code`. */
  queryCode?: string;
  status: number;
}

const InvalidParameterValue = { code: "InvalidParameterValue", status: 400 } as const;
const QueueDoesNotExist = { code: "QueueDoesNotExist", queryCode: "AWS.SimpleQueueService.NonExistentQueue", status: 400 } as const;
const ResourceNotFound = { code: "ResourceNotFoundException", status: 404 } as const;
const OverLimit = { code: "OverLimit", status: 403 } as const;

/** Every error code of the service as SQS answers it. */
export const SqsErrorOf = {
  MalformedRequest: { code: "SerializationException", status: 400 },
  InvalidParameter: InvalidParameterValue,
  MissingParameter: { code: "MissingParameter", status: 400 },
  RequestTooLarge: { code: "RequestEntityTooLarge", status: 413 },
  NotFound: { code: "InvalidAction", status: 400 },
  MethodNotAllowed: { code: "InvalidAction", status: 400 },
  // One answer for an unknown id and a wrong signature, as every interface gives (src/auth).
  Unauthenticated: { code: "SignatureDoesNotMatch", status: 403 },
  Forbidden: { code: "AccessDenied", status: 403 },
  NotConfigured: { code: "ServiceUnavailable", status: 503 },
  QueueNotFound: QueueDoesNotExist,
  QueueAlreadyExists: { code: "QueueNameExists", queryCode: "QueueAlreadyExists", status: 400 },
  // A dead-letter queue that other queues still name.
  QueueInUse: { code: "ResourceInUse", status: 400 },
  InvalidDeadLetterQueue: InvalidParameterValue,
  // SQS refuses a RedrivePolicy its dead-letter queue's RedriveAllowPolicy does not allow this way.
  DeadLetterSourceNotAllowed: InvalidParameterValue,
  // SQS answers a body over the queue's MaximumMessageSize with InvalidParameterValue.
  MessageTooLarge: InvalidParameterValue,
  BatchTooLarge: { code: "BatchRequestTooLong", queryCode: "AWS.SimpleQueueService.BatchRequestTooLong", status: 400 },
  QueueFull: OverLimit,
  ReceiptHandleInvalid: { code: "ReceiptHandleIsInvalid", status: 404 },
  RewindNotEnabled: InvalidParameterValue,
  InvalidRewindTime: InvalidParameterValue,
  // StartMessageMoveTask: "There is already a task running" is InvalidParameterValue.
  RedriveInProgress: InvalidParameterValue,
  RedriveNotFound: ResourceNotFound,
  // SQS has no partitions: a refused change of the queue is an invalid attribute value.
  PartitionsNotEmpty: { code: "InvalidAttributeValue", status: 400 },
  PartitionedQueue: InvalidParameterValue,
  ConsumerNotFound: ResourceNotFound,
  TopicNotFound: ResourceNotFound,
  TopicAlreadyExists: InvalidParameterValue,
  SubscriptionNotFound: ResourceNotFound,
  SubscriptionAlreadyExists: InvalidParameterValue,
  TooManySubscriptions: OverLimit,
  AccountNotFound: ResourceNotFound,
  AccountAlreadyExists: InvalidParameterValue,
  KeyNotFound: ResourceNotFound,
  QuotaExceeded: OverLimit,
  InternalError: { code: "InternalFailure", status: 500 },
} as const satisfies Record<Code, SqsErrorShape>;

/**
 * An error of the SQS wire itself, with no counterpart in the service (a missing parameter, an
 * unknown action, batch entry ids): the adapter's own, always the sender's fault.
 */
export class SqsWireError extends Error {
  constructor(
    readonly shape: SqsErrorShape,
    message: string,
  ) {
    super(message);
    this.name = "SqsWireError";
  }
}

/** SQS's wire errors, by the name and status of the SQS model. */
export const SqsWire = {
  MissingParameter: { code: "MissingParameter", status: 400 },
  // The query protocol's own (AWS common errors): a form without Action, or of another API version.
  MissingAction: { code: "MissingAction", status: 400 },
  NoSuchVersion: { code: "NoSuchVersion", status: 400 },
  InvalidParameterValue,
  InvalidAction: { code: "InvalidAction", status: 400 },
  InvalidAddress: { code: "InvalidAddress", status: 404 },
  InvalidAttributeName: { code: "InvalidAttributeName", status: 400 },
  InvalidAttributeValue: { code: "InvalidAttributeValue", status: 400 },
  InvalidMessageContents: { code: "InvalidMessageContents", status: 400 },
  UnsupportedOperation: { code: "UnsupportedOperation", queryCode: "AWS.SimpleQueueService.UnsupportedOperation", status: 400 },
  MissingAuthenticationToken: { code: "MissingAuthenticationToken", status: 403 },
  EmptyBatchRequest: { code: "EmptyBatchRequest", queryCode: "AWS.SimpleQueueService.EmptyBatchRequest", status: 400 },
  TooManyEntriesInBatchRequest: {
    code: "TooManyEntriesInBatchRequest",
    queryCode: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    status: 400,
  },
  BatchEntryIdsNotDistinct: { code: "BatchEntryIdsNotDistinct", queryCode: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", status: 400 },
  InvalidBatchEntryId: { code: "InvalidBatchEntryId", queryCode: "AWS.SimpleQueueService.InvalidBatchEntryId", status: 400 },
} as const satisfies Record<string, SqsErrorShape>;

export const JsonContentType = "application/x-amz-json-1.0";

/** The shape and fault of any error the adapter sees; unexpected ones are a logged InternalFailure. */
export function sqsErrorOf(error: unknown, requestId: string): { shape: SqsErrorShape; fault: "Sender" | "Receiver"; message: string } {
  if (error instanceof SqsWireError) return { shape: error.shape, fault: "Sender", message: error.message };
  if (error instanceof ServiceError) {
    return { shape: SqsErrorOf[error.code], fault: ErrorTraitsOf[error.code].fault === "client" ? "Sender" : "Receiver", message: error.message };
  }
  console.error(`request ${requestId} failed`, error);
  return { shape: SqsErrorOf[ErrorCode.InternalError], fault: "Receiver", message: "internal error" };
}

/** `{"__type", "message"}` with SQS's status and the `x-amzn-query-error` header. */
export function sqsErrorResponse(error: unknown, requestId: string): Response {
  const { shape, fault, message } = sqsErrorOf(error, requestId);
  return new Response(JSON.stringify({ __type: `com.amazonaws.sqs#${shape.code}`, message }), {
    status: shape.status,
    headers: {
      "content-type": JsonContentType,
      "x-amzn-query-error": `${shape.queryCode ?? shape.code};${fault}`,
      "x-amzn-requestid": requestId,
    },
  });
}

/**
 * The query protocol's `<ErrorResponse>`, from the same table: the query code (`AWS.SimpleQueueService.NonExistentQueue`),
 * `Sender` or `Receiver`, and SQS's status.
 */
export function sqsQueryErrorResponse(error: unknown, requestId: string): Response {
  const { shape, fault, message } = sqsErrorOf(error, requestId);
  const detail = element("Type", fault) + element("Code", escapeXml(shape.queryCode ?? shape.code)) + element("Message", escapeXml(message)) + "<Detail/>";
  const body = `<?xml version="1.0"?><ErrorResponse xmlns="${SqsXmlNamespace}">${element("Error", detail)}${element("RequestId", requestId)}</ErrorResponse>`;
  return new Response(body, { status: shape.status, headers: { "content-type": XmlContentType, "x-amzn-requestid": requestId } });
}
