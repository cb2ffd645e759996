import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import type { QueueObject } from "../../../src/objects/queue-object";
import type { ReceivedMessage } from "../../../src/schema/queue";
import { LiveClient, openLive } from "../../live/support";
import { queueStub } from "../../objects/support";

/**
 * Live sockets as receivers for the queue model: a socket is opened, given credit or a frame, and
 * closed again within one command, so that what it was pushed is exactly one claim of its credit.
 * The object's clock is set to the model's simulated time first (a socket's frames read the clock).
 */

export type SocketCommand =
  | { t: "socket-receive"; credit: number }
  | { t: "socket-settle"; kind: "ack" | "nack" | "extend"; seconds: number };

export const socketCommandArbs = [
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 24 }).map((credit) => ({ t: "socket-receive" as const, credit })) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("socket-settle" as const),
      kind: fc.constantFrom<"ack" | "nack" | "extend">("ack", "ack", "nack", "extend"),
      seconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120 })),
    }),
  },
];

async function openAt(queue: string, nowMs: number): Promise<LiveClient> {
  await runInDurableObject(queueStub(queue), (object: QueueObject) => {
    object.clock = { nowMs: () => nowMs };
  });
  return openLive(`/v1/queues/${queue}/live`);
}

/** Closes a socket and waits for the object's answer, by which time it no longer waits for messages. */
async function closeAndSettle(live: LiveClient): Promise<void> {
  live.close();
  await live.waitClosed();
}

/** Grants `credit` and answers everything pushed for it. */
export async function socketReceive(queue: string, nowMs: number, credit: number): Promise<ReceivedMessage[]> {
  const live = await openAt(queue, nowMs);
  live.send({ type: "credit", messages: credit });
  await live.take("credited");
  // Pushes for a credit are sent before the object reads the next frame: a refused frame after it marks their end.
  await live.call({ type: "ack", id: "barrier", receiptHandle: "barrier" });
  const pushed = live.frames.filter((frame) => frame.type === "messages").flatMap((frame) => frame.messages as ReceivedMessage[]);
  await closeAndSettle(live);
  return pushed;
}

/** Acks, nacks (with `seconds` of delay) or extends (to `seconds`) by handle; answers the reply frame. */
export async function socketSettle(
  queue: string,
  nowMs: number,
  kind: "ack" | "nack" | "extend",
  receiptHandle: string,
  seconds: number,
): Promise<{ ok: true; nextVisibleAt?: number } | { ok: false; code: string }> {
  const live = await openAt(queue, nowMs);
  const frame =
    kind === "ack"
      ? { type: "ack", id: "s", receiptHandle }
      : kind === "nack"
        ? { type: "nack", id: "s", receiptHandle, delaySeconds: seconds }
        : { type: "extend", id: "s", receiptHandle, visibilityTimeout: seconds };
  const answer = await live.call(frame);
  await closeAndSettle(live);
  if (answer.type === "error") return { ok: false, code: answer.error.code };
  return answer.nextVisibleAt === undefined ? { ok: true } : { ok: true, nextVisibleAt: answer.nextVisibleAt };
}
