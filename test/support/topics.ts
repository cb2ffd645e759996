import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { RootPrincipal } from "../../src/auth/authenticate";
import { ServiceError, type ErrorCode } from "../../src/errors";
import type { TopicObject } from "../../src/objects/topic-object";
import type { CreateTopicBody, SubscriptionInfo } from "../../src/schema/topic";
import { QueueOperations } from "../../src/service/queues";
import { TopicOperations } from "../../src/service/topics";

export const scope = { account: "default", region: "local", principal: RootPrincipal() };
export const topics = new TopicOperations(env, scope);
export const queues = new QueueOperations(env, scope);

export type TopicStub = DurableObjectStub<TopicObject>;

export const uniqueName = (prefix: string): string => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** A fresh stub each call: a stub whose object was aborted stays broken. */
export function topicStub(name: string): TopicStub {
  return env.TOPICS.get(env.TOPICS.idFromName(`${scope.account}/${scope.region}/${name.toLowerCase()}`));
}

export function inTopic<R>(name: string, callback: (object: TopicObject, state: DurableObjectState) => R | Promise<R>): Promise<R> {
  return runInDurableObject(topicStub(name), callback);
}

/** Attempts every delivery of the topic due at `nowMs` (and purges what retention ended by then). */
export function runDue(name: string, nowMs: number): Promise<void> {
  return inTopic(name, (object) => object.runDue(nowMs));
}

export async function createTopic(input: CreateTopicBody = {}, name = uniqueName("t")): Promise<string> {
  await topics.createTopic(name, input);
  return name;
}

export async function createQueue(name = uniqueName("q")): Promise<string> {
  await queues.createQueue(name, {});
  return name;
}

/** Asserts that `operation` throws a ServiceError with `code`, and returns the error. */
export async function expectCode(operation: Promise<unknown> | (() => unknown), code: ErrorCode): Promise<ServiceError> {
  let outcome: unknown;
  try {
    await (typeof operation === "function" ? operation() : operation);
    outcome = "no error";
  } catch (error) {
    outcome = error;
  }
  expect(outcome instanceof ServiceError ? outcome.code : outcome).toBe(code);
  return outcome as ServiceError;
}

export interface OutboxRow {
  message_seq: number;
  subscription_id: number;
  attempts: number;
  next_attempt_at: number;
  leased: number;
  [key: string]: SqlStorageValue;
}

export function outboxRows(name: string): Promise<OutboxRow[]> {
  return inTopic(name, (_object, state) =>
    state.storage.sql.exec<OutboxRow>("SELECT * FROM outbox ORDER BY message_seq, subscription_id").toArray(),
  );
}

/** The publish time the topic recorded for its only (or first) message. */
export function firstPublishedAt(name: string): Promise<number> {
  return inTopic(
    name,
    (_object, state) => state.storage.sql.exec<{ t: number }>("SELECT published_at AS t FROM messages ORDER BY seq LIMIT 1").one().t,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `done` holds, a bounded number of times; returns the last value read. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, attempts = 100, waitMs = 50): Promise<T> {
  let value = await read();
  for (let i = 0; i < attempts && !done(value); i++) {
    await sleep(waitMs);
    value = await read();
  }
  if (!done(value)) throw new Error(`condition not reached; last value: ${JSON.stringify(value)}`);
  return value;
}

export function statsOf(topic: string, subscription: string): Promise<SubscriptionInfo["stats"]> {
  return topics.getSubscription(topic, subscription).then((info) => info.stats);
}

/** Waits until the background delivery after a publish has left no delivery of `subscription` unattempted. */
export function settled(topic: string, subscription: string): Promise<SubscriptionInfo["stats"]> {
  return eventually(
    () => statsOf(topic, subscription),
    (stats) => stats.pending === 0 || stats.lastError !== null,
  );
}

/** Waits until every delivery of the topic has left the outbox (delivered or failed). */
export function drained(topic: string): Promise<OutboxRow[]> {
  return eventually(
    () => outboxRows(topic),
    (rows) => rows.length === 0,
  );
}

/** Waits until every outbox row of the topic has been attempted at least `times` times. */
export function attempted(topic: string, times = 1): Promise<OutboxRow[]> {
  return eventually(
    () => outboxRows(topic),
    (rows) => rows.length > 0 && rows.every((row) => row.attempts >= times),
  );
}

export interface PushRecord {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** The pushes the sink received on `key` (host + path, e.g. "sink.test/ok/abc"). */
export async function sinkRecords(key: string): Promise<PushRecord[]> {
  const response = await env.SINK.fetch(`http://sink/_records?key=${encodeURIComponent(key)}`);
  return response.json<PushRecord[]>();
}

/** Every stored message of a queue, with its body and tags. */
export async function queueContents(name: string): Promise<Array<{ id: string; body: string; tags: string[] }>> {
  const { messages } = await queues.peek(name, { limit: 100 });
  return messages.map(({ id, body, tags }) => ({ id, body, tags }));
}

export async function queueBodies(name: string): Promise<string[]> {
  return (await queueContents(name)).map((message) => message.body).sort();
}
