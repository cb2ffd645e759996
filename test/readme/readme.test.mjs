import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadmeSession, commandsOf, kindOf, readme, shellBlocks } from "./readme.mjs";

const blocks = shellBlocks(readme()).map((text, index) => ({ text, index, kind: kindOf(text), first: commandsOf(text)[0] ?? "" }));

/** What some blocks must print besides answering 2xx: proof that the example did what the README says. */
const expectedOutput = [
  { command: "localhost:8787/v1/queues/orders-eu/messages/receive", output: '\\"id\\": 7' },
  { command: "localhost:8787/v1/queues/consumed/messages/receive", output: '"body":"hello, worker"' },
  { command: "localhost:8788/queues/greetings/receive", output: '"body":"hello from a Worker"' },
  { command: "localhost:8787/v1/queues/processed/messages/receive", output: '"body":"processed: a"' },
];

describe("the README's examples, run in order as written on a fresh npm start", () => {
  let session;

  beforeAll(() => {
    session = new ReadmeSession();
  });

  afterAll(async () => {
    await session?.close();
  });

  it("has sh examples, the first of them starting the service", () => {
    expect(blocks.length).toBeGreaterThan(5);
    expect(blocks[0].kind).toBe("start");
    expect(blocks[0].first).toMatch(/npm start$/);
  });

  it("names each example that checks its output, so a renamed one cannot slip through", () => {
    for (const { command } of expectedOutput) expect(blocks.some((block) => block.text.includes(command)), command).toBe(true);
  });

  for (const block of blocks) {
    const label = `${block.index + 1}: ${block.first.slice(0, 70)}`;
    // The blocks named in `notRun` (the test suite itself, the benchmark) are left out.
    if (block.kind === "not run") continue;
    it(block.kind === "start" ? `starts ${label}` : `runs ${label} with every curl answering 2xx`, async () => {
      if (block.kind === "start") {
        await session.start(block.text);
        return;
      }

      const output = await session.run(block.text);

      const curls = (block.text.match(/\bcurl /g) ?? []).length;
      expect((output.match(/^HTTP 2\d\d /gm) ?? []).length, output).toBeGreaterThanOrEqual(curls);
      for (const expected of expectedOutput.filter((each) => block.text.includes(each.command))) {
        expect(output, expected.command).toContain(expected.output);
      }
    });
  }
});

describe("the running service, over raw HTTP", () => {
  let session;

  beforeAll(async () => {
    session = new ReadmeSession();
    await session.start("npm start");
  });

  afterAll(async () => {
    await session?.close();
  });

  it("answers PROPFIND, a method no adapter serves, with 405 in the error format and a request id", async () => {
    const port = await session.port("8787");

    const answer = await rawRequest(port, `PROPFIND /v1/queues HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);

    expect(answer).toMatch(/^HTTP\/1\.1 405 /);
    const requestId = /\r\nx-request-id: ([0-9a-f-]{36})\r\n/i.exec(answer)?.[1];
    expect(requestId).toBeDefined();
    expect(answer).toMatch(/\r\nallow: [^\r]*GET/i);
    const body = JSON.parse(/\{.*\}/s.exec(answer)?.[0] ?? "null");
    expect(body).toEqual({ error: { code: "MethodNotAllowed", message: expect.stringContaining("PROPFIND"), requestId } });
  });

  // CONNECT never reaches a Worker's fetch handler: the local runtime answers it (a plain 500 under
  // wrangler dev), as Cloudflare's edge does in production. What matters is that the service goes on.
  it("goes on serving after a CONNECT", async () => {
    const port = await session.port("8787");

    const answer = await rawRequest(port, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    const health = await fetch(`http://127.0.0.1:${port}/v1/health`);

    expect(answer).toMatch(/^HTTP\/1\.1 [45]\d\d /);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
  });
});

/** Sends bytes as they are (fetch refuses CONNECT) and reads the whole answer. */
function rawRequest(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.end(text));
    let answer = "";
    socket.setEncoding("utf8");
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer within 10 s")));
    socket.on("data", (chunk) => (answer += chunk));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}
