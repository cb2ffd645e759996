/**
 * What a topic operation asks of its object besides its answer. The object applies effects in one
 * place (`TopicObject.apply`), so no operation arms the alarm or starts deliveries itself.
 */
export interface TopicEffects {
  /** Deliveries may be due now: start a delivery round in the background (the alarm is the fallback). */
  deliverNow: boolean;
  /** Deadlines that arose (a retry, a retention end); the scheduler keeps the alarm at the earliest. */
  deadlines: number[];
  /** Deadlines may have moved in ways only a full scan finds (leases taken or released, retention changed). */
  rescan: boolean;
}

export interface TopicOutcome<T> {
  value: T;
  effects: TopicEffects;
}

export function topicEffects(changes: Partial<TopicEffects> = {}): TopicEffects {
  return { deliverNow: false, deadlines: [], rescan: false, ...changes };
}

export function topicOutcome<T>(value: T, changes: Partial<TopicEffects> = {}): TopicOutcome<T> {
  return { value, effects: topicEffects(changes) };
}
