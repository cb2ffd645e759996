import type { Clock } from "../../clock";
import { buildPushRequest, sendPush, type PushMessage } from "../../delivery/push";
import { nextAttemptAt } from "../../delivery/retry";
import { serviceBinding } from "../../delivery/service-binding";
import { decodeAttributes } from "../../schema/message-attributes";
import { HandOverMaxBytes, handOverBytes, splitByBytes } from "../hand-over";
import { handOverToQueue } from "../partition-hand-over";
import type { TransferredMessage } from "../queue/moves";
import type { DueDelivery, Subscription, TopicMeta } from "./storage";

/**
 * While deliveries are leased (being attempted by this instance), the alarm stays armed at most
 * this far ahead: if the instance dies mid-round, the next one starts within this time, releases
 * the leases and attempts the deliveries again.
 */
export const DeliveryWatchdogMs = 10_000;
/** Deliveries taken in one round. */
export const DeliveryBatchLimit = 500;
/** HTTP and worker pushes of one delivery round run at most this many at a time. */
export const PushConcurrency = 16;

/** Bodies one delivery round holds in memory at most (a single larger message still goes alone). */
export const DeliveryRoundMaxBytes = 4 * HandOverMaxBytes;

/**
 * Takes the deliveries due at `nowMs`, oldest first and within `DeliveryRoundMaxBytes` of bodies,
 * and leases them in the same step. Bodies are read only for the deliveries taken.
 */
export function takeDue(storage: DurableObjectStorage, nowMs: number): DueDelivery[] {
  const sql = storage.sql;
  const candidates = sql
    .exec<{ message_seq: number; subscription_id: number; bytes: number }>(
      `SELECT o.message_seq, o.subscription_id, length(CAST(m.body AS BLOB)) + COALESCE(length(CAST(m.attributes AS BLOB)), 0) AS bytes
       FROM outbox o JOIN messages m ON m.seq = o.message_seq
       WHERE o.leased = 0 AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at LIMIT ?`,
      nowMs,
      DeliveryBatchLimit,
    )
    .toArray();
  const [taken = []] = splitByBytes(candidates, (row) => row.bytes, DeliveryRoundMaxBytes, DeliveryBatchLimit);
  if (taken.length === 0) return [];
  const due: DueDelivery[] = [];
  storage.transactionSync(() => {
    for (const { message_seq, subscription_id } of taken) {
      sql.exec("UPDATE outbox SET leased = 1 WHERE message_seq = ? AND subscription_id = ?", message_seq, subscription_id);
      due.push(
        sql
          .exec<DueDelivery>(
            `SELECT o.message_seq, o.subscription_id, o.attempts, o.target_partition, m.id, m.body, m.tags, m.routing_key, m.attributes, m.sender_id, m.published_at, m.group_id, m.dedup_id
             FROM outbox o JOIN messages m ON m.seq = o.message_seq WHERE o.message_seq = ? AND o.subscription_id = ?`,
            message_seq,
            subscription_id,
          )
          .one(),
      );
    }
  });
  return due;
}

/**
 * A lease belongs to the instance that took it: at the start of an instance, any lease left over
 * is from one that died mid-delivery, and its deliveries are due again. Answers how many.
 */
export function releaseLeases(sql: SqlStorage): number {
  // Counted by RETURNING: rowsWritten also counts the index entries the update rewrites.
  return sql.exec("UPDATE outbox SET leased = 0 WHERE leased = 1 RETURNING message_seq").toArray().length;
}

/** The outcome of one hand-over call to a queue: its rows and the error, or null. */
export interface QueueDeliveryOutcome {
  rows: DueDelivery[];
  error: string | null;
}

/**
 * Hands a queue subscription's deliveries to its queue, spread over its partitions, in calls
 * bounded by bytes and count; the queue stores each (message, subscription) key once, and a
 * retried delivery goes to the partition its first attempt chose, so it stores nothing twice.
 * `current` says whether a row still belongs to this topic (it may be deleted meanwhile).
 */
export async function deliverToQueue(
  env: Env,
  storage: DurableObjectStorage,
  meta: TopicMeta,
  sub: Subscription,
  rows: DueDelivery[],
  clock: Clock,
  current: () => boolean,
): Promise<QueueDeliveryOutcome[]> {
  const outcomes: QueueDeliveryOutcome[] = [];
  for (const batch of splitByBytes(rows, handOverBytes)) {
    const parts = await handOverToQueue(env, meta.objectKeyPrefix, sub.attributes.endpoint, {
      items: () => batch.map((row) => ({ key: row, message: transferred(meta, sub, row), partition: row.target_partition })),
      record: (chosen, partition) => {
        if (!current()) return;
        storage.transactionSync(() => {
          for (const row of chosen) {
            storage.sql.exec(
              "UPDATE outbox SET target_partition = ? WHERE message_seq = ? AND subscription_id = ?",
              partition,
              row.message_seq,
              row.subscription_id,
            );
          }
        });
      },
      nowMs: () => clock.nowMs(),
    });
    for (const { keys, error } of parts) outcomes.push({ rows: keys, error });
  }
  return outcomes;
}

/** A delivery as its queue stores it: held back by the queue's delay, as a send is. */
function transferred(meta: TopicMeta, sub: Subscription, row: DueDelivery): TransferredMessage {
  return {
    idempotencyKey: `topic:${meta.objectKeyPrefix}${meta.name}:${sub.id}:${row.id}`,
    id: row.id,
    body: row.body,
    tags: row.tags ? (JSON.parse(row.tags) as string[]) : [],
    sourceQueue: null,
    attributes: decodeAttributes(row.attributes),
    senderId: row.sender_id,
    groupId: row.group_id,
    deduplicationId: row.dedup_id,
    delayed: true,
  };
}

/** One push of one message to an HTTP endpoint or a bound Worker. The error, or null. */
export async function pushDelivery(env: Env, meta: TopicMeta, sub: Subscription, row: DueDelivery, clock: Clock): Promise<string | null> {
  const message: PushMessage = {
    account: meta.account,
    topic: meta.name,
    subscription: sub.name,
    messageId: row.id,
    body: row.body,
    tags: row.tags ? (JSON.parse(row.tags) as string[]) : [],
    routingKey: row.routing_key,
    publishedAt: row.published_at,
    attributes: decodeAttributes(row.attributes),
  };
  const { endpoint, notifyContentFormat, signingSecret } = sub.attributes;
  try {
    if (sub.attributes.protocol === "worker") {
      const binding = serviceBinding(env, endpoint);
      if (!binding) return `no service binding named ${endpoint}`;
      const request = await buildPushRequest(`https://${endpoint}.worker/`, message, notifyContentFormat, signingSecret, clock.nowMs());
      return await sendPush(binding as unknown as { fetch: typeof fetch }, request);
    }
    const request = await buildPushRequest(endpoint, message, notifyContentFormat, signingSecret, clock.nowMs());
    return await sendPush(null, request);
  } catch (thrown) {
    // A push that throws before its request is made still ends its lease with an outcome.
    return thrown instanceof Error ? thrown.message : String(thrown);
  }
}

/**
 * Records an attempt's outcome: a success removes the outbox row; a failure schedules the next
 * attempt or, past the strategy, fails the delivery. Answers when the next attempt is due, if any.
 */
export function recordAttempt(
  storage: DurableObjectStorage,
  meta: TopicMeta,
  sub: Subscription,
  row: DueDelivery,
  error: string | null,
  nowMs: number,
): number | null {
  const sql = storage.sql;
  const where = [row.message_seq, sub.id] as const;
  if (error === null) {
    const removed = sql.exec("DELETE FROM outbox WHERE message_seq = ? AND subscription_id = ?", ...where).rowsWritten;
    if (removed > 0) sql.exec("UPDATE subscriptions SET delivered = delivered + 1 WHERE id = ?", sub.id);
    return null;
  }
  const attempts = row.attempts + 1;
  const expiresAtMs = row.published_at + meta.attributes.msgRetentionSeconds * 1000;
  const next = nextAttemptAt(sub.attributes.notifyStrategy, attempts, nowMs, expiresAtMs, row.message_seq);
  storage.transactionSync(() => {
    sql.exec("UPDATE subscriptions SET last_error = ?, last_error_at = ? WHERE id = ?", error, nowMs, sub.id);
    if (next === null) {
      const removed = sql.exec("DELETE FROM outbox WHERE message_seq = ? AND subscription_id = ?", ...where).rowsWritten;
      if (removed > 0) sql.exec("UPDATE subscriptions SET failed = failed + 1 WHERE id = ?", sub.id);
    } else {
      sql.exec(
        "UPDATE outbox SET attempts = ?, next_attempt_at = ?, leased = 0 WHERE message_seq = ? AND subscription_id = ?",
        attempts,
        next,
        ...where,
      );
    }
  });
  return next;
}

/**
 * Past retention, a message and its unfinished deliveries are dropped; those deliveries count as
 * failed. Answers how many messages were dropped.
 */
export function purgeExpired(storage: DurableObjectStorage, meta: TopicMeta, nowMs: number): number {
  const sql = storage.sql;
  const cutoff = nowMs - meta.attributes.msgRetentionSeconds * 1000;
  return storage.transactionSync(() => {
    const expired = sql
      .exec<{ subscription_id: number; n: number }>(
        `SELECT o.subscription_id, COUNT(*) AS n FROM outbox o JOIN messages m ON m.seq = o.message_seq
         WHERE m.published_at <= ? GROUP BY o.subscription_id`,
        cutoff,
      )
      .toArray();
    for (const { subscription_id, n } of expired) {
      sql.exec(
        "UPDATE subscriptions SET failed = failed + ?, last_error = 'message retention ended before delivery', last_error_at = ? WHERE id = ?",
        n,
        nowMs,
        subscription_id,
      );
    }
    sql.exec("DELETE FROM outbox WHERE message_seq IN (SELECT seq FROM messages WHERE published_at <= ?)", cutoff);
    return sql.exec("DELETE FROM messages WHERE published_at <= ? RETURNING seq", cutoff).toArray().length;
  });
}

/** The earliest of the next due delivery, the watchdog over leased deliveries and the next retention end. */
export function nextWakeUp(sql: SqlStorage, meta: TopicMeta, nowMs: number): number | null {
  const nextDelivery = sql.exec<{ m: number | null }>("SELECT MIN(next_attempt_at) AS m FROM outbox WHERE leased = 0").one().m;
  const anyLeased = sql.exec("SELECT 1 FROM outbox WHERE leased = 1 LIMIT 1").toArray().length > 0;
  const oldest = sql.exec<{ m: number | null }>("SELECT MIN(published_at) AS m FROM messages").one().m;
  const candidates = [
    nextDelivery,
    anyLeased ? nowMs + DeliveryWatchdogMs : null,
    oldest === null ? null : oldest + meta.attributes.msgRetentionSeconds * 1000,
  ].filter((value): value is number => value !== null);
  return candidates.length > 0 ? Math.min(...candidates) : null;
}

/** Runs tasks with at most `limit` in flight. */
export async function runLimited(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
