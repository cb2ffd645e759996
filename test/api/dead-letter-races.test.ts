import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { createQueue } from "./helpers";

/**
 * The dead-letter rules (at most 6 sources, no nesting, a queue in use cannot be deleted) must hold
 * under concurrent requests too. The service checks them with catalog reads and then writes in
 * separate steps, so requests running at once can each pass the check: these tests show it.
 */

/** Every queue under a prefix, with its dead-letter policy. */
async function listed(prefix: string): Promise<Array<{ name: string; deadLetter: { queue: string } | null }>> {
  const page = await api("GET", `/v1/queues?prefix=${prefix}&limit=1000`);
  expect(page.status).toBe(200);
  return page.body.queues;
}

describe("dead-letter rules under concurrent requests", () => {
  it("concurrent creates cannot give a dead-letter queue more than 6 sources", async () => {
    const prefix = `race${crypto.randomUUID().slice(0, 6)}`;
    const dlq = await createQueue(`${prefix}-dlq`);
    for (let i = 0; i < 5; i++) await createQueue(`${prefix}-s${i}`, { deadLetter: { queue: dlq, maxReceiveCount: 3 } });

    const attempts = await Promise.all(
      [0, 1, 2, 3].map((i) => api("PUT", `/v1/queues/${prefix}-r${i}`, { deadLetter: { queue: dlq, maxReceiveCount: 3 } })),
    );
    const statuses = attempts.map((response) => response.status).sort();
    const sources = (await listed(prefix)).filter((queue) => queue.deadLetter?.queue === dlq);
    expect({ statuses, sources: sources.length }).toEqual({ statuses: [201, 400, 400, 400], sources: 6 });
    for (const refused of attempts.filter((response) => response.status === 400)) {
      expect(refused.body.error.code).toBe("InvalidDeadLetterQueue");
    }
  });

  it("a source created while its dead-letter queue is deleted: one of the two must be refused", async () => {
    for (let round = 0; round < 3; round++) {
      const dlq = await createQueue(uniqueName("racedlq"));
      const source = uniqueName("racesrc");
      const [created, deleted] = await Promise.all([
        api("PUT", `/v1/queues/${source}`, { deadLetter: { queue: dlq, maxReceiveCount: 3 } }),
        api("DELETE", `/v1/queues/${dlq}`),
      ]);
      // Either the source exists and the DLQ was kept (409 QueueInUse), or the DLQ is gone and the source was refused.
      expect([`${created.status}/${deleted.status}`]).toSatisfy(
        ([outcome]: string[]) => outcome === "201/409" || outcome === "400/204",
      );
      const sourceNow = await api("GET", `/v1/queues/${source}`);
      if (sourceNow.status === 200) {
        expect((await api("GET", `/v1/queues/${dlq}`)).status, "the source's dead-letter queue exists").toBe(200);
      }
    }
  });

  it("concurrent policy changes cannot nest dead-letter queues (a → b while b → c)", async () => {
    for (let round = 0; round < 3; round++) {
      const prefix = `nest${crypto.randomUUID().slice(0, 6)}`;
      const [a, b, c] = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
      await Promise.all([createQueue(a), createQueue(b), createQueue(c)]);
      const [first, second] = await Promise.all([
        api("PATCH", `/v1/queues/${a}`, { deadLetter: { queue: b, maxReceiveCount: 3 } }),
        api("PATCH", `/v1/queues/${b}`, { deadLetter: { queue: c, maxReceiveCount: 3 } }),
      ]);
      expect([first.status, second.status].sort()).toEqual([200, 400]);
      const queues = await listed(prefix);
      const policyOf = new Map(queues.map((queue) => [queue.name.toLowerCase(), queue.deadLetter]));
      for (const queue of queues) {
        if (queue.deadLetter) expect(policyOf.get(queue.deadLetter.queue.toLowerCase()), `${queue.name}'s DLQ nests`).toBeNull();
      }
    }
  });
});
