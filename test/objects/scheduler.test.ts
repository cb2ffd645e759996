import { describe, expect, it } from "vitest";
import { AlarmScheduler } from "../../src/objects/scheduler";
import { createQueue, inQueue } from "./support";

const T0 = Date.UTC(2031, 0, 1);

/** Runs `use` with a scheduler over a fresh object's storage (the queue's own alarm is not set). */
async function withScheduler<R>(sources: Array<() => number | null>, use: (scheduler: AlarmScheduler, storage: DurableObjectStorage) => Promise<R>) {
  const { stub } = await createQueue();
  return inQueue(stub, async (_object, state) => {
    await state.storage.deleteAlarm();
    const scheduler = new AlarmScheduler(state.storage, sources);
    await scheduler.load();
    return use(scheduler, state.storage);
  });
}

describe("the alarm scheduler", () => {
  it("arms the alarm at the earliest deadline the parts report", async () => {
    const alarm = await withScheduler([() => T0 + 5_000, () => null, () => T0 + 3_000], async (scheduler, storage) => {
      scheduler.reschedule(T0);
      return storage.getAlarm();
    });

    expect(alarm).toBe(T0 + 3_000);
  });

  it("brings the alarm forward for an earlier deadline and leaves it for a later one", async () => {
    const alarms = await withScheduler([], async (scheduler, storage) => {
      scheduler.arm(T0 + 5_000);
      scheduler.arm(T0 + 2_000);
      const afterEarlier = await storage.getAlarm();
      scheduler.arm(T0 + 9_000);
      return { afterEarlier, afterLater: await storage.getAlarm() };
    });

    expect(alarms).toEqual({ afterEarlier: T0 + 2_000, afterLater: T0 + 2_000 });
  });

  it("re-arms from the parts once the alarm fired", async () => {
    let next = T0 + 1_000;
    const alarm = await withScheduler([() => next], async (scheduler, storage) => {
      scheduler.reschedule(T0);
      scheduler.fired();
      next = T0 + 60_000;
      scheduler.reschedule(T0 + 1_000);
      return storage.getAlarm();
    });

    expect(alarm).toBe(T0 + 60_000);
  });

  it("knows the alarm stored before it started", async () => {
    const alarm = await withScheduler([], async (_scheduler, storage) => {
      await storage.setAlarm(T0 + 4_000);
      const restarted = new AlarmScheduler(storage, []);
      await restarted.load();
      restarted.arm(T0 + 8_000);
      return storage.getAlarm();
    });

    expect(alarm).toBe(T0 + 4_000);
  });
});
