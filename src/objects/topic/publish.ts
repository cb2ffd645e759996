import { ErrorCode, ServiceError } from "../../errors";
import { matchesAnyBindingKey, matchesTags } from "../../delivery/filters";
import { attributeBytes, encodeAttributes } from "../../schema/message-attributes";
import { TopicLimits, type PublishedMessage } from "../../schema/topic";
import type { Subscription, TopicMeta } from "./storage";

const textEncoder = new TextEncoder();

/**
 * Checks a publish against the topic's limits, then stores each message and one outbox row per
 * matching subscription, due at `nowMs`, in one transaction. Answers the new message ids. A
 * message's size is its body's bytes plus its attributes', as for queues.
 */
export function storePublished(
  storage: DurableObjectStorage,
  meta: TopicMeta,
  subscriptions: Iterable<Subscription>,
  messages: readonly PublishedMessage[],
  nowMs: number,
  senderId: string | null = null,
): string[] {
  let batchBytes = 0;
  messages.forEach((message, index) => {
    const bytes = textEncoder.encode(message.body).byteLength + attributeBytes(message.attributes);
    batchBytes += bytes;
    if (bytes > meta.attributes.maxMsgSize) {
      throw new ServiceError(ErrorCode.MessageTooLarge, `message ${index} is ${bytes} bytes (body and attributes); this topic's maxMsgSize is ${meta.attributes.maxMsgSize}`);
    }
    if (meta.attributes.filterType === "routingKey" && message.routingKey === undefined) {
      throw new ServiceError(ErrorCode.InvalidParameter, `message ${index}: a routingKey topic needs a routingKey (CMQ 10700)`);
    }
  });
  if (messages.length > 1 && batchBytes > TopicLimits.batchBodyMaxBytes) {
    throw new ServiceError(ErrorCode.BatchTooLarge, `a batch's messages (bodies and attributes) total ${batchBytes} bytes; the most is ${TopicLimits.batchBodyMaxBytes}`);
  }
  const subs = [...subscriptions];
  const sql = storage.sql;
  const ids: string[] = [];
  storage.transactionSync(() => {
    for (const message of messages) {
      const id = crypto.randomUUID();
      const tags = message.tags ?? [];
      const routingKey = message.routingKey ?? null;
      const seq = sql
        .exec<{ seq: number }>(
          "INSERT INTO messages (id, body, tags, routing_key, attributes, sender_id, published_at, group_id, dedup_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
          id,
          message.body,
          tags.length > 0 ? JSON.stringify(tags) : null,
          routingKey,
          encodeAttributes(message.attributes),
          senderId,
          nowMs,
          message.groupId ?? null,
          message.deduplicationId ?? null,
        )
        .one().seq;
      for (const sub of subs) {
        const matches =
          meta.attributes.filterType === "tag"
            ? matchesTags(sub.attributes.filterTags, tags)
            : matchesAnyBindingKey(sub.attributes.bindingKeys, routingKey);
        if (matches) {
          sql.exec("INSERT INTO outbox (message_seq, subscription_id, attempts, next_attempt_at) VALUES (?, ?, 0, ?)", seq, sub.id, nowMs);
        }
      }
      ids.push(id);
    }
  });
  return ids;
}
