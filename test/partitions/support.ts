import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { partitionObject } from "../../src/objects/keys";
import { partitionOfGroup } from "../../src/schema/partitions";
import { expectStatus } from "../api/helpers";
import { api, uniqueName } from "../support/http";

export const Prefix = "default/local/";

/** A partition's object, as the service finds it. */
export function partition(name: string, index: number) {
  return partitionObject(env, Prefix, name, index);
}

/** Creates a queue of `partitions` partitions over REST; FIFO when the name ends in `.fifo`. */
export async function partitionedQueue(partitions: number, attributes: Record<string, unknown> = {}, name = uniqueName("part")): Promise<string> {
  const response = await api("PUT", `/v1/queues/${name}`, { partitions, ...attributes });
  expectStatus(response, 201);
  expect(response.body.partitions).toBe(partitions);
  return name;
}

export async function sendOne(name: string, message: Record<string, unknown>): Promise<string> {
  const [id] = await sendBatch(name, [message]);
  return id!;
}

export async function sendBatch(name: string, messages: Array<Record<string, unknown>>): Promise<string[]> {
  const response = await api("POST", `/v1/queues/${name}/messages`, { messages });
  expectStatus(response, 200);
  return response.body.messages.map((message: { id: string }) => message.id);
}

export async function receive(name: string, body: Record<string, unknown> = {}): Promise<any[]> {
  const response = await api("POST", `/v1/queues/${name}/messages/receive`, { max: 16, waitSeconds: 0, ...body });
  expectStatus(response, 200);
  return response.body.messages;
}

export async function deleteHandles(name: string, receiptHandles: string[]): Promise<any[]> {
  const response = await api("POST", `/v1/queues/${name}/messages/delete`, { receiptHandles });
  expectStatus(response, 200);
  return response.body.results;
}

export async function countsOf(name: string): Promise<{ active: number; inactive: number; delayed: number; total: number; rewindable: number }> {
  const response = await api("GET", `/v1/queues/${name}`);
  expectStatus(response, 200);
  return response.body.counts;
}

/** Receives and deletes until a receive finds nothing; answers the messages in the order received. */
export async function drain(name: string): Promise<any[]> {
  const all: any[] = [];
  for (;;) {
    const messages = await receive(name);
    if (messages.length === 0) return all;
    all.push(...messages);
    const results = await deleteHandles(name, messages.map((message) => message.receiptHandle));
    expect(results.every((result) => result.deleted)).toBe(true);
  }
}

/** The partition a receipt handle names (0 when it has no prefix). */
export function partitionOfHandle(handle: string): number {
  const match = /^p(\d+)_/.exec(handle);
  return match ? Number(match[1]) : 0;
}

/** A group id whose partition, among `partitions`, is `target`. */
export function groupIn(target: number, partitions: number, from = 0): string {
  for (let index = from; ; index++) if (partitionOfGroup(`g${index}`, partitions) === target) return `g${index}`;
}

/** Sends `perPartition` messages to each of the queue's `partitions`, pinned by group; answers the ids. */
export async function fillEach(name: string, partitions: number, perPartition: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < partitions; index++) {
    const groupId = groupIn(index, partitions);
    for (let from = 0; from < perPartition; from += 16) {
      const count = Math.min(16, perPartition - from);
      ids.push(...(await sendBatch(name, Array.from({ length: count }, (_, n) => ({ body: `p${index}-${from + n}`, groupId })))));
    }
  }
  return ids;
}

/** Each partition's counts, partition 0 first. */
export async function partitionCounts(name: string, partitions: number): Promise<Array<{ active: number; inactive: number; total: number }>> {
  return Promise.all(
    Array.from({ length: partitions }, async (_, index) => {
      const info = await partition(name, index).getInfo();
      if (!info.ok) throw new Error(`partition ${index}: ${info.error.code}`);
      return info.value.counts;
    }),
  );
}
