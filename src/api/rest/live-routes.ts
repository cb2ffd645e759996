import type * as v from "valibot";
import { ErrorCode } from "../../errors";
import { LiveQueueOptions, LiveTopicOptions, QueueClientFrame, TopicClientFrame } from "../../schema/live";

/** A WebSocket route of the native API: routed beside the catalog's operations, documented in /openapi.json. */
export interface LiveRoute {
  path: string;
  operationId: string;
  summary: string;
  access: string;
  /** The upgrade's query parameters. */
  options: v.GenericSchema;
  /** What the client may send once upgraded. */
  clientFrames: v.GenericSchema;
  /** Codes an upgrade may be refused with, besides those any request may answer. */
  errors: ErrorCode[];
  kind: "queue" | "topic";
}

export const liveRoutes: readonly LiveRoute[] = [
  {
    path: "/v1/queues/:queue/live",
    operationId: "openQueueLive",
    summary: "A live socket on a queue: messages pushed by credit, acked over it, and sends",
    access: "`receive` on the queue to consume, `send` to produce; either opens it",
    options: LiveQueueOptions,
    clientFrames: QueueClientFrame,
    errors: [ErrorCode.QueueNotFound, ErrorCode.QuotaExceeded],
    kind: "queue",
  },
  {
    path: "/v1/topics/:topic/live",
    operationId: "openTopicLive",
    summary: "A live socket on a topic: its messages pushed while connected, filtered as a subscription is",
    access: "`receive` on the topic",
    options: LiveTopicOptions,
    clientFrames: TopicClientFrame,
    errors: [ErrorCode.TopicNotFound, ErrorCode.QuotaExceeded],
    kind: "topic",
  },
];
