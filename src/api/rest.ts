import { Router, type IRequest } from "itty-router";
import * as v from "valibot";
import { authenticate, requireConfigured, type Principal } from "../auth/authenticate";
import { AccountOperations } from "../service/accounts";
import { ErrorCode, ServiceError } from "../errors";
import { parse, parseOneOrBatch } from "../schema/parse";
import {
  ChangeVisibilityBody,
  CreateQueueBody,
  DeleteMessagesBody,
  ListQueuesQuery,
  OutgoingMessage,
  PeekQuery,
  ReceiveBody,
  RedriveBody,
  RewindBody,
  SendBatchBody,
  SendBody,
  UpdateQueueBody,
} from "../schema/queue";
import { QueueOperations, scopeOf } from "../service/queues";
import { TopicOperations } from "../service/topics";
import { topicRoutes } from "./topic-routes";
import { accountRoutes } from "./account-routes";
import { corsHeaders, preflight } from "./cors";
import { errorResponse, jsonResponse, parseJsonText, readBodyText } from "./http";
import { buildOpenApi } from "./openapi";

export interface HandlerInput {
  queues: QueueOperations;
  topics: TopicOperations;
  accounts: AccountOperations;
  params: Record<string, string>;
  query: any;
  body: any;
  /** Aborts when the client goes away; a long poll is cancelled with it. */
  signal: AbortSignal;
}

export type HandlerOutput = { status: number; body?: unknown };

export interface RouteSpec {
  method: "GET" | "PUT" | "POST" | "PATCH" | "DELETE";
  /** itty-router path, `:param` for a parameter. */
  path: string;
  operationId: string;
  summary: string;
  body?: v.GenericSchema;
  /** Validates the body instead of `body` (which still documents it) when the shape decides the schema. */
  parseBody?: (input: unknown) => unknown;
  /** Whether an empty body stands for `{}`. */
  bodyOptional?: boolean;
  query?: v.GenericSchema;
  responses: Record<number, string>;
  handle: (input: HandlerInput) => Promise<HandlerOutput>;
}

const ok = (body: unknown): HandlerOutput => ({ status: 200, body });

/** The native REST API: one row per operation, the same table builds the router and /openapi.json. */
export const routes: RouteSpec[] = [
  {
    method: "GET",
    path: "/v1/health",
    operationId: "health",
    summary: "Whether the service answers, through the same router and authentication as every route",
    responses: { 200: "`{status: \"ok\"}`" },
    handle: async () => ok({ status: "ok" }),
  },
  {
    method: "GET",
    path: "/v1/queues",
    operationId: "listQueues",
    summary: "List queues by name, with a prefix filter and cursor pagination",
    query: ListQueuesQuery,
    responses: { 200: "`{queues: [...], nextCursor}`" },
    handle: async ({ queues, query }) => ok(await queues.listQueues(query)),
  },
  {
    method: "PUT",
    path: "/v1/queues/:name",
    operationId: "createQueue",
    summary: "Create a queue (201), or confirm an identical one (200); different attributes are a conflict (409)",
    body: CreateQueueBody,
    bodyOptional: true,
    responses: { 200: "identical queue exists", 201: "queue created", 409: "QueueAlreadyExists" },
    handle: async ({ queues, params, body }) => {
      const { created, queue } = await queues.createQueue(params.name!, body);
      return { status: created ? 201 : 200, body: queue };
    },
  },
  {
    method: "GET",
    path: "/v1/queues/:name",
    operationId: "getQueue",
    summary: "A queue's attributes and message counts",
    responses: { 200: "the queue", 404: "QueueNotFound" },
    handle: async ({ queues, params }) => ok(await queues.getQueue(params.name!)),
  },
  {
    method: "PATCH",
    path: "/v1/queues/:name",
    operationId: "updateQueue",
    summary: "Change attributes; fields not given keep their value, `deadLetter: null` removes the policy",
    body: UpdateQueueBody,
    responses: { 200: "the queue after the change" },
    handle: async ({ queues, params, body }) => ok(await queues.updateQueue(params.name!, body)),
  },
  {
    method: "DELETE",
    path: "/v1/queues/:name",
    operationId: "deleteQueue",
    summary: "Delete a queue and every message in it",
    responses: { 204: "deleted", 404: "QueueNotFound", 409: "QueueInUse (a dead-letter queue in use)" },
    handle: async ({ queues, params }) => {
      await queues.deleteQueue(params.name!);
      return { status: 204 };
    },
  },
  {
    method: "POST",
    path: "/v1/queues/:name/messages",
    operationId: "sendMessages",
    summary: "Send one message (`{body, delaySeconds, tags}` → `{id}`) or a batch (`{messages: [...]}` → `{messages: [{id}]}`)",
    body: SendBody,
    parseBody: (input) => parseOneOrBatch(OutgoingMessage, SendBatchBody, input),
    responses: { 200: "message ids", 413: "MessageTooLarge or BatchTooLarge", 409: "QueueFull" },
    handle: async ({ queues, params, body }) => {
      const ids = await queues.send(params.name!, body.messages);
      return ok(body.batch ? { messages: ids.map((id) => ({ id })) } : { id: ids[0] });
    },
  },
  {
    method: "POST",
    path: "/v1/queues/:name/messages/receive",
    operationId: "receiveMessages",
    summary: "Receive up to `max` messages, long-polling up to `waitSeconds` when none is visible",
    body: ReceiveBody,
    bodyOptional: true,
    responses: { 200: "`{messages: [...]}`, empty when none arrived in time" },
    handle: async ({ queues, params, body, signal }) =>
      ok({
        messages: await queues.receive(
          params.name!,
          { max: body.max ?? 1, waitSeconds: body.waitSeconds, visibilityTimeout: body.visibilityTimeout },
          signal,
        ),
      }),
  },
  {
    method: "POST",
    path: "/v1/queues/:name/messages/delete",
    operationId: "deleteMessages",
    summary: "Delete received messages by receipt handle, with a result per handle",
    body: DeleteMessagesBody,
    responses: { 200: "`{results: [{receiptHandle, deleted, error?}]}`" },
    handle: async ({ queues, params, body }) =>
      ok({ results: await queues.deleteMessages(params.name!, body.receiptHandles) }),
  },
  {
    method: "DELETE",
    path: "/v1/queues/:name/messages/:receiptHandle",
    operationId: "deleteMessage",
    summary: "Delete one received message by its receipt handle",
    responses: { 204: "deleted", 400: "ReceiptHandleInvalid" },
    handle: async ({ queues, params }) => {
      await queues.deleteMessage(params.name!, params.receiptHandle!);
      return { status: 204 };
    },
  },
  {
    method: "POST",
    path: "/v1/queues/:name/messages/visibility",
    operationId: "changeVisibility",
    summary: "Hide a received message for `visibilityTimeout` seconds from now (0 makes it visible)",
    body: ChangeVisibilityBody,
    responses: { 200: "`{nextVisibleAt}`", 400: "ReceiptHandleInvalid" },
    handle: async ({ queues, params, body }) =>
      ok(await queues.changeVisibility(params.name!, body.receiptHandle, body.visibilityTimeout)),
  },
  {
    method: "GET",
    path: "/v1/queues/:name/messages",
    operationId: "peekMessages",
    summary: "Look at stored messages in enqueue order without changing them",
    query: PeekQuery,
    responses: { 200: "`{messages: [...], nextCursor}`" },
    handle: async ({ queues, params, query }) => ok(await queues.peek(params.name!, query)),
  },
  {
    method: "POST",
    path: "/v1/queues/:name/purge",
    operationId: "purgeQueue",
    summary: "Delete every message of the queue",
    responses: { 200: "`{purged}`" },
    handle: async ({ queues, params }) => ok(await queues.purge(params.name!)),
  },
  {
    method: "POST",
    path: "/v1/queues/:name/rewind",
    operationId: "rewindQueue",
    summary: "Make every message enqueued since `since` (Unix ms, inside the rewind window) receivable again",
    body: RewindBody,
    responses: { 200: "`{rewound}`", 409: "RewindNotEnabled", 400: "InvalidRewindTime" },
    handle: async ({ queues, params, body }) => ok(await queues.rewind(params.name!, body.since)),
  },
  {
    method: "POST",
    path: "/v1/queues/:name/redrive",
    operationId: "startRedrive",
    summary: "Move messages out of this (dead-letter) queue to their source queue or `destination`, at `maxPerSecond`",
    body: RedriveBody,
    bodyOptional: true,
    responses: { 202: "the redrive's status", 409: "RedriveInProgress" },
    handle: async ({ queues, params, body }) => ({ status: 202, body: await queues.startRedrive(params.name!, body) }),
  },
  {
    method: "GET",
    path: "/v1/queues/:name/redrive",
    operationId: "getRedrive",
    summary: "The latest redrive's progress",
    responses: { 200: "status, moved, remaining", 404: "RedriveNotFound" },
    handle: async ({ queues, params }) => ok(await queues.getRedrive(params.name!)),
  },
  {
    method: "DELETE",
    path: "/v1/queues/:name/redrive",
    operationId: "cancelRedrive",
    summary: "Stop a running redrive; messages already moved stay moved",
    responses: { 200: "the cancelled redrive's status", 404: "RedriveNotFound" },
    handle: async ({ queues, params }) => ok(await queues.cancelRedrive(params.name!)),
  },
];

interface RestRequest extends IRequest {
  requestId: string;
  principal?: Principal;
}

/**
 * One request: the body is read (size-capped) before anything else, because a signature covers it;
 * then the caller is authenticated, then query and body are validated, then the operation runs,
 * checking the caller's rights in the service layer.
 */
async function runRoute(spec: RouteSpec, request: RestRequest, env: Env): Promise<Response> {
  const bodyText = await readBodyText(request);
  const principal = await authenticate(request, bodyText, env);
  request.principal = principal;
  const query = spec.query ? parse(spec.query, { ...request.query }, "query") : {};
  const json = spec.body ? parseJsonText(bodyText, spec.bodyOptional ?? false) : undefined;
  const body = spec.parseBody ? spec.parseBody(json) : spec.body ? parse(spec.body, json) : undefined;
  const scope = scopeOf(env, principal);
  const result = await spec.handle({
    queues: new QueueOperations(env, scope),
    topics: new TopicOperations(env, scope),
    accounts: new AccountOperations(env, principal),
    params: request.params,
    query,
    body,
    signal: request.signal,
  });
  return result.body === undefined ? new Response(null, { status: result.status }) : jsonResponse(result.body, result.status);
}

function withRequestId(request: RestRequest, env: Env): void {
  request.requestId = crypto.randomUUID();
  requireConfigured(env);
}

/** The methods routed for a path; the catch-all (`ALL *`) matches every path and is not one of them. */
function allowedMethods(pathname: string): string[] {
  const methods = router.routes
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

export const router = Router<RestRequest, [Env, ExecutionContext]>({
  before: [withRequestId],
  catch: (error, request) => errorResponse(error, request.requestId),
  finally: [
    // Every response here is built by this Worker, so its headers are mutable: set in place, not copied.
    (response: Response, request: RestRequest) => {
      const headers = response.headers;
      headers.set("x-request-id", request.requestId);
      for (const [name, value] of Object.entries(corsHeaders(request, request.principal))) headers.set(name, value);
      if (response.status === 405) {
        headers.set("allow", allowedMethods(new URL(request.url).pathname).join(", "));
      }
      return response;
    },
  ],
});

export const allRoutes = [...routes, ...topicRoutes, ...accountRoutes];

router.options("*", preflight);
router.get("/openapi.json", () => jsonResponse(buildOpenApi(allRoutes)));
for (const spec of allRoutes) {
  router[spec.method.toLowerCase() as "get"](spec.path, (request: RestRequest, env: Env) => runRoute(spec, request, env));
}
router.all("*", routeMiss);
