import type { QueueAttributes } from "../../schema/queue";

const textEncoder = new TextEncoder();

/** A body's SHA-256 as hex: a content-deduplicating FIFO queue's deduplication id (SQS's rule). */
export async function contentDeduplicationId(body: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", textEncoder.encode(body));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The messages with a deduplication id each, on a FIFO queue that deduplicates by content: those
 * without one get their body's digest. Asked first, so that other queues' sends take no await.
 */
export function needsContentDeduplicationIds(attributes: QueueAttributes | undefined, messages: readonly { deduplicationId?: string | null }[]): boolean {
  return Boolean(attributes?.fifo && attributes.contentBasedDeduplication && messages.some((message) => !message.deduplicationId));
}

export async function withContentDeduplicationIds<T extends { body: string; deduplicationId?: string | null }>(messages: T[]): Promise<T[]> {
  return Promise.all(
    messages.map(async (message) => (message.deduplicationId ? message : { ...message, deduplicationId: await contentDeduplicationId(message.body) })),
  );
}
