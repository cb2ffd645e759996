import { ErrorCode, ServiceError, type ErrorCode as Code } from "../../errors";
import { jsonResponse } from "../http";

/**
 * A CMQ error: the top-level `code` SDKs branch on and the module code CMQ puts in front of the
 * message, `(10200)no message`. Codes from CMQ's error-code pages (cloud.tencent.com/document/
 * product/406/5903, product/1496/70948) and the per-action pages.
 */
export interface CmqErrorShape {
  code: number;
  module: number;
}

const invalidParameter = { code: 4000, module: 10110 } as const;
const internal = { code: 6000, module: 10050 } as const;

/** Every error code of the service as the CMQ action API answers it. */
export const CmqErrorOf = {
  MalformedRequest: { code: 4000, module: 10420 },
  InvalidParameter: invalidParameter,
  // CMQ has no separate code for an absent parameter.
  MissingParameter: invalidParameter,
  RequestTooLarge: { code: 4000, module: 10420 },
  NotFound: { code: 4000, module: 10430 },
  MethodNotAllowed: { code: 4000, module: 10410 },
  // Bad signature, unknown or disabled SecretId, stale timestamp, reused nonce: one answer.
  Unauthenticated: { code: 4100, module: 10030 },
  // CMQ's "no CAM permission".
  Forbidden: { code: 4000, module: 10461 },
  NotConfigured: internal,
  QueueNotFound: { code: 4440, module: 10100 },
  // CMQ documents no module code for 4460: the generic parameter one is used.
  QueueAlreadyExists: { code: 4460, module: 10110 },
  // A dead-letter queue that other queues name cannot be deleted.
  QueueInUse: { code: 4000, module: 10750 },
  InvalidDeadLetterQueue: { code: 4000, module: 10730 },
  // The dead-letter queue's redriveAllow refuses this source: a bad dead-letter policy to CMQ.
  DeadLetterSourceNotAllowed: { code: 4000, module: 10720 },
  MessageTooLarge: { code: 4400, module: 10230 },
  BatchTooLarge: { code: 4470, module: 10300 },
  QueueFull: { code: 4410, module: 10240 },
  ReceiptHandleInvalid: { code: 4430, module: 10260 },
  RewindNotEnabled: { code: 6050, module: 10670 },
  InvalidRewindTime: { code: 4000, module: 10680 },
  RedriveInProgress: invalidParameter,
  RedriveNotFound: invalidParameter,
  PartitionsNotEmpty: invalidParameter,
  PartitionedQueue: invalidParameter,
  ConsumerNotFound: invalidParameter,
  TopicNotFound: { code: 4440, module: 10600 },
  TopicAlreadyExists: { code: 4460, module: 10110 },
  SubscriptionNotFound: { code: 4440, module: 10600 },
  SubscriptionAlreadyExists: { code: 4490, module: 10470 },
  TooManySubscriptions: { code: 4500, module: 10480 },
  AccountNotFound: invalidParameter,
  AccountAlreadyExists: invalidParameter,
  KeyNotFound: invalidParameter,
  QuotaExceeded: { code: 4450, module: 10220 },
  InternalError: internal,
} as const satisfies Record<Code, CmqErrorShape>;

/** Errors of the CMQ wire itself (unknown action or parameter, list numbering, no message). */
export const CmqWire = {
  MissingParameter: { code: 4000, module: 10010 },
  BadKey: { code: 4000, module: 10310 },
  UnknownParameter: { code: 4000, module: 10320 },
  NotRepeatable: { code: 4000, module: 10330 },
  WrongType: { code: 4000, module: 10360 },
  Unparsable: { code: 4000, module: 10420 },
  NotContiguous: { code: 4000, module: 10380 },
  UnknownAction: { code: 4000, module: 10430 },
  DeadLetterPolicyNotJson: { code: 4000, module: 10710 },
  DeadLetterPolicyInvalid: { code: 4000, module: 10720 },
  DeadLetterQueueMissing: { code: 4000, module: 10760 },
  DeadLetterPolicyKind: { code: 4000, module: 10770 },
  UndefinedProtocol: { code: 4000, module: 10510 },
  UndefinedNotifyStrategy: { code: 4000, module: 10520 },
  UndefinedContentFormat: { code: 4000, module: 10530 },
  /** A receive that found nothing by the end of its wait (every SDK expects this error). */
  NoMessage: { code: 7000, module: 10200 },
  BatchDeletePartlyFailed: { code: 6010, module: 10150 },
  BatchDeleteFailed: { code: 6020, module: 10290 },
} as const satisfies Record<string, CmqErrorShape>;

/** An error the adapter answers itself, with extra fields (BatchDeleteMessage's `errorList`). */
export class CmqWireError extends Error {
  constructor(
    readonly shape: CmqErrorShape,
    message: string,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "CmqWireError";
  }
}

/** The code and `(module)text` message of any error; unexpected ones are logged as internal errors. */
export function cmqErrorOf(error: unknown, requestId: string): { code: number; message: string; fields: Record<string, unknown> } {
  if (error instanceof CmqWireError) {
    return { code: error.shape.code, message: `(${error.shape.module})${error.message}`, fields: error.fields };
  }
  if (error instanceof ServiceError) {
    const shape = CmqErrorOf[error.code];
    return { code: shape.code, message: `(${shape.module})${error.message}`, fields: {} };
  }
  console.error(`request ${requestId} failed`, error);
  const shape = CmqErrorOf[ErrorCode.InternalError];
  return { code: shape.code, message: `(${shape.module})internal error`, fields: {} };
}

/** CMQ answers errors with HTTP 200 too (the Python SDK treats any other status as a network failure). */
export function cmqErrorResponse(error: unknown, requestId: string): Response {
  const { code, message, fields } = cmqErrorOf(error, requestId);
  return jsonResponse({ code, message, requestId, ...fields }, 200);
}
