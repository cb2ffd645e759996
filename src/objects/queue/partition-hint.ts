import { ServiceError } from "../../errors";
import { queueObject } from "../keys";
import type { QueueEngine } from "./engine";
import type { FifoRouting } from "./partition-epoch";


/** Cancellations kept for waits that have not arrived yet. */
const CancelledWaitsKept = 1_000;
/**
 * What the queue's home object (partition 0) knows of its partitions' backlogs: which ones hold
 * a message a receive can take now, as the partitions last reported, and a token that changes
 * whenever one reports a new backlog, which a waiting receive watches.
 */
export interface BacklogState {
  /** The queue's partition count, as the home object holds it. */
  partitions: number;
  /** The queue's default long-poll wait, for a receive that gives none. */
  pollingWaitSeconds: number;
  /** Partitions that reported a backlog, partition 0 read live; in increasing order. */
  backlog: number[];
  token: string;
  /** A FIFO queue's routing beyond its count (see `PartitionRouting`); the home object adds it. */
  routing?: FifoRouting;
}

/** A report not confirmed (the home object unreachable, this object evicted meanwhile) is made again this much later. */
export const BacklogReportRetryMs = 1_000;

/** What the hint needs of its queue object. */
export interface PartitionHost {
  env: Env;
  engine: QueueEngine;
  nowMs(): number;
  /** Brings the object's alarm forward to `deadlineMs`. */
  arm(deadlineMs: number): void;
}

/**
 * A partition's place in its queue, and the backlog hint both ways: every partition reports to
 * the home object when it goes from nothing receivable to a backlog and back (transitions only,
 * so a busy partition sends nothing), and the home object keeps the reports in SQLite, so that
 * they survive its eviction, and wakes the receives waiting on its token.
 */
export class PartitionHints {
  /** This object's partition; 0 for a queue's own object. */
  partition = 0;
  /** What this partition last told the home object; null until it has told it anything since it started. */
  private reported: boolean | null = null;
  /** The report on its way to the home object, if any. */
  private reporting: Promise<void> | null = null;
  private retryAtMs: number | null = null;
  /** Changes with every new backlog report; a fresh one at each start, so a token from before never matches. */
  private readonly epoch = crypto.randomUUID();
  private version = 0;
  private readonly watchers = new Set<() => void>();
  /** Waits that can be ended early, by the id their receive named. */
  private readonly watchersById = new Map<string, () => void>();
  /** Cancellations that arrived before their wait (calls may cross); the oldest go first. */
  private readonly cancelledWaits = new Set<string>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly host: PartitionHost,
  ) {
    this.migrate();
  }

  /** The queue's partition count, or null when the object holds no queue. */
  private count(): number | null {
    return this.host.engine.meta?.attributes.partitions ?? null;
  }

  /** Tells the home object that this partition's backlog appeared or went; partition 0 records it in place. */
  private async report(backlog: boolean): Promise<void> {
    if (this.partition === 0) return this.record(0, backlog);
    const meta = this.host.engine.requireMeta();
    const result = await queueObject(this.host.env, meta.objectKeyPrefix, meta.name).reportBacklog(this.partition, backlog);
    if (!result.ok) throw new ServiceError(result.error.code, result.error.message);
  }

  /** Creates the tables; again after `deleteAll()` dropped them. */
  migrate(): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS partition_self (id INTEGER PRIMARY KEY CHECK (id = 1), partition INTEGER NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS partition_backlog (partition INTEGER PRIMARY KEY, backlog INTEGER NOT NULL)");
    this.partition = this.sql.exec<{ partition: number }>("SELECT partition FROM partition_self WHERE id = 1").toArray()[0]?.partition ?? 0;
  }

  /** Records which partition of its queue this object is (set once, when the service creates it). */
  setPartition(partition: number): void {
    this.sql.exec("INSERT OR REPLACE INTO partition_self (id, partition) VALUES (1, ?)", partition);
    this.partition = partition;
  }

  /** Whether this object is one of several partitions of its queue. */
  get partitioned(): boolean {
    const partitions = this.count();
    return partitions !== null && (this.partition > 0 || partitions > 1);
  }

  /** After any change: tells the home object if this partition's backlog appeared or went. */
  check(nowMs: number): void {
    if (!this.partitioned || this.reporting) return;
    const backlog = this.host.engine.hasClaimable(nowMs);
    if (backlog === this.reported) return;
    // The alarm stands by until the report lands: if this object goes away first, it reports again then.
    this.retryAtMs = nowMs + BacklogReportRetryMs;
    this.host.arm(this.retryAtMs);
    this.reporting = this.report(backlog).then(
      () => {
        this.reported = backlog;
        this.retryAtMs = null;
        this.reporting = null;
        // One report at a time keeps them in order; what changed meanwhile goes next.
        this.check(this.host.nowMs());
      },
      () => {
        this.reporting = null;
        this.retryAtMs = this.host.nowMs() + BacklogReportRetryMs;
        this.host.arm(this.retryAtMs);
      },
    );
  }

  /**
   * Resolves once the reports under way (if any) have landed or failed. What makes a message
   * receivable (a send, a visibility change, a delete that unblocks a FIFO group, a rewind) waits
   * for them, so that once it is answered the hint names its partition and a receive made after
   * it finds the message. Only a partition whose backlog appeared or went has one under way.
   */
  async settled(): Promise<void> {
    while (this.reporting) await this.reporting;
  }

  /** `result`, once the reports its change started have landed (see `settled`). */
  async afterReports<T>(result: T): Promise<T> {
    await this.settled();
    return result;
  }

  /**
   * When this partition needs the alarm: to retry a failed report, or, with nothing receivable,
   * when a message becomes visible by time alone (a delay or a visibility timeout ending), which
   * no request tells it.
   */
  nextDeadline(nowMs: number): number | null {
    if (!this.partitioned) return null;
    if (this.retryAtMs !== null) return this.retryAtMs;
    return this.reported === true ? null : this.host.engine.nextVisibleAfter(nowMs);
  }

  /** The home object: receives waiting for a new backlog. */
  get waiting(): number {
    return this.watchers.size;
  }

  /** The home object: a partition's report. */
  record(partition: number, backlog: boolean): void {
    this.sql.exec("INSERT OR REPLACE INTO partition_backlog (partition, backlog) VALUES (?, ?)", partition, backlog ? 1 : 0);
    if (!backlog) return;
    this.version++;
    for (const watcher of this.watchers) watcher();
    this.watchers.clear();
    this.watchersById.clear();
  }

  /** The home object: the partitions past 0 that reported a backlog, in increasing order. */
  reportedBacklog(): number[] {
    return this.sql
      .exec<{ partition: number }>("SELECT partition FROM partition_backlog WHERE backlog = 1 AND partition > 0 AND partition < ? ORDER BY partition", this.count() ?? 1)
      .toArray()
      .map((row) => row.partition);
  }

  /** The home object: the backlog as reported, partition 0's read now. */
  state(nowMs: number, pollingWaitSeconds: number): BacklogState {
    const partitions = this.count() ?? 1;
    const reported = this.reportedBacklog();
    const backlog = this.host.engine.hasClaimable(nowMs) ? [0, ...reported] : reported;
    return { partitions, pollingWaitSeconds, backlog, token: `${this.epoch}:${this.version}` };
  }

  /** The home object: resolves when a partition reports a new backlog after `token`, or after `waitMs`. */
  waitForBacklog(token: string, waitMs: number, waitId?: string): Promise<void> {
    if (waitId !== undefined && this.cancelledWaits.delete(waitId)) return Promise.resolve();
    if (token !== `${this.epoch}:${this.version}` || waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.watchers.delete(done);
        resolve();
      }, waitMs);
      const done = () => {
        clearTimeout(timer);
        if (waitId !== undefined) this.watchersById.delete(waitId);
        resolve();
      };
      this.watchers.add(done);
      if (waitId !== undefined) this.watchersById.set(waitId, done);
    });
  }

  /**
   * The home object: ends the wait named `waitId` (its client went away), or, when it has not
   * arrived yet, keeps the cancellation for it.
   */
  cancelWait(waitId: string): boolean {
    const done = this.watchersById.get(waitId);
    if (done) {
      this.watchers.delete(done);
      done();
      return true;
    }
    this.cancelledWaits.add(waitId);
    if (this.cancelledWaits.size > CancelledWaitsKept) this.cancelledWaits.delete(this.cancelledWaits.values().next().value!);
    return false;
  }

  /** The queue was deleted: waiting receives end, and this object forgets what it was. */
  forget(): void {
    for (const watcher of this.watchers) watcher();
    this.watchers.clear();
    this.watchersById.clear();
    this.reported = null;
    this.retryAtMs = null;
    this.partition = 0;
  }
}
