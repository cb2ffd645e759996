import type { ProtocolAdapter } from "../dispatch";
import { restErrorResponse } from "../rest/errors";

/** Where the web console's static files are served (wrangler.jsonc `assets`). */
export const ConsolePath = "/console/";

/**
 * A browser opening the service's root is sent to the web console. Only a page navigation asks for
 * HTML first: API clients (curl's `*\/*`, SDKs' JSON) keep the native API's own answer at `/`.
 */
export const consoleRedirectAdapter: ProtocolAdapter = {
  name: "console",
  claims: (request, url) =>
    url.pathname === "/" && (request.method === "GET" || request.method === "HEAD") && (request.headers.get("accept") ?? "").includes("text/html"),
  handle: async (request) => Response.redirect(new URL(ConsolePath, request.url).toString(), 302),
  errorResponse: restErrorResponse,
};
