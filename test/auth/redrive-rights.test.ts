import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deadLetters, Prefix } from "../objects/support";
import { bearer, createKey } from "../support/auth";
import { api, uniqueName } from "../support/http";

/** A redrive back to the source queues sends into each of them: the caller needs `send` on every one. */
async function deadLetterQueueFrom(...sources: string[]) {
  const dlq = uniqueName("dlq");
  await api("PUT", `/v1/queues/${dlq}`, {});
  for (const source of sources) await api("PUT", `/v1/queues/${source}`, {});
  const stub = env.QUEUES.get(env.QUEUES.idFromName(`${Prefix}${dlq}`));
  for (const source of sources) expect(await stub.accept(deadLetters(source, `from ${source}`))).toMatchObject({ ok: true });
  return dlq;
}

const redriveStatus = async (dlq: string) => (await api("GET", `/v1/queues/${dlq}/redrive`)).body;

describe("redrive back to the source queues", () => {
  it("is refused, and nothing starts, when the caller may not send to one of the sources", async () => {
    const [allowed, refused] = [uniqueName("src"), uniqueName("src")];
    const dlq = await deadLetterQueueFrom(allowed, refused);
    const key = await createKey([
      { actions: ["manage", "read"], resources: [`queue:${dlq}`] },
      { actions: ["send"], resources: [`queue:${allowed}`] },
    ]);

    const started = await api("POST", `/v1/queues/${dlq}/redrive`, {}, { auth: bearer(key.secretKey) });

    expect(started.body.error).toMatchObject({ code: "Forbidden", message: `not allowed: send on queue:${refused}` });
    expect((await redriveStatus(dlq)).error.code).toBe("RedriveNotFound");
    expect((await api("GET", `/v1/queues/${dlq}/messages`)).body.messages).toHaveLength(2);
  });

  it("starts when the caller may send to every source", async () => {
    const sources = [uniqueName("src"), uniqueName("src")];
    const dlq = await deadLetterQueueFrom(...sources);
    const key = await createKey([
      { actions: ["manage", "read"], resources: [`queue:${dlq}`] },
      { actions: ["send"], resources: sources.map((source) => `queue:${source}`) },
    ]);

    const started = await api("POST", `/v1/queues/${dlq}/redrive`, { maxPerSecond: 1 }, { auth: bearer(key.secretKey) });
    await api("DELETE", `/v1/queues/${dlq}/redrive`);

    expect(started.status, JSON.stringify(started.body)).toBe(202);
  });

  it("to a destination needs send on the destination only", async () => {
    const [source, destination] = [uniqueName("src"), uniqueName("dst")];
    const dlq = await deadLetterQueueFrom(source);
    await api("PUT", `/v1/queues/${destination}`, {});
    const key = await createKey([
      { actions: ["manage", "read"], resources: [`queue:${dlq}`] },
      { actions: ["send"], resources: [`queue:${destination}`] },
    ]);

    const toSources = await api("POST", `/v1/queues/${dlq}/redrive`, {}, { auth: bearer(key.secretKey) });
    const toDestination = await api("POST", `/v1/queues/${dlq}/redrive`, { destination, maxPerSecond: 1 }, { auth: bearer(key.secretKey) });
    await api("DELETE", `/v1/queues/${dlq}/redrive`);

    expect(toSources.body.error.code).toBe("Forbidden");
    expect(toDestination.status, JSON.stringify(toDestination.body)).toBe(202);
  });
});
