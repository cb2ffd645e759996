import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadmeSession, commandsOf, kindOf, readme, shellBlocks } from "./readme.mjs";

const blocks = shellBlocks(readme()).map((text, index) => ({ text, index, kind: kindOf(text), first: commandsOf(text)[0] ?? "" }));

/** What some blocks must print besides answering 2xx: proof that the example did what the README says. */
const expectedOutput = [
  { command: "localhost:8787/v1/queues/orders-eu/messages/receive", output: '\\"id\\": 7' },
  { command: "localhost:8787/v1/queues/consumed/messages/receive", output: '"body":"hello, worker"' },
  { command: "localhost:8788/queues/greetings/receive", output: '"body":"hello from a Worker"' },
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
