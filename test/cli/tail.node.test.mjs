import { describe, expect, it } from "vitest";
import { runCli, startCli, unique, useCliService, waitUntil } from "./support.mjs";

/** The service, and an environment with its URL and the root key, for the whole file. */
const fixture = useCliService();
const cliJson = (...args) => runCli([...args, "--json"], { env: fixture.env });

describe("edge-cmq tail", () => {
  it("follows a queue, printing each message as a JSON line and deleting it; SIGINT exits 130", async () => {
    const queue = unique("q");
    await cliJson("queues", "create", queue);
    await cliJson("messages", "send", queue, "before");
    const tail = startCli(["tail", queue, "--json", "--wait", "2"], { env: fixture.env });

    await waitUntil(() => tail.jsonLines().length === 1, "the message sent before");
    await runCli(["messages", "send", queue], { env: fixture.env, input: "after 1\nafter 2\n" });
    await waitUntil(() => tail.jsonLines().length === 3, "the messages sent after");
    await waitUntil(async () => (await cliJson("queues", "get", queue)).json.counts.total === 0, "the printed messages to be deleted");
    tail.child.kill("SIGINT");
    const exited = await tail.exited;

    expect(tail.jsonLines().map((message) => message.body)).toEqual(["before", "after 1", "after 2"]);
    expect(exited.code).toBe(130);
    expect(tail.stderr).toBe("");
  });

  it("follows a queue with --peek without changing it, for people; SIGTERM exits 143", async () => {
    const queue = unique("q");
    await cliJson("queues", "create", queue);
    await cliJson("messages", "send", queue, "stored");
    const tail = startCli(["tail", queue, "--peek"], { env: fixture.env });

    await waitUntil(() => tail.stdout.includes("stored"), "the stored message");
    await cliJson("messages", "send", queue, "new one", "--tag", "eu");
    await waitUntil(() => tail.stdout.includes("new one"), "the new message");
    tail.child.kill("SIGTERM");
    const exited = await tail.exited;
    const after = await cliJson("queues", "get", queue);

    const lines = tail.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z {2}\S+ {2}stored$/);
    expect(lines[1]).toMatch(/ {2}\[eu\] {2}new one$/);
    expect(exited.code).toBe(143);
    expect(after.json.counts).toMatchObject({ total: 2, active: 2 });
  });

  it("follows a topic through a temporary subscribed queue, removed on SIGINT", async () => {
    const topic = unique("t");
    await cliJson("topics", "create", topic);
    const tail = startCli(["tail", "--topic", topic, "--filter-tag", "eu", "--wait", "2"], { env: fixture.env });

    const subscription = await waitUntil(async () => (await cliJson("subscriptions", "list", topic)).json.subscriptions[0], "the temporary subscription");
    await runCli(["topics", "publish", topic, "--tag", "eu"], { env: fixture.env, input: "first\nsecond\n" });
    await cliJson("topics", "publish", topic, "filtered out", "--tag", "us");
    await waitUntil(() => tail.stdout.includes("second"), "the published messages");
    tail.child.kill("SIGINT");
    const exited = await tail.exited;
    const subscriptionsAfter = await cliJson("subscriptions", "list", topic);
    const queueAfter = await runCli(["queues", "get", subscription.endpoint], { env: fixture.env });

    expect(subscription).toMatchObject({ protocol: "queue", filterTags: ["eu"] });
    expect(subscription.endpoint).toMatch(/^tail-[0-9a-f]{16}$/);
    expect(tail.stderr).toBe(`following topic ${topic} through queue ${subscription.endpoint}; Ctrl-C to stop\n`);
    expect(tail.stdout.trimEnd().split("\n").map((line) => line.split("  ").at(-1))).toEqual(["first", "second"]);
    expect(exited.code).toBe(130);
    expect(subscriptionsAfter.json.subscriptions).toEqual([]);
    expect(queueAfter.code).toBe(4);
  });

  it("stops when its reader goes away, exit 0, leaving what it could not print in the queue", async () => {
    const queue = unique("q");
    await cliJson("queues", "create", queue, "--visibility-timeout", "1");
    await cliJson("messages", "send", queue, "read");
    const tail = startCli(["tail", queue, "--json", "--wait", "2"], { env: fixture.env });
    await waitUntil(() => tail.jsonLines().length === 1, "the first message");

    tail.child.stdout.destroy();
    await runCli(["messages", "send", queue], { env: fixture.env, input: "unread 1\nunread 2\n" });
    const exited = await tail.exited;
    const left = await waitUntil(async () => {
      const peeked = await cliJson("messages", "peek", queue);
      return peeked.json.messages.every((message) => message.state === "active") && peeked.json.messages;
    }, "the unread messages to be visible again");

    expect(exited.code).toBe(0);
    expect(tail.stderr).toBe("");
    expect(left.map((message) => message.body)).toEqual(["unread 1", "unread 2"]);
  });

  it("stops a long-polling receive on SIGINT with exit 130 and no error", async () => {
    const queue = unique("q");
    await cliJson("queues", "create", queue);
    const receive = startCli(["messages", "receive", queue, "--wait", "20"], { env: fixture.env });

    await waitUntil(() => receive.child.pid && Date.now() - receive.startedAt > 1_000, "the receive to be waiting");
    receive.child.kill("SIGINT");
    const exited = await receive.exited;

    expect(exited.code).toBe(130);
    expect(Date.now() - receive.startedAt).toBeLessThan(10_000);
    expect(receive.stdout + receive.stderr).toBe("");
  });

  it("refuses a queue and --topic together, and neither (exit 2)", async () => {
    const both = await runCli(["tail", "q", "--topic", "t"], { env: fixture.env });
    const neither = await runCli(["tail"], { env: fixture.env });

    expect([both.code, neither.code]).toEqual([2, 2]);
    expect(neither.stderr).toBe("UsageError: give a queue or --topic (one of them); see `edge-cmq tail --help`\n");
  });
});
