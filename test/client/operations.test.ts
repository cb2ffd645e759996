import { describe, expect, it } from "vitest";
import { operationNames } from "../../src/operations";
import type { EdgeCmqClient } from "../../packages/client/src";
import { uniqueName } from "../support/http";
import { transports } from "./support";

/** Remembers the operations a client was asked to run, to prove every one was exercised. */
function recorded(client: EdgeCmqClient, called: Set<string>): EdgeCmqClient {
  return new Proxy(client, {
    get(target, name: string) {
      called.add(name);
      return target[name as keyof EdgeCmqClient];
    },
  });
}

describe.each(transports)("every operation over %s", (transport, makeClient) => {
  const called = new Set<string>();
  const client = () => recorded(makeClient(), called);

  it("administers queues: create, confirm, get, update, list, delete", async () => {
    const cmq = client();
    const prefix = `cl${crypto.randomUUID().slice(0, 6)}`;
    const [a, b] = [`${prefix}-a`, `${prefix}-b`];

    const created = await cmq.createQueue({ queue: a, visibilityTimeout: 45 });
    const confirmed = await cmq.createQueue({ queue: a, visibilityTimeout: 45 });
    await cmq.createQueue({ queue: b });
    const updated = await cmq.updateQueue({ queue: a, pollingWaitSeconds: 2 });
    const got = await cmq.getQueue({ queue: a });
    const page = await cmq.listQueues({ prefix, limit: 1 });
    const next = await cmq.listQueues({ prefix, cursor: page.nextCursor! });
    const deleted = await cmq.deleteQueue({ queue: b });
    const after = await cmq.listQueues({ search: prefix });

    expect(created).toMatchObject({ created: true, queue: { name: a, visibilityTimeout: 45 } });
    expect(confirmed).toEqual({ created: false, queue: created.queue });
    expect(updated.pollingWaitSeconds).toBe(2);
    expect(got).toMatchObject({ name: a, pollingWaitSeconds: 2, counts: { total: 0 } });
    expect([page.total, page.queues.map((q) => q.name), next.queues.map((q) => q.name), next.nextCursor]).toEqual([2, [a], [b], null]);
    expect(deleted).toBeUndefined();
    expect(after.queues.map((q) => q.name)).toEqual([a]);
  });

  it("moves messages: send, batch, receive, visibility, peek, delete one and many, purge", async () => {
    const cmq = client();
    const queue = uniqueName("cm");
    await cmq.createQueue({ queue });

    const one = await cmq.send(queue, { body: "first", tags: ["eu"] });
    const batch = await cmq.sendMessages({ queue, messages: [{ body: "second" }, { body: "third" }] });
    const peeked = await cmq.peekMessages({ queue, limit: 2 });
    const received = await cmq.receiveMessages({ queue, max: 16, waitSeconds: 1 });
    const [first, second, third] = received.messages;
    const visibility = await cmq.changeVisibility({ queue, receiptHandle: first!.receiptHandle, visibilityTimeout: 0 });
    const again = await cmq.receiveMessages({ queue, waitSeconds: 1 });
    const deletedOne = await cmq.deleteMessage({ queue, receiptHandle: again.messages[0]!.receiptHandle });
    const deletedMany = await cmq.deleteMessages({ queue, receiptHandles: [second!.receiptHandle, third!.receiptHandle] });
    await cmq.send(queue, "to purge");
    const rates = await cmq.getQueueRates({ queue });
    const purged = await cmq.purgeQueue({ queue });
    const counts = (await cmq.getQueue({ queue })).counts;

    expect(one.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(batch.messages).toHaveLength(2);
    expect(peeked.messages.map((m) => m.body)).toEqual(["first", "second"]);
    expect(received.messages.map((m) => [m.body, m.tags])).toEqual([["first", ["eu"]], ["second", []], ["third", []]]);
    expect(visibility.nextVisibleAt).toBeLessThanOrEqual(Date.now());
    expect(again.messages.map((m) => [m.id, m.receiveCount])).toEqual([[one.id, 2]]);
    expect(deletedOne).toBeUndefined();
    expect(deletedMany.results.map((r) => r.deleted)).toEqual([true, true]);
    expect(rates.buckets.reduce((sum, bucket) => sum + bucket.sent, 0)).toBe(4);
    expect(rates.buckets.reduce((sum, bucket) => sum + bucket.received, 0)).toBe(4);
    expect(rates.buckets.reduce((sum, bucket) => sum + bucket.deleted, 0)).toBe(3);
    expect(purged.purged).toBe(1);
    expect(counts.total).toBe(0);
  });

  it("rewinds, lists dead-letter sources and redrives", async () => {
    const cmq = client();
    const dlq = uniqueName("cd");
    const source = uniqueName("cs");
    await cmq.createQueue({ queue: dlq, rewindSeconds: 600 });
    await cmq.createQueue({ queue: source, deadLetter: { queue: dlq, maxReceiveCount: 3 } });
    const { id } = await cmq.send(dlq, "kept for rewind");
    const { messages } = await cmq.receiveMessages({ queue: dlq, waitSeconds: 1 });
    await cmq.deleteMessage({ queue: dlq, receiptHandle: messages[0]!.receiptHandle });

    const beforeAny = await cmq.listRedrives({ queue: dlq });
    const rewound = await cmq.rewindQueue({ queue: dlq, since: Date.now() - 60_000 });
    const sources = await cmq.listDeadLetterSourceQueues({ queue: dlq });
    const started = await cmq.startRedrive({ queue: dlq, destination: source, maxPerSecond: 1 });
    const progress = await cmq.getRedrive({ queue: dlq });
    const cancelled = await cmq.cancelRedrive({ queue: dlq });
    const listed = await cmq.listRedrives({ queue: dlq });

    expect(rewound.rewound).toBe(1);
    expect(sources.queues.map((q) => q.name)).toEqual([source]);
    expect(started).toMatchObject({ status: "running", moved: 0 });
    expect(progress.status).toBe("running");
    expect(cancelled.status).toBe("cancelled");
    expect(beforeAny).toEqual({ redrives: [] });
    expect(listed).toEqual({ redrives: [cancelled] });
    expect(id).toBe(messages[0]!.id);
  });

  it("tags a queue, lists its tags and removes some", async () => {
    const cmq = client();
    const queue = uniqueName("ct");
    await cmq.createQueue({ queue });

    const tagged = await cmq.tagQueue({ queue, tags: { team: "orders", env: "test" } });
    const listed = await cmq.listQueueTags({ queue });
    const untagged = await cmq.untagQueue({ queue, keys: ["env"] });
    const after = await cmq.listQueueTags({ queue });

    expect(tagged).toEqual(listed);
    expect(listed.tags).toEqual({ team: "orders", env: "test" });
    expect(untagged.tags).toEqual({ team: "orders" });
    expect(after.tags).toEqual({ team: "orders" });
  });

  it("sets a queue's consumer Worker, reads it, pauses, resumes and removes it", async () => {
    const cmq = client();
    const queue = uniqueName("cc");
    await cmq.createQueue({ queue });

    const set = await cmq.setQueueConsumer({ queue, binding: "QUEUE_CONSUMER", batchSize: 5 });
    const got = await cmq.getQueueConsumer({ queue });
    const paused = await cmq.pauseQueueConsumer({ queue });
    const resumed = await cmq.resumeQueueConsumer({ queue });
    const removed = await cmq.deleteQueueConsumer({ queue });

    expect(set).toMatchObject({ created: true, consumer: { binding: "QUEUE_CONSUMER", batchSize: 5, maxRetries: 3, paused: false } });
    expect(got).toEqual(set.consumer);
    expect([paused.paused, resumed.paused]).toEqual([true, false]);
    expect(removed).toBeUndefined();
  });

  it("publishes to topics through subscriptions", async () => {
    const cmq = client();
    const topic = uniqueName("ct");
    const queue = uniqueName("cq");
    await cmq.createQueue({ queue });

    const created = await cmq.createTopic({ topic, filterType: "tag" });
    const updated = await cmq.updateTopic({ topic, msgRetentionSeconds: 3_600 });
    const subscribed = await cmq.subscribe({ topic, subscription: "eu", protocol: "queue", endpoint: queue, filterTags: ["eu"] });
    const resubscribed = await cmq.subscribe({ topic, subscription: "eu", protocol: "queue", endpoint: queue, filterTags: ["eu"] });
    const changed = await cmq.updateSubscription({ topic, subscription: "eu", filterTags: ["eu", "fr"] });
    const published = await cmq.publish(topic, { body: "for fr", tags: ["fr"] });
    const batch = await cmq.publishMessages({ topic, messages: [{ body: "for nobody", tags: ["us"] }] });
    const delivered = await cmq.receiveMessages({ queue, waitSeconds: 5 });
    const subscription = await cmq.getSubscription({ topic, subscription: "eu" });
    const subscriptions = await cmq.listSubscriptions({ topic });
    const got = await cmq.getTopic({ topic });
    const topics = await cmq.listTopics({ prefix: topic });
    await cmq.unsubscribe({ topic, subscription: "eu" });
    await cmq.deleteTopic({ topic });
    const afterDelete = await cmq.listTopics({ prefix: topic });

    expect(created).toMatchObject({ created: true, topic: { name: topic, filterType: "tag" } });
    expect(updated.msgRetentionSeconds).toBe(3_600);
    expect([subscribed.created, resubscribed.created]).toEqual([true, false]);
    expect(changed.filterTags).toEqual(["eu", "fr"]);
    expect(batch.messages).toHaveLength(1);
    expect(delivered.messages.map((m) => m.body)).toEqual(["for fr"]);
    expect(subscription.stats.delivered).toBe(1);
    expect(subscriptions.subscriptions.map((s) => s.name)).toEqual(["eu"]);
    expect(got).toMatchObject({ name: topic, subscriptionCount: 1 });
    expect(topics.topics.map((t) => t.name)).toEqual([topic]);
    expect(afterDelete.total).toBe(0);
    expect(published.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("administers accounts, keys and tokens", async () => {
    const cmq = client();
    const name = uniqueName("acct");

    const account = await cmq.createAccount({ name });
    const listed = await cmq.listAccounts();
    const firstPage = await cmq.listAccounts({ prefix: name, limit: 1 });
    const got = await cmq.getAccount({ account: account.id });
    const updated = await cmq.updateAccount({ account: account.id, allowedOrigins: ["https://shop.example"] });
    const policy = { statements: [{ actions: ["send" as const], resources: ["queue:orders-*"] }] };
    const key = await cmq.createKey({ account: account.id, policy });
    const keys = await cmq.listKeys({ account: account.id });
    const keyPage = await cmq.listKeys({ account: account.id, limit: 1, prefix: key.secretId });
    const disabled = await cmq.updateKey({ account: account.id, secretId: key.secretId, disabled: true });
    const rotated = await cmq.rotateKey({ account: account.id, secretId: key.secretId });
    const token = await cmq.createToken({ actions: ["read"], resources: ["*"], ttlSeconds: 60 });
    const deleted = await cmq.deleteKey({ account: account.id, secretId: key.secretId });
    const health = await cmq.health();
    const me = await cmq.whoami();

    expect(listed.accounts.map((a) => a.id)).toContain(account.id);
    expect(firstPage).toEqual({ accounts: [account], nextCursor: null, total: 1 });
    expect(keyPage).toEqual(keys);
    expect(me).toMatchObject({ kind: "root", secretId: null, policy: null, token: null });
    expect(got).toEqual(account);
    expect(updated.allowedOrigins).toEqual(["https://shop.example"]);
    expect(keys.keys.map((k) => k.secretId)).toEqual([key.secretId]);
    expect(disabled.disabled).toBe(true);
    expect(rotated.secretKey).not.toBe(key.secretKey);
    expect(token.token).toMatch(/^cmqt\./);
    expect(token.expiresAt).toBeGreaterThan(Date.now());
    expect(deleted).toBeUndefined();
    expect(health).toEqual({ status: "ok" });
  });

  it(`exercised every operation of the catalog over ${transport}`, () => {
    expect(operationNames.filter((name) => !called.has(name))).toEqual([]);
  });
});
