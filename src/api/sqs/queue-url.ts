import { ErrorCode, ServiceError } from "../../errors";
import { SqsWire, SqsWireError } from "./errors";

/**
 * Queue URLs are `{origin}/{accountId}/{queueName}`, as SQS's are; the SDKs send requests for a
 * queue to its URL, so the origin is the one the request came to. Only the path names the queue.
 */
export function queueUrlOf(origin: string, account: string, name: string): string {
  return `${origin}/${encodeURIComponent(account)}/${encodeURIComponent(name)}`;
}

/** The queue a URL names, in the caller's account; a URL of another account names no queue of theirs. */
export function queueNameOf(queueUrl: string, account: string): string {
  let segments: string[];
  try {
    segments = new URL(queueUrl).pathname.split("/").slice(1).map(decodeURIComponent);
  } catch {
    throw new SqsWireError(SqsWire.InvalidAddress, `The address ${queueUrl} is not valid for this endpoint.`);
  }
  if (segments.length !== 2 || segments[0] === "" || segments[1] === "") {
    throw new SqsWireError(SqsWire.InvalidAddress, `The address ${queueUrl} is not valid for this endpoint: expected {origin}/{accountId}/{queueName}.`);
  }
  if (segments[0] !== account) {
    throw new ServiceError(ErrorCode.QueueNotFound, `The specified queue does not exist: ${queueUrl} is not in the caller's account.`);
  }
  return segments[1]!;
}

export const queueArnOf = (region: string, account: string, name: string): string => `arn:aws:sqs:${region}:${account}:${name}`;
