import { toJsonSchema } from "@valibot/to-json-schema";
import type { RouteSpec } from "./rest";

const ErrorBody = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "requestId"],
      properties: {
        code: { type: "string", description: "stable error code" },
        message: { type: "string" },
        requestId: { type: "string" },
      },
    },
  },
};

let cached: unknown;

/** The OpenAPI 3.0 document, built from the route table and the same schemas that validate requests. */
export function buildOpenApi(routes: readonly RouteSpec[]): unknown {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    const parameters: unknown[] = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
      name,
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    if (route.query) {
      const querySchema = toJsonSchema(route.query, { target: "openapi-3.0", errorMode: "ignore" }) as {
        properties?: Record<string, unknown>;
      };
      for (const [name, schema] of Object.entries(querySchema.properties ?? {})) {
        parameters.push({ name, in: "query", required: false, schema });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(route.responses)) {
      responses[status] = Number(status) < 300
        ? { description }
        : { description, content: { "application/json": { schema: ErrorBody } } };
    }
    responses.default = { description: "error", content: { "application/json": { schema: ErrorBody } } };
    (paths[path] ??= {})[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      parameters,
      ...(route.body && {
        requestBody: {
          required: !route.bodyOptional,
          content: {
            "application/json": { schema: toJsonSchema(route.body, { target: "openapi-3.0", errorMode: "ignore" }) },
          },
        },
      }),
      responses,
      security: [{ bearer: [] }],
    };
  }
  cached = {
    openapi: "3.0.3",
    info: { title: "edge-cmq native API", version: "1" },
    paths,
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
  };
  return cached;
}
