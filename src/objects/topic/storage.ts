import type { SubscriptionAttributes, TopicAttributes } from "../../schema/topic";

export interface TopicMeta {
  name: string;
  account: string;
  objectKeyPrefix: string;
  attributes: TopicAttributes;
  createdAt: number;
  modifiedAt: number;
}

export interface Subscription {
  name: string;
  id: number;
  attributes: SubscriptionAttributes;
  createdAt: number;
  modifiedAt: number;
}

/** An outbox row joined with its message: one delivery to attempt. */
export interface DueDelivery {
  message_seq: number;
  subscription_id: number;
  attempts: number;
  id: string;
  body: string;
  tags: string | null;
  routing_key: string | null;
  /** JSON of the message's attributes; null when it has none. */
  attributes: string | null;
  sender_id: string | null;
  published_at: number;
  group_id: string | null;
  dedup_id: string | null;
  /** A queue subscription's: the partition of its queue the first attempt chose, which retries go to; null before it. */
  target_partition: number | null;
  [key: string]: SqlStorageValue;
}

/**
 * The topic's tables. `outbox` holds one row per (message, matching subscription) until the
 * delivery succeeds or fails for good; `leased` marks the rows the running object is attempting.
 */
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
     id TEXT NOT NULL, body TEXT NOT NULL, tags TEXT, routing_key TEXT, published_at INTEGER NOT NULL,
     attributes TEXT, sender_id TEXT, group_id TEXT, dedup_id TEXT
   )`,
  `CREATE TABLE IF NOT EXISTS outbox (
     message_seq INTEGER NOT NULL, subscription_id INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
     leased INTEGER NOT NULL DEFAULT 0,
     target_partition INTEGER,
     PRIMARY KEY (message_seq, subscription_id)
   )`,
  `CREATE INDEX IF NOT EXISTS outbox_by_subscription ON outbox (subscription_id)`,
  `CREATE INDEX IF NOT EXISTS messages_by_age ON messages (published_at)`,
];

/** The names of a table's columns. */
const columnsOf = (sql: SqlStorage, table: "outbox" | "messages") =>
  new Set(sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`).toArray().map((column) => column.name));

/**
 * Creates the tables, and brings tables stored by earlier releases up to date: an outbox from
 * before leases or partitioned queues had their own columns, messages from before attributes and
 * senders were kept.
 */
export function migrate(sql: SqlStorage): void {
  for (const statement of schemaStatements) sql.exec(statement);
  const outboxColumns = columnsOf(sql, "outbox");
  if (!outboxColumns.has("leased")) {
    sql.exec("ALTER TABLE outbox ADD COLUMN leased INTEGER NOT NULL DEFAULT 0");
  }
  if (!outboxColumns.has("target_partition")) {
    sql.exec("ALTER TABLE outbox ADD COLUMN target_partition INTEGER");
    // Earlier releases handed deliveries to the queue's own object (its partition 0): one attempted there is retried there.
    sql.exec("UPDATE outbox SET target_partition = 0 WHERE attempts > 0 OR leased = 1");
  }
  const messageColumns = columnsOf(sql, "messages");
  if (!messageColumns.has("attributes")) sql.exec("ALTER TABLE messages ADD COLUMN attributes TEXT");
  if (!messageColumns.has("sender_id")) sql.exec("ALTER TABLE messages ADD COLUMN sender_id TEXT");
  if (!messageColumns.has("group_id")) sql.exec("ALTER TABLE messages ADD COLUMN group_id TEXT");
  if (!messageColumns.has("dedup_id")) sql.exec("ALTER TABLE messages ADD COLUMN dedup_id TEXT");
  sql.exec("DROP INDEX IF EXISTS outbox_by_due");
  sql.exec("CREATE INDEX IF NOT EXISTS outbox_by_lease_and_due ON outbox (leased, next_attempt_at)");
}

export function loadMeta(sql: SqlStorage): TopicMeta | null {
  const row = sql
    .exec<{ name: string; account: string; object_key_prefix: string; attributes: string; created_at: number; modified_at: number }>(
      "SELECT * FROM topic_meta WHERE id = 1",
    )
    .toArray()[0];
  return row
    ? {
        name: row.name,
        account: row.account,
        objectKeyPrefix: row.object_key_prefix,
        attributes: JSON.parse(row.attributes) as TopicAttributes,
        createdAt: row.created_at,
        modifiedAt: row.modified_at,
      }
    : null;
}

export function loadSubscriptions(sql: SqlStorage): Map<number, Subscription> {
  const subscriptions = new Map<number, Subscription>();
  const rows = sql
    .exec<{ id: number; name: string; attributes: string; created_at: number; modified_at: number }>(
      "SELECT id, name, attributes, created_at, modified_at FROM subscriptions",
    )
    .toArray();
  for (const row of rows) {
    subscriptions.set(row.id, {
      id: row.id,
      name: row.name,
      attributes: JSON.parse(row.attributes) as SubscriptionAttributes,
      createdAt: row.created_at,
      modifiedAt: row.modified_at,
    });
  }
  return subscriptions;
}

export function insertMeta(
  sql: SqlStorage,
  meta: { name: string; account: string; objectKeyPrefix: string; attributes: TopicAttributes },
  nowMs: number,
): void {
  sql.exec(
    "INSERT INTO topic_meta (id, name, account, object_key_prefix, attributes, created_at, modified_at) VALUES (1, ?, ?, ?, ?, ?, ?)",
    meta.name,
    meta.account,
    meta.objectKeyPrefix,
    JSON.stringify(meta.attributes),
    nowMs,
    nowMs,
  );
}

export function updateMetaAttributes(sql: SqlStorage, attributes: TopicAttributes, nowMs: number): void {
  sql.exec("UPDATE topic_meta SET attributes = ?, modified_at = ? WHERE id = 1", JSON.stringify(attributes), nowMs);
}

/** The topic's own copies of messages still within retention. */
export function countMessages(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n;
}

export function insertSubscription(sql: SqlStorage, name: string, attributes: SubscriptionAttributes, nowMs: number): void {
  sql.exec(
    "INSERT INTO subscriptions (name_key, name, attributes, created_at, modified_at) VALUES (?, ?, ?, ?, ?)",
    name.toLowerCase(),
    name,
    JSON.stringify(attributes),
    nowMs,
    nowMs,
  );
}

export function updateSubscriptionAttributes(sql: SqlStorage, id: number, attributes: SubscriptionAttributes, nowMs: number): void {
  sql.exec("UPDATE subscriptions SET attributes = ?, modified_at = ? WHERE id = ?", JSON.stringify(attributes), nowMs, id);
}

/** Removes a subscription with its pending deliveries, in one transaction. */
export function deleteSubscription(storage: DurableObjectStorage, id: number): void {
  storage.transactionSync(() => {
    storage.sql.exec("DELETE FROM outbox WHERE subscription_id = ?", id);
    storage.sql.exec("DELETE FROM subscriptions WHERE id = ?", id);
  });
}
