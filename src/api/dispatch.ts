import { requireConfigured } from "../auth/authenticate";
import { ErrorCode, ServiceError } from "../errors";
import { urlOf } from "../request-url";


/**
 * A protocol adapter: it claims the requests of its protocol and answers them in its own dialect.
 * Adding a protocol is one folder under src/api/, one entry in `adapters` (src/index.ts), and one
 * table mapping error codes to the protocol's own.
 */
export interface ProtocolAdapter {
  name: string;
  /** Whether the request speaks this protocol, from its method, path, headers or query only. */
  claims(request: Request, url: URL): boolean;
  handle(request: Request, env: Env, ctx: ExecutionContext, requestId: string): Promise<Response>;
  /** The adapter's own error answer, for failures before `handle` (an unconfigured service). */
  errorResponse(error: unknown, requestId: string): Response;
}

/** Methods any adapter answers; others (CONNECT, TRACE, ...) are refused before routing. */
const KnownMethods = new Set(["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Picks the adapter per request (the first that claims it; the last is the fallback), gives every
 * answer an `x-request-id`, and turns anything an adapter lets escape into its error answer.
 */
export async function dispatch(
  adapters: readonly ProtocolAdapter[],
  request: Request,
  env: Env,
  ctx: ExecutionContext,
): Promise<Response> {
  const requestId = crypto.randomUUID();
  let adapter = adapters[adapters.length - 1]!;
  let response: Response;
  try {
    const url = urlOf(request);
    adapter = adapters.find((candidate) => candidate.claims(request, url)) ?? adapter;
    if (!KnownMethods.has(request.method)) {
      throw new ServiceError(ErrorCode.MethodNotAllowed, `method ${request.method} is not supported`, { allow: [...KnownMethods] });
    }
    requireConfigured(env);
    response = await adapter.handle(request, env, ctx, requestId);
  } catch (error) {
    response = adapter.errorResponse(error, requestId);
    if (error instanceof ServiceError && error.code === ErrorCode.MethodNotAllowed && !response.headers.has("allow")) {
      response.headers.set("allow", [...KnownMethods].join(", "));
    }
  }
  if (!response.headers.has("x-request-id")) {
    // A response from fetch() or a cache has immutable headers: copy it first.
    try {
      response.headers.set("x-request-id", requestId);
    } catch {
      response = new Response(response.body, response);
      response.headers.set("x-request-id", requestId);
    }
  }
  return response;
}


