import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RootPrincipal } from "../../src/auth/authenticate";
import { QueueOperations } from "../../src/service/queues";
import { TopicOperations } from "../../src/service/topics";
import { AccountLimits } from "../../src/schema/account";
import { createAccount, createKey } from "../support/auth";
import { api } from "../support/http";

/** Quotas hold under concurrency: the count and the create are one step in the account's catalog. */
const unique = () => crypto.randomUUID().slice(0, 8);

async function freshScope() {
  const account = await createAccount(`acct-${unique()}`);
  return { account, region: "local", principal: { ...RootPrincipal(), account } };
}

const codeOf = (settled: PromiseSettledResult<unknown>) =>
  settled.status === "fulfilled" ? "ok" : ((settled.reason as { code?: string }).code ?? String(settled.reason));

describe("per-account quotas under concurrency", () => {
  it("20 concurrent queue creates at 3 of 5 queues leave exactly 5", async () => {
    const scope = await freshScope();
    const queues = new QueueOperations({ ...env, MAX_QUEUES_PER_ACCOUNT: "5" }, scope);
    for (const name of ["q-1", "q-2", "q-3"]) await queues.createQueue(name, {});

    const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => queues.createQueue(`c-${i}`, {})));

    const codes = settled.map(codeOf);
    expect(codes.filter((code) => code === "ok")).toHaveLength(2);
    expect(codes.filter((code) => code === "QuotaExceeded")).toHaveLength(18);
    expect((await queues.listQueues({ limit: 100 })).queues).toHaveLength(5);
  });

  it("20 concurrent topic creates at 3 of 5 topics leave exactly 5", async () => {
    const scope = await freshScope();
    const topics = new TopicOperations({ ...env, MAX_TOPICS_PER_ACCOUNT: "5" }, scope);
    for (const name of ["t-1", "t-2", "t-3"]) await topics.createTopic(name, {});

    const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => topics.createTopic(`c-${i}`, {})));

    const codes = settled.map(codeOf);
    expect(codes.filter((code) => code === "ok")).toHaveLength(2);
    expect(codes.filter((code) => code === "QuotaExceeded")).toHaveLength(18);
    expect((await topics.listTopics({ limit: 100 })).topics).toHaveLength(5);
  });

  it("concurrent creates of one name at the last free slot all succeed: one creates, the others confirm", async () => {
    const scope = await freshScope();
    const queues = new QueueOperations({ ...env, MAX_QUEUES_PER_ACCOUNT: "2" }, scope);
    await queues.createQueue("first", {});

    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => queues.createQueue("same", {})));
    const other = await queues.createQueue("other", {}).catch((error: unknown) => error);

    expect(settled.map(codeOf)).toEqual(settled.map(() => "ok"));
    expect(settled.filter((s) => s.status === "fulfilled" && s.value.created)).toHaveLength(1);
    expect(other).toMatchObject({ code: "QuotaExceeded" });
  });

  it("a create that fails gives its reserved slot back", async () => {
    const scope = await freshScope();
    const queues = new QueueOperations({ ...env, MAX_QUEUES_PER_ACCOUNT: "1" }, scope);
    const topics = new TopicOperations({ ...env, MAX_TOPICS_PER_ACCOUNT: "1" }, scope);

    const badQueue = await queues.createQueue("bad", { deadLetter: { queue: "missing", policy: 0, maxReceiveCount: 3 } } as never).catch((e: unknown) => e);
    const badTopic = await topics.createTopic("Bad Name", {}).catch((e: unknown) => e);
    const queue = await queues.createQueue("good", {});
    const topic = await topics.createTopic("good", {});

    expect(badQueue).toMatchObject({ code: "InvalidDeadLetterQueue" });
    expect(badTopic).toMatchObject({ code: "InvalidParameter" });
    expect(queue.created).toBe(true);
    expect(topic.created).toBe(true);
    expect((await queues.listQueues({ limit: 100 })).queues.map((q) => q.name)).toEqual(["good"]);
  });

  it("a reservation whose create never finished stops counting after its lifetime", async () => {
    const scope = await freshScope();
    const catalog = env.CATALOG.get(env.CATALOG.idFromName(scope.account));
    await catalog.reserve("queue", "local", "crashed", 1);

    const whileHeld = await catalog.reserve("queue", "local", "next", 1);
    await runInDurableObject(catalog, (_object, state) => {
      state.storage.sql.exec("UPDATE resources SET modified_at = 0 WHERE provisional = 1");
    });
    const afterwards = await catalog.reserve("queue", "local", "next", 1);

    expect(whileHeld).toMatchObject({ ok: false, error: { code: "QuotaExceeded" } });
    expect(afterwards).toEqual({ ok: true, value: { reserved: true } });
  });

  it("20 concurrent key creates at 95 of 100 keys leave exactly 100", async () => {
    const account = await createAccount(`acct-${unique()}`);
    const policy = [{ actions: ["read"], resources: ["*"] }];
    for (let batch = 0; batch < 95; batch += 19) {
      await Promise.all(Array.from({ length: 19 }, () => createKey(policy, account)));
    }

    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api("POST", `/v1/accounts/${account}/keys`, { policy: { statements: policy } })),
    );

    expect(responses.filter((r) => r.status === 201)).toHaveLength(AccountLimits.keysPerAccount - 95);
    expect(responses.filter((r) => r.body.error?.code === "QuotaExceeded")).toHaveLength(15);
    expect((await api("GET", `/v1/accounts/${account}/keys`)).body.keys).toHaveLength(AccountLimits.keysPerAccount);
  });
});
