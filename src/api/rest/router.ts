import { Router, type IRequest } from "itty-router";
import type * as v from "valibot";
import { authenticate, presentsCredentials, type Principal } from "../../auth/authenticate";
import { ErrorCode, ServiceError } from "../../errors";
import { OperationContext, catalog, runOperation } from "../../operations";
import { corsHeaders, preflight } from "../cors";
import { jsonResponse, parseJsonText, readBodyText } from "../http";
import { restErrorResponse } from "./errors";
import { openLive } from "./live";
import { liveRoutes } from "./live-routes";
import { buildOpenApi } from "./openapi";
import { restRoutes, type RequestParts, type RestAnswer, type RestRoute } from "./routes";

interface RestRequest extends IRequest {
  requestId: string;
  principal?: Principal;
}

type SchemaNode = { type: string; wrapped?: SchemaNode; entries?: Record<string, SchemaNode> };

/**
 * Query values arrive as strings; where the operation's input takes a number, a string of digits
 * becomes that number. Anything else is passed on as it is, for the schema to refuse.
 */
function queryFields(schema: v.GenericSchema, query: Record<string, unknown>): Record<string, unknown> {
  const entries = (schema as unknown as SchemaNode).entries ?? {};
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    let entry = entries[name];
    while (entry?.wrapped) entry = entry.wrapped;
    const field = entry?.type === "number" && typeof value === "string" && /^\d{1,15}$/.test(value) ? Number(value) : value;
    // Defined, not assigned: `?__proto__=x` must stay an own (and so unknown, refused) field.
    Object.defineProperty(fields, name, { value: field, enumerable: true, configurable: true, writable: true });
  }
  return fields;
}

function defaultInput(route: RestRoute, parts: RequestParts): unknown {
  const fields =
    route.fieldsFrom === "query" ? queryFields(catalog[route.operation].input, parts.query) : route.fieldsFrom === "body" ? parts.body : undefined;
  if (fields === undefined) return { ...parts.params };
  // A path parameter may not be restated in the fields.
  if (fields !== null && typeof fields === "object" && !Array.isArray(fields)) {
    for (const name of Object.keys(parts.params)) {
      if (Object.hasOwn(fields, name)) {
        throw new ServiceError(ErrorCode.InvalidParameter, `${name}: given by the path, it may not appear in the ${route.fieldsFrom}`);
      }
    }
    return { ...fields, ...parts.params };
  }
  throw new ServiceError(ErrorCode.InvalidParameter, `${route.fieldsFrom}: expected an object but received ${Array.isArray(fields) ? "an array" : fields === null ? "null" : typeof fields}`);
}

function defaultAnswer(route: RestRoute, output: unknown): RestAnswer {
  return catalog[route.operation].output === null ? { status: 204 } : { status: 200, body: output };
}

/**
 * One request: the body is read (size-capped) before anything else, because a signature covers it;
 * then the caller is authenticated, the request translated to the operation's input, validated by
 * the catalog's schema with its defaults, run, and the output translated back.
 */
async function runRoute(route: RestRoute, request: RestRequest, env: Env): Promise<Response> {
  const bodyText = await readBodyText(request);
  const operation = catalog[route.operation];
  // A public operation needs no credentials; sent ones are checked all the same.
  const principal = operation.access.kind === "public" && !presentsCredentials(request) ? null : await authenticate(request, bodyText, env);
  request.principal = principal ?? undefined;
  const parts: RequestParts = {
    params: { ...request.params },
    query: { ...request.query },
    body: route.fieldsFrom === "body" ? parseJsonText(bodyText, route.bodyOptional ?? false) : undefined,
  };
  const input = route.toInput ? route.toInput(parts) : defaultInput(route, parts);
  const params = Object.keys(parts.params);
  const locate = (keys: string[]) =>
    route.locate
      ? route.locate(keys, parts)
      : params.includes(keys[0] ?? "") || route.fieldsFrom === "none"
        ? ["path", ...keys]
        : [route.fieldsFrom, ...keys];
  const output = await runOperation(operation as never, new OperationContext(env, principal, request.signal), input, locate);
  const answer = route.toAnswer ? route.toAnswer(output as never, parts) : defaultAnswer(route, output);
  return answer.body === undefined ? new Response(null, { status: answer.status }) : jsonResponse(answer.body, answer.status);
}

/** The methods routed for a path; the catch-all (`ALL *`) matches every path and is not one of them. */
function allowedMethods(pathname: string): string[] {
  const methods = restRouter.routes
    .filter(([method, pattern]) => method !== "ALL" && method !== "OPTIONS" && pattern.test(pathname))
    .map(([method]) => method);
  return [...new Set(methods)];
}

/** Answers a path no route has: 405 with `Allow` when the path exists for other methods, else 404. */
function routeMiss(request: RestRequest): never {
  const pathname = new URL(request.url).pathname;
  const allowed = allowedMethods(pathname);
  if (allowed.length > 0) {
    throw new ServiceError(ErrorCode.MethodNotAllowed, `${request.method} is not allowed here; use ${allowed.join(", ")}`, {
      allow: allowed,
    });
  }
  throw new ServiceError(ErrorCode.NotFound, `no route for ${request.method} ${pathname}`);
}

export const restRouter = Router<RestRequest, [Env, ExecutionContext, string]>({
  before: [
    (request: RestRequest, _env: Env, _ctx: ExecutionContext, requestId: string) => {
      request.requestId = requestId;
    },
  ],
  catch: (error, request) => restErrorResponse(error, request.requestId),
  finally: [
    // Every response here is built by this Worker, so its headers are mutable: set in place, not copied.
    (response: Response, request: RestRequest) => {
      const headers = response.headers;
      for (const [name, value] of Object.entries(corsHeaders(request, request.principal))) headers.set(name, value);
      if (response.status === 405) {
        headers.set("allow", allowedMethods(new URL(request.url).pathname).join(", "));
      }
      return response;
    },
  ],
});

restRouter.options("*", preflight);
restRouter.get("/openapi.json", () => jsonResponse(buildOpenApi(restRoutes, liveRoutes), 200));
for (const route of restRoutes) {
  restRouter[route.method.toLowerCase() as "get"](route.path, (request: RestRequest, env: Env) => runRoute(route, request, env));
}
for (const route of liveRoutes) restRouter.get(route.path, openLive[route.kind]);
restRouter.all("*", routeMiss);
