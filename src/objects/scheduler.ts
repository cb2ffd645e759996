/** A part of an object that has work due at times: it only reports the next one. */
export type DeadlineSource = (nowMs: number) => number | null;

/**
 * The one owner of an object's physical alarm, shared by the queue and the topic object (the shape
 * of cloudflare/agents' `_scheduleNextAlarmBody`). Each part reports its next deadline; the
 * scheduler keeps the alarm at the earliest. What it believes is set is reloaded at start
 * (`load`), because memory does not survive an eviction.
 */
export class AlarmScheduler {
  private alarmAtMs: number | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sources: readonly DeadlineSource[],
  ) {}

  /** Reads the alarm as stored; run in `blockConcurrencyWhile` in the object's constructor. */
  async load(): Promise<void> {
    this.alarmAtMs = await this.storage.getAlarm();
  }

  /** A deadline that just arose: brings the alarm forward to it if it is earlier. */
  arm(deadlineMs: number): void {
    if (this.alarmAtMs !== null && this.alarmAtMs <= deadlineMs) return;
    this.alarmAtMs = deadlineMs;
    void this.storage.setAlarm(deadlineMs);
  }

  /**
   * Re-arms the alarm to the earliest deadline any part reports. An alarm set earlier stays: it
   * finds nothing due and re-arms then, which costs less than a write on every change.
   */
  reschedule(nowMs: number): void {
    let next: number | null = null;
    for (const source of this.sources) {
      const deadlineMs = source(nowMs);
      if (deadlineMs !== null && (next === null || deadlineMs < next)) next = deadlineMs;
    }
    if (next === null) return;
    if (this.alarmAtMs !== null && this.alarmAtMs > next) this.alarmAtMs = null;
    this.arm(next);
  }

  /** The alarm fired: none is set until the next `arm` or `reschedule`. */
  fired(): void {
    this.alarmAtMs = null;
  }

  async clear(): Promise<void> {
    await this.storage.deleteAlarm();
    this.alarmAtMs = null;
  }
}
