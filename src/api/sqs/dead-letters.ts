import { ErrorCode, ServiceError } from "../../errors";
import type { RedriveStatus } from "../../schema/queue";
import type { SqsCall } from "./actions";
import { arnOfQueue, arnScopeOf, queueNameOfArn } from "./arn";
import { runForSqs } from "./catalog-call";
import { SqsWire, SqsWireError, type SqsErrorShape } from "./errors";
import { queueNameOf, queueUrlOf } from "./queue-url";
import type { SqsInput } from "./wire";

/** SQS's parameter for each input field of the operations used here, for error messages. */
const WireNames = {
  queue: "QueueUrl",
  limit: "MaxResults",
  cursor: "NextToken",
  destination: "DestinationArn",
  maxPerSecond: "MaxNumberOfMessagesPerSecond",
};
/** In a move task's actions the queue comes from the source's ARN, or from the task handle. */
const MoveTaskWireNames = { ...WireNames, queue: "SourceArn" };
const CancelWireNames = { ...WireNames, queue: "TaskHandle", startedAt: "TaskHandle" };

const ResourceNotFound: SqsErrorShape = { code: "ResourceNotFoundException", status: 404 };
const missingResource = (parameter: string) =>
  new SqsWireError(ResourceNotFound, `The resource that you specified for the ${parameter} parameter doesn't exist.`);

/** SQS's status names for a redrive's. CANCELLING never shows: a cancel here takes effect at once. */
const StatusOf = { running: "RUNNING", completed: "COMPLETED", cancelled: "CANCELLED", failed: "FAILED" } as const satisfies Record<
  RedriveStatus["status"],
  string
>;

/**
 * A move task's handle names its source queue and its redrive by start time: base64url of
 * `{"queue", "startedAt"}`. A queue runs one redrive at a time, so the start time tells a task
 * from the ones before and after it.
 */
export function encodeTaskHandle(queue: string, startedAt: number): string {
  return btoa(JSON.stringify({ queue, startedAt })).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeTaskHandle(handle: string): { queue: string; startedAt: number } | null {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(handle)) return null;
  try {
    const decoded = JSON.parse(atob(handle.replaceAll("-", "+").replaceAll("_", "/"))) as unknown;
    if (typeof decoded !== "object" || decoded === null) return null;
    const { queue, startedAt } = decoded as Record<string, unknown>;
    if (typeof queue !== "string" || !Number.isSafeInteger(startedAt)) return null;
    return { queue, startedAt: startedAt as number };
  } catch {
    return null;
  }
}

/** The queue an ARN parameter names in the caller's account; any other ARN names nothing there. */
function queueOfArn(call: SqsCall, arn: string, parameter: string): string {
  const name = queueNameOfArn(arn, arnScopeOf(call.context));
  if (name === null) throw missingResource(parameter);
  return name;
}

/** Runs `action`; a queue it does not find is the resource of `parameter`, as SQS reports it. */
async function naming<T>(parameter: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ServiceError && error.code === ErrorCode.QueueNotFound) throw missingResource(parameter);
    throw error;
  }
}

/** A redrive as an entry of ListMessageMoveTasks. */
function moveTaskOf(call: SqsCall, source: string, redrive: RedriveStatus): Record<string, unknown> {
  const scope = arnScopeOf(call.context);
  const running = redrive.status === "running";
  return {
    ...(running ? { TaskHandle: encodeTaskHandle(source, redrive.startedAt) } : {}),
    Status: StatusOf[redrive.status],
    SourceArn: arnOfQueue(scope, source),
    ...(redrive.destination === null ? {} : { DestinationArn: arnOfQueue(scope, redrive.destination) }),
    MaxNumberOfMessagesPerSecond: redrive.maxPerSecond,
    ApproximateNumberOfMessagesMoved: redrive.moved,
    // While it runs: what it moved and what is left; once ended: what it moved.
    ApproximateNumberOfMessagesToMove: running ? redrive.moved + redrive.remaining : redrive.moved,
    ...(redrive.lastError === null ? {} : { FailureReason: redrive.lastError }),
    StartedTimestamp: redrive.startedAt,
  };
}

/**
 * ListDeadLetterSourceQueues and the message move tasks, translated onto the catalog's
 * listDeadLetterSourceQueues and redrive operations (startRedrive, getRedrive, cancelRedrive).
 */
export const deadLetterActions = {
  async ListDeadLetterSourceQueues(call: SqsCall, input: SqsInput<"ListDeadLetterSourceQueues">) {
    const account = call.context.principal.account;
    const queue = queueNameOf(input.QueueUrl, account);
    const page = await runForSqs(call, "listDeadLetterSourceQueues", { queue, limit: input.MaxResults, cursor: input.NextToken }, WireNames);
    return {
      queueUrls: page.queues.map((source) => queueUrlOf(call.origin, account, source.name)),
      ...(page.nextCursor === null ? {} : { NextToken: page.nextCursor }),
    };
  },

  /** Only a dead-letter queue is a move task's source, as in SQS; the destination defaults to each message's source. */
  async StartMessageMoveTask(call: SqsCall, input: SqsInput<"StartMessageMoveTask">) {
    const source = queueOfArn(call, input.SourceArn, "SourceArn");
    const destination = input.DestinationArn === undefined ? undefined : queueOfArn(call, input.DestinationArn, "DestinationArn");
    const sources = await naming("SourceArn", () => runForSqs(call, "listDeadLetterSourceQueues", { queue: source, limit: 1 }, MoveTaskWireNames));
    if (sources.total === 0) throw new SqsWireError(SqsWire.InvalidParameterValue, "Source queue must be configured as a Dead Letter Queue.");
    if (destination !== undefined) await naming("DestinationArn", () => runForSqs(call, "getQueue", { queue: destination }, { queue: "DestinationArn" }));
    const redrive = await naming("SourceArn", () =>
      runForSqs(call, "startRedrive", { queue: source, destination, maxPerSecond: input.MaxNumberOfMessagesPerSecond }, MoveTaskWireNames),
    );
    return { TaskHandle: encodeTaskHandle(source, redrive.startedAt) };
  },

  /** A queue keeps its latest redrive only: the list holds at most that one. */
  async ListMessageMoveTasks(call: SqsCall, input: SqsInput<"ListMessageMoveTasks">) {
    const source = queueOfArn(call, input.SourceArn, "SourceArn");
    try {
      const redrive = await naming("SourceArn", () => runForSqs(call, "getRedrive", { queue: source }, MoveTaskWireNames));
      return { Results: [moveTaskOf(call, source, redrive)] };
    } catch (error) {
      if (error instanceof ServiceError && error.code === ErrorCode.RedriveNotFound) return { Results: [] };
      throw error;
    }
  },

  async CancelMessageMoveTask(call: SqsCall, input: SqsInput<"CancelMessageMoveTask">) {
    const task = decodeTaskHandle(input.TaskHandle);
    if (task === null) throw new SqsWireError(SqsWire.InvalidParameterValue, "Value for parameter TaskHandle is invalid.");
    // The service cancels only the redrive the handle names, in one step with the check.
    const cancelled = await naming("SourceArn", () => runForSqs(call, "cancelRedrive", { queue: task.queue, startedAt: task.startedAt }, CancelWireNames)).catch(
      (error: unknown) => {
        throw error instanceof ServiceError && error.code === ErrorCode.RedriveNotFound ? new SqsWireError(ResourceNotFound, "Task does not exist.") : error;
      },
    );
    return { ApproximateNumberOfMessagesMoved: cancelled.moved };
  },
};
