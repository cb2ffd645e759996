import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { ErrorCode, Result } from "../../src/errors";
import { defaultQueueAttributes } from "../../src/objects/queue/attributes";
import type { TransferredMessage } from "../../src/objects/queue/engine";
import type { QueueObject } from "../../src/objects/queue-object";
import type { CreateQueueBody, ReceivedMessage } from "../../src/schema/queue";

/** The object key prefix of account "default", region "local". */
export const Prefix = "default/local/";

export type QueueStub = DurableObjectStub<QueueObject>;

export const uniqueName = (prefix = "q"): string => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** A fresh stub each call: a stub whose object was aborted stays broken. */
export function queueStub(name: string): QueueStub {
  return env.QUEUES.get(env.QUEUES.idFromName(Prefix + name.toLowerCase()));
}

export function expectOk<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

export function expectError(result: Result<unknown>, code: ErrorCode): void {
  expect(result.ok ? "ok" : result.error.code).toBe(code);
}

export async function createQueue(
  input: CreateQueueBody = {},
  name = uniqueName(),
): Promise<{ name: string; stub: QueueStub }> {
  const stub = queueStub(name);
  expectOk(await stub.create(name, Prefix, defaultQueueAttributes(input)));
  return { name, stub };
}

export async function sendBodies(stub: QueueStub, ...bodies: string[]): Promise<string[]> {
  return expectOk(await stub.send(bodies.map((body) => ({ body })))).ids;
}

export async function receive(
  stub: QueueStub,
  options: { max?: number; waitSeconds?: number; visibilityTimeout?: number } = {},
): Promise<ReceivedMessage[]> {
  return expectOk(
    await stub.receive({
      max: options.max ?? 1,
      waitSeconds: options.waitSeconds ?? 0,
      visibilityTimeout: options.visibilityTimeout,
    }),
  );
}

export async function receiveOne(stub: QueueStub, visibilityTimeout?: number): Promise<ReceivedMessage> {
  const messages = await receive(stub, { visibilityTimeout });
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

/** Runs `callback` inside the queue's object, where the engine takes any `nowMs`. */
export function inQueue<R>(
  stub: QueueStub,
  callback: (object: QueueObject, state: DurableObjectState) => R | Promise<R>,
): Promise<R> {
  return runInDurableObject(stub, callback);
}

export function runDueAt(stub: QueueStub, nowMs: number): Promise<void> {
  return inQueue(stub, (object) => object.runDue(nowMs));
}

/** Counts of the queue at `nowMs`. */
export function countsAt(stub: QueueStub, nowMs: number) {
  return inQueue(stub, (object) => object.engine.info(nowMs).counts);
}

export async function counts(stub: QueueStub) {
  return expectOk(await stub.getInfo()).counts;
}

/** Every stored (not deleted) message of the queue, as peek shows it. */
export async function peekAll(stub: QueueStub) {
  return expectOk(await stub.peek(100, 0)).messages;
}

/** When the queue's first stored message was enqueued. */
export async function enqueuedAtOf(stub: QueueStub): Promise<number> {
  const [first] = await peekAll(stub);
  if (!first) throw new Error("the queue holds no message");
  return first.enqueuedAt;
}

/** Receivers parked in the object's memory. */
export function parkedCount(stub: QueueStub): Promise<number> {
  return inQueue(stub, (object) => (object as unknown as { waiters: { size: number } }).waiters.size);
}

/**
 * Asserts how many receivers are parked. A call on the same stub goes first: calls on one stub
 * arrive in order, so every receive made before it has been parked or answered by then.
 */
export async function expectParked(stub: QueueStub, count: number): Promise<void> {
  await stub.getInfo();
  expect(await parkedCount(stub)).toBe(count);
}

/** Messages as a queue's dead-letter move hands them over, for seeding a dead-letter queue. */
export function deadLetters(sourceQueue: string | null, ...bodies: string[]): TransferredMessage[] {
  return bodies.map((body) => ({
    idempotencyKey: `seed:${crypto.randomUUID()}`,
    id: crypto.randomUUID(),
    body,
    tags: [],
    sourceQueue,
  }));
}
