/**
 * What an engine operation asks of its object besides its answer. The object applies effects in
 * one place (`QueueObject.apply`), so no operation decides its own wake-ups or alarm calls.
 */
export interface Effects {
  /** Messages may have become claimable now: hand them to live waiting receivers. */
  wake: boolean;
  /** Deadlines that arose; the scheduler keeps the alarm at the earliest. */
  deadlines: number[];
  /** When messages become visible: a deadline only while receivers wait. */
  visibleAt: number[];
  /** Deadlines may have moved in ways only a full scan finds. */
  rescan: boolean;
  /** Messages stored, handed out and deleted, for the queue's rates. */
  counted: { sent: number; received: number; deleted: number };
}

export interface Outcome<T> {
  value: T;
  effects: Effects;
}

export function effects(changes: Partial<Effects> = {}): Effects {
  return { wake: false, deadlines: [], visibleAt: [], rescan: false, counted: { sent: 0, received: 0, deleted: 0 }, ...changes };
}

export function outcome<T>(value: T, changes: Partial<Effects> = {}): Outcome<T> {
  return { value, effects: effects(changes) };
}

/** Counts for the queue's rates, the others 0. */
export function counted(counts: Partial<Effects["counted"]>): Effects["counted"] {
  return { sent: 0, received: 0, deleted: 0, ...counts };
}

/** The effects of several operations together. */
export function mergeEffects(all: readonly Effects[]): Effects {
  return {
    wake: all.some((e) => e.wake),
    deadlines: all.flatMap((e) => e.deadlines),
    visibleAt: all.flatMap((e) => e.visibleAt),
    rescan: all.some((e) => e.rescan),
    counted: {
      sent: all.reduce((sum, e) => sum + e.counted.sent, 0),
      received: all.reduce((sum, e) => sum + e.counted.received, 0),
      deleted: all.reduce((sum, e) => sum + e.counted.deleted, 0),
    },
  };
}
