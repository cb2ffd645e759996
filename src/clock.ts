/**
 * Where time comes from. Objects, delivery and the service read it once at the start of an
 * operation and pass `nowMs` down, so a test can replace it (elasticmq's NowProvider) instead of
 * patching the global `Date.now`.
 */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
};

/** A clock that moves only when told to, for tests. */
export class ManualClock implements Clock {
  constructor(private currentMs: number) {}

  nowMs(): number {
    return this.currentMs;
  }

  advance(ms: number): void {
    this.currentMs += ms;
  }

  set(ms: number): void {
    this.currentMs = ms;
  }
}
