import * as v from "valibot";
import { ChangeVisibilityBody, OutgoingMessage, QueueLimits } from "./queue";
import { UpdateSubscriptionBody } from "./topic";

/**
 * The live WebSocket protocol (`GET /v1/queues/{name}/live`, `GET /v1/topics/{name}/live`): JSON
 * text frames, one object each, told apart by `type`.
 */
export const LiveProtocol = "edge-cmq.live.v1";

export const LiveLimits = {
  /** Open sockets one queue or topic holds; workerd allows far more, a wake visits each. */
  socketsPerObject: 256,
  /** Credit a socket may hold unspent: at most this many messages are pushed before it grants more. */
  creditMax: 1_000,
  /** Largest frame the object reads; a larger one closes the socket with 1009. */
  frameMaxBytes: 1_048_576,
  /** Most messages in one pushed `messages` frame. */
  pushBatchMax: QueueLimits.batchMax,
  /** Characters of a client-chosen correlation id. */
  frameIdMaxLength: 128,
} as const;

/** Close codes the service uses (RFC 6455 7.4: 4000 to 4999 are the application's own). */
export const LiveCloseCode = {
  /** The credential expired, or the socket asked for what it may not do as a whole. */
  policy: 1008,
  /** A frame over `frameMaxBytes`. */
  tooBig: 1009,
  /** The queue or topic was deleted. */
  deleted: 4404,
} as const;

const FrameId = v.pipe(v.string(), v.minLength(1), v.maxLength(LiveLimits.frameIdMaxLength));
const VisibilitySeconds = ChangeVisibilityBody.entries.visibilityTimeout;

/** Frames a client sends to a queue's socket. */
export const QueueClientFrame = v.variant("type", [
  v.strictObject({
    type: v.literal("credit"),
    id: v.optional(FrameId),
    messages: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(LiveLimits.creditMax)),
  }),
  v.strictObject({ type: v.literal("ack"), id: FrameId, receiptHandle: v.string() }),
  v.strictObject({ type: v.literal("nack"), id: FrameId, receiptHandle: v.string(), delaySeconds: v.optional(VisibilitySeconds) }),
  v.strictObject({ type: v.literal("extend"), id: FrameId, receiptHandle: v.string(), visibilityTimeout: VisibilitySeconds }),
  v.strictObject({
    type: v.literal("send"),
    id: FrameId,
    // The same message schema and batch bounds as the sendMessages operation.
    messages: v.pipe(
      v.array(OutgoingMessage),
      v.minLength(1, "a batch holds at least 1 message"),
      v.maxLength(QueueLimits.batchMax, `a batch holds at most ${QueueLimits.batchMax} messages`),
    ),
  }),
]);
export type QueueClientFrame = v.InferOutput<typeof QueueClientFrame>;

/** Frames a client sends to a topic's socket: credit, as on a queue socket, and `ping`. */
export const TopicClientFrame = v.variant("type", [v.strictObject({ type: v.literal("ping") }), QueueClientFrame.options[0]]);

/** What a queue socket's connection asks for (query parameters of the upgrade). */
export const LiveQueueOptions = v.strictObject({
  /** Hide pushed messages this long instead of the queue's default. */
  visibilityTimeout: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(QueueLimits.visibilityTimeoutSeconds.min),
      v.maxValue(QueueLimits.visibilityTimeoutSeconds.max),
    ),
  ),
});
export type LiveQueueOptions = v.InferOutput<typeof LiveQueueOptions>;

/** What a topic socket's connection filters by: a subscription's filters, as a subscription gives them. */
export const LiveTopicOptions = v.strictObject({
  filterTags: UpdateSubscriptionBody.entries.filterTags,
  bindingKeys: UpdateSubscriptionBody.entries.bindingKeys,
});
export type LiveTopicOptions = v.InferOutput<typeof LiveTopicOptions>;

/** The rights a socket was opened with, checked once at the upgrade by the service's policy code. */
export interface LiveGrant {
  canReceive: boolean;
  canSend: boolean;
  /** Who messages sent over the socket are from (`senderIdOf`). */
  senderId: string | null;
  /** Unix ms when the credential ends (a token's expiry); null for a key, which does not expire. */
  expiresAt: number | null;
}
