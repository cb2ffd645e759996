import { decodeAttributes } from "../../schema/message-attributes";
import type { MessageState, PeekedMessage, ReceivedMessage } from "../../schema/queue";

/**
 * Message rows. `state` is what the row is doing; whether a waiting or received message is visible
 * now is `visible_at <= now`, so a visibility timeout or a delay ends without a write.
 */
export const MessageRowState = {
  /** Not received since it was enqueued (or rewound): delayed until `visible_at`, then active. */
  waiting: 0,
  /** Received: inactive until `visible_at` (its visibility deadline), then active again. */
  received: 1,
  /** Deleted or moved away, kept only so that a rewind can replay it. */
  deleted: 2,
  /** Being handed to another queue (`move_to`); retried at `visible_at` until that queue has it. */
  moving: 3,
} as const;

/** Row-state predicates over `messages`, named, so that no query spells a state as a number. */
export const RowIs = {
  /** In the queue: waiting or received (the partial index `messages_by_visibility` covers exactly these). */
  stored: `state < ${MessageRowState.deleted}`,
  waiting: `state = ${MessageRowState.waiting}`,
  received: `state = ${MessageRowState.received}`,
  deleted: `state = ${MessageRowState.deleted}`,
  moving: `state = ${MessageRowState.moving}`,
  notDeleted: `state <> ${MessageRowState.deleted}`,
  notMoving: `state <> ${MessageRowState.moving}`,
  /** Received or moving: with a visibility deadline ahead, a message in flight. */
  busy: `state IN (${MessageRowState.received}, ${MessageRowState.moving})`,
  grouped: "group_id IS NOT NULL",
  /** FIFO queues: the first message of its group not deleted (`head` is null on other queues). */
  groupHead: "head = 1",
} as const;

export const MoveKind = { deadLetter: "dead-letter", redrive: "redrive" } as const;
export type MoveKind = (typeof MoveKind)[keyof typeof MoveKind];

export const schemaStatements = [
  `CREATE TABLE IF NOT EXISTS queue_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     name TEXT NOT NULL,
     object_key_prefix TEXT NOT NULL,
     attributes TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     modified_at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS messages (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL,
     body TEXT NOT NULL,
     tags TEXT,
     enqueued_at INTEGER NOT NULL,
     visible_at INTEGER NOT NULL,
     state INTEGER NOT NULL,
     receive_count INTEGER NOT NULL DEFAULT 0,
     first_received_at INTEGER,
     receipt TEXT,
     source_queue TEXT,
     move_kind TEXT,
     move_to TEXT,
     move_key TEXT,
     move_partition INTEGER,
     attributes TEXT,
     sender_id TEXT,
     trace_header TEXT,
     group_id TEXT,
     dedup_id TEXT,
     head INTEGER
   )`,
  `CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (visible_at, seq) WHERE ${RowIs.stored}`,
  `CREATE INDEX IF NOT EXISTS messages_by_age ON messages (state, enqueued_at)`,
  `CREATE TABLE IF NOT EXISTS idempotency_keys (
     key TEXT PRIMARY KEY,
     message_id TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   )`,
  `CREATE INDEX IF NOT EXISTS idempotency_by_expiry ON idempotency_keys (expires_at)`,
  `CREATE TABLE IF NOT EXISTS dedup (
     key TEXT PRIMARY KEY,
     message_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   )`,
  `CREATE INDEX IF NOT EXISTS dedup_by_expiry ON dedup (expires_at)`,
  `CREATE TABLE IF NOT EXISTS redrive (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     status TEXT NOT NULL,
     destination TEXT,
     max_per_second INTEGER NOT NULL,
     max_messages INTEGER,
     moved INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     last_error TEXT,
     next_run_at INTEGER
   )`,
];

/**
 * Columns added to `messages` after its first release, each added to tables stored before it,
 * with what rows stored before it need in it.
 */
const addedMessageColumns: Array<{ name: string; definition: string; backfill?: string }> = [
  { name: "attributes", definition: "attributes TEXT" },
  { name: "sender_id", definition: "sender_id TEXT" },
  { name: "trace_header", definition: "trace_header TEXT" },
  { name: "group_id", definition: "group_id TEXT" },
  { name: "dedup_id", definition: "dedup_id TEXT" },
  { name: "head", definition: "head INTEGER" },
  // Moves under way were handed to the destination's own object (its partition 0) by earlier releases: their retries go there too.
  { name: "move_partition", definition: "move_partition INTEGER", backfill: `UPDATE messages SET move_partition = 0 WHERE ${RowIs.moving}` },
];

/**
 * Indexes over columns added after the first release, created once the columns exist. Each
 * covers only rows with a group id (FIFO queues' and tenants'), so a queue without groups pays
 * nothing for them.
 */
const groupIndexStatements = [
  // A group's messages in order: its head, and the next ones a batch receive takes.
  `CREATE INDEX IF NOT EXISTS messages_by_group ON messages (group_id, seq) WHERE ${RowIs.grouped} AND ${RowIs.notDeleted}`,
  // FIFO queues: the head of each group, the only rows a receive starts from.
  `CREATE INDEX IF NOT EXISTS messages_fifo_heads ON messages (visible_at, seq) WHERE ${RowIs.stored} AND ${RowIs.groupHead}`,
  // In flight or moving, by group: what blocks a FIFO group, and each tenant's share of a fair queue.
  `CREATE INDEX IF NOT EXISTS messages_busy_by_group ON messages (group_id) WHERE ${RowIs.grouped} AND ${RowIs.busy}`,
];

/** Creates the tables, and brings a `messages` table stored by an earlier release up to date. */
export function migrateSchema(sql: SqlStorage): void {
  for (const statement of schemaStatements) sql.exec(statement);
  const present = new Set(sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('messages')").toArray().map((column) => column.name));
  for (const column of addedMessageColumns) {
    if (present.has(column.name)) continue;
    sql.exec(`ALTER TABLE messages ADD COLUMN ${column.definition}`);
    if (column.backfill) sql.exec(column.backfill);
  }
  for (const statement of groupIndexStatements) sql.exec(statement);
}

export interface MessageRow {
  seq: number;
  id: string;
  body: string;
  tags: string | null;
  enqueued_at: number;
  visible_at: number;
  state: number;
  receive_count: number;
  first_received_at: number | null;
  receipt: string | null;
  source_queue: string | null;
  move_kind: string | null;
  move_to: string | null;
  move_key: string | null;
  /** The destination's partition a move's first attempt chose, which its retries go to; null before that attempt. */
  move_partition: number | null;
  /** JSON of the message's attributes; null when it has none. */
  attributes: string | null;
  sender_id: string | null;
  trace_header: string | null;
  group_id: string | null;
  dedup_id: string | null;
  /** FIFO queues: 1 for its group's first message not deleted, 0 behind it; null on other queues. */
  head: number | null;
  [key: string]: SqlStorageValue;
}

export function parseTags(tags: string | null): string[] {
  return tags ? (JSON.parse(tags) as string[]) : [];
}

export function encodeTags(tags: readonly string[] | undefined): string | null {
  return tags && tags.length > 0 ? JSON.stringify(tags) : null;
}

/** Receipt handles are `<seq base 36>-<receive token>`: opaque to clients, within `[A-Za-z0-9_-]`. */
export function formatReceiptHandle(seq: number, receipt: string): string {
  return `${seq.toString(36)}-${receipt}`;
}

export function parseReceiptHandle(handle: string): { seq: number; receipt: string } | null {
  const match = /^([0-9a-z]{1,11})-([0-9a-f]{32})$/.exec(handle);
  if (!match) return null;
  const seq = Number.parseInt(match[1]!, 36);
  return Number.isSafeInteger(seq) ? { seq, receipt: match[2]! } : null;
}

export function newReceiptToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The columns a receiver is given, as a RETURNING or SELECT list. */
export const ReceivedColumns =
  "seq, id, body, tags, enqueued_at, visible_at, receive_count, first_received_at, receipt, source_queue, attributes, sender_id, trace_header, group_id, dedup_id, head";

/** The columns a receiver is given. */
export type ReceivedRow = Pick<
  MessageRow,
  | "seq"
  | "id"
  | "body"
  | "tags"
  | "enqueued_at"
  | "visible_at"
  | "receive_count"
  | "first_received_at"
  | "receipt"
  | "source_queue"
  | "attributes"
  | "sender_id"
  | "trace_header"
  | "group_id"
  | "dedup_id"
  | "head"
> & { [key: string]: SqlStorageValue };

/** A FIFO message's sequence number: its row's, as 20 decimal digits (the width of SQS's). */
export function formatSequenceNumber(seq: number): string {
  return String(seq).padStart(20, "0");
}

/** The group, deduplication id and sequence number a message shows, those it has. */
function groupFields(row: Pick<MessageRow, "seq" | "group_id" | "dedup_id" | "head">): {
  groupId?: string;
  deduplicationId?: string;
  sequenceNumber?: string;
} {
  const fields: { groupId?: string; deduplicationId?: string; sequenceNumber?: string } = {};
  if (row.group_id !== null) fields.groupId = row.group_id;
  if (row.dedup_id !== null) fields.deduplicationId = row.dedup_id;
  if (row.head !== null) fields.sequenceNumber = formatSequenceNumber(row.seq);
  return fields;
}

export function toReceivedMessage(row: ReceivedRow): ReceivedMessage {
  const message: ReceivedMessage = {
    id: row.id,
    body: row.body,
    tags: parseTags(row.tags),
    receiptHandle: formatReceiptHandle(row.seq, row.receipt ?? ""),
    enqueuedAt: row.enqueued_at,
    firstReceivedAt: row.first_received_at ?? row.visible_at,
    receiveCount: row.receive_count,
    nextVisibleAt: row.visible_at,
    attributes: decodeAttributes(row.attributes),
    senderId: row.sender_id,
  };
  if (row.source_queue) message.sourceQueue = row.source_queue;
  if (row.trace_header) message.traceHeader = row.trace_header;
  return Object.assign(message, groupFields(row));
}

export function toPeekedMessage(row: MessageRow, nowMs: number): PeekedMessage {
  const message: PeekedMessage = {
    id: row.id,
    body: row.body,
    tags: parseTags(row.tags),
    state: messageState(row, nowMs),
    enqueuedAt: row.enqueued_at,
    firstReceivedAt: row.first_received_at,
    receiveCount: row.receive_count,
    nextVisibleAt: row.visible_at,
    attributes: decodeAttributes(row.attributes),
    senderId: row.sender_id,
  };
  if (row.source_queue) message.sourceQueue = row.source_queue;
  if (row.trace_header) message.traceHeader = row.trace_header;
  return Object.assign(message, groupFields(row));
}

function messageState(row: MessageRow, nowMs: number): MessageState {
  if (row.state === MessageRowState.deleted) return "deleted";
  if (row.state === MessageRowState.moving) return "inactive";
  if (row.visible_at <= nowMs) return "active";
  return row.state === MessageRowState.waiting ? "delayed" : "inactive";
}
