import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { ErrorCode, type ErrorCode as Code } from "../../errors";
import { catalog, type Access } from "../../operations";
import { HttpStatusOfError } from "./errors";
import type { LiveRoute } from "./live-routes";
import type { RestRoute } from "./routes";
import { LiveProtocol } from "../../schema/live";

/** Codes any operation may answer, besides its own. */
const CommonErrors: Code[] = [
  ErrorCode.MalformedRequest,
  ErrorCode.InvalidParameter,
  ErrorCode.RequestTooLarge,
  ErrorCode.Unauthenticated,
  ErrorCode.Forbidden,
  ErrorCode.NotConfigured,
  ErrorCode.InternalError,
];

const ErrorBody = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "requestId"],
      properties: {
        code: { type: "string", enum: Object.values(ErrorCode), description: "stable error code" },
        message: { type: "string" },
        requestId: { type: "string" },
      },
    },
  },
};

/**
 * valibot's OpenAPI 3.0 output, made valid for strict validators: no empty `required` lists, and a
 * nullable schema written as `nullable: true` beside its type rather than a union with `null`.
 */
function openApiSchema(schema: v.GenericSchema): unknown {
  return tidy(toJsonSchema(schema, { target: "openapi-3.0", errorMode: "ignore" }));
}

function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (node === null || typeof node !== "object") return node;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema") continue;
    if (key === "required" && Array.isArray(value) && value.length === 0) continue;
    result[key] = tidy(value);
  }
  // { anyOf: [X, {type: "null"}] } or { anyOf: [X], nullable: true }: X with nullable.
  const options = result.anyOf as Record<string, unknown>[] | undefined;
  if (options) {
    const others = options.filter((option) => option.type !== "null");
    const isNullable = result.nullable === true || others.length < options.length;
    if (others.length === 1 && isNullable) {
      const { anyOf: _anyOf, nullable: _nullable, ...rest } = result;
      return { ...rest, ...(others[0] as object), nullable: true };
    }
    if (others.length < options.length) result.anyOf = others;
    // OpenAPI 3.0: `nullable` counts only beside a `type`; the options here share theirs.
    const types = new Set(others.map((option) => option.type));
    if (isNullable && types.size === 1 && result.type === undefined) {
      result.type = [...types][0];
      result.nullable = true;
    }
  }
  if (result.nullable === true && result.type === undefined && result.anyOf === undefined && result.enum === undefined) {
    delete result.nullable;
  }
  return result;
}

function describeAccess(access: Access): string {
  switch (access.kind) {
    case "resource":
      return `\`${access.action}\` on the resource`;
    case "accountAdmin":
      return "root, or a key of the account with `manage` on `*`";
    case "root":
      return "the root credentials";
    case "authenticated":
      return "any valid credential";
    case "public":
      return "none";
  }
}

/** The input's fields that are not path parameters. */
function fieldsBesides(schema: v.GenericSchema, params: string[]): v.GenericSchema {
  const entries = { ...(schema as unknown as v.StrictObjectSchema<v.ObjectEntries, undefined>).entries };
  for (const name of params) delete entries[name];
  return v.strictObject(entries);
}

/** An operation's error answers, grouped by HTTP status, the common ones included. */
function errorResponses(codes: readonly Code[]): Record<number, unknown> {
  const codesByStatus = new Map<number, string[]>();
  for (const code of new Set([...CommonErrors, ...codes])) {
    const status = HttpStatusOfError[code];
    codesByStatus.set(status, [...(codesByStatus.get(status) ?? []), code]);
  }
  const responses: Record<number, unknown> = {};
  for (const [status, grouped] of [...codesByStatus].sort(([a], [b]) => a - b)) {
    responses[status] = { description: grouped.join(", "), content: { "application/json": { schema: ErrorBody } } };
  }
  return responses;
}

/** Query parameters from an options schema; a list is the name repeated (`?filterTags=a&filterTags=b`). */
function queryParameters(schema: v.GenericSchema): unknown[] {
  const properties = (openApiSchema(schema) as { properties?: Record<string, { type?: string }> }).properties ?? {};
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: "query",
    required: false,
    schema: property,
    ...(property.type === "array" && { style: "form", explode: true }),
  }));
}

/**
 * A WebSocket upgrade as OpenAPI 3.0 can say it: a GET answered 101, the subprotocol offer as a
 * header (a browser's token travels in it), and the client's frames as a vendor extension.
 */
function livePath(route: LiveRoute): unknown {
  const params = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => name!);
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: ["live"],
    "x-required-access": route.access,
    parameters: [
      ...params.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })),
      ...queryParameters(route.options),
      { name: "Upgrade", in: "header", required: true, schema: { type: "string", enum: ["websocket"] } },
      {
        name: "Sec-WebSocket-Protocol",
        in: "header",
        required: true,
        description: `\`${LiveProtocol}\`, then optionally a browser token (\`cmqt.…\`) as a second offered subprotocol, for clients that cannot send Authorization`,
        schema: { type: "string" },
      },
    ],
    responses: {
      101: { description: `Switching Protocols to ${LiveProtocol}: JSON text frames, the client's as \`x-client-frames\` describes` },
      ...errorResponses(route.errors),
    },
    // `{}`: a browser token in the subprotocol offer stands in for Authorization.
    security: [{}, { bearer: [] }],
    "x-client-frames": openApiSchema(route.clientFrames),
  };
}

let cached: unknown;

/** The OpenAPI 3.0 document of the native API, built from its routes, the operation catalog and the live routes. */
export function buildOpenApi(routes: readonly RestRoute[], liveRoutes: readonly LiveRoute[]): unknown {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation = catalog[route.operation];
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    const params = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => name!);
    const parameters: unknown[] = params.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } }));
    if (route.fieldsFrom === "query") {
      const query = openApiSchema(fieldsBesides(operation.input, params)) as { properties?: Record<string, unknown> };
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        parameters.push({ name, in: "query", required: false, schema });
      }
    }
    const success = route.documentedAnswer ?? { status: operation.output === null ? 204 : 200, schema: operation.output };
    const responses: Record<string, unknown> = {
      [success.status]: {
        description: operation.summary,
        ...(success.schema && { content: { "application/json": { schema: openApiSchema(success.schema) } } }),
      },
    };
    if (success.status === 201) {
      responses[200] = { description: "an identical one exists", content: (responses[201] as { content: unknown }).content };
    }
    Object.assign(responses, errorResponses(operation.errors as Code[]));
    (paths[path] ??= {})[route.method.toLowerCase()] = {
      operationId: route.operation,
      summary: operation.summary,
      tags: [operation.group],
      "x-required-access": describeAccess(operation.access),
      parameters,
      ...(route.fieldsFrom === "body" && {
        requestBody: {
          required: !route.bodyOptional,
          content: {
            "application/json": { schema: openApiSchema(route.documentedBody ?? fieldsBesides(operation.input, params)) },
          },
        },
      }),
      responses,
      // `{}` makes credentials optional: a public operation checks only those that are sent.
      security: operation.access.kind === "public" ? [{}, { bearer: [] }] : [{ bearer: [] }],
    };
  }
  for (const route of liveRoutes) (paths[route.path.replace(/:(\w+)/g, "{$1}")] ??= {}).get = livePath(route);
  cached = {
    openapi: "3.0.3",
    info: { title: "edge-cmq native API", version: "1" },
    servers: [{ url: "/", description: "this deployment" }],
    paths,
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
  };
  return cached;
}
