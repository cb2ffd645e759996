import { signTc3, TokenSource, type Credentials } from "./auth";
import type { OperationName } from "./catalog";
import { EdgeCmqError } from "./errors";
import { httpRoutes, type HttpRoute } from "./http-routes";

/** Makes one attempt of an operation; rejects with an EdgeCmqError, or the signal's reason once it aborts. */
export type Transport = (name: OperationName, input: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

export interface HttpTransportOptions extends Credentials {
  endpoint: string;
  fetch: typeof fetch;
  now: () => number;
}

/** `Retry-After` as seconds or an HTTP date (RFC 9110, 10.2.3), in ms from now. */
function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined;
  const ms = /^\d+$/.test(header) ? Number(header) * 1000 : Date.parse(header) - nowMs;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** The service's `{"error": {"code", "message", "requestId"}}`, or what stands in for an answer that is not it. */
function errorOf(response: Response, text: string, nowMs: number): EdgeCmqError {
  const status = response.status;
  const retryAfter = retryAfterMs(response.headers.get("retry-after"), nowMs);
  let error: { code?: unknown; message?: unknown; requestId?: unknown } | undefined;
  try {
    error = JSON.parse(text)?.error;
  } catch {}
  if (typeof error?.code === "string") {
    return new EdgeCmqError({
      code: error.code,
      message: String(error.message ?? error.code),
      status,
      requestId: typeof error.requestId === "string" ? error.requestId : (response.headers.get("x-request-id") ?? undefined),
      retryAfterMs: retryAfter,
    });
  }
  return new EdgeCmqError({
    code: status === 429 ? "Throttled" : "UnexpectedResponse",
    message: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`,
    status,
    requestId: response.headers.get("x-request-id") ?? undefined,
    retryAfterMs: retryAfter,
  });
}

/** The request of an operation: path fields into the path, the others into the query or the JSON body. */
export function requestOf(route: HttpRoute, input: Record<string, unknown>): { method: string; path: string; body: string } {
  const [method, pattern, fieldsFrom] = route;
  const fields = { ...input };
  let path = pattern.replace(/:(\w+)/g, (_, field: string) => {
    const value = fields[field];
    delete fields[field];
    return encodeURIComponent(String(value));
  });
  if (fieldsFrom === "query") {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) query.set(key, String(value));
    const text = query.toString();
    if (text) path += `?${text}`;
  }
  return { method, path, body: fieldsFrom === "body" ? JSON.stringify(fields) : "" };
}

/** Operations over the native REST API, with the configured credentials. */
export function httpTransport(options: HttpTransportOptions): Transport {
  const endpoint = options.endpoint.replace(/\/+$/, "");
  const tokens = options.getToken ? new TokenSource(options.getToken, options.refreshBeforeMs ?? 60_000, options.now) : undefined;

  async function attempt(name: OperationName, input: Record<string, unknown>, signal: AbortSignal, isRetryOfRefusedToken: boolean): Promise<unknown> {
    const route: HttpRoute = httpRoutes[name];
    const { method, path, body } = requestOf(route, input);
    const headers = new Headers(body ? { "content-type": "application/json" } : {});
    const url = endpoint + path;
    const token = tokens ? await tokens.token() : options.token;
    if (token) headers.set("authorization", `Bearer ${token}`);
    else if (options.secretId && options.secretKey) await signTc3({ method, url, headers, body }, options.secretId, options.secretKey, options.now());
    else if (options.secretKey) headers.set("authorization", `Bearer ${options.secretKey}`);

    let response: Response;
    let text: string;
    try {
      response = await options.fetch(url, { method, headers, body: body || undefined, signal });
      text = await response.text();
    } catch (cause) {
      if (signal.aborted) throw signal.reason;
      throw new EdgeCmqError({ code: "NetworkError", message: `${method} ${path}: ${(cause as Error)?.message ?? cause}`, cause });
    }
    if (!response.ok) {
      // A token can be refused before its expiry (its key rotated or disabled): fetch another once.
      if (response.status === 401 && tokens && token && !isRetryOfRefusedToken) {
        tokens.refused(token);
        return attempt(name, input, signal, true);
      }
      throw errorOf(response, text, options.now());
    }
    let value: unknown;
    try {
      value = text ? JSON.parse(text) : undefined;
    } catch (cause) {
      // A 2xx that is not JSON is not the service's answer (a captive portal, a misrouted proxy).
      throw new EdgeCmqError({ code: "UnexpectedResponse", message: `HTTP ${response.status}: not JSON: ${text.slice(0, 200)}`, status: response.status, cause });
    }
    const createdAs = route[3];
    return createdAs ? { created: response.status === 201, [createdAs]: value } : value;
  }

  return (name, input, signal) => attempt(name, input, signal, false);
}
