import { beforeAll, describe, expect, it } from "vitest";
import { HttpStatusOfError, restRoutes } from "../../src/api/rest";
import { liveRoutes } from "../../src/api/rest/live-routes";
import { LiveProtocol } from "../../src/schema/live";
import { catalog, operationNames } from "../../src/operations";
import { QueueLimits } from "../../src/schema/queue";
import { api } from "../support/http";
import { expectStatus } from "./helpers";

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

let doc: any;
const operation = (method: string, path: string) => doc.paths[path]?.[method.toLowerCase()];
const bodySchema = (method: string, path: string) =>
  operation(method, path).requestBody.content["application/json"].schema;

beforeAll(async () => {
  const response = await api("GET", "/openapi.json");
  expectStatus(response, 200);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  doc = response.body;
});

describe("document", () => {
  it("is OpenAPI 3.0 with a bearer security scheme and a server", () => {
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer" });
    expect(doc.servers).toEqual([expect.objectContaining({ url: "/" })]);
  });

  it("lists every route of the REST table, and no other", () => {
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods as object).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const table = [...restRoutes.map((route) => `${route.method} ${toOpenApiPath(route.path)}`), ...liveRoutes.map((route) => `GET ${toOpenApiPath(route.path)}`)];
    expect(new Set(table).size).toBe(table.length);
    expect(documented.sort()).toEqual([...table].sort());
  });

  it("lists exactly the operations of the catalog, each once", () => {
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods as object).map((op: any) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual([...operationNames, ...liveRoutes.map((route) => route.operationId)].sort());
  });

  it.each(liveRoutes.map((route) => [route.path, route] as const))("describes the WebSocket upgrade at %s", (_label, route) => {
    const op = operation("GET", toOpenApiPath(route.path));
    const headers = op.parameters.filter((p: any) => p.in === "header").map((p: any) => [p.name, p.required]);
    const offer = op.parameters.find((p: any) => p.name === "Sec-WebSocket-Protocol");

    expect(op.operationId).toBe(route.operationId);
    expect(Object.keys(op.responses)).toContain("101");
    expect(headers).toEqual([
      ["Upgrade", true],
      ["Sec-WebSocket-Protocol", true],
    ]);
    expect(offer.description).toContain(LiveProtocol);
    // A browser token in the offer stands in for Authorization.
    expect(op.security).toEqual([{}, { bearer: [] }]);
    for (const code of route.errors) {
      expect(op.responses[HttpStatusOfError[code]].description).toContain(code);
    }
    // The client's frames, from the schema the object reads them with.
    const frames = op["x-client-frames"];
    const frameTypes = (frames.anyOf ?? frames.oneOf).map((frame: any) => frame.properties.type.const ?? frame.properties.type.enum?.[0]);
    expect(frameTypes).toContain("credit");
  });

  it("documents a queue socket's visibility timeout and a topic socket's filters as query parameters", () => {
    const queryOf = (path: string) => Object.fromEntries(operation("GET", path).parameters.filter((p: any) => p.in === "query").map((p: any) => [p.name, p]));
    const queue = queryOf("/v1/queues/{queue}/live");
    const topic = queryOf("/v1/topics/{topic}/live");

    expect(queue.visibilityTimeout.schema).toMatchObject({ type: "integer", minimum: QueueLimits.visibilityTimeoutSeconds.min, maximum: QueueLimits.visibilityTimeoutSeconds.max });
    expect(topic.filterTags).toMatchObject({ style: "form", explode: true, schema: { type: "array" } });
    expect(topic.bindingKeys).toMatchObject({ style: "form", explode: true, schema: { type: "array" } });
  });

  it("is the same document on every request", async () => {
    expect((await api("GET", "/openapi.json")).body).toEqual(doc);
  });

  it.each(restRoutes.map((route) => [`${route.method} ${route.path}`, route] as const))("describes %s", (_label, route) => {
    const path = toOpenApiPath(route.path);
    const op = operation(route.method, path);
    const definition = catalog[route.operation];
    expect(op).toBeDefined();
    expect(op.operationId).toBe(route.operation);
    expect(op.summary).toBe(definition.summary);
    expect(op.security).toEqual(definition.access.kind === "public" ? [{}, { bearer: [] }] : [{ bearer: [] }]);

    const pathParams = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => name);
    expect(op.parameters.filter((p: any) => p.in === "path")).toEqual(
      pathParams.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })),
    );
    // One 2xx answer with its schema (none for 204); every error status carries the error body.
    const statuses = Object.keys(op.responses).map(Number);
    const success = statuses.filter((status) => status < 300);
    expect(success.length).toBeGreaterThan(0);
    for (const status of success) {
      if (status === 204) expect(op.responses[status].content).toBeUndefined();
      else expect(op.responses[status].content["application/json"].schema).toBeTypeOf("object");
    }
    for (const status of statuses.filter((status) => status >= 400)) {
      expect(op.responses[status].content["application/json"].schema.properties.error.required).toEqual([
        "code",
        "message",
        "requestId",
      ]);
    }
    for (const code of definition.errors) {
      expect(op.responses[HttpStatusOfError[code as keyof typeof HttpStatusOfError]].description).toContain(code);
    }

    if (route.fieldsFrom === "body") {
      expect(op.requestBody.required).toBe(!route.bodyOptional);
      expect(bodySchema(route.method, path)).toBeTypeOf("object");
    } else {
      expect(op.requestBody).toBeUndefined();
    }
  });

  it("has no empty required list and no nullable without a type anywhere", () => {
    const problems: string[] = [];
    const walk = (node: unknown, where: string) => {
      if (node === null || typeof node !== "object") return;
      const record = node as Record<string, unknown>;
      if (Array.isArray(record.required) && record.required.length === 0) problems.push(`${where}: required []`);
      if (record.nullable === true && record.type === undefined) problems.push(`${where}: nullable without type`);
      for (const [key, value] of Object.entries(record)) walk(value, `${where}/${key}`);
    };
    walk(doc, "#");
    expect(problems).toEqual([]);
  });
});

describe("request body schemas come from the valibot schemas", () => {
  const attributeRanges = [
    ["visibilityTimeout", QueueLimits.visibilityTimeoutSeconds, 1, 43_200],
    ["pollingWaitSeconds", QueueLimits.pollingWaitSeconds, 0, 30],
    ["maxMsgSize", QueueLimits.maxMsgSizeBytes, 1_024, 1_048_576],
    ["msgRetentionSeconds", QueueLimits.msgRetentionSeconds, 60, 1_296_000],
    ["rewindSeconds", QueueLimits.rewindSeconds, 0, 1_296_000],
    ["maxMsgHeapNum", QueueLimits.maxMsgHeapNum, 1, 1_000_000_000],
  ] as const;

  it.each(attributeRanges)("create and update: %s is an integer from %o", (field, limits, min, max) => {
    expect(limits).toMatchObject({ min, max });
    for (const method of ["PUT", "PATCH"]) {
      const schema = bodySchema(method, "/v1/queues/{queue}");
      expect(schema.type).toBe("object");
      expect(schema.additionalProperties).toBe(false);
      expect(schema.required ?? []).toEqual([]);
      expect(schema.properties[field]).toMatchObject({ type: "integer", minimum: min, maximum: max });
    }
  });

  it("create has locationHint as an enum; update does not have it", () => {
    expect(bodySchema("PUT", "/v1/queues/{queue}").properties.locationHint).toMatchObject({
      type: "string",
      enum: ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"],
    });
    expect(bodySchema("PATCH", "/v1/queues/{queue}").properties.locationHint).toBeUndefined();
  });

  it("deadLetter is nullable, one of two strict policies with their ranges", () => {
    const deadLetter = bodySchema("PUT", "/v1/queues/{queue}").properties.deadLetter;
    expect(deadLetter.nullable).toBe(true);
    expect(deadLetter.anyOf).toHaveLength(2);
    const [byCount, byAge] = deadLetter.anyOf;
    expect(byCount).toMatchObject({ type: "object", additionalProperties: false, required: ["queue", "maxReceiveCount"] });
    expect(byCount.properties.maxReceiveCount).toMatchObject({ type: "integer", minimum: 1, maximum: 1_000 });
    expect(byCount.properties.queue).toMatchObject({ type: "string", pattern: "^[A-Za-z](?:[A-Za-z0-9_-]{0,63}|[A-Za-z0-9_-]{0,58}\\.fifo)$" });
    expect(byAge).toMatchObject({ type: "object", additionalProperties: false, required: ["queue", "maxTimeToLive"] });
    expect(byAge.properties.maxTimeToLive).toMatchObject({ type: "integer", minimum: 300, maximum: 43_200 });
  });

  it("send is one message or a batch of 1 to 16", () => {
    const schema = bodySchema("POST", "/v1/queues/{queue}/messages");
    expect(schema.anyOf).toHaveLength(2);
    const [single, batch] = schema.anyOf;
    expect(single).toMatchObject({ type: "object", required: ["body"], additionalProperties: false });
    expect(single.properties.body).toMatchObject({ type: "string", minLength: 1 });
    expect(single.properties.delaySeconds).toMatchObject({ type: "integer", minimum: 0, maximum: QueueLimits.delaySecondsMax });
    expect(single.properties.tags).toMatchObject({ type: "array", maxItems: 16, items: { type: "string", minLength: 1, maxLength: 64 } });
    expect(batch).toMatchObject({ type: "object", required: ["messages"], additionalProperties: false });
    expect(batch.properties.messages).toMatchObject({ type: "array", minItems: 1, maxItems: 16 });
    expect(batch.properties.messages.items).toEqual(single);
  });

  it("receive bounds max, waitSeconds and visibilityTimeout", () => {
    const schema = bodySchema("POST", "/v1/queues/{queue}/messages/receive");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.max).toMatchObject({ type: "integer", minimum: 1, maximum: 16 });
    expect(schema.properties.waitSeconds).toMatchObject({ type: "integer", minimum: 0, maximum: 30 });
    expect(schema.properties.visibilityTimeout).toMatchObject({ type: "integer", minimum: 1, maximum: 43_200 });
    expect(operation("POST", "/v1/queues/{queue}/messages/receive").requestBody.required).toBe(false);
  });

  it("delete, visibility, rewind and redrive bodies", () => {
    expect(bodySchema("POST", "/v1/queues/{queue}/messages/delete")).toMatchObject({
      required: ["receiptHandles"],
      properties: { receiptHandles: { type: "array", minItems: 1, maxItems: 16, items: { type: "string" } } },
    });
    expect(bodySchema("POST", "/v1/queues/{queue}/messages/visibility")).toMatchObject({
      required: ["receiptHandle", "visibilityTimeout"],
      properties: { visibilityTimeout: { type: "integer", minimum: 0, maximum: 43_200 } },
    });
    expect(bodySchema("POST", "/v1/queues/{queue}/rewind")).toMatchObject({
      required: ["since"],
      properties: { since: { type: "integer", minimum: 0 } },
    });
    expect(bodySchema("POST", "/v1/queues/{queue}/redrive").properties).toMatchObject({
      destination: { type: "string" },
      maxPerSecond: { type: "integer", minimum: 1, maximum: 500 },
      maxMessages: { type: "integer", minimum: 1 },
    });
    expect(operation("PATCH", "/v1/queues/{queue}").requestBody.required).toBe(true);
    expect(operation("PUT", "/v1/queues/{queue}").requestBody.required).toBe(false);
  });

  it("list and peek document their query parameters", () => {
    const list = operation("GET", "/v1/queues").parameters;
    expect(list.map((p: any) => [p.name, p.in, p.required])).toEqual([
      ["prefix", "query", false],
      ["search", "query", false],
      ["limit", "query", false],
      ["cursor", "query", false],
      ["offset", "query", false],
    ]);
    expect(list[0].schema).toMatchObject({ type: "string", maxLength: 64 });
    expect(list[3].schema).toMatchObject({ type: "string", maxLength: 200 });
    expect(list[4].schema).toMatchObject({ type: "integer", minimum: 0 });
    const sources = operation("GET", "/v1/queues/{queue}/dead-letter-sources").parameters;
    expect(sources.map((p: any) => p.name)).toEqual(["queue", "prefix", "search", "limit", "cursor", "offset"]);
    const subscriptions = operation("GET", "/v1/topics/{topic}/subscriptions").parameters;
    expect(subscriptions.map((p: any) => p.name)).toEqual(["topic", "prefix", "search", "limit", "cursor", "offset"]);
    const peek = operation("GET", "/v1/queues/{queue}/messages").parameters;
    expect(peek.map((p: any) => p.name)).toEqual(["queue", "limit", "cursor"]);
  });
});
