import { ErrorCode, ServiceError } from "../../errors";
import { SqsWire, SqsWireError } from "./errors";

/**
 * Queue URLs are `{origin}/{accountId}/{queueName}`, as SQS's are; the SDKs send requests for a
 * queue to its URL, so the origin is the one the request came to. Only the path names the queue.
 */
export function queueUrlOf(origin: string, account: string, name: string): string {
  return `${origin}/${encodeURIComponent(account)}/${encodeURIComponent(name)}`;
}

/**
 * A queue URL's path segments, decoded, or null when it is not a URL. A client sends the same few
 * URLs on every request, so they are parsed once per isolate; bounded, cleared when full.
 */
const QueueUrlCacheSize = 1_000;
/** Longer URLs are parsed each time, so that the cache holds at most about 2 MB. */
const QueueUrlCacheMaxLength = 2_048;
const parsedQueueUrls = new Map<string, string[] | null>();

function pathSegmentsOf(queueUrl: string): string[] | null {
  let segments = parsedQueueUrls.get(queueUrl);
  if (segments === undefined) {
    try {
      segments = new URL(queueUrl).pathname.split("/").slice(1).map(decodeURIComponent);
    } catch {
      segments = null;
    }
    if (queueUrl.length <= QueueUrlCacheMaxLength) {
      if (parsedQueueUrls.size >= QueueUrlCacheSize) parsedQueueUrls.clear();
      parsedQueueUrls.set(queueUrl, segments);
    }
  }
  return segments;
}

/** The queue a URL names, in the caller's account; a URL of another account names no queue of theirs. */
export function queueNameOf(queueUrl: string, account: string): string {
  const segments = pathSegmentsOf(queueUrl);
  if (segments === null) throw new SqsWireError(SqsWire.InvalidAddress, `The address ${queueUrl} is not valid for this endpoint.`);
  if (segments.length !== 2 || segments[0] === "" || segments[1] === "") {
    throw new SqsWireError(SqsWire.InvalidAddress, `The address ${queueUrl} is not valid for this endpoint: expected {origin}/{accountId}/{queueName}.`);
  }
  if (segments[0] !== account) {
    throw new ServiceError(ErrorCode.QueueNotFound, `The specified queue does not exist: ${queueUrl} is not in the caller's account.`);
  }
  return segments[1]!;
}

export const queueArnOf = (region: string, account: string, name: string): string => `arn:aws:sqs:${region}:${account}:${name}`;
