import type { Result } from "../../errors";
import type { ReceivedMessage } from "../../schema/queue";

/**
 * A receiver waiting in the queue's object for messages. Long polls are one kind; live sockets and
 * Worker consumers plug in as others. The object claims messages only for a waiter that is live,
 * so a receiver whose client went away never takes a message nobody will see.
 */
export interface Waiter {
  readonly max: number;
  readonly visibilityTimeoutSeconds: number | undefined;
  /** False once whoever waits is gone (its request aborted, its socket closed). */
  isLive(): boolean;
  /** Hands over what was claimed for it, or the reason its wait ended. */
  deliver(result: Result<ReceivedMessage[]>): void;
}

/** Waiting receivers, oldest first. */
export class Waiters {
  private waiting: Waiter[] = [];

  get size(): number {
    return this.waiting.length;
  }

  has(waiter: Waiter): boolean {
    return this.waiting.includes(waiter);
  }

  add(waiter: Waiter): void {
    this.waiting.push(waiter);
  }

  remove(waiter: Waiter): void {
    this.waiting = this.waiting.filter((other) => other !== waiter);
  }

  /** Drops waiters that are gone; answers whether any live one is left. */
  pruneGone(): boolean {
    this.waiting = this.waiting.filter((waiter) => waiter.isLive());
    return this.waiting.length > 0;
  }

  /**
   * Claims for live waiters, oldest first, until one finds nothing. `claim` runs synchronously
   * right after the liveness check, so nothing is claimed for a waiter that is already gone.
   */
  wake(claim: (waiter: Waiter) => ReceivedMessage[]): ReceivedMessage[] {
    const handed: ReceivedMessage[] = [];
    while (this.pruneGone()) {
      const waiter = this.waiting[0]!;
      const messages = claim(waiter);
      if (messages.length === 0) break;
      this.waiting.shift();
      waiter.deliver({ ok: true, value: messages });
      handed.push(...messages);
    }
    return handed;
  }

  /** Ends every wait with `result` (the queue was deleted). */
  endAll(result: Result<ReceivedMessage[]>): void {
    for (const waiter of this.waiting.splice(0)) waiter.deliver(result);
  }
}

/**
 * A receive with `waitSeconds` parked until a message arrives or its wait ends. The service
 * cancels it by id when the client's request is aborted.
 */
export class LongPoll implements Waiter {
  private cancelled = false;
  private done = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly receiveId: string | undefined,
    readonly max: number,
    readonly visibilityTimeoutSeconds: number | undefined,
    private readonly resolve: (result: Result<ReceivedMessage[]>) => void,
  ) {}

  /** Ends the wait after `waitMs`, with what `lastLook` claims then. */
  startTimer(waitMs: number, lastLook: () => Result<ReceivedMessage[]>): void {
    this.timer = setTimeout(() => {
      if (this.done) return;
      this.deliver(this.cancelled ? { ok: true, value: [] } : lastLook());
    }, waitMs);
  }

  isLive(): boolean {
    return !this.cancelled && !this.done;
  }

  /** The client went away: the wait ends with nothing, and nothing is claimed for it from now on. */
  cancel(): void {
    this.cancelled = true;
    this.deliver({ ok: true, value: [] });
  }

  deliver(result: Result<ReceivedMessage[]>): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.resolve(result);
  }
}
