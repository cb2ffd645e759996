import { beforeAll, describe, expect, it } from "vitest";
import { MaxRequestBodyBytes } from "../../src/api/http";
import { QueueNamePattern } from "../../src/schema/queue";
import { api, uniqueName } from "../support/http";
import { createQueue, expectError, expectStatus, peekAll, rawFetch, snapshot } from "./helpers";

/** Routes that read a JSON body, with a valid body for each; `{q}` is the queue under test. */
const bodyRoutes = [
  { method: "PUT", path: "/v1/queues/{q}", valid: {} },
  { method: "PATCH", path: "/v1/queues/{q}", valid: { visibilityTimeout: 31 } },
  { method: "POST", path: "/v1/queues/{q}/messages", valid: { body: "x" } },
  { method: "POST", path: "/v1/queues/{q}/messages/receive", valid: {} },
  { method: "POST", path: "/v1/queues/{q}/messages/delete", valid: { receiptHandles: ["h"] } },
  { method: "POST", path: "/v1/queues/{q}/messages/visibility", valid: { receiptHandle: "h", visibilityTimeout: 1 } },
  { method: "POST", path: "/v1/queues/{q}/rewind", valid: { since: 0 } },
  { method: "POST", path: "/v1/queues/{q}/redrive", valid: {} },
];

const malformedJson = [
  ["an opening brace only", "{"],
  ["truncated JSON", '{"body": "x"'],
  ["truncated mid-string", '{"body": "x'],
  ["single quotes", "{'body': 'x'}"],
  ["trailing garbage", '{"body": "x"}}'],
  ["a trailing comma", '{"body": "x",}'],
  ["plain text", "hello"],
  ["an unquoted key", "{body: 1}"],
  ["NaN", '{"body": NaN}'],
];

const nonObjectJson = [
  ["an array", "[]"],
  ["an array of an object", '[{"body": "x"}]'],
  ["a number", "42"],
  ["null", "null"],
  ["a string", '"x"'],
  ["true", "true"],
];

describe("bodies that are not a JSON object", () => {
  let queue: string;
  let before: unknown;

  beforeAll(async () => {
    queue = await createQueue(uniqueName("mal"), { rewindSeconds: 60 });
    await api("POST", `/v1/queues/${queue}/messages`, { body: "resident" });
    before = await snapshot(queue);
  });

  const cases = bodyRoutes.flatMap((route) => [
    ...malformedJson.map(([label, text]) => ({ ...route, label, text, code: "MalformedRequest" as const })),
    ...nonObjectJson.map(([label, text]) => ({ ...route, label, text, code: "InvalidParameter" as const })),
  ]);

  it.each(cases)("$method $path with $label → $code, nothing changed", async ({ method, path, text, code }) => {
    const response = await api(method, path.replace("{q}", queue), undefined, {
      rawBody: text,
      headers: { "content-type": "application/json" },
    });
    expectError(response, code);
    expect(await snapshot(queue)).toEqual(before);
  });

  it.each(bodyRoutes.filter((route) => ["PATCH", "POST"].includes(route.method) && !route.path.endsWith("receive") && !route.path.endsWith("redrive")))(
    "$method $path without a body is refused as MalformedRequest",
    async ({ method, path }) => {
      expectError(await api(method, path.replace("{q}", queue)), "MalformedRequest", "required");
      expect(await snapshot(queue)).toEqual(before);
    },
  );

  it("a body that is not UTF-8 is MalformedRequest", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x62, 0x6f, 0x64, 0x79, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    expectError(await rawFetch("POST", `/v1/queues/${queue}/messages`, bytes), "MalformedRequest", "UTF-8");
    expect(await snapshot(queue)).toEqual(before);
  });

  it("a UTF-8 byte order mark before the JSON is accepted", async () => {
    const name = uniqueName("mal");
    expectStatus(await api("PUT", `/v1/queues/${name}`, undefined, { rawBody: '\uFEFF{"visibilityTimeout": 5}' }), 201);
    expect(((await snapshot(name)) as any).visibilityTimeout).toBe(5);
  });

  it("wrong value types are InvalidParameter naming the field", async () => {
    const wrong = [
      ["PUT", "", { visibilityTimeout: "30" }, "visibilityTimeout"],
      ["PATCH", "", { deadLetter: "none" }, "deadLetter"],
      ["POST", "/messages", { body: ["x"] }, "body"],
      ["POST", "/messages/receive", { max: "1" }, "max"],
      ["POST", "/messages/delete", { receiptHandles: [{ h: 1 }] }, "receiptHandles.0"],
      ["POST", "/messages/visibility", { receiptHandle: 5, visibilityTimeout: 1 }, "receiptHandle"],
      ["POST", "/rewind", { since: "yesterday" }, "since"],
      ["POST", "/redrive", { maxPerSecond: "10" }, "maxPerSecond"],
    ] as const;
    for (const [method, suffix, body, field] of wrong) {
      expectError(await api(method, `/v1/queues/${queue}${suffix}`, body), "InvalidParameter", `body.${field}`);
    }
    expect(await snapshot(queue)).toEqual(before);
  });
});

describe("queue names", () => {
  it.each([
    ["unicode", "caf%C3%A9"],
    ["only unicode", "%E9%98%9F%E5%88%97"],
    ["an emoji", "q%F0%9F%98%80"],
    ["an encoded slash", "a%2Fb"],
    ["a dot", "a.b"],
    ["a leading dot", ".hidden"],
    ["a space", "a%20b"],
    ["a NUL", "a%00"],
    ["a leading digit", "1queue"],
    ["a leading hyphen", "-queue"],
    ["a leading underscore", "_queue"],
    ["a colon", "a:b"],
    ["65 characters", `q${"x".repeat(64)}`],
  ])("a name with %s is 400 InvalidParameter on every queue route", async (_label, segment) => {
    expectError(await api("PUT", `/v1/queues/${segment}`, {}), "InvalidParameter", "queue name");
    expectError(await api("GET", `/v1/queues/${segment}`), "InvalidParameter", "queue name");
    expectError(await api("PATCH", `/v1/queues/${segment}`, { visibilityTimeout: 5 }), "InvalidParameter", "queue name");
    expectError(await api("DELETE", `/v1/queues/${segment}`), "InvalidParameter", "queue name");
    expectError(await api("POST", `/v1/queues/${segment}/messages`, { body: "x" }), "InvalidParameter", "queue name");
    expectError(await api("POST", `/v1/queues/${segment}/messages/receive`, {}), "InvalidParameter", "queue name");
    expectError(await api("POST", `/v1/queues/${segment}/purge`), "InvalidParameter", "queue name");
  });

  it("names of 1 and 64 characters, with digits, '-' and '_', are accepted", async () => {
    const long = `Q${crypto.randomUUID().replace(/-/g, "_")}`.padEnd(64, "-");
    expect(long).toHaveLength(64);
    expectStatus(await api("PUT", `/v1/queues/${long}`, {}), 201);
    expect(((await snapshot(long)) as any).name).toBe(long);
    const single = await api("PUT", `/v1/queues/z`, {});
    expect([200, 201]).toContain(single.status);
  });

  it("an empty name is no queue route: PUT /v1/queues/ is 405, a name with a slash is 404", async () => {
    const empty = await api("PUT", "/v1/queues/", {});
    expectError(empty, "MethodNotAllowed");
    expect(empty.headers.get("allow")).toBe("GET");
    expectError(await api("PUT", "/v1/queues/a/b", {}), "NotFound");
  });

  it("no refused name made it into the catalog", async () => {
    const listed = await api("GET", "/v1/queues?limit=1000");
    expectStatus(listed, 200);
    for (const queue of listed.body.queues) expect(queue.name).toMatch(QueueNamePattern);
  });
});

describe("request size", () => {
  let queue: string;
  beforeAll(async () => {
    queue = await createQueue(uniqueName("big"), { maxMsgSize: 1_048_576 });
  });

  it("a body over 4 MiB with a Content-Length is 413 RequestTooLarge", async () => {
    const text = JSON.stringify({ body: "x".repeat(MaxRequestBodyBytes) });
    expectError(await api("POST", `/v1/queues/${queue}/messages`, undefined, { rawBody: text }), "RequestTooLarge");
    expect(await peekAll(queue)).toEqual([]);
  });

  it("a body over 4 MiB streamed without a Content-Length (chunked) is 413 RequestTooLarge", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"body": "'));
        controller.enqueue(chunk);
        sent += chunk.byteLength;
        if (sent > MaxRequestBodyBytes + chunk.byteLength) controller.close();
      },
    });
    const response = await rawFetch("POST", `/v1/queues/${queue}/messages`, stream);
    expectError(response, "RequestTooLarge");
    expect(sent).toBeLessThanOrEqual(MaxRequestBodyBytes + 2 * chunk.byteLength);
    expect(await peekAll(queue)).toEqual([]);
  });

  it("a body of exactly 4 MiB is read", async () => {
    const json = JSON.stringify({ messages: [{ body: "a" }, { body: "b" }] });
    const padded = json.slice(0, -1) + " ".repeat(MaxRequestBodyBytes - json.length) + "}";
    expect(new TextEncoder().encode(padded).byteLength).toBe(MaxRequestBodyBytes);
    const response = await api("POST", `/v1/queues/${queue}/messages`, undefined, { rawBody: padded });
    expectStatus(response, 200);
    expect(response.body.messages).toHaveLength(2);
    const streamed = new Blob([padded.replace('"a"', '"c"')]).stream();
    expectStatus(await rawFetch("POST", `/v1/queues/${queue}/messages`, streamed), 200);
    expect((await peekAll(queue)).map((m) => m.body)).toEqual(["a", "b", "c", "b"]);
  });

  it("a create over 4 MiB creates nothing", async () => {
    const name = uniqueName("big");
    const text = `{"visibilityTimeout": 5${" ".repeat(MaxRequestBodyBytes)}}`;
    expectError(await api("PUT", `/v1/queues/${name}`, undefined, { rawBody: text }), "RequestTooLarge");
    expectError(await api("GET", `/v1/queues/${name}`), "QueueNotFound");
  });
});

describe("receipt handles", () => {
  it.each([
    ["a word", "nonsense"],
    ["an encoded space", "%20"],
    ["300 characters", "a".repeat(300)],
    ["a too-large sequence", `zzzzzzzzzzzz-${"0".repeat(32)}`],
    ["upper-case hex", `1-${"A".repeat(32)}`],
    ["a short token", `1-${"0".repeat(31)}`],
    ["an unknown message", `zz-${"0".repeat(32)}`],
  ])("DELETE with %s is 400 ReceiptHandleInvalid and the message stays in flight", async (_label, handle) => {
    const queue = await createQueue(uniqueName("rh"));
    await api("POST", `/v1/queues/${queue}/messages`, { body: "in flight" });
    await api("POST", `/v1/queues/${queue}/messages/receive`, {});
    const before = await snapshot(queue);
    expectError(await api("DELETE", `/v1/queues/${queue}/messages/${handle}`), "ReceiptHandleInvalid");
    const batch = await api("POST", `/v1/queues/${queue}/messages/delete`, { receiptHandles: [decodeURIComponent(handle)] });
    expectStatus(batch, 200);
    expect(batch.body.results[0]).toMatchObject({ deleted: false, error: { code: "ReceiptHandleInvalid" } });
    expect(await snapshot(queue)).toEqual(before);
  });
});

describe("routing", () => {
  it.each(["/", "/v1", "/v2/queues", "/v1/healthz", "/v1/queues/q1/unknown", "/v1/queues/q1/messages/h/extra", "/openapi.yaml"])(
    "GET %s is 404 NotFound",
    async (path) => {
      const response = await api("GET", path);
      expectError(response, "NotFound");
      expect(response.headers.get("allow")).toBeNull();
    },
  );

  it.each([
    ["POST", "/v1/health", "GET"],
    ["PATCH", "/v1/health", "GET"],
    ["DELETE", "/v1/queues", "GET"],
    ["POST", "/v1/queues", "GET"],
    ["POST", "/v1/queues/{q}", "PUT, GET, PATCH, DELETE"],
    ["PUT", "/v1/queues/{q}/messages", "POST, GET"],
    ["DELETE", "/v1/queues/{q}/messages", "POST, GET"],
    ["GET", "/v1/queues/{q}/messages/receive", "POST, DELETE"],
    ["GET", "/v1/queues/{q}/purge", "POST"],
    ["DELETE", "/v1/queues/{q}/rewind", "POST"],
    ["PUT", "/v1/queues/{q}/redrive", "POST, GET, DELETE"],
    ["POST", "/openapi.json", "GET"],
  ])("%s %s is 405 MethodNotAllowed with Allow: %s, and changes nothing", async (method, path, allow) => {
    const queue = await createQueue(uniqueName("rt"));
    await api("POST", `/v1/queues/${queue}/messages`, { body: "kept" });
    const before = await snapshot(queue);
    const response = await api(method, path.replace("{q}", queue), method === "GET" ? undefined : { body: "x" });
    expectError(response, "MethodNotAllowed", method);
    expect(response.headers.get("allow")).toBe(allow);
    expect(await snapshot(queue)).toEqual(before);
  });

  it("a wrong method on a missing queue's path creates nothing", async () => {
    const name = uniqueName("rt");
    expectError(await api("POST", `/v1/queues/${name}`, {}), "MethodNotAllowed");
    expectError(await api("GET", `/v1/queues/${name}`), "QueueNotFound");
  });

  it("every answer carries its own request id", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const response = await api("GET", "/v1/nowhere");
      ids.add(response.body.error.requestId);
    }
    expect(ids.size).toBe(5);
    const ok = await api("GET", "/v1/health");
    expectStatus(ok, 200);
    expect(ok.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
