import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { partitionOfGroup } from "../../src/schema/partitions";
import { expectError, expectStatus } from "../api/helpers";
import { exports } from "cloudflare:workers";
import { api, RootSecretKey, uniqueName } from "../support/http";
import { countsOf, deleteHandles, drain, partition, partitionedQueue, partitionOfHandle, receive, sendBatch, sendOne } from "./support";

/** A group id whose partition, among `partitions`, is `target`. */
function groupIn(target: number, partitions: number): string {
  for (let index = 0; ; index++) if (partitionOfGroup(`g${index}`, partitions) === target) return `g${index}`;
}

describe("a partitioned queue", () => {
  it("spreads sends over its partitions and answers counts, receipt handles and deletes for the whole queue", async () => {
    const name = await partitionedQueue(4);
    const ids: string[] = [];
    for (let batch = 0; batch < 8; batch++) {
      ids.push(...(await sendBatch(name, Array.from({ length: 5 }, (_, index) => ({ body: `m${batch}-${index}` })))));
    }
    expect(await countsOf(name)).toMatchObject({ active: 40, total: 40 });
    // Each partition holds a share: the sends without a group go round the partitions.
    const shares = await Promise.all([0, 1, 2, 3].map(async (index) => (await partition(name, index).getInfo())));
    for (const share of shares) {
      expect(share.ok && share.value.counts.total).toBeGreaterThan(0);
      expect(share.ok && share.value.partitions).toBe(4);
    }
    const received = await drain(name);
    expect(received.map((message) => message.id).sort()).toEqual([...ids].sort());
    // Handles name their partition: 0 bare, as before partitions existed, the others with a prefix.
    const byPartition = new Set(received.map((message) => partitionOfHandle(message.receiptHandle)));
    expect([...byPartition].sort()).toEqual([0, 1, 2, 3]);
    for (const message of received) {
      if (partitionOfHandle(message.receiptHandle) === 0) expect(message.receiptHandle).toMatch(/^[0-9a-z]+-[0-9a-f]{32}$/);
      else expect(message.receiptHandle).toMatch(/^p[1-3]_[0-9a-z]+-[0-9a-f]{32}$/);
    }
    expect(await countsOf(name)).toMatchObject({ active: 0, inactive: 0, total: 0 });
  });

  it("keeps each FIFO group in one partition, in send order", async () => {
    const name = await partitionedQueue(8, { fifo: true }, `${uniqueName("part")}.fifo`);
    const groups = Array.from({ length: 12 }, (_, index) => `group-${index}`);
    for (let round = 0; round < 4; round++) {
      await sendBatch(
        name,
        groups.map((groupId) => ({ body: `${groupId}:${round}`, groupId, deduplicationId: `${groupId}-${round}` })),
      );
    }
    const received = await drain(name);
    expect(received).toHaveLength(48);
    for (const groupId of groups) {
      const own = received.filter((message) => message.groupId === groupId);
      expect(own.map((message) => message.body)).toEqual([0, 1, 2, 3].map((round) => `${groupId}:${round}`));
      expect(new Set(own.map((message) => partitionOfHandle(message.receiptHandle)))).toEqual(new Set([partitionOfGroup(groupId, 8)]));
    }
  });

  it("finds the one partition of sixteen that holds a message, by the backlog hint", async () => {
    const name = await partitionedQueue(16);
    for (const target of [13, 5, 0, 9]) {
      const id = await sendOne(name, { body: `in ${target}`, groupId: groupIn(target, 16) });
      const [message] = await receive(name, { max: 1 });
      expect(message?.id).toBe(id);
      expect(partitionOfHandle(message.receiptHandle)).toBe(target);
      expect((await deleteHandles(name, [message.receiptHandle]))[0].deleted).toBe(true);
    }
    // Emptied, every partition has told the home object so: the hint names none.
    await vi.waitFor(async () => {
      const state = await partition(name, 0).partitionBacklog();
      expect(state.ok && state.value.backlog).toEqual([]);
    });
    expect(await receive(name)).toEqual([]);
  });

  it("wakes a long poll when a message lands in any partition", async () => {
    const name = await partitionedQueue(8);
    for (const target of [6, 0]) {
      const polling = api("POST", `/v1/queues/${name}/messages/receive`, { max: 1, waitSeconds: 20 });
      // The receive waits in the home object once it found nothing.
      await vi.waitFor(async () => {
        const waiting = await partition(name, 0).partitionBacklog();
        expect(waiting.ok).toBe(true);
        expect(await waitingReceives(name)).toBe(1);
      });
      const id = await sendOne(name, { body: "wake", groupId: groupIn(target, 8) });
      const answer = await polling;
      expectStatus(answer, 200);
      expect(answer.body.messages.map((message: { id: string }) => message.id)).toEqual([id]);
      expect(partitionOfHandle(answer.body.messages[0].receiptHandle)).toBe(target);
    }
  });

  it("ends a long poll's wait in the home object when its client goes away, claiming nothing for it", async () => {
    const name = await partitionedQueue(4);
    const controller = new AbortController();
    const request = new Request(`http://cmq.test/v1/queues/${name}/messages/receive`, {
      method: "POST",
      headers: { authorization: `Bearer ${RootSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ waitSeconds: 20 }),
      signal: controller.signal,
    });
    const abandoned = (exports as unknown as { default: Fetcher }).default.fetch(request).catch(() => null);
    await vi.waitFor(async () => expect(await waitingReceives(name)).toBe(1));

    controller.abort();
    await abandoned;
    await vi.waitFor(async () => expect(await waitingReceives(name)).toBe(0));
    await sendOne(name, { body: "for a live receiver" });

    expect(await countsOf(name)).toMatchObject({ active: 1, inactive: 0 });
    expect((await receive(name)).map((message) => message.body)).toEqual(["for a live receiver"]);
  });

  it("keeps a cancellation that reaches the home object before its wait, and ends that wait at once", async () => {
    const name = await partitionedQueue(2);
    const home = partition(name, 0);
    const state = await home.partitionBacklog();
    expect(state.ok).toBe(true);
    const token = state.ok ? state.value.token : "";

    expect(await home.cancelBacklogWait("early")).toEqual({ ok: true, value: { cancelled: false } });
    const answered = await home.partitionBacklog(token, 20_000, "early");

    expect(answered.ok).toBe(true);
    expect(await waitingReceives(name)).toBe(0);
  });

  it("reports a backlog from the partition's alarm when a delayed message becomes visible", async () => {
    const name = await partitionedQueue(4);
    const id = await sendOne(name, { body: "later", delaySeconds: 60, groupId: groupIn(2, 4) });
    expect(await receive(name)).toEqual([]);
    let state = await partition(name, 0).partitionBacklog();
    expect(state.ok && state.value.backlog).toEqual([]);
    // A minute later in partition 2: its alarm, armed for the delay's end, finds the message visible and reports it.
    await runInDurableObject(partition(name, 2), (object) => {
      object.clock = { nowMs: () => Date.now() + 61_000 };
    });
    expect(await runDurableObjectAlarm(partition(name, 2))).toBe(true);
    await vi.waitFor(async () => {
      state = await partition(name, 0).partitionBacklog();
      expect(state.ok && state.value.backlog).toEqual([2]);
    });
    const [message] = await receive(name);
    expect(message?.id).toBe(id);
    expect(partitionOfHandle(message.receiptHandle)).toBe(2);
  });

  it("keeps its hint when the home object is evicted", async () => {
    const name = await partitionedQueue(4);
    const ids = [await sendOne(name, { body: "a", groupId: groupIn(2, 4) }), await sendOne(name, { body: "b", groupId: groupIn(3, 4) })];
    await vi.waitFor(async () => {
      const state = await partition(name, 0).partitionBacklog();
      expect(state.ok && state.value.backlog).toEqual([2, 3]);
    });
    await abortAllDurableObjects();
    const state = await partition(name, 0).partitionBacklog();
    expect(state.ok && state.value.backlog).toEqual([2, 3]);
    const received = await drain(name);
    expect(received.map((message) => message.id).sort()).toEqual([...ids].sort());
  });

  it("reports again from its alarm when a partition is evicted before its report landed", async () => {
    const name = await partitionedQueue(4);
    const id = await sendOne(name, { body: "a", groupId: groupIn(3, 4) });
    // Evicted at once: the report may be lost with the object; the alarm it armed first makes it again.
    await abortAllDurableObjects();
    expect(await runDurableObjectAlarm(partition(name, 3))).toBe(true);
    await vi.waitFor(async () => {
      const state = await partition(name, 0).partitionBacklog();
      expect(state.ok && state.value.backlog).toEqual([3]);
    });
    const received = await drain(name);
    expect(received.map((message) => message.id)).toEqual([id]);
  });

  it("raises its partition count under load without losing or doubling a message", async () => {
    const name = await partitionedQueue(1);
    const sending = (async () => {
      const ids: string[] = [];
      for (let batch = 0; batch < 20; batch++) {
        ids.push(...(await sendBatch(name, Array.from({ length: 4 }, (_, index) => ({ body: `${batch}-${index}`, groupId: `t${(batch * 4 + index) % 7}` })))));
      }
      return ids;
    })();
    for (const partitions of [2, 4, 8]) {
      const raised = await api("PATCH", `/v1/queues/${name}`, { partitions });
      expectStatus(raised, 200);
      expect(raised.body.partitions).toBe(partitions);
    }
    const ids = await sending;
    expect(await countsOf(name)).toMatchObject({ total: 80 });
    const received = await drain(name);
    expect(received.map((message) => message.id).sort()).toEqual([...ids].sort());
  });

  it("refuses to lower its partition count while a partition to remove holds messages, and lowers once drained", async () => {
    const name = await partitionedQueue(4);
    await sendOne(name, { body: "in 3", groupId: groupIn(3, 4) });
    await sendOne(name, { body: "in 1", groupId: groupIn(1, 4) });
    const refused = await api("PATCH", `/v1/queues/${name}`, { partitions: 2 });
    expectError(refused, "PartitionsNotEmpty", /partition 3 holds 1 messages/);
    expect((await api("GET", `/v1/queues/${name}`)).body).toMatchObject({ partitions: 4, counts: { total: 2 } });
    const [inThree] = (await receive(name, { max: 2 })).filter((message) => partitionOfHandle(message.receiptHandle) === 3);
    expect((await deleteHandles(name, [inThree.receiptHandle]))[0].deleted).toBe(true);
    const lowered = await api("PATCH", `/v1/queues/${name}`, { partitions: 2 });
    expectStatus(lowered, 200);
    expect(lowered.body).toMatchObject({ partitions: 2, counts: { total: 1 } });
    // A handle of a partition the queue no longer has is refused, not lost in a missing object.
    const stale = await deleteHandles(name, [inThree.receiptHandle]);
    expect(stale[0]).toMatchObject({ deleted: false, error: { code: "ReceiptHandleInvalid" } });
  });

  it("purges, rewinds and peeks the whole queue", async () => {
    const name = await partitionedQueue(4, { rewindSeconds: 3600, msgRetentionSeconds: 7200 });
    const ids = await sendBatch(name, Array.from({ length: 8 }, (_, index) => ({ body: `m${index}`, groupId: `g${index}` })));
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api("GET", `/v1/queues/${name}/messages?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expectStatus(page, 200);
      pages.push(...page.body.messages.map((message: { id: string }) => message.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages.sort()).toEqual([...ids].sort());
    const purged = await api("POST", `/v1/queues/${name}/purge`);
    expectStatus(purged, 200);
    expect(purged.body.purged).toBe(8);
    expect(await countsOf(name)).toMatchObject({ total: 0 });
    await sendBatch(name, Array.from({ length: 6 }, (_, index) => ({ body: `n${index}`, groupId: `h${index}` })));
    await drain(name);
    const rewound = await api("POST", `/v1/queues/${name}/rewind`, { since: Date.now() - 60_000 });
    expectStatus(rewound, 200);
    expect(rewound.body.rewound).toBe(6);
    expect(await countsOf(name)).toMatchObject({ active: 6 });
  });

  it("applies an attribute change in every partition", async () => {
    const name = await partitionedQueue(3);
    const changed = await api("PATCH", `/v1/queues/${name}`, { visibilityTimeout: 77, delaySeconds: 5 });
    expectStatus(changed, 200);
    for (const index of [0, 1, 2]) {
      const info = await partition(name, index).getInfo();
      expect(info.ok && { visibilityTimeout: info.value.visibilityTimeout, delaySeconds: info.value.delaySeconds }).toEqual({ visibilityTimeout: 77, delaySeconds: 5 });
    }
  });

  it("deletes every partition with the queue", async () => {
    const name = await partitionedQueue(3);
    await sendBatch(name, [{ body: "x", groupId: groupIn(2, 3) }]);
    expectStatus(await api("DELETE", `/v1/queues/${name}`), 204);
    for (const index of [0, 1, 2]) expect((await partition(name, index).getInfo()).ok).toBe(false);
  });
});

async function waitingReceives(name: string): Promise<number> {
  return runInDurableObject(partition(name, 0), (object) => object.partitions.waiting);
}
