import type { IRequest } from "itty-router";
import { authenticate, presentsCredentials, tokenPrincipal, type Principal } from "../../auth/authenticate";
import { TokenPrefix } from "../../auth/tokens";
import { systemClock } from "../../clock";
import { ErrorCode, ServiceError } from "../../errors";
import { LiveProtocol, LiveQueueOptions, LiveTopicOptions } from "../../schema/live";
import { parse } from "../../schema/parse";
import { LiveOperations } from "../../service/live";
import { scopeOf } from "../../service/queues";
import type { LiveRoute } from "./live-routes";

interface LiveRequest extends IRequest {
  principal?: Principal;
}

/**
 * The subprotocols a WebSocket upgrade offers (RFC 6455 4.1: `Sec-WebSocket-Protocol`, a comma
 * separated list). Browsers cannot set headers on a WebSocket, so a browser token travels here.
 */
function offeredProtocols(request: Request): string[] {
  return (request.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((each) => each.trim())
    .filter((each) => each.length > 0);
}

/**
 * Who opens the socket: the browser token offered as a subprotocol, or else the request's
 * `Authorization` (any scheme the API takes: a non-browser client can send it). Refused with the
 * REST API's errors before anything is upgraded.
 */
async function livePrincipal(request: Request, env: Env): Promise<Principal> {
  const headers = request.headers;
  if (headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new ServiceError(ErrorCode.MalformedRequest, "this resource is a WebSocket: send Upgrade: websocket");
  }
  const offered = offeredProtocols(request);
  if (!offered.includes(LiveProtocol)) {
    throw new ServiceError(ErrorCode.MalformedRequest, `offer the WebSocket subprotocol ${LiveProtocol}`);
  }
  const token = offered.find((each) => each.startsWith(TokenPrefix));
  if (token === undefined && !presentsCredentials(request)) {
    throw new ServiceError(
      ErrorCode.Unauthenticated,
      `missing credentials: offer a browser token (${TokenPrefix}…) as a WebSocket subprotocol, or send Authorization`,
    );
  }
  const principal = token !== undefined ? await tokenPrincipal(token, env, systemClock.nowMs()) : await authenticate(request, "", env);
  // A page reads whatever a socket carries: an account's allowed origins bound which pages may open one.
  const origin = headers.get("origin");
  if (origin !== null && principal.allowedOrigins && !principal.allowedOrigins.includes(origin)) {
    throw new ServiceError(ErrorCode.Forbidden, `origin ${origin} is not among this account's allowed origins`);
  }
  return principal;
}

/** Query values as the options' schema takes them: digits as numbers, repeated names as lists. */
const asNumber = (value: unknown) => (typeof value === "string" && /^\d{1,15}$/.test(value) ? Number(value) : value);
const asList = (value: unknown) => (value === undefined || Array.isArray(value) ? value : [value]);

/** The upgrade with the protocol the client offered selected; headers are this Worker's own, so mutable. */
function selected(upstream: Response): Response {
  return new Response(null, { status: 101, webSocket: upstream.webSocket, headers: { "sec-websocket-protocol": LiveProtocol } });
}

/** `GET /v1/queues/{queue}/live?visibilityTimeout=` */
export async function openQueueLive(request: LiveRequest, env: Env): Promise<Response> {
  const principal = await livePrincipal(request, env);
  request.principal = principal;
  const { visibilityTimeout, ...rest } = request.query;
  const options = parse(LiveQueueOptions, { ...rest, ...(visibilityTimeout === undefined ? {} : { visibilityTimeout: asNumber(visibilityTimeout) }) }, "query");
  return selected(await new LiveOperations(env, scopeOf(env, principal)).openQueue(String(request.params.queue), options));
}

/** `GET /v1/topics/{topic}/live?filterTags=a&filterTags=b` or `?bindingKeys=k` */
export async function openTopicLive(request: LiveRequest, env: Env): Promise<Response> {
  const principal = await livePrincipal(request, env);
  request.principal = principal;
  const { filterTags, bindingKeys, ...rest } = request.query;
  const options = parse(
    LiveTopicOptions,
    {
      ...rest,
      ...(filterTags === undefined ? {} : { filterTags: asList(filterTags) }),
      ...(bindingKeys === undefined ? {} : { bindingKeys: asList(bindingKeys) }),
    },
    "query",
  );
  return selected(await new LiveOperations(env, scopeOf(env, principal)).openTopic(String(request.params.topic), options));
}

/** How each live route is opened. */
export const openLive: Record<LiveRoute["kind"], (request: LiveRequest, env: Env) => Promise<Response>> = {
  queue: openQueueLive,
  topic: openTopicLive,
};
