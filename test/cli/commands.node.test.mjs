import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, unique, useCliService, waitUntil } from "./support.mjs";

/** `code: message (requestId)`, one line on stderr. */
const errorLine = (code) => new RegExp(`^${code}: .+ \\([0-9a-f-]{36}\\)\\n$`);

/** The service, and an environment with its URL and the root key, for the whole file. */
const fixture = useCliService();
const cli = (...args) => runCli(args, { env: fixture.env });
const cliJson = (...args) => runCli([...args, "--json"], { env: fixture.env });

describe("edge-cmq queues", () => {
  it("creates a queue, confirms an identical one, and refuses one with other attributes (exit 5)", async () => {
    const queue = unique("q");

    const created = await cliJson("queues", "create", queue, "--visibility-timeout", "60");
    const again = await cliJson("queues", "create", queue, "--visibility-timeout", "60");
    const other = await cli("queues", "create", queue, "--visibility-timeout", "61");

    expect(created).toMatchObject({ code: 0, json: { created: true, queue: { name: queue, visibilityTimeout: 60 } } });
    expect(again).toMatchObject({ code: 0, json: { created: false } });
    expect(other.code).toBe(5);
    expect(other.stdout).toBe("");
    expect(other.stderr).toMatch(errorLine("QueueAlreadyExists"));
  });

  it("lists queues as a table and as one JSON document", async () => {
    const queue = unique("listed");
    await cli("queues", "create", queue);

    const table = await cli("queues", "list", "--prefix", queue);
    const json = await cliJson("queues", "list", "--prefix", queue);

    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^NAME\s+VISIBILITY\s+RETENTION\s+DEAD-LETTER\s+CREATED$/);
    expect(table.stdout).toMatch(new RegExp(`^${queue}\\s+30s\\s+345600s\\s+-\\s+\\d{4}-`, "m"));
    expect(table.stdout).toContain("1 of 1");
    expect(json.json).toMatchObject({ total: 1, nextCursor: null, queues: [{ name: queue }] });
  });

  it("gets and updates a queue, and sets and removes a dead-letter policy", async () => {
    const queue = unique("q");
    const deadLetter = unique("dlq");
    await cli("queues", "create", queue);
    await cli("queues", "create", deadLetter);

    const updated = await cliJson("queues", "update", queue, "--visibility-timeout", "90", "--dead-letter-queue", deadLetter, "--max-receive-count", "3");
    const shown = await cli("queues", "get", queue);
    const removed = await cliJson("queues", "update", queue, "--no-dead-letter");

    expect(updated).toMatchObject({ code: 0, json: { visibilityTimeout: 90, deadLetter: { queue: deadLetter, maxReceiveCount: 3 } } });
    expect(shown.stdout).toMatch(/^visibilityTimeout\s+90$/m);
    expect(shown.stdout).toMatch(/^counts\.total\s+0$/m);
    expect(shown.stdout).toMatch(/^createdAt\s+\d{4}-\d\d-\d\dT/m);
    expect(removed.json.deadLetter).toBeNull();
  });

  it("purges, rewinds and deletes a queue; a deleted queue is not found (exit 4)", async () => {
    const queue = unique("q");
    await cli("queues", "create", queue, "--rewind-seconds", "3600");
    await cli("messages", "send", queue, "one");
    await cli("messages", "receive", queue, "--delete");

    const rewound = await cliJson("queues", "rewind", queue, "--since", "10m");
    const tooEarly = await cli("queues", "rewind", queue, "--since", "2h");
    const purged = await cli("queues", "purge", queue);
    const deleted = await cliJson("queues", "delete", queue);
    const missing = await cli("queues", "get", queue);

    expect(rewound).toMatchObject({ code: 0, json: { rewound: 1 } });
    expect(tooEarly.code).toBe(2);
    expect(tooEarly.stderr).toMatch(errorLine("InvalidRewindTime"));
    expect(purged.stdout).toBe(`purged 1 messages from ${queue}\n`);
    expect(deleted.json).toEqual({ deleted: true, queue });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(errorLine("QueueNotFound"));
  });

  it("starts a redrive and reports its status; a finished one cannot be cancelled (exit 4)", async () => {
    const deadLetter = unique("dlq");
    const destination = unique("q");
    await cli("queues", "create", deadLetter);
    await cli("queues", "create", destination);
    await cli("messages", "send", deadLetter, "lost");

    const started = await cliJson("queues", "redrive", "start", deadLetter, "--destination", destination);
    const completed = await waitUntil(async () => {
      const status = await cliJson("queues", "redrive", "status", deadLetter);
      return status.json?.status === "completed" && status;
    }, "the redrive to complete");
    const peeked = await cliJson("messages", "peek", destination);
    const cancelled = await cliJson("queues", "redrive", "cancel", deadLetter);

    expect(started).toMatchObject({ code: 0, json: { destination, maxPerSecond: 100 } });
    expect(completed.json).toMatchObject({ moved: 1, remaining: 0 });
    expect(peeked.json.messages.map((message) => message.body)).toEqual(["lost"]);
    expect(cancelled.code).toBe(4);
    expect(cancelled.stderr).toMatch(errorLine("RedriveNotFound"));
  });
});

describe("edge-cmq messages", () => {
  it("sends from an argument, a file and standard input line by line, in order", async () => {
    const queue = unique("q");
    await cli("queues", "create", queue);
    const file = path.join(fixture.service.workDir, "body.txt");
    writeFileSync(file, "from a file\nwith two lines");
    const lines = Array.from({ length: 18 }, (_, index) => `line ${index + 1}`);

    const fromArgument = await cliJson("messages", "send", queue, "from an argument", "--tag", "a,b", "--tag", "c");
    const fromFile = await cliJson("messages", "send", queue, "--file", file);
    const fromStdin = await runCli(["messages", "send", queue, "--json"], { env: fixture.env, input: `${lines.slice(0, 9).join("\n")}\n\n${lines.slice(9).join("\n")}\n` });
    const peeked = await cliJson("messages", "peek", queue, "--limit", "100");

    expect(fromArgument.json.messages).toHaveLength(1);
    expect(fromFile.json.messages).toHaveLength(1);
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.json.messages).toHaveLength(18);
    expect(peeked.json.messages.map((message) => message.body)).toEqual(["from an argument", "from a file\nwith two lines", ...lines]);
    expect(peeked.json.messages[0].tags).toEqual(["a", "b", "c"]);
  });

  it("receives as JSON lines, leaves them unless --delete, and deletes by receipt handle", async () => {
    const queue = unique("q");
    await cli("queues", "create", queue);
    await runCli(["messages", "send", queue], { env: fixture.env, input: "m1\nm2\nm3\n" });

    const received = await runCli(["messages", "receive", queue, "--max", "2", "--json"], { env: fixture.env, lines: true });
    const stillThere = await cliJson("queues", "get", queue);
    const deleted = await cliJson("messages", "delete", queue, ...received.json.map((message) => message.receiptHandle));
    const acknowledged = await cli("messages", "receive", queue, "--delete", "--wait", "1");
    const after = await cliJson("queues", "get", queue);

    expect(received.json.map((message) => message.body)).toEqual(["m1", "m2"]);
    expect(stillThere.json.counts).toMatchObject({ total: 3, inactive: 2 });
    expect(deleted.json.results.every((result) => result.deleted)).toBe(true);
    expect(acknowledged.stdout.split("\n")[0]).toMatch(/^ID\s+RECEIVES\s+ENQUEUED\s+TAGS\s+BODY\s+RECEIPT-HANDLE$/);
    expect(acknowledged.stdout).toMatch(/\s1\s+\d{4}-\S+\s+-\s+m3\s+\S+\n$/);
    expect(after.json.counts.total).toBe(0);
  });

  it("shows peeked messages with their state in a table", async () => {
    const queue = unique("q");
    await cli("queues", "create", queue);
    await cli("messages", "send", queue, "later", "--delay-seconds", "600");

    const peeked = await cli("messages", "peek", queue);

    expect(peeked.stdout).toMatch(/^ID\s+STATE\s+RECEIVES\s+ENQUEUED\s+TAGS\s+BODY$/m);
    expect(peeked.stdout).toMatch(/\sdelayed\s+0\s+\S+\s+-\s+later\n$/);
  });

  it("refuses a malformed receipt handle as a usage error (exit 2)", async () => {
    const queue = unique("q");
    await cli("queues", "create", queue);

    const result = await cli("messages", "delete", queue, "not-a-handle");

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ReceiptHandleInvalid: /);
  });
});

describe("edge-cmq topics and subscriptions", () => {
  it("creates, lists, gets and deletes a topic", async () => {
    const topic = unique("t");

    const created = await cliJson("topics", "create", topic, "--retention-seconds", "3600");
    const listed = await cli("topics", "list", "--prefix", topic);
    const shown = await cliJson("topics", "get", topic);
    const deleted = await cli("topics", "delete", topic);
    const missing = await cli("topics", "get", topic);

    expect(created).toMatchObject({ code: 0, json: { created: true, topic: { name: topic, msgRetentionSeconds: 3600, filterType: "tag" } } });
    expect(listed.stdout).toMatch(new RegExp(`^${topic}\\s+tag\\s+3600s\\s+\\d{4}-`, "m"));
    expect(shown.json).toMatchObject({ name: topic, subscriptionCount: 0 });
    expect(deleted.stdout).toBe(`deleted topic ${topic}\n`);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(errorLine("TopicNotFound"));
  });

  it("publishes with tags to the queues subscribed with a matching filter tag", async () => {
    const topic = unique("t");
    const queue = unique("q");
    const subscription = unique("s");
    await cli("topics", "create", topic);
    await cli("queues", "create", queue);

    const subscribed = await cliJson("topics", "subscribe", topic, subscription, "--queue", queue, "--filter-tag", "eu");
    const listed = await cli("subscriptions", "list", topic);
    await cli("topics", "publish", topic, "for us", "--tag", "us");
    const published = await cliJson("topics", "publish", topic, "for eu", "--tag", "eu");
    const received = await runCli(["messages", "receive", queue, "--max", "16", "--wait", "10", "--json"], { env: fixture.env, lines: true });

    expect(subscribed).toMatchObject({ code: 0, json: { created: true, subscription: { protocol: "queue", endpoint: queue, filterTags: ["eu"] } } });
    expect(listed.stdout).toMatch(new RegExp(`^${subscription}\\s+queue\\s+${queue}\\s+eu\\s+-\\s+0$`, "m"));
    expect(published.json.messages).toHaveLength(1);
    expect(received.json.map((message) => message.body)).toEqual(["for eu"]);
  });

  it("routes by routing key and publishes standard input line by line", async () => {
    const topic = unique("t");
    const queue = unique("q");
    const subscription = unique("s");
    await cli("topics", "create", topic, "--filter-type", "routingKey");
    await cli("queues", "create", queue);
    const subscribed = await cli("subscriptions", "create", topic, subscription, "--protocol", "queue", "--target", queue, "--binding-key", "order.*");

    await runCli(["topics", "publish", topic, "--routing-key", "invoice.eu"], { env: fixture.env, input: "not routed\n" });
    const published = await runCli(["topics", "publish", topic, "--routing-key", "order.eu", "--json"], { env: fixture.env, input: "first\nsecond\n" });
    const bodies = await waitUntil(async () => {
      const peeked = await cliJson("messages", "peek", queue);
      return peeked.json.messages.length >= 2 && peeked.json.messages.map((message) => message.body);
    }, "both messages in the subscribed queue");
    const shown = await cliJson("subscriptions", "get", topic, subscription);

    expect(subscribed.stdout).toBe(`subscribed ${subscription} (queue ${queue}) to ${topic}\n`);
    expect(published.json.messages).toHaveLength(2);
    expect(bodies).toEqual(["first", "second"]);
    expect(shown.json).toMatchObject({ bindingKeys: ["order.*"], stats: { delivered: 2 } });
  });

  it("unsubscribes, and a removed subscription is not found (exit 4)", async () => {
    const topic = unique("t");
    const queue = unique("q");
    const subscription = unique("s");
    await cli("topics", "create", topic);
    await cli("queues", "create", queue);
    await cli("subscriptions", "create", topic, subscription, "--queue", queue);

    const removed = await cliJson("topics", "unsubscribe", topic, subscription);
    const again = await cli("subscriptions", "delete", topic, subscription);
    const listed = await cliJson("subscriptions", "list", topic);

    expect(removed.json).toEqual({ deleted: true, subscription });
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(errorLine("SubscriptionNotFound"));
    expect(listed.json.subscriptions).toEqual([]);
  });
});

describe("edge-cmq keys and tokens", () => {
  it("creates a key that works within its policy, signed or as a bearer secret; beyond it exit 3", async () => {
    const queue = unique("k");
    await cli("queues", "create", queue);

    const created = await cliJson("keys", "create", "--actions", "send,receive", "--resources", "queue:k-*");
    const { secretId, secretKey } = created.json;
    const bearer = { ...fixture.env, EDGE_CMQ_SECRET_KEY: secretKey };
    const signed = { ...bearer, EDGE_CMQ_SECRET_ID: secretId };
    const sentBearer = await runCli(["messages", "send", queue, "bearer"], { env: bearer });
    const sentSigned = await runCli(["messages", "send", queue, "signed"], { env: signed });
    const forbidden = await runCli(["queues", "create", unique("k")], { env: signed });
    const listed = await cli("keys", "list");

    expect(created.code).toBe(0);
    expect(created.json.policy).toEqual({ statements: [{ actions: ["send", "receive"], resources: ["queue:k-*"] }] });
    expect(sentBearer.code).toBe(0);
    expect(sentSigned.code).toBe(0);
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toMatch(errorLine("Forbidden"));
    expect(listed.stdout).toMatch(new RegExp(`^${secretId}\\s+no\\s+\\S+\\s+-\\s+send,receive on queue:k-\\*$`, "m"));
  });

  it("disables, enables, rotates and deletes a key", async () => {
    const queue = unique("k");
    await cli("queues", "create", queue);
    const { secretId, secretKey } = (await cliJson("keys", "create", "--policy", '{"statements": [{"actions": ["send"], "resources": ["*"]}]}')).json;
    const send = (key) => runCli(["messages", "send", queue, "hi"], { env: { ...fixture.env, EDGE_CMQ_SECRET_KEY: key } });

    const disabled = await cliJson("keys", "disable", secretId);
    const whileDisabled = await send(secretKey);
    await cli("keys", "enable", secretId);
    const whileEnabled = await send(secretKey);
    const rotated = await cliJson("keys", "rotate", secretId);
    const oldSecret = await send(secretKey);
    const newSecret = await send(rotated.json.secretKey);
    const deleted = await cliJson("keys", "delete", secretId);
    const afterDelete = await send(rotated.json.secretKey);

    expect(disabled.json.disabled).toBe(true);
    expect(whileDisabled.code).toBe(3);
    expect(whileDisabled.stderr).toMatch(errorLine("Unauthenticated"));
    expect(whileEnabled.code).toBe(0);
    expect(rotated.json.secretKey).not.toBe(secretKey);
    expect([oldSecret.code, newSecret.code]).toEqual([3, 0]);
    expect(deleted.json).toEqual({ deleted: true, key: secretId });
    expect(afterDelete.code).toBe(3);
  });

  it("mints a token that may do what it names and nothing else", async () => {
    const queue = unique("tok");
    const other = unique("tok");
    await cli("queues", "create", queue);
    await cli("queues", "create", other);

    const minted = await cliJson("tokens", "mint", "--actions", "send", "--resources", `queue:${queue}`, "--ttl-seconds", "60");
    const asToken = { PATH: fixture.env.PATH, HOME: fixture.env.HOME, EDGE_CMQ_ENDPOINT: fixture.service.url, EDGE_CMQ_TOKEN: minted.json.token };
    const allowed = await runCli(["messages", "send", queue, "with a token"], { env: asToken });
    const refused = await runCli(["messages", "send", other, "with a token"], { env: asToken });
    const viaFlag = await runCli(["messages", "send", queue, "flag", "--token", minted.json.token], { env: { ...asToken, EDGE_CMQ_TOKEN: "" } });

    expect(minted.json.expiresAt - Date.now()).toBeLessThanOrEqual(60_000);
    expect(allowed.code).toBe(0);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(errorLine("Forbidden"));
    expect(viaFlag.code).toBe(0);
  });
});
