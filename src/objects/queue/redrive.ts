import { ErrorCode, ServiceError } from "../../errors";
import { QueueLimits, type RedriveStatus } from "../../schema/queue";
import type { QueueMetadata } from "./metadata";
import type { QueueMoves } from "./moves";
import { MoveKind } from "./storage";

/** A running redrive takes one step per tick: `maxPerSecond` messages. */
export const RedriveTickMs = 1_000;

export interface RedriveRequest {
  /** Where to move messages; when absent, each message goes back to the queue it came from. */
  destination: string | null;
  maxPerSecond: number | undefined;
  maxMessages: number | undefined;
}

interface RedriveRow {
  status: RedriveStatus["status"];
  destination: string | null;
  max_per_second: number;
  max_messages: number | null;
  moved: number;
  started_at: number;
  ended_at: number | null;
  last_error: string | null;
  next_run_at: number | null;
  [key: string]: SqlStorageValue;
}

/**
 * A redrive moves messages out of a (dead-letter) queue at a bounded rate, one alarm step per
 * second, like SQS's StartMessageMoveTask. Its progress row is the observable state.
 */
export class RedriveTasks {
  constructor(
    private readonly sql: SqlStorage,
    private readonly metadata: QueueMetadata,
    private readonly moves: QueueMoves,
  ) {}

  private row(): RedriveRow | undefined {
    return this.sql.exec<RedriveRow>("SELECT * FROM redrive WHERE id = 1").toArray()[0];
  }

  start(request: RedriveRequest, nowMs: number): RedriveStatus {
    this.metadata.require();
    if (this.row()?.status === "running") {
      throw new ServiceError(ErrorCode.RedriveInProgress, "a redrive is already running on this queue");
    }
    this.sql.exec(
      `INSERT OR REPLACE INTO redrive (id, status, destination, max_per_second, max_messages, moved, started_at, ended_at, last_error, next_run_at)
       VALUES (1, 'running', ?, ?, ?, 0, ?, NULL, NULL, ?)`,
      request.destination,
      request.maxPerSecond ?? QueueLimits.redriveRatePerSecond.default,
      request.maxMessages ?? null,
      nowMs,
      nowMs,
    );
    return this.status(nowMs);
  }

  /**
   * The queues a redrive without a destination would write to: the distinct sources of the dead
   * letters stored here, received ones included (they become movable when visible again).
   */
  sources(): string[] {
    this.metadata.require();
    return this.moves.sourceQueues();
  }

  status(nowMs: number): RedriveStatus {
    this.metadata.require();
    const row = this.row();
    if (!row) throw new ServiceError(ErrorCode.RedriveNotFound, "no redrive has run on this queue");
    const redrivable = this.moves.countRedrivable(row.destination, nowMs);
    // A running task has only its own share left to move; an ended one reports what a next task would find.
    const remaining =
      row.status === "running" && row.max_messages !== null ? Math.max(0, Math.min(redrivable, row.max_messages - row.moved)) : redrivable;
    return {
      status: row.status,
      destination: row.destination,
      maxPerSecond: row.max_per_second,
      maxMessages: row.max_messages,
      moved: row.moved,
      remaining,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      lastError: row.last_error,
    };
  }

  /** Stops the running redrive; with `startedAt`, only the one started then (a task handle names it). */
  cancel(nowMs: number, startedAt?: number): RedriveStatus {
    this.metadata.require();
    const row = this.row();
    if (!row || row.status !== "running") {
      throw new ServiceError(ErrorCode.RedriveNotFound, "no redrive is running on this queue");
    }
    if (startedAt !== undefined && row.started_at !== startedAt) {
      throw new ServiceError(ErrorCode.RedriveNotFound, `no redrive started at ${startedAt} is running on this queue`);
    }
    this.end("cancelled", null, nowMs);
    return this.status(nowMs);
  }

  /** Marks this second's share of messages as moving; the object then hands them over. */
  step(nowMs: number): void {
    const row = this.row();
    if (!row || row.status !== "running" || (row.next_run_at ?? 0) > nowMs) return;
    const left = row.max_messages === null ? Infinity : row.max_messages - row.moved;
    this.moves.takeRedrivable(Math.min(row.max_per_second, left), row.destination, nowMs);
    this.sql.exec("UPDATE redrive SET next_run_at = ? WHERE id = 1", nowMs + RedriveTickMs);
  }

  recordMoved(count: number): void {
    this.sql.exec("UPDATE redrive SET moved = moved + ? WHERE id = 1", count);
  }

  recordFailure(message: string, nowMs: number): void {
    if (this.row()?.status === "running") this.end("failed", message, nowMs);
  }

  /** Completes the task once its count is reached or nothing is left to move. */
  settle(nowMs: number): void {
    const row = this.row();
    if (!row || row.status !== "running") return;
    const reachedCount = row.max_messages !== null && row.moved >= row.max_messages;
    const movingLeft = this.moves.countMoving(MoveKind.redrive);
    if (reachedCount || (movingLeft === 0 && this.moves.countRedrivable(row.destination, nowMs) === 0)) {
      this.end("completed", null, nowMs);
    }
  }

  /** When the running task takes its next step, if one runs. */
  nextDeadline(): number | null {
    const row = this.row();
    return row?.status === "running" ? row.next_run_at : null;
  }

  private end(status: RedriveStatus["status"], lastError: string | null, nowMs: number): void {
    this.sql.exec(
      "UPDATE redrive SET status = ?, ended_at = ?, last_error = COALESCE(?, last_error), next_run_at = NULL WHERE id = 1",
      status,
      nowMs,
      lastError,
    );
  }
}
