import { describe, expect, it } from "vitest";
import type { Result } from "../../src/errors";
import { Waiters, type Waiter } from "../../src/objects/queue/waiters";
import type { ReceivedMessage } from "../../src/schema/queue";
import { counts, createQueue, expectOk, expectParked, receive, sendBodies } from "./support";

/** A waiter of another kind (a socket, a Worker consumer) that the test can make go away. */
class TestWaiter implements Waiter {
  readonly visibilityTimeoutSeconds = undefined;
  live = true;
  received: Result<ReceivedMessage[]> | null = null;
  constructor(readonly max = 1) {}
  isLive(): boolean {
    return this.live;
  }
  deliver(result: Result<ReceivedMessage[]>): void {
    this.received = result;
  }
}

const fakeMessage = (id: string) => ({ id }) as ReceivedMessage;

describe("long polls whose client went away", () => {
  it("claims nothing for a cancelled long poll and gives the next send to a live receiver", async () => {
    const { stub } = await createQueue();
    const abandoned = stub.receive({ max: 1, waitSeconds: 20, visibilityTimeout: undefined, receiveId: "gone-1" });
    await expectParked(stub, 1);

    expectOk(await stub.cancelReceive("gone-1"));
    const answer = expectOk(await abandoned);
    await sendBodies(stub, "m1");

    expect(answer).toEqual([]);
    await expectParked(stub, 0);
    expect(await counts(stub)).toMatchObject({ active: 1, inactive: 0 });
    expect((await receive(stub)).map((m) => m.body)).toEqual(["m1"]);
  });

  it("answers at once, claiming nothing, a receive whose cancellation arrived first", async () => {
    const { stub } = await createQueue();
    await sendBodies(stub, "m1");
    expectOk(await stub.cancelReceive("gone-2"));

    const answer = expectOk(await stub.receive({ max: 1, waitSeconds: 20, visibilityTimeout: undefined, receiveId: "gone-2" }));

    expect(answer).toEqual([]);
    expect(await counts(stub)).toMatchObject({ active: 1, inactive: 0 });
  });

  it("wakes only live waiters, oldest first, and drops the ones gone", () => {
    const waiters = new Waiters();
    const gone = new TestWaiter();
    const live = new TestWaiter();
    waiters.add(gone);
    waiters.add(live);
    gone.live = false;
    const claimedFor: Waiter[] = [];

    const handed = waiters.wake((waiter) => {
      claimedFor.push(waiter);
      return claimedFor.length === 1 ? [fakeMessage("m1")] : [];
    });

    expect(claimedFor).toEqual([live]);
    expect(handed.map((m) => m.id)).toEqual(["m1"]);
    expect(live.received).toEqual({ ok: true, value: [fakeMessage("m1")] });
    expect(gone.received).toBeNull();
    expect(waiters.size).toBe(0);
  });
});
