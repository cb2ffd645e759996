import { ErrorCode, ServiceError } from "../../errors";
import { partitionOfGroup } from "../../schema/partitions";
import { FifoLimits, type OutgoingMessage, type SentMessage } from "../../schema/queue";
import { partitionObject } from "../keys";
import type { QueueEngine } from "./engine";
import type { QueueMeta } from "./metadata";
import { RowIs } from "./storage";

/**
 * Earlier partition counts a FIFO queue still routes by while its moved groups settle. Each one
 * can cost a moved group's send one more call, so a change past this many is refused until the
 * earlier ones have settled.
 */
export const SettlingCountsMax = 3;

/** How often the home object asks the partitions whether moved groups still hold messages in their old ones. */
export const SettleCheckIntervalMs = 10_000;

/**
 * The settling counts after a change of the count from `from` to `to`: the old count joins them,
 * and a count equal to the new one leaves them (it routes nowhere else). Refused past
 * `SettlingCountsMax`, before anything changes.
 */
export function settlingAfter(settling: readonly number[], from: number, to: number): number[] {
  const after = [...settling.filter((count) => count !== from && count !== to), ...(from === to ? [] : [from])];
  if (after.length > SettlingCountsMax) {
    throw new ServiceError(
      ErrorCode.PartitionsNotEmpty,
      `the partition count changed ${settling.length} times recently and the groups those changes moved still hold messages in their old partitions (or left them less than ${FifoLimits.deduplicationWindowMs / 60_000} minutes ago); change it again once they have settled`,
    );
  }
  return after;
}

/**
 * How a FIFO queue's sends are routed, beyond its current count: the earlier counts whose groups
 * may still live in their old partitions, and the epoch, bumped at each change of the count.
 */
export interface FifoRouting {
  epoch: number;
  /** Earlier counts still settling, oldest first; none when every group lives where the count puts it. */
  settling: number[];
}

/** What a routed send answers: each message stored or answered as a duplicate, or null when not taken. */
export type RoutedSend = { stale: false; messages: Array<SentMessage | null> } | { stale: true; epoch: number };

/**
 * The routing history of a FIFO queue whose partition count changed, and its fence. A group's
 * partition is `partitionOfGroup(group, count)`, so a new count would move groups while their
 * older messages still wait in the old partition. Instead a group stays where it is until its old
 * partition holds none of its messages: the home object (partition 0) keeps the earlier counts as
 * settling, and a send of a group asks each of its earlier partitions to take the message only if
 * the group is still there (or the deduplication id was seen there) before sending to the current
 * one. Every object keeps the highest epoch any call has shown it and refuses calls routed under
 * an older one, so a Worker isolate that still trusts an old count cannot put a group back in a
 * partition it has left.
 */
export class PartitionRouting {
  epoch = 0;
  settling: number[] = [];
  /** The home object: when a check last found no group outside its current partition; null while some are. */
  private straysGoneAtMs: number | null = null;
  private nextCheckAtMs: number | null = null;

  constructor(private readonly sql: SqlStorage) {
    this.migrate();
  }

  /** Creates the table; again after `deleteAll()` dropped it. */
  migrate(): void {
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS partition_routing (
         id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL, settling TEXT NOT NULL, strays_gone_at INTEGER)`,
    );
    const row = this.sql
      .exec<{ epoch: number; settling: string; strays_gone_at: number | null }>("SELECT epoch, settling, strays_gone_at FROM partition_routing WHERE id = 1")
      .toArray()[0];
    this.epoch = row?.epoch ?? 0;
    this.settling = row ? (JSON.parse(row.settling) as number[]) : [];
    this.straysGoneAtMs = row?.strays_gone_at ?? null;
    this.nextCheckAtMs = null;
  }

  private save(): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO partition_routing (id, epoch, settling, strays_gone_at) VALUES (1, ?, ?, ?)",
      this.epoch,
      JSON.stringify(this.settling),
      this.straysGoneAtMs,
    );
  }

  view(): FifoRouting {
    return { epoch: this.epoch, settling: [...this.settling] };
  }

  /** A call routed under `epoch`: a newer one is kept; false when it is older than one seen already. */
  admit(epoch: number): boolean {
    if (epoch < this.epoch) return false;
    if (epoch > this.epoch) {
      this.epoch = epoch;
      this.save();
    }
    return true;
  }

  /** The home object: the count goes from `from` to `to`; the old count settles, and the epoch moves on. */
  change(from: number, to: number): void {
    const settling = settlingAfter(this.settling, from, to);
    this.epoch++;
    this.settling = settling;
    this.straysGoneAtMs = null;
    this.nextCheckAtMs = null;
    this.save();
  }

  /** The home object: when to ask the partitions about moved groups again; null once nothing settles. */
  nextDeadline(nowMs: number): number | null {
    if (this.settling.length === 0) return null;
    this.nextCheckAtMs ??= nowMs + SettleCheckIntervalMs;
    const dedupEndMs = this.straysGoneAtMs === null ? null : this.straysGoneAtMs + FifoLimits.deduplicationWindowMs;
    return dedupEndMs === null ? this.nextCheckAtMs : Math.min(this.nextCheckAtMs, Math.max(dedupEndMs, nowMs));
  }

  /** Whether a settle check is due at `nowMs`. */
  due(nowMs: number): boolean {
    if (this.settling.length === 0) return false;
    const dedupEndMs = this.straysGoneAtMs === null ? null : this.straysGoneAtMs + FifoLimits.deduplicationWindowMs;
    return (this.nextCheckAtMs ?? nowMs) <= nowMs || (dedupEndMs !== null && dedupEndMs <= nowMs);
  }

  /**
   * The home object: the outcome of asking every partition, under `epoch`, how many groups it holds
   * that the current count puts elsewhere. None can come back (a group returns to a partition only
   * while it is there, and older epochs are refused), so once none is left the settling counts go,
   * after the deduplication window, because an id sent to an old partition must still be found there.
   */
  recordCheck(epoch: number, strays: number, nowMs: number): void {
    this.nextCheckAtMs = nowMs + SettleCheckIntervalMs;
    // A change since the check began made a new epoch, whose own checks decide.
    if (epoch !== this.epoch || this.settling.length === 0) return;
    if (strays > 0) this.straysGoneAtMs = null;
    else if (this.straysGoneAtMs === null) this.straysGoneAtMs = nowMs;
    else if (this.straysGoneAtMs + FifoLimits.deduplicationWindowMs <= nowMs) {
      this.settling = [];
      this.straysGoneAtMs = null;
    }
    this.save();
  }

  /** The queue was deleted. */
  forget(): void {
    this.epoch = 0;
    this.settling = [];
    this.straysGoneAtMs = null;
    this.nextCheckAtMs = null;
  }
}

/**
 * Which of a routed send's messages this object takes: all of them, or, asked as an earlier
 * partition of their groups, those whose group it still holds in any state but deleted (waiting,
 * delayed, in flight, moving) or whose deduplication id it has seen inside the window (answered
 * as the duplicate it is).
 */
export function takenWhereGroupIs(engine: QueueEngine, messages: readonly OutgoingMessage[], onlyWhereGroupIs: boolean, nowMs: number): boolean[] {
  if (!onlyWhereGroupIs) return messages.map(() => true);
  const { attributes } = engine.requireMeta();
  const { groups } = engine.messages;
  return messages.map(({ groupId, deduplicationId }) => {
    if (groupId === undefined) return false;
    if (groups.headFlagFor(groupId) === 0) return true;
    return deduplicationId !== undefined && groups.findDuplicate(groups.dedupKey(attributes, groupId, deduplicationId), nowMs) !== null;
  });
}

/**
 * The home object's settle check: asks every partition, under the current epoch (which each
 * adopts), how many groups it holds that the current count puts elsewhere, and records the sum.
 * A partition that does not answer counts as holding some, so the check is made again later.
 */
export async function settleCheck(env: Env, meta: QueueMeta, sql: SqlStorage, routing: PartitionRouting, nowMs: () => number): Promise<void> {
  const { epoch } = routing;
  const { partitions } = meta.attributes;
  let strays = 0;
  try {
    const answers = await Promise.all(
      Array.from({ length: partitions - 1 }, (_, index) => partitionObject(env, meta.objectKeyPrefix, meta.name, index + 1).partitionStrays(partitions, epoch)),
    );
    for (const answer of answers) strays += answer.ok ? answer.value.strays : 1;
  } catch {
    strays = 1;
  }
  // Read after the partitions answered: a stray's deduplication id dates from before this moment.
  routing.recordCheck(epoch, strays + strayGroups(sql, 0, partitions), nowMs());
}

/** The groups this object (partition `self`) holds that a count of `partitions` puts in another partition. */
export function strayGroups(sql: SqlStorage, self: number, partitions: number): number {
  const groups = sql
    .exec<{ group_id: string }>(`SELECT DISTINCT group_id FROM messages WHERE ${RowIs.grouped} AND ${RowIs.notDeleted}`)
    .toArray();
  return groups.filter((row) => partitionOfGroup(row.group_id, partitions) !== self).length;
}

/**
 * Until when a FIFO partition keeps deduplication ids, or null when it keeps none. A partition a
 * lowering removes takes its ids with it, so it goes only once they have expired: the groups that
 * left it must not find an id they sent there missing in their new partition.
 */
export function deduplicationKeptUntil(sql: SqlStorage, nowMs: number): number | null {
  return sql.exec<{ until: number | null }>("SELECT MAX(expires_at) AS until FROM dedup WHERE expires_at > ?", nowMs).one().until;
}

export function deduplicationHeld(partition: number, untilMs: number): string {
  return `partition ${partition} is empty but keeps the deduplication ids of the messages it took until ${new Date(untilMs).toISOString()} (${FifoLimits.deduplicationWindowMs / 60_000} minutes after each); lower the count after that`;
}
