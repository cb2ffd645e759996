import type { ProtocolAdapter } from "../dispatch";
import { restErrorResponse } from "./errors";
import { restRouter } from "./router";

/** The native REST API under /v1 and /openapi.json: the fallback for every request no other protocol claims. */
export const restAdapter: ProtocolAdapter = {
  name: "rest",
  claims: () => true,
  handle: (request, env, ctx, requestId) => restRouter.fetch(request, env, ctx, requestId),
  errorResponse: restErrorResponse,
};

export { restRoutes } from "./routes";
export { HttpStatusOfError } from "./errors";
