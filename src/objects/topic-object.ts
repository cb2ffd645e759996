import { DurableObject } from "cloudflare:workers";
import { ErrorCode, QueueError, ok, toResult, type Result } from "../errors";
import { matchesAnyBindingKey, matchesTags } from "../delivery/filters";
import { buildPushRequest, sendPush, type PushMessage } from "../delivery/push";
import { nextAttemptAt } from "../delivery/retry";
import {
  TopicLimits,
  type PublishedMessage,
  type SubscriptionAttributes,
  type SubscriptionInfo,
  type TopicAttributes,
  type TopicInfo,
  type UpdateSubscriptionBody,
  type UpdateTopicBody,
} from "../schema/topic";

interface TopicMeta {
  name: string;
  account: string;
  objectKeyPrefix: string;
  attributes: TopicAttributes;
  createdAt: number;
  modifiedAt: number;
}

interface Subscription {
  name: string;
  id: number;
  attributes: SubscriptionAttributes;
  createdAt: number;
  modifiedAt: number;
}

interface DueDelivery {
  message_seq: number;
  subscription_id: number;
  attempts: number;
  id: string;
  body: string;
  tags: string | null;
  routing_key: string | null;
  published_at: number;
  [key: string]: SqlStorageValue;
}

type RecordOutcome = (sub: Subscription, row: DueDelivery, error: string | null) => void;

/**
 * While deliveries are leased (being attempted by this instance), the alarm stays armed at most
 * this far ahead: if the instance dies mid-round, the next one starts within this time, releases
 * the leases and attempts the deliveries again.
 */
export const DeliveryWatchdogMs = 10_000;
const DeliveryBatchLimit = 500;
/** How long the alarm handler waits for its delivery round before leaving it to run on. */
const AlarmHoldMs = 1_000;
/** HTTP and worker pushes of one delivery round run at most this many at a time. */
const PushConcurrency = 16;

const schemaStatements = [
  `CREATE TABLE IF NOT EXISTS topic_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     name TEXT NOT NULL, account TEXT NOT NULL, object_key_prefix TEXT NOT NULL,
     attributes TEXT NOT NULL, created_at INTEGER NOT NULL, modified_at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS subscriptions (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name_key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, attributes TEXT NOT NULL,
     created_at INTEGER NOT NULL, modified_at INTEGER NOT NULL,
     delivered INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
     last_error TEXT, last_error_at INTEGER
   )`,
  `CREATE TABLE IF NOT EXISTS messages (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL, body TEXT NOT NULL, tags TEXT, routing_key TEXT, published_at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS outbox (
     message_seq INTEGER NOT NULL, subscription_id INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
     leased INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (message_seq, subscription_id)
   )`,
  `CREATE INDEX IF NOT EXISTS outbox_by_subscription ON outbox (subscription_id)`,
  `CREATE INDEX IF NOT EXISTS messages_by_age ON messages (published_at)`,
];

/** Outboxes created before leases were held in a column get it, and the index that finds due rows. */
function migrateOutbox(sql: SqlStorage): void {
  const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('outbox')").toArray();
  if (!columns.some((column) => column.name === "leased")) {
    sql.exec("ALTER TABLE outbox ADD COLUMN leased INTEGER NOT NULL DEFAULT 0");
  }
  sql.exec("DROP INDEX IF EXISTS outbox_by_due");
  sql.exec("CREATE INDEX IF NOT EXISTS outbox_by_lease_and_due ON outbox (leased, next_attempt_at)");
}

const textEncoder = new TextEncoder();

/**
 * One topic: its subscriptions, its own copy of each message for the retention period, and an
 * outbox row per (message, matching subscription). Publishing writes the message and its outbox
 * rows in one transaction and answers; deliveries run afterwards from the outbox, retried per the
 * subscription's strategy, driven by the alarm.
 */
export class TopicObject extends DurableObject<Env> {
  private meta: TopicMeta | null = null;
  /** Bumped when the topic is deleted: outcomes of pushes begun before then are dropped. */
  private epoch = 0;
  private subscriptions = new Map<number, Subscription>();
  private alarmAtMs: number | null = null;
  private delivering: Promise<void> | null = null;
  private deliverAgain = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const statement of schemaStatements) ctx.storage.sql.exec(statement);
    migrateOutbox(ctx.storage.sql);
    this.load();
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAtMs = await ctx.storage.getAlarm();
      // A lease belongs to the instance that took it: one left over is from an instance that died
      // mid-delivery, so its deliveries are due again now.
      const released = ctx.storage.sql.exec("UPDATE outbox SET leased = 0 WHERE leased = 1").rowsWritten;
      if (released > 0) this.reschedule();
    });
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  private load(): void {
    const row = this.sql
      .exec<{ name: string; account: string; object_key_prefix: string; attributes: string; created_at: number; modified_at: number }>(
        "SELECT * FROM topic_meta WHERE id = 1",
      )
      .toArray()[0];
    this.meta = row
      ? {
          name: row.name,
          account: row.account,
          objectKeyPrefix: row.object_key_prefix,
          attributes: JSON.parse(row.attributes) as TopicAttributes,
          createdAt: row.created_at,
          modifiedAt: row.modified_at,
        }
      : null;
    this.subscriptions.clear();
    for (const sub of this.sql
      .exec<{ id: number; name: string; attributes: string; created_at: number; modified_at: number }>(
        "SELECT id, name, attributes, created_at, modified_at FROM subscriptions",
      )
      .toArray()) {
      this.subscriptions.set(sub.id, {
        id: sub.id,
        name: sub.name,
        attributes: JSON.parse(sub.attributes) as SubscriptionAttributes,
        createdAt: sub.created_at,
        modifiedAt: sub.modified_at,
      });
    }
  }

  private requireMeta(): TopicMeta {
    if (!this.meta) throw new QueueError(ErrorCode.TopicNotFound, "topic does not exist");
    return this.meta;
  }

  private topicInfo(): TopicInfo {
    const meta = this.requireMeta();
    return {
      name: meta.name,
      ...meta.attributes,
      createdAt: meta.createdAt,
      modifiedAt: meta.modifiedAt,
      subscriptionCount: this.subscriptions.size,
      messageCount: this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n,
    };
  }

  async create(
    name: string,
    account: string,
    objectKeyPrefix: string,
    attributes: TopicAttributes,
  ): Promise<Result<{ created: boolean; topic: TopicInfo }>> {
    return toResult(() => {
      if (this.meta) {
        const same = this.meta.name === name && JSON.stringify(this.meta.attributes) === JSON.stringify(attributes);
        if (!same) {
          throw new QueueError(ErrorCode.TopicAlreadyExists, `topic ${this.meta.name} already exists with different attributes`);
        }
        return { created: false, topic: this.topicInfo() };
      }
      const nowMs = Date.now();
      this.sql.exec(
        "INSERT INTO topic_meta (id, name, account, object_key_prefix, attributes, created_at, modified_at) VALUES (1, ?, ?, ?, ?, ?, ?)",
        name,
        account,
        objectKeyPrefix,
        JSON.stringify(attributes),
        nowMs,
        nowMs,
      );
      this.load();
      return { created: true, topic: this.topicInfo() };
    });
  }

  async getInfo(): Promise<Result<TopicInfo>> {
    return toResult(() => this.topicInfo());
  }

  async updateAttributes(patch: UpdateTopicBody): Promise<Result<TopicInfo>> {
    return toResult(() => {
      const meta = this.requireMeta();
      const attributes = { ...meta.attributes };
      if (patch.maxMsgSize !== undefined) attributes.maxMsgSize = patch.maxMsgSize;
      if (patch.msgRetentionSeconds !== undefined) attributes.msgRetentionSeconds = patch.msgRetentionSeconds;
      this.sql.exec("UPDATE topic_meta SET attributes = ?, modified_at = ? WHERE id = 1", JSON.stringify(attributes), Date.now());
      this.load();
      // A shorter retention ends sooner: bring the alarm forward to the new end.
      this.reschedule();
      return this.topicInfo();
    });
  }

  /** Deletes the topic, its subscriptions and their pending deliveries. */
  async destroy(): Promise<Result<{ existed: boolean }>> {
    const existed = this.meta !== null;
    this.meta = null;
    this.epoch++;
    this.subscriptions.clear();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.alarmAtMs = null;
    for (const statement of schemaStatements) this.sql.exec(statement);
    return ok({ existed });
  }

  private findSubscription(name: string): Subscription | undefined {
    const key = name.toLowerCase();
    for (const sub of this.subscriptions.values()) if (sub.name.toLowerCase() === key) return sub;
    return undefined;
  }

  private requireSubscription(name: string): Subscription {
    this.requireMeta();
    const sub = this.findSubscription(name);
    if (!sub) throw new QueueError(ErrorCode.SubscriptionNotFound, `subscription ${name} does not exist`);
    return sub;
  }

  /** Filters must fit the topic's filter type (CMQ: a routing-key topic needs binding keys, 10710). */
  private checkFilters(attributes: SubscriptionAttributes): void {
    const { filterType } = this.requireMeta().attributes;
    if (filterType === "tag" && attributes.bindingKeys.length > 0) {
      throw new QueueError(ErrorCode.InvalidParameter, "bindingKeys apply to routingKey topics; this topic filters by tag");
    }
    if (filterType === "routingKey") {
      if (attributes.filterTags.length > 0) {
        throw new QueueError(ErrorCode.InvalidParameter, "filterTags apply to tag topics; this topic filters by routing key");
      }
      if (attributes.bindingKeys.length === 0) {
        throw new QueueError(ErrorCode.InvalidParameter, "a subscription to a routingKey topic needs at least one binding key");
      }
    }
  }

  private subscriptionInfo(sub: Subscription): SubscriptionInfo {
    const stats = this.sql
      .exec<{ delivered: number; failed: number; last_error: string | null; last_error_at: number | null }>(
        "SELECT delivered, failed, last_error, last_error_at FROM subscriptions WHERE id = ?",
        sub.id,
      )
      .one();
    const pending = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE subscription_id = ?", sub.id).one().n;
    const { signingSecret, ...attributes } = sub.attributes;
    return {
      name: sub.name,
      topic: this.requireMeta().name,
      ...attributes,
      signed: signingSecret !== null,
      createdAt: sub.createdAt,
      modifiedAt: sub.modifiedAt,
      stats: {
        delivered: stats.delivered,
        failed: stats.failed,
        pending,
        lastError: stats.last_error,
        lastErrorAt: stats.last_error_at,
      },
    };
  }

  async subscribe(name: string, attributes: SubscriptionAttributes): Promise<Result<{ created: boolean; subscription: SubscriptionInfo }>> {
    return toResult(() => {
      this.requireMeta();
      this.checkFilters(attributes);
      const existing = this.findSubscription(name);
      if (existing) {
        if (existing.name === name && JSON.stringify(existing.attributes) === JSON.stringify(attributes)) {
          return { created: false, subscription: this.subscriptionInfo(existing) };
        }
        throw new QueueError(
          ErrorCode.SubscriptionAlreadyExists,
          `subscription ${existing.name} already exists with different attributes`,
        );
      }
      if (this.subscriptions.size >= TopicLimits.subscriptionsPerTopic) {
        throw new QueueError(
          ErrorCode.TooManySubscriptions,
          `a topic has at most ${TopicLimits.subscriptionsPerTopic} subscriptions`,
        );
      }
      const nowMs = Date.now();
      this.sql.exec(
        "INSERT INTO subscriptions (name_key, name, attributes, created_at, modified_at) VALUES (?, ?, ?, ?, ?)",
        name.toLowerCase(),
        name,
        JSON.stringify(attributes),
        nowMs,
        nowMs,
      );
      this.load();
      return { created: true, subscription: this.subscriptionInfo(this.findSubscription(name)!) };
    });
  }

  async getSubscription(name: string): Promise<Result<SubscriptionInfo>> {
    return toResult(() => this.subscriptionInfo(this.requireSubscription(name)));
  }

  async listSubscriptions(): Promise<Result<SubscriptionInfo[]>> {
    return toResult(() => {
      this.requireMeta();
      return [...this.subscriptions.values()]
        .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
        .map((sub) => this.subscriptionInfo(sub));
    });
  }

  async updateSubscription(name: string, patch: UpdateSubscriptionBody): Promise<Result<SubscriptionInfo>> {
    return toResult(() => {
      const sub = this.requireSubscription(name);
      const attributes: SubscriptionAttributes = { ...sub.attributes };
      if (patch.notifyStrategy !== undefined) attributes.notifyStrategy = patch.notifyStrategy;
      if (patch.notifyContentFormat !== undefined) attributes.notifyContentFormat = patch.notifyContentFormat;
      if (patch.filterTags !== undefined) attributes.filterTags = patch.filterTags;
      if (patch.bindingKeys !== undefined) attributes.bindingKeys = patch.bindingKeys;
      if (patch.signingSecret !== undefined) attributes.signingSecret = patch.signingSecret;
      if (attributes.protocol === "queue" && attributes.notifyContentFormat !== "SIMPLIFIED") {
        throw new QueueError(ErrorCode.InvalidParameter, "queue subscriptions deliver SIMPLIFIED content (CMQ 10640)");
      }
      this.checkFilters(attributes);
      this.sql.exec(
        "UPDATE subscriptions SET attributes = ?, modified_at = ? WHERE id = ?",
        JSON.stringify(attributes),
        Date.now(),
        sub.id,
      );
      this.load();
      return this.subscriptionInfo(this.requireSubscription(name));
    });
  }

  /** Removes a subscription and stops its pending deliveries. */
  async unsubscribe(name: string): Promise<Result<void>> {
    return toResult(() => {
      const sub = this.requireSubscription(name);
      this.ctx.storage.transactionSync(() => {
        this.sql.exec("DELETE FROM outbox WHERE subscription_id = ?", sub.id);
        this.sql.exec("DELETE FROM subscriptions WHERE id = ?", sub.id);
      });
      this.subscriptions.delete(sub.id);
    });
  }

  /** Stores messages and one outbox row per matching subscription in one transaction, then answers. */
  async publish(messages: PublishedMessage[]): Promise<Result<{ ids: string[] }>> {
    const nowMs = Date.now();
    const result = toResult(() => {
      const meta = this.requireMeta();
      let batchBytes = 0;
      messages.forEach((message, index) => {
        const bytes = textEncoder.encode(message.body).byteLength;
        batchBytes += bytes;
        if (bytes > meta.attributes.maxMsgSize) {
          throw new QueueError(
            ErrorCode.MessageTooLarge,
            `message ${index} is ${bytes} bytes; this topic's maxMsgSize is ${meta.attributes.maxMsgSize}`,
          );
        }
        if (meta.attributes.filterType === "routingKey" && message.routingKey === undefined) {
          throw new QueueError(ErrorCode.InvalidParameter, `message ${index}: a routingKey topic needs a routingKey (CMQ 10700)`);
        }
      });
      if (messages.length > 1 && batchBytes > TopicLimits.batchBodyMaxBytes) {
        throw new QueueError(ErrorCode.BatchTooLarge, `a batch's bodies total ${batchBytes} bytes; the most is ${TopicLimits.batchBodyMaxBytes}`);
      }
      const ids: string[] = [];
      this.ctx.storage.transactionSync(() => {
        for (const message of messages) {
          const id = crypto.randomUUID();
          const tags = message.tags ?? [];
          const routingKey = message.routingKey ?? null;
          const seq = this.sql
            .exec<{ seq: number }>(
              "INSERT INTO messages (id, body, tags, routing_key, published_at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
              id,
              message.body,
              tags.length > 0 ? JSON.stringify(tags) : null,
              routingKey,
              nowMs,
            )
            .one().seq;
          for (const sub of this.subscriptions.values()) {
            const matches =
              meta.attributes.filterType === "tag"
                ? matchesTags(sub.attributes.filterTags, tags)
                : matchesAnyBindingKey(sub.attributes.bindingKeys, routingKey);
            if (matches) {
              this.sql.exec(
                "INSERT INTO outbox (message_seq, subscription_id, attempts, next_attempt_at) VALUES (?, ?, 0, ?)",
                seq,
                sub.id,
                nowMs,
              );
            }
          }
          ids.push(id);
        }
      });
      return { ids };
    });
    if (result.ok) {
      this.scheduleAt(nowMs + this.meta!.attributes.msgRetentionSeconds * 1000);
      this.startDelivery();
    }
    return result;
  }

  override async alarm(): Promise<void> {
    this.alarmAtMs = null;
    // workerd runs one alarm at a time: a round held up to 15 s by a slow endpoint must not hold
    // back the retries of other deliveries, which each failed attempt arms the alarm for. So the
    // handler waits for a quick round (its errors retry the alarm) and leaves a slow one running;
    // a round cut short by an eviction is covered by its leases.
    const round = this.runDue(Date.now());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<"slow">((resolve) => {
      timer = setTimeout(() => resolve("slow"), AlarmHoldMs);
    });
    const outcome = await Promise.race([round.then(() => "done" as const, (error: unknown) => ({ error })), slow]);
    clearTimeout(timer!);
    if (typeof outcome === "object") throw outcome.error;
    if (outcome === "slow") {
      round.catch((error: unknown) => {
        console.error("topic delivery round failed", error);
        this.reschedule();
      });
    }
  }

  /** Attempts every delivery due at `nowMs`, drops what retention ended, and re-arms the alarm. */
  async runDue(nowMs: number): Promise<void> {
    if (!this.meta) return;
    await this.deliverDue(nowMs);
    this.purgeExpired(nowMs);
    this.reschedule();
  }

  /** Delivers in the background after a publish; the alarm is the fallback if the object stops. */
  private startDelivery(): void {
    if (this.delivering) {
      this.deliverAgain = true;
      return;
    }
    this.delivering = (async () => {
      try {
        do {
          this.deliverAgain = false;
          await this.deliverDue(Date.now());
        } while (this.deliverAgain);
      } catch (error) {
        console.error("topic delivery round failed", error);
      } finally {
        this.delivering = null;
        this.reschedule();
      }
    })();
  }

  private async deliverDue(nowMs: number): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    const due = this.sql
      .exec<DueDelivery>(
        `SELECT o.message_seq, o.subscription_id, o.attempts, m.id, m.body, m.tags, m.routing_key, m.published_at
         FROM outbox o JOIN messages m ON m.seq = o.message_seq
         WHERE o.leased = 0 AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at LIMIT ?`,
        nowMs,
        DeliveryBatchLimit,
      )
      .toArray();
    if (due.length === 0) return;
    // Lease the rows before any await, so a concurrent round does not attempt them too.
    this.ctx.storage.transactionSync(() => {
      for (const row of due) {
        this.sql.exec("UPDATE outbox SET leased = 1 WHERE message_seq = ? AND subscription_id = ?", row.message_seq, row.subscription_id);
      }
    });
    // The earliest of the watchdog and the deliveries left for later: those must not wait for this
    // round, which may take up to 15 s.
    this.reschedule();

    const bySubscription = new Map<number, DueDelivery[]>();
    for (const row of due) {
      const rows = bySubscription.get(row.subscription_id) ?? [];
      rows.push(row);
      bySubscription.set(row.subscription_id, rows);
    }
    // Outcomes are timed on the round's clock (`nowMs` plus the time the attempt took), so a round
    // run for a later moment schedules its retries from that moment.
    const startedAtMs = Date.now();
    const epoch = this.epoch;
    // A topic deleted and created again meanwhile reuses ids: a late outcome must not touch it.
    const record: RecordOutcome = (sub, row, error) => {
      if (this.epoch === epoch) this.recordAttempt(sub, row, error, nowMs + (Date.now() - startedAtMs));
    };
    const pushes: Array<() => Promise<void>> = [];
    const queueDeliveries: Promise<void>[] = [];
    for (const [subscriptionId, rows] of bySubscription) {
      const sub = this.subscriptions.get(subscriptionId);
      if (!sub) continue;
      if (sub.attributes.protocol === "queue") {
        queueDeliveries.push(this.deliverToQueue(meta, sub, rows, record));
      } else {
        for (const row of rows) pushes.push(() => this.push(meta, sub, row, record));
      }
    }
    await Promise.all([...queueDeliveries, runLimited(pushes, PushConcurrency)]);
  }

  /** One RPC per queue subscription; the queue stores each (message, subscription) key once. */
  private async deliverToQueue(meta: TopicMeta, sub: Subscription, rows: DueDelivery[], record: RecordOutcome): Promise<void> {
    let error: string | null = null;
    try {
      const key = `${meta.objectKeyPrefix}${sub.attributes.endpoint.toLowerCase()}`;
      const queue = this.env.QUEUES.get(this.env.QUEUES.idFromName(key));
      const result = await queue.accept(
        rows.map((row) => ({
          idempotencyKey: `topic:${meta.objectKeyPrefix}${meta.name}:${sub.id}:${row.id}`,
          id: row.id,
          body: row.body,
          tags: row.tags ? (JSON.parse(row.tags) as string[]) : [],
          sourceQueue: null,
        })),
      );
      if (!result.ok) error = `${result.error.code}: ${result.error.message}`;
    } catch (thrown) {
      error = thrown instanceof Error ? thrown.message : String(thrown);
    }
    for (const row of rows) record(sub, row, error);
  }

  private async push(meta: TopicMeta, sub: Subscription, row: DueDelivery, record: RecordOutcome): Promise<void> {
    const message: PushMessage = {
      account: meta.account,
      topic: meta.name,
      subscription: sub.name,
      messageId: row.id,
      body: row.body,
      tags: row.tags ? (JSON.parse(row.tags) as string[]) : [],
      routingKey: row.routing_key,
      publishedAt: row.published_at,
    };
    let error: string | null;
    try {
      error = await this.attemptPush(sub, message);
    } catch (thrown) {
      // A push that throws before its request is made still ends its lease with an outcome.
      error = thrown instanceof Error ? thrown.message : String(thrown);
    }
    record(sub, row, error);
  }

  /** One push of one message to an HTTP endpoint or a bound Worker; the error, or null on success. */
  private async attemptPush(sub: Subscription, message: PushMessage): Promise<string | null> {
    let error: string | null;
    if (sub.attributes.protocol === "worker") {
      const binding = (this.env as unknown as Record<string, unknown>)[sub.attributes.endpoint] as Fetcher | undefined;
      if (!binding || typeof binding.fetch !== "function") {
        error = `no service binding named ${sub.attributes.endpoint}`;
      } else {
        const request = await buildPushRequest(
          `https://${sub.attributes.endpoint}.worker/`,
          message,
          sub.attributes.notifyContentFormat,
          sub.attributes.signingSecret,
          Date.now(),
        );
        error = await sendPush(binding as unknown as { fetch: typeof fetch }, request);
      }
    } else {
      const request = await buildPushRequest(
        sub.attributes.endpoint,
        message,
        sub.attributes.notifyContentFormat,
        sub.attributes.signingSecret,
        Date.now(),
      );
      error = await sendPush(null, request);
    }
    return error;
  }

  /** A success removes the outbox row; a failure schedules the next attempt or, past the strategy, fails it. */
  private recordAttempt(sub: Subscription, row: DueDelivery, error: string | null, nowMs: number): void {
    const meta = this.meta;
    if (!meta || !this.subscriptions.has(sub.id)) return;
    const where = [row.message_seq, sub.id] as const;
    if (error === null) {
      const removed = this.sql.exec("DELETE FROM outbox WHERE message_seq = ? AND subscription_id = ?", ...where).rowsWritten;
      if (removed > 0) this.sql.exec("UPDATE subscriptions SET delivered = delivered + 1 WHERE id = ?", sub.id);
      return;
    }
    const attempts = row.attempts + 1;
    const expiresAtMs = row.published_at + meta.attributes.msgRetentionSeconds * 1000;
    const next = nextAttemptAt(sub.attributes.notifyStrategy, attempts, nowMs, expiresAtMs, row.message_seq);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE subscriptions SET last_error = ?, last_error_at = ? WHERE id = ?", error, nowMs, sub.id);
      if (next === null) {
        const removed = this.sql.exec("DELETE FROM outbox WHERE message_seq = ? AND subscription_id = ?", ...where).rowsWritten;
        if (removed > 0) this.sql.exec("UPDATE subscriptions SET failed = failed + 1 WHERE id = ?", sub.id);
      } else {
        this.sql.exec(
          "UPDATE outbox SET attempts = ?, next_attempt_at = ?, leased = 0 WHERE message_seq = ? AND subscription_id = ?",
          attempts,
          next,
          ...where,
        );
      }
    });
    // Armed now, not when the whole round ends: other pushes of the round may take up to 15 s.
    if (next !== null) this.scheduleAt(next);
  }

  /** Past retention, a message and its unfinished deliveries are dropped; those deliveries count as failed. */
  private purgeExpired(nowMs: number): void {
    const meta = this.meta;
    if (!meta) return;
    const cutoff = nowMs - meta.attributes.msgRetentionSeconds * 1000;
    this.ctx.storage.transactionSync(() => {
      const expired = this.sql
        .exec<{ subscription_id: number; n: number }>(
          `SELECT o.subscription_id, COUNT(*) AS n FROM outbox o JOIN messages m ON m.seq = o.message_seq
           WHERE m.published_at <= ? GROUP BY o.subscription_id`,
          cutoff,
        )
        .toArray();
      for (const { subscription_id, n } of expired) {
        this.sql.exec(
          "UPDATE subscriptions SET failed = failed + ?, last_error = 'message retention ended before delivery', last_error_at = ? WHERE id = ?",
          n,
          nowMs,
          subscription_id,
        );
      }
      this.sql.exec("DELETE FROM outbox WHERE message_seq IN (SELECT seq FROM messages WHERE published_at <= ?)", cutoff);
      this.sql.exec("DELETE FROM messages WHERE published_at <= ?", cutoff);
    });
  }

  private scheduleAt(deadlineMs: number): void {
    if (this.alarmAtMs !== null && this.alarmAtMs <= deadlineMs) return;
    this.alarmAtMs = deadlineMs;
    void this.ctx.storage.setAlarm(deadlineMs);
  }

  /** The earliest of the next due delivery, the watchdog over leased deliveries and the next retention expiry. */
  private reschedule(): void {
    const meta = this.meta;
    if (!meta) return;
    const nextDelivery = this.sql.exec<{ m: number | null }>("SELECT MIN(next_attempt_at) AS m FROM outbox WHERE leased = 0").one().m;
    const anyLeased = this.sql.exec("SELECT 1 FROM outbox WHERE leased = 1 LIMIT 1").toArray().length > 0;
    const oldest = this.sql.exec<{ m: number | null }>("SELECT MIN(published_at) AS m FROM messages").one().m;
    const candidates = [
      nextDelivery,
      anyLeased ? Date.now() + DeliveryWatchdogMs : null,
      oldest === null ? null : oldest + meta.attributes.msgRetentionSeconds * 1000,
    ].filter(
      (value): value is number => value !== null,
    );
    if (candidates.length === 0) return;
    const next = Math.min(...candidates);
    if (this.alarmAtMs !== null && this.alarmAtMs > next) this.alarmAtMs = null;
    this.scheduleAt(next);
  }
}

/** Runs tasks with at most `limit` in flight. */
async function runLimited(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
