import { abortAllDurableObjects, evictDurableObject, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { ServiceError } from "../../src/errors";
import { defaultQueueAttributes, mergeQueueAttributes } from "../../src/objects/queue/attributes";
import { MoveRetryDelayMs } from "../../src/objects/queue/engine";
import type { QueueObject } from "../../src/objects/queue-object";
import type {
  CreateQueueBody,
  DeleteResult,
  OutgoingMessage,
  PeekedMessage,
  QueueCounts,
  ReceivedMessage,
  UpdateQueueBody,
} from "../../src/schema/queue";
import { LiveLimits } from "../../src/schema/live";
import { Prefix, queueStub, uniqueName } from "../objects/support";
import { checkProperty, propertyTimeoutMs } from "./fc-params";
import { DedupModel, fairClaim, fifoClaim, sequenceNumberOf } from "./lib/group-model";
import { socketCommandArbs, socketReceive, socketSettle, type SocketCommand } from "./lib/socket-receivers";
import { partitionCommandsArb, partitionConfigArb, partitionTally, runPartitionSequence } from "./lib/partition-model";

/**
 * Model-based test of one queue with a dead-letter queue: random sequences of sends, receives,
 * deletes, visibility changes, purges, rewinds, time passing, due work (the alarm's job), evictions
 * and crashes in the middle of a dead-letter hand-over, each checked against a small reference model
 * of the queue: every message's state, receive count, visibility deadline and receipt handle, the
 * counts, which handles are valid, and the dead-letter queue's contents (each move exactly once).
 * A third of the queues are FIFO queues (with a FIFO dead-letter queue): their model checks order
 * per group, one batch in flight per group and deduplication inside the window; on the others,
 * messages name tenants and the model checks fair delivery (lib/group-model.ts).
 *
 * Time is simulated: the engine's methods and runDue take `nowMs`. The simulated clock starts ten
 * days ahead of the real one, so the alarms the object sets for it never fire during the test.
 *
 * A second property drives queues of 2 to 8 partitions through the service layer against a model
 * of their own (lib/partition-model.ts): routing, the backlog hint, partition handles, counts and
 * purge for the whole queue, raising and lowering the count, evictions.
 */

const DayMs = 86_400_000;
const MaxMsgSize = 1_024;

interface Config {
  visibilityTimeout: number;
  msgRetentionSeconds: number;
  rewindSeconds: number;
  maxMsgHeapNum: number;
  deadLetter: { maxReceiveCount: number } | { maxTimeToLive: number } | null;
  /** Whether the dead-letter queue exists from the start; if not, moves fail until it is created. */
  dlqExists: boolean;
  /** A FIFO queue: every message has a group and a deduplication id. */
  fifo: boolean;
}

/** Picks a handle: one of a message currently received (its latest), any handle ever issued, a made-up one, or the previous pick again. */
type Pick = { kind: "latest"; k: number } | { kind: "issued"; k: number } | { kind: "bogus"; k: number } | { kind: "again" };

type Command =
  | {
      t: "send";
      batch: boolean;
      messages: Array<{
        size: "small" | "max" | "over";
        delay: number | "past-retention";
        tags: string[];
        attributes: AttributeChoice;
        /** The FIFO group (a FIFO queue puts a message without one in "a"), or the tenant. */
        group: string | undefined;
        /** A FIFO queue's deduplication id, from a small set so that duplicates occur. */
        dedup: number;
      }>;
    }
  | { t: "receive"; max: number; visibilityTimeout: number | undefined }
  | { t: "delete"; picks: Pick[] }
  | { t: "visibility"; pick: Pick; seconds: number }
  | { t: "purge" }
  | { t: "rewind"; backMs: number; outside: "none" | "before" | "future" }
  | { t: "advance"; ms: number }
  | { t: "due" }
  | { t: "evict"; which: "source" | "dlq" }
  | { t: "abort" }
  | { t: "crash-during-due"; afterMs: number }
  | { t: "create-dlq" }
  | { t: "update"; patch: AttributePatch }
  | SocketCommand;

interface AttributePatch {
  visibilityTimeout?: number;
  msgRetentionSeconds?: number;
  rewindSeconds?: number;
  maxMsgHeapNum?: number;
  deadLetter?: Config["deadLetter"];
}

type State = "waiting" | "received" | "deleted" | "moving";

/** Attribute sets a send may carry; they count toward the size limit and travel with every move. */
const AttributeChoices = {
  none: undefined,
  typed: { color: { type: "String", value: "红" }, count: { type: "Number.int", value: "-7" } },
  binary: { raw: { type: "Binary.bytes", value: "AAECAw==" } },
} as const satisfies Record<string, OutgoingMessage["attributes"]>;
type AttributeChoice = keyof typeof AttributeChoices;

/** The model's own count of what attributes weigh: UTF-8 bytes of name, type and value (Binary decoded). */
function modelAttributeBytes(attributes: OutgoingMessage["attributes"]): number {
  const utf8 = (text: string) => new TextEncoder().encode(text).byteLength;
  return Object.entries(attributes ?? {}).reduce(
    (sum, [name, { type, value }]) => sum + utf8(name) + utf8(type) + (type.startsWith("Binary") ? atob(value).length : utf8(value)),
    0,
  );
}

/** Who the model's sends come from. */
const ModelSender = "AKIDmodel";

interface ModelMessage {
  seq: number;
  id: string;
  body: string;
  tags: string[];
  attributes: NonNullable<OutgoingMessage["attributes"]>;
  enqueuedAt: number;
  visibleAt: number;
  state: State;
  receiveCount: number;
  firstReceivedAt: number | null;
  handle: string | null;
  group: string | undefined;
  dedupId: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Generators

const configArb: fc.Arbitrary<Config> = fc
  .record({
    visibilityTimeout: fc.integer({ min: 1, max: 30 }),
    msgRetentionSeconds: fc.integer({ min: 60, max: 900 }),
    rewindFraction: fc.option(fc.double({ min: 0.2, max: 1, noNaN: true }), { freq: 2 }),
    maxMsgHeapNum: fc.oneof(
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) },
      { weight: 3, arbitrary: fc.integer({ min: 20, max: 60 }) },
      // Room for a flood of one tenant and the others' messages.
      { weight: 1, arbitrary: fc.integer({ min: 80, max: 120 }) },
    ),
    deadLetter: fc.oneof(
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 3, arbitrary: fc.record({ maxReceiveCount: fc.integer({ min: 1, max: 3 }) }) },
      { weight: 1, arbitrary: fc.record({ maxTimeToLive: fc.integer({ min: 300, max: 400 }) }) },
    ),
    dlqExists: fc.boolean().chain((exists) => (exists ? fc.constant(true) : fc.boolean())),
    fifo: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .map(({ rewindFraction, ...rest }) => {
    const retention =
      rest.deadLetter && "maxTimeToLive" in rest.deadLetter
        ? Math.max(rest.msgRetentionSeconds, rest.deadLetter.maxTimeToLive + 60)
        : rest.msgRetentionSeconds;
    return {
      ...rest,
      msgRetentionSeconds: retention,
      rewindSeconds: rewindFraction === null ? 0 : Math.max(1, Math.floor(rewindFraction * retention)),
      dlqExists: rest.deadLetter === null ? true : rest.dlqExists,
    };
  });

const pickArb: fc.Arbitrary<Pick> = fc.oneof(
  { weight: 8, arbitrary: fc.nat(50).map((k) => ({ kind: "latest" as const, k })) },
  { weight: 3, arbitrary: fc.nat(200).map((k) => ({ kind: "issued" as const, k })) },
  { weight: 1, arbitrary: fc.nat(4).map((k) => ({ kind: "bogus" as const, k })) },
  { weight: 1, arbitrary: fc.constant({ kind: "again" as const }) },
);

const messageArb = fc.record({
  size: fc.oneof(
    { weight: 40, arbitrary: fc.constant<"small">("small") },
    { weight: 1, arbitrary: fc.constant<"max">("max") },
    { weight: 1, arbitrary: fc.constant<"over">("over") },
  ),
  delay: fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 90 }) },
    { weight: 1, arbitrary: fc.constant<"past-retention">("past-retention") },
  ),
  tags: fc.array(fc.constantFrom("red", "blue", "日本"), { maxLength: 2 }),
  attributes: fc.oneof(
    { weight: 4, arbitrary: fc.constant<AttributeChoice>("none") },
    { weight: 1, arbitrary: fc.constantFrom<AttributeChoice>("typed", "binary") },
  ),
  // One tenant far more frequent than the others, so that it becomes noisy.
  group: fc.oneof(
    { weight: 6, arbitrary: fc.constant<string | undefined>("a") },
    { weight: 2, arbitrary: fc.constantFrom<string | undefined>("b", "c") },
    { weight: 2, arbitrary: fc.constant<string | undefined>(undefined) },
  ),
  dedup: fc.nat(11),
});

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: messageArb.map((message) => ({ t: "send" as const, batch: false, messages: [message] })) },
  { weight: 3, arbitrary: fc.array(messageArb, { minLength: 1, maxLength: 16 }).map((messages) => ({ t: "send" as const, batch: true, messages })) },
  { weight: 1, arbitrary: fc.constant({ t: "receive" as const, max: 16, visibilityTimeout: 90 }) },
  {
    weight: 10,
    arbitrary: fc.record({
      t: fc.constant("receive" as const),
      max: fc.integer({ min: 1, max: 16 }),
      visibilityTimeout: fc.option(fc.integer({ min: 1, max: 90 }), { nil: undefined }),
    }),
  },
  { weight: 6, arbitrary: fc.array(pickArb, { minLength: 1, maxLength: 4 }).map((picks) => ({ t: "delete" as const, picks })) },
  { weight: 1, arbitrary: fc.array(pickArb, { minLength: 5, maxLength: 16 }).map((picks) => ({ t: "delete" as const, picks })) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("visibility" as const),
      pick: pickArb,
      seconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120 })),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "purge" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("rewind" as const),
      backMs: fc.nat(1_000_000),
      outside: fc.constantFrom<"none" | "before" | "future">("none", "none", "none", "before", "future"),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
      { weight: 3, arbitrary: fc.integer({ min: 1_000, max: 95_000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 500_000 }) },
    ).map((ms) => ({ t: "advance" as const, ms })),
  },
  { weight: 7, arbitrary: fc.constant({ t: "due" as const }) },
  { weight: 2, arbitrary: fc.constantFrom<"source" | "dlq">("source", "source", "dlq").map((which) => ({ t: "evict" as const, which })) },
  { weight: 1, arbitrary: fc.constant({ t: "abort" as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("crash-during-due" as const),
      afterMs: fc.constantFrom(0, 0, 1, 2, 3, 5, 10),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "create-dlq" as const }) },
  {
    weight: 2,
    arbitrary: fc
      .record(
        {
          visibilityTimeout: fc.integer({ min: 1, max: 30 }),
          msgRetentionSeconds: fc.integer({ min: 60, max: 900 }),
          rewindSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_000 })),
          maxMsgHeapNum: fc.integer({ min: 1, max: 60 }),
          deadLetter: fc.oneof(
            fc.constant(null),
            fc.record({ maxReceiveCount: fc.integer({ min: 1, max: 3 }) }),
            fc.record({ maxTimeToLive: fc.integer({ min: 300, max: 400 }) }),
          ),
        },
        { requiredKeys: [] },
      )
      .map((patch) => ({ t: "update" as const, patch })),
  },
  ...socketCommandArbs,
);

/**
 * A flood from one tenant (one FIFO group) kept in flight, then a quiet tenant's message and a
 * receive: on a standard queue with room for it, tenant "a" is noisy by then and the quiet message
 * comes first.
 */
const floodArb: fc.Arbitrary<Command[]> = fc.nat(40).map((dedup) => {
  const flood = (offset: number): Command => ({
    t: "send",
    batch: true,
    messages: Array.from({ length: 16 }, (_, index) => ({ size: "small", delay: 0, tags: [], attributes: "none", group: "a", dedup: dedup + offset + index })),
  });
  return [
    flood(0),
    flood(16),
    { t: "receive", max: 16, visibilityTimeout: 90 },
    { t: "receive", max: 16, visibilityTimeout: 90 },
    { t: "send", batch: false, messages: [{ size: "small", delay: 0, tags: [], attributes: "none", group: "b", dedup: 99 }] },
    { t: "receive", max: 4, visibilityTimeout: undefined },
  ];
});

/** Sequences of commands, floods among them. */
const commandsArb: fc.Arbitrary<Command[]> = fc
  .array(fc.oneof({ weight: 30, arbitrary: commandArb.map((command) => [command]) }, { weight: 1, arbitrary: floodArb }), { minLength: 1, maxLength: 50, size: "max" })
  .map((groups) => groups.flat());

/** What the sequences exercised, printed at the end so that a weak generator shows. */
const tally = {
  sequences: 0,
  commands: 0,
  sent: 0,
  received: 0,
  redelivered: 0,
  deleted: 0,
  handlesRefused: 0,
  visibilityChanged: 0,
  queueFull: 0,
  tooLarge: 0,
  purged: 0,
  rewound: 0,
  deadLettered: 0,
  moveRetries: 0,
  evictions: 0,
  aborts: 0,
  crashes: 0,
  cutHandOvers: 0,
  rolledBack: 0,
  updates: 0,
  fifoSequences: 0,
  duplicates: 0,
  groupsHeldBack: 0,
  fairReceives: 0,
  socketReceived: 0,
  socketSettled: 0,
};

// ---------------------------------------------------------------------------------------------
// The reference model

class QueueModel {
  messages: ModelMessage[] = [];
  /** Every handle a receive issued, in order. */
  issued: string[] = [];
  /** Messages the dead-letter queue must hold once each, by id; `maybe` ones may be there already (a hand-over cut by a crash). */
  dlqDefinite = new Map<string, { body: string; tags: string[]; attributes: ModelMessage["attributes"]; copies: number }>();
  dlqMaybe = new Set<string>();
  dlqExists: boolean;
  dedup = new DedupModel();
  private nextSeq = 1;
  private bodyCounter = 0;

  constructor(
    readonly name: string,
    public config: Config,
  ) {
    this.dlqExists = config.dlqExists;
  }

  clone(): QueueModel {
    const copy = new QueueModel(this.name, this.config);
    copy.messages = this.messages.map((m) => ({ ...m, tags: [...m.tags] }));
    copy.issued = [...this.issued];
    copy.dlqDefinite = new Map([...this.dlqDefinite].map(([id, entry]) => [id, { ...entry }]));
    copy.dlqMaybe = new Set(this.dlqMaybe);
    copy.dlqExists = this.dlqExists;
    copy.dedup = this.dedup.clone();
    copy.nextSeq = this.nextSeq;
    copy.bodyCounter = this.bodyCounter;
    return copy;
  }

  body(size: "small" | "max" | "over"): string {
    const n = ++this.bodyCounter;
    if (size === "small") return `m${n}`;
    // Two-byte characters, so that sizes are counted in UTF-8 bytes, not characters.
    const prefix = `m${n}-`;
    const target = size === "max" ? MaxMsgSize : MaxMsgSize + 1;
    const room = target - prefix.length;
    return prefix + "é".repeat(Math.floor(room / 2)) + "x".repeat(room % 2);
  }

  stored(): ModelMessage[] {
    return this.messages.filter((m) => m.state === "waiting" || m.state === "received");
  }

  claimable(m: ModelMessage, nowMs: number): boolean {
    if (m.state !== "waiting" && m.state !== "received") return false;
    if (m.visibleAt > nowMs) return false;
    const dl = this.config.deadLetter;
    if (dl && "maxReceiveCount" in dl) return m.receiveCount < dl.maxReceiveCount;
    if (dl && "maxTimeToLive" in dl) return m.enqueuedAt > nowMs - dl.maxTimeToLive * 1000;
    return true;
  }

  /** The attributes after a change, or the error that refuses it (rules between attributes). */
  update(patch: AttributePatch): string | null {
    const merged: Config = { ...this.config };
    for (const [key, value] of Object.entries(patch)) if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
    if (merged.rewindSeconds > merged.msgRetentionSeconds) return "InvalidParameter";
    if (merged.deadLetter && "maxTimeToLive" in merged.deadLetter && merged.deadLetter.maxTimeToLive >= merged.msgRetentionSeconds) {
      return "InvalidParameter";
    }
    this.config = merged;
    return null;
  }

  /** The error a send must meet, or null. */
  sendError(messages: OutgoingMessage[], nowMs: number): string | null {
    for (const message of messages) {
      // A FIFO queue's messages have no delay of their own.
      if (this.config.fifo && message.delaySeconds !== undefined) return "InvalidParameter";
      if (new TextEncoder().encode(message.body).byteLength + modelAttributeBytes(message.attributes) > MaxMsgSize) return "MessageTooLarge";
      // A delayed message stays receivable at least 60 s before retention purges it.
      if ((message.delaySeconds ?? 0) > this.config.msgRetentionSeconds - 60) return "InvalidParameter";
    }
    // Duplicates already stored (not those inside the batch) take no room.
    const fresh = messages.filter((message) => !this.config.fifo || this.dedup.find(message.deduplicationId!, nowMs) === null).length;
    if (this.stored().length + fresh > this.config.maxMsgHeapNum) return "QueueFull";
    return null;
  }

  /** Stores a batch with the ids the engine gave the new messages; answers the ids and sequence numbers a send answers. */
  send(messages: OutgoingMessage[], answered: Array<{ id: string; sequenceNumber?: string }>, nowMs: number): Array<{ id: string; sequenceNumber?: string }> {
    return messages.map((message, i) => {
      if (this.config.fifo) {
        const duplicate = this.dedup.find(message.deduplicationId!, nowMs);
        if (duplicate) {
          tally.duplicates++;
          return { id: duplicate.id, sequenceNumber: sequenceNumberOf(duplicate.seq) };
        }
      }
      const seq = this.nextSeq++;
      const id = answered[i]!.id;
      if (this.config.fifo) this.dedup.remember(message.deduplicationId!, id, seq, nowMs);
      this.messages.push({
        seq,
        id,
        body: message.body,
        tags: message.tags ?? [],
        attributes: message.attributes ?? {},
        enqueuedAt: nowMs,
        visibleAt: nowMs + (message.delaySeconds ?? 0) * 1000,
        state: "waiting",
        receiveCount: 0,
        firstReceivedAt: null,
        handle: null,
        group: message.groupId,
        dedupId: this.config.fifo ? message.deduplicationId : undefined,
      });
      return this.config.fifo ? { id, sequenceNumber: sequenceNumberOf(seq) } : { id };
    });
  }

  claim(max: number, visibilityTimeout: number | undefined, nowMs: number): ModelMessage[] {
    const claimable = (m: ModelMessage) => this.claimable(m, nowMs);
    let chosen: ModelMessage[];
    if (this.config.fifo) {
      chosen = fifoClaim(this.messages, max, nowMs, claimable);
      const plain = this.messages.filter(claimable).length;
      if (chosen.length < Math.min(max, plain)) tally.groupsHeldBack++;
    } else {
      const fair = fairClaim(this.messages, max, nowMs, claimable);
      if (fair.fair) tally.fairReceives++;
      chosen = fair.chosen;
    }
    for (const m of chosen) {
      m.state = "received";
      m.receiveCount++;
      m.firstReceivedAt ??= nowMs;
      m.visibleAt = nowMs + (visibilityTimeout ?? this.config.visibilityTimeout) * 1000;
    }
    return chosen;
  }

  /** The message a handle deletes or changes now, if it is valid. */
  holderOf(handle: string, nowMs: number): ModelMessage | undefined {
    return this.messages.find((m) => m.state === "received" && m.handle === handle && m.visibleAt > nowMs);
  }

  retire(m: ModelMessage): void {
    if (this.config.rewindSeconds > 0) {
      m.state = "deleted";
      m.handle = null;
    } else {
      this.messages = this.messages.filter((other) => other !== m);
    }
  }

  purge(): number {
    const purged = this.stored().length;
    this.messages = this.messages.filter((m) => m.state === "moving");
    return purged;
  }

  rewind(sinceMs: number, nowMs: number): number {
    let rewound = 0;
    for (const m of this.messages) {
      if (m.state === "deleted" && m.enqueuedAt >= sinceMs) {
        m.state = "waiting";
        m.visibleAt = nowMs;
        m.receiveCount = 0;
        m.firstReceivedAt = null;
        m.handle = null;
        rewound++;
      }
    }
    return rewound;
  }

  /** The synchronous first half of due work: retention and rewind expiry, then marking due dead-letter moves. */
  expireAndMark(nowMs: number): ModelMessage[] {
    const { msgRetentionSeconds, rewindSeconds, deadLetter } = this.config;
    this.messages = this.messages.filter((m) => {
      if (m.state === "waiting" || m.state === "received") return m.enqueuedAt > nowMs - msgRetentionSeconds * 1000;
      if (m.state === "deleted") return m.enqueuedAt > nowMs - rewindSeconds * 1000;
      return true;
    });
    if (deadLetter) {
      for (const m of this.messages) {
        const due =
          "maxReceiveCount" in deadLetter
            ? m.state === "received" && m.visibleAt <= nowMs && m.receiveCount >= deadLetter.maxReceiveCount
            : (m.state === "waiting" || m.state === "received") &&
              m.visibleAt <= nowMs &&
              m.enqueuedAt <= nowMs - deadLetter.maxTimeToLive * 1000;
        if (due) {
          m.state = "moving";
          m.handle = null;
        }
      }
    }
    return this.messages.filter((m) => m.state === "moving" && m.visibleAt <= nowMs);
  }

  moved(m: ModelMessage): void {
    tally.deadLettered++;
    this.dlqMaybe.delete(m.id);
    const entry = this.dlqDefinite.get(m.id);
    if (entry) entry.copies++;
    else this.dlqDefinite.set(m.id, { body: m.body, tags: m.tags, attributes: m.attributes, copies: 1 });
    if (this.config.rewindSeconds > 0) m.state = "deleted";
    else this.messages = this.messages.filter((other) => other !== m);
  }

  /** Due work as runDue does it: expiry, then every pending hand-over, each succeeding or retried later. */
  runDue(nowMs: number): void {
    for (const m of this.expireAndMark(nowMs)) {
      if (this.dlqExists) this.moved(m);
      else {
        m.visibleAt = nowMs + MoveRetryDelayMs;
        tally.moveRetries++;
      }
    }
  }

  counts(nowMs: number): QueueCounts {
    let active = 0;
    let inactive = 0;
    let delayed = 0;
    let rewindable = 0;
    for (const m of this.messages) {
      if (m.state === "deleted") rewindable++;
      else if (m.state === "moving") inactive++;
      else if (m.visibleAt <= nowMs) active++;
      else if (m.state === "received") inactive++;
      else delayed++;
    }
    return { active, inactive, delayed, total: active + inactive + delayed, rewindable };
  }

  peek(nowMs: number): PeekedMessage[] {
    return this.messages
      .filter((m) => m.state !== "deleted")
      .map((m) => ({
        id: m.id,
        body: m.body,
        tags: m.tags,
        state: m.state === "moving" ? "inactive" : m.visibleAt <= nowMs ? "active" : m.state === "waiting" ? "delayed" : "inactive",
        enqueuedAt: m.enqueuedAt,
        firstReceivedAt: m.firstReceivedAt,
        receiveCount: m.receiveCount,
        nextVisibleAt: m.visibleAt,
        attributes: m.attributes,
        senderId: ModelSender,
        ...this.groupFields(m),
      }));
  }

  /** The group, deduplication id and sequence number a message shows. */
  groupFields(m: ModelMessage): { groupId?: string; deduplicationId?: string; sequenceNumber?: string } {
    return {
      ...(m.group !== undefined ? { groupId: m.group } : {}),
      ...(this.config.fifo ? { deduplicationId: m.dedupId, sequenceNumber: sequenceNumberOf(m.seq) } : {}),
    };
  }

  /** The earliest moment work is due (an alarm must be set no later), or null. */
  nextDeadline(nowMs: number): number | null {
    const { msgRetentionSeconds, rewindSeconds, deadLetter } = this.config;
    const candidates: number[] = [];
    for (const m of this.messages) {
      if (m.state === "waiting" || m.state === "received") {
        candidates.push(m.enqueuedAt + msgRetentionSeconds * 1000);
        if (deadLetter && "maxReceiveCount" in deadLetter && m.state === "received" && m.receiveCount >= deadLetter.maxReceiveCount) {
          candidates.push(m.visibleAt);
        }
        if (deadLetter && "maxTimeToLive" in deadLetter) {
          candidates.push(Math.max(m.visibleAt, m.enqueuedAt + deadLetter.maxTimeToLive * 1000));
        }
      } else if (m.state === "deleted") {
        candidates.push(m.enqueuedAt + rewindSeconds * 1000);
      } else {
        candidates.push(m.visibleAt);
      }
    }
    return candidates.length > 0 ? Math.max(nowMs, Math.min(...candidates)) : null;
  }
}

// ---------------------------------------------------------------------------------------------
// Running a sequence

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string };

interface Observation<T> {
  outcome: Outcome<T>;
  counts: QueueCounts;
  peek: PeekedMessage[];
  alarm: number | null;
}

/** Runs `operation` on the engine inside the source queue's object, then reads counts, messages and alarm there. */
function observe<T>(name: string, nowMs: number, operation: (object: QueueObject) => T | Promise<T>): Promise<Observation<T>> {
  return runInDurableObject(queueStub(name), async (object: QueueObject, state) => {
    let outcome: Outcome<T>;
    try {
      outcome = { ok: true, value: await operation(object) };
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      outcome = { ok: false, code: error.code };
    }
    const peek: PeekedMessage[] = [];
    for (let after = 0; ; ) {
      const page = object.engine.peek(100, after, nowMs);
      peek.push(...page.messages);
      if (page.nextCursor === null) break;
      after = Number(page.nextCursor);
    }
    return { outcome, counts: object.engine.info(nowMs).counts, peek, alarm: await state.storage.getAlarm() };
  });
}

async function dlqContents(dlq: string): Promise<PeekedMessage[] | null> {
  return runInDurableObject(queueStub(dlq), (object: QueueObject) => {
    if (!object.engine.meta) return null;
    const all: PeekedMessage[] = [];
    for (let after = 0; ; ) {
      const page = object.engine.peek(100, after, Date.now() + 365 * DayMs);
      all.push(...page.messages);
      if (page.nextCursor === null) return all;
      after = Number(page.nextCursor);
    }
  });
}

async function createObjectQueue(name: string, input: CreateQueueBody): Promise<void> {
  if (name.endsWith(".fifo")) input = { ...input, fifo: true };
  const result = await queueStub(name).create(name, Prefix, defaultQueueAttributes(input));
  if (!result.ok) throw new Error(`create ${name}: ${result.error.code}`);
}

function describeCommand(command: Command): string {
  return JSON.stringify(command);
}

async function runSequence(config: Config, commands: Command[]): Promise<void> {
  tally.sequences++;
  tally.commands += commands.length;
  // A FIFO queue's dead-letter queue is a FIFO queue; names tell them apart, as the service requires.
  const suffix = config.fifo ? ".fifo" : "";
  const source = `${uniqueName("qm")}${suffix}`;
  const dlq = `${uniqueName("qmdlq")}${suffix}`;
  if (config.fifo) tally.fifoSequences++;
  let model = new QueueModel(source, config);
  const log: string[] = [];
  let nowMs = Date.now() + 10 * DayMs;

  if (model.dlqExists) await createObjectQueue(dlq, {});
  await createObjectQueue(source, {
    visibilityTimeout: config.visibilityTimeout,
    msgRetentionSeconds: config.msgRetentionSeconds,
    rewindSeconds: config.rewindSeconds,
    maxMsgHeapNum: config.maxMsgHeapNum,
    maxMsgSize: MaxMsgSize,
    ...(config.deadLetter ? { deadLetter: { queue: dlq, ...config.deadLetter } } : {}),
  });

  const check = (observation: Observation<unknown>, where: string) => {
    expect(observation.counts, `counts after ${where}`).toEqual(model.counts(nowMs));
    expect(observation.peek, `messages after ${where}`).toEqual(model.peek(nowMs));
  };

  const checkDlq = async (where: string) => {
    const contents = await dlqContents(dlq);
    if (!model.dlqExists) {
      expect(contents, `dead-letter queue after ${where}`).toBeNull();
      return;
    }
    const seen = new Map<string, number>();
    for (const message of contents ?? []) {
      seen.set(message.id, (seen.get(message.id) ?? 0) + 1);
      const expected = model.dlqDefinite.get(message.id);
      expect(message.sourceQueue, `source of dead letter ${message.id}`).toBe(source);
      if (expected) {
        expect({ body: message.body, tags: message.tags, attributes: message.attributes, senderId: message.senderId }, `dead letter ${message.id}`).toEqual({
          body: expected.body,
          tags: expected.tags,
          attributes: expected.attributes,
          senderId: ModelSender,
        });
      }
      else expect(model.dlqMaybe.has(message.id), `unexpected dead letter ${message.id} after ${where}`).toBe(true);
    }
    for (const [id, { copies }] of model.dlqDefinite) {
      expect(seen.get(id) ?? 0, `copies of dead letter ${id} after ${where}`).toBe(copies);
    }
    for (const id of model.dlqMaybe) expect(seen.get(id) ?? 0, `copies of dead letter ${id} after ${where}`).toBeLessThanOrEqual(1);
  };

  const resolve = (pick: Pick, previous: string | undefined): string => {
    switch (pick.kind) {
      case "latest": {
        const holders = model.messages.filter((m) => m.handle !== null && m.state === "received" && m.visibleAt > nowMs);
        if (holders.length === 0) return model.issued[pick.k % Math.max(1, model.issued.length)] ?? `1-${"0".repeat(32)}`;
        return holders[pick.k % holders.length]!.handle!;
      }
      case "issued":
        return model.issued.length > 0 ? model.issued[pick.k % model.issued.length]! : `1-${"a".repeat(32)}`;
      case "again":
        return previous ?? `zz-${"0".repeat(32)}`;
      case "bogus":
        return ["nonsense", `zz-${"0".repeat(32)}`, `1-${"A".repeat(32)}`, "", `${"z".repeat(12)}-${"0".repeat(32)}`][pick.k % 5]!;
    }
  };

  for (const command of commands) {
    const where = `${describeCommand(command)} at step ${log.length} (t+${nowMs})`;
    log.push(describeCommand(command));
    switch (command.t) {
      case "send": {
        const fifo = model.config.fifo;
        const messages: OutgoingMessage[] = command.messages.map((m) => ({
          body: model.body(m.size),
          // On a FIFO queue only the refused case carries a delay of its own.
          ...(m.delay === "past-retention" ? { delaySeconds: model.config.msgRetentionSeconds + 1 } : m.delay > 0 && !fifo ? { delaySeconds: m.delay } : {}),
          ...(m.tags.length > 0 ? { tags: m.tags } : {}),
          ...(AttributeChoices[m.attributes] ? { attributes: AttributeChoices[m.attributes] } : {}),
          ...(fifo ? { groupId: m.group ?? "a", deduplicationId: `d${m.dedup}` } : m.group !== undefined ? { groupId: m.group } : {}),
        }));
        const expectedError = model.sendError(messages, nowMs);
        const observation = await observe(source, nowMs, (o) => o.engine.send(messages, nowMs, ModelSender).value.messages);
        if (expectedError) {
          if (expectedError === "QueueFull") tally.queueFull++;
          if (expectedError === "MessageTooLarge") tally.tooLarge++;
          expect(observation.outcome, where).toEqual({ ok: false, code: expectedError });
        } else {
          expect(observation.outcome.ok, `${where}: ${JSON.stringify(observation.outcome)}`).toBe(true);
          const answered = (observation.outcome as { value: Array<{ id: string; sequenceNumber?: string }> }).value;
          const expected = model.send(messages, answered, nowMs);
          // New messages get fresh ids; a duplicate answers the first message's id and sequence number.
          expect(answered, `answer to ${where}`).toEqual(expected);
          expect(new Set(answered.map((m) => m.id)).size).toBe(new Set(expected.map((m) => m.id)).size);
          tally.sent += answered.length;
        }
        check(observation, where);
        break;
      }
      case "receive": {
        const expected = model.claim(command.max, command.visibilityTimeout, nowMs);
        const observation = await observe(source, nowMs, (o) => o.engine.claim(command.max, command.visibilityTimeout, nowMs).value);
        expect(observation.outcome.ok, where).toBe(true);
        const received = (observation.outcome as { value: ReceivedMessage[] }).value;
        expect(
          received.map((m) => ({ id: m.id, body: m.body, tags: m.tags, attributes: m.attributes, senderId: m.senderId, receiveCount: m.receiveCount, firstReceivedAt: m.firstReceivedAt, nextVisibleAt: m.nextVisibleAt, enqueuedAt: m.enqueuedAt, groupId: m.groupId, deduplicationId: m.deduplicationId, sequenceNumber: m.sequenceNumber })),
          `received by ${where}`,
        ).toEqual(
          expected.map((m) => ({ id: m.id, body: m.body, tags: m.tags, attributes: m.attributes, senderId: ModelSender, receiveCount: m.receiveCount, firstReceivedAt: m.firstReceivedAt, nextVisibleAt: m.visibleAt, enqueuedAt: m.enqueuedAt, ...model.groupFields(m) })),
        );
        tally.received += received.length;
        tally.redelivered += received.filter((m) => m.receiveCount > 1).length;
        received.forEach((message, i) => {
          expect(model.issued.includes(message.receiptHandle), `a fresh receipt handle from ${where}`).toBe(false);
          expected[i]!.handle = message.receiptHandle;
          model.issued.push(message.receiptHandle);
        });
        check(observation, where);
        break;
      }
      case "delete": {
        const handles: string[] = [];
        for (const pick of command.picks) handles.push(resolve(pick, handles.at(-1)));
        const expected: DeleteResult[] = handles.map((handle) => {
          const holder = model.holderOf(handle, nowMs);
          if (!holder) return { receiptHandle: handle, deleted: false, error: { code: "ReceiptHandleInvalid", message: "" } };
          model.retire(holder);
          return { receiptHandle: handle, deleted: true };
        });
        const observation = await observe(source, nowMs, (o) => o.engine.deleteMessages(handles, nowMs).value);
        expect(observation.outcome.ok, where).toBe(true);
        const results = (observation.outcome as { value: DeleteResult[] }).value;
        tally.deleted += results.filter((r) => r.deleted).length;
        tally.handlesRefused += results.filter((r) => !r.deleted).length;
        expect(
          results.map((r) => ({ ...r, error: r.error ? { code: r.error.code, message: "" } : undefined })),
          `results of ${where}`,
        ).toEqual(expected.map((r) => ({ ...r, error: r.error })));
        check(observation, where);
        break;
      }
      case "visibility": {
        const handle = resolve(command.pick, undefined);
        const holder = model.holderOf(handle, nowMs);
        const observation = await observe(source, nowMs, (o) => o.engine.changeVisibility(handle, command.seconds, nowMs).value);
        if (holder) {
          holder.visibleAt = nowMs + command.seconds * 1000;
          tally.visibilityChanged++;
          expect(observation.outcome, where).toEqual({ ok: true, value: { nextVisibleAt: holder.visibleAt } });
        } else {
          expect(observation.outcome, where).toEqual({ ok: false, code: "ReceiptHandleInvalid" });
        }
        check(observation, where);
        break;
      }
      case "purge": {
        const purged = model.purge();
        tally.purged += purged;
        const observation = await observe(source, nowMs, (o) => o.engine.purge().value);
        expect(observation.outcome, where).toEqual({ ok: true, value: { purged } });
        check(observation, where);
        break;
      }
      case "rewind": {
        const windowMs = model.config.rewindSeconds * 1000;
        const sinceMs =
          command.outside === "future"
            ? nowMs + 1 + (command.backMs % 1000)
            : command.outside === "before"
              ? nowMs - windowMs - 1 - (command.backMs % 1000)
              : nowMs - (windowMs === 0 ? 0 : command.backMs % (windowMs + 1));
        const observation = await observe(source, nowMs, (o) => o.engine.rewind(sinceMs, nowMs).value);
        if (model.config.rewindSeconds === 0) {
          expect(observation.outcome, where).toEqual({ ok: false, code: "RewindNotEnabled" });
        } else if (command.outside !== "none") {
          expect(observation.outcome, where).toEqual({ ok: false, code: "InvalidRewindTime" });
        } else {
          const rewound = model.rewind(sinceMs, nowMs);
          tally.rewound += rewound;
          expect(observation.outcome, where).toEqual({ ok: true, value: { rewound } });
        }
        check(observation, where);
        break;
      }
      case "advance": {
        nowMs += command.ms;
        check(await observe(source, nowMs, () => null), where);
        break;
      }
      case "due": {
        model.runDue(nowMs);
        const observation = await observe(source, nowMs, (o) => o.runDue(nowMs));
        check(observation, where);
        const next = model.nextDeadline(nowMs);
        if (next !== null) {
          expect(observation.alarm, `an alarm after ${where}`).not.toBeNull();
          expect(observation.alarm!, `the alarm after ${where}`).toBeLessThanOrEqual(next);
        }
        await checkDlq(where);
        break;
      }
      case "evict": {
        const stub = queueStub(command.which === "source" ? source : dlq);
        await stub.getInfo();
        await evictDurableObject(stub);
        tally.evictions++;
        check(await observe(source, nowMs, () => null), where);
        break;
      }
      case "abort": {
        await abortAllDurableObjects();
        tally.aborts++;
        check(await observe(source, nowMs, () => null), where);
        break;
      }
      case "crash-during-due": {
        // Due work starts, and every object is aborted while its hand-overs may be in flight: each
        // due move is then done, or still marked moving (and done by the next due run), never lost or doubled.
        const before = model.clone();
        const due = model.expireAndMark(nowMs);
        tally.crashes++;
        // Every object is aborted `afterMs` after due work started, while the call that started it
        // is still open: before its first writes were committed, or with a hand-over in flight, or after.
        const call = runInDurableObject(queueStub(source), async (object: QueueObject) => {
          void object.runDue(nowMs).catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, command.afterMs));
        await abortAllDurableObjects();
        await call;
        const rows = await runInDurableObject(queueStub(source), (_object: QueueObject, state) =>
          state.storage.sql.exec<{ id: string; state: number; visible_at: number }>("SELECT id, state, visible_at FROM messages").toArray(),
        );
        // Cut before its first writes were committed, due work left no trace: the queue is as before.
        const stateOf = new Map(rows.map((row) => [row.id, row.state]));
        const expired = before.messages.filter((m) => !model.messages.some((kept) => kept.id === m.id));
        const rolledBack =
          due.some((m) => (stateOf.get(m.id) === 0 || stateOf.get(m.id) === 1) && before.messages.find((b) => b.id === m.id)?.state !== "moving") ||
          expired.some((m) => stateOf.has(m.id));
        if (rolledBack) {
          tally.rolledBack++;
          model = before;
          check(await observe(source, nowMs, () => null), `${where} (rolled back)`);
          await checkDlq(`${where} (rolled back)`);
          break;
        }
        const movingIds = new Map(rows.filter((row) => row.state === 3).map((row) => [row.id, row.visible_at]));
        for (const m of model.messages.filter((each) => each.state === "moving")) {
          if (!movingIds.has(m.id)) {
            expect(due.includes(m) && model.dlqExists, `${m.id} left the moving state in ${where}`).toBe(true);
            model.moved(m);
          } else {
            const visibleAt = movingIds.get(m.id)!;
            if (due.includes(m)) {
              // Not yet handed over, or handed over and the outcome not recorded, or failed (retried 30 s later).
              // (A failure is also possible with the dead-letter queue present: the abort may cut its accept.)
              expect([m.visibleAt, nowMs + MoveRetryDelayMs], `retry time of ${m.id} in ${where}`).toContain(visibleAt);
              m.visibleAt = visibleAt;
              tally.cutHandOvers++;
              if (model.dlqExists) model.dlqMaybe.add(m.id);
            } else {
              expect(visibleAt, `retry time of ${m.id} in ${where}`).toBe(m.visibleAt);
            }
          }
        }
        for (const id of movingIds.keys()) {
          expect(model.messages.some((m) => m.id === id && m.state === "moving"), `${id} marked moving in ${where}`).toBe(true);
        }
        check(await observe(source, nowMs, () => null), where);
        await checkDlq(where);
        break;
      }
      case "update": {
        const { deadLetter, ...rest } = command.patch;
        const patch: UpdateQueueBody = {
          ...rest,
          ...(deadLetter !== undefined ? { deadLetter: deadLetter === null ? null : { queue: dlq, ...deadLetter } } : {}),
        };
        const expectedError = model.update(command.patch);
        const observation = await observe(source, nowMs, (o) => {
          o.engine.updateAttributes(mergeQueueAttributes(o.engine.requireMeta().attributes, patch), nowMs).value;
          return null;
        });
        expect(observation.outcome, where).toEqual(expectedError ? { ok: false, code: expectedError } : { ok: true, value: null });
        if (!expectedError) tally.updates++;
        check(observation, where);
        break;
      }
      case "socket-receive": {
        // Pushed over a live socket: the same claim as a receive, in batches of its turns (a lone
        // socket takes turn after turn until its credit or the claimable messages run out).
        const expected: ModelMessage[] = [];
        for (let credit = command.credit; credit > 0; ) {
          const turn = model.claim(Math.min(credit, LiveLimits.pushBatchMax), undefined, nowMs);
          if (turn.length === 0) break;
          expected.push(...turn);
          credit -= turn.length;
        }
        const pushed = await socketReceive(source, nowMs, command.credit);
        const byId = new Map(expected.map((m) => [m.id, m]));
        expect(pushed.map((m) => m.id).sort(), `pushed by ${where}`).toEqual([...byId.keys()].sort());
        for (const message of pushed) {
          const m = byId.get(message.id)!;
          expect([message.receiveCount, message.nextVisibleAt], `pushed ${message.id} by ${where}`).toEqual([m.receiveCount, m.visibleAt]);
          expect(model.issued.includes(message.receiptHandle), `a fresh receipt handle from ${where}`).toBe(false);
          m.handle = message.receiptHandle;
          model.issued.push(message.receiptHandle);
        }
        tally.socketReceived += pushed.length;
        check(await observe(source, nowMs, () => null), where);
        break;
      }
      case "socket-settle": {
        const handle = model.issued.length > 0 ? resolve({ kind: "latest", k: command.seconds }, undefined) : "nonsense";
        const holder = model.holderOf(handle, nowMs);
        const answer = await socketSettle(source, nowMs, command.kind, handle, command.seconds);
        if (!holder) expect(answer, where).toEqual({ ok: false, code: "ReceiptHandleInvalid" });
        else if (command.kind === "ack") {
          model.retire(holder);
          expect(answer, where).toEqual({ ok: true });
        } else {
          holder.visibleAt = nowMs + command.seconds * 1000;
          expect(answer, where).toEqual({ ok: true, nextVisibleAt: holder.visibleAt });
        }
        if (holder) tally.socketSettled++;
        check(await observe(source, nowMs, () => null), where);
        break;
      }
      case "create-dlq": {
        if (!model.dlqExists) {
          await createObjectQueue(dlq, {});
          model.dlqExists = true;
        }
        await checkDlq(where);
        break;
      }
    }
  }

  // The end: the dead-letter queue exists, every pending move is made exactly once.
  if (!model.dlqExists) {
    await createObjectQueue(dlq, {});
    model.dlqExists = true;
  }
  nowMs += MoveRetryDelayMs;
  model.runDue(nowMs);
  const final = await observe(source, nowMs, (o) => o.runDue(nowMs));
  expect(final.counts, "counts at the end").toEqual(model.counts(nowMs));
  expect(final.peek, "messages at the end").toEqual(model.peek(nowMs));
  expect(model.messages.some((m) => m.state === "moving")).toBe(false);
  await checkDlq("the end");
}

describe("queue against a reference model", () => {
  it(
    "random sequences of operations, time, due work, evictions and crashes keep the queue equal to the model",
    async () => {
      // A dead-letter move to a queue not created yet is retried and reported with a warning; any
      // other warning is unexpected.
      const warnings: unknown[] = [];
      const warn = vi.spyOn(console, "warn").mockImplementation((message: unknown) => void warnings.push(message));
      try {
        await checkProperty(
          "queue model",
          fc.asyncProperty(configArb, commandsArb, (config, commands) =>
            runSequence(config, commands),
          ),
          250,
        );
      } finally {
        warn.mockRestore();
      }
      for (const message of warnings) expect(String(message)).toMatch(/^dead-letter move to \S+ failed, retrying: .*QueueNotFound/);
      console.log(`queue model tally: ${JSON.stringify(tally)}`);
    },
    propertyTimeoutMs(),
  );
});

describe("partitioned queue against a reference model", () => {
  it(
    "random sequences through the service layer keep a queue of several partitions equal to the model",
    async () => {
      await checkProperty(
        "partitioned queue model",
        fc.asyncProperty(partitionConfigArb, partitionCommandsArb, (config, commands) => runPartitionSequence(config, commands)),
        20,
      );
      console.log(`partitioned queue model tally: ${JSON.stringify(partitionTally)}`);
    },
    propertyTimeoutMs(),
  );
});
