import type { Principal } from "../auth/authenticate";

/**
 * CORS. Credentials travel as bearer tokens or signatures, never cookies, so a page can only act
 * with a credential it was given: by default any origin may call the API and read the answers.
 * An account may name the origins whose pages may read its responses; other pages still reach the
 * API (CORS does not stop a request) but their scripts cannot read what comes back.
 */
const AllowedMethods = "GET, PUT, POST, PATCH, DELETE, OPTIONS";
const AllowedHeaders = "authorization, content-type, x-tc-timestamp, x-tc-action, x-tc-version, x-tc-region";
const ExposedHeaders = "x-request-id, allow";

export function preflight(request: Request): Response {
  const origin = request.headers.get("origin");
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-origin": origin ?? "*",
      "access-control-allow-methods": AllowedMethods,
      "access-control-allow-headers": AllowedHeaders,
      "access-control-max-age": "600",
      vary: "Origin",
    },
  });
}

export function corsHeaders(request: Request, principal: Principal | undefined): Record<string, string> {
  const origin = request.headers.get("origin");
  if (!origin || request.method === "OPTIONS") return {};
  const allowed = principal?.allowedOrigins;
  if (allowed && !allowed.includes(origin)) return { vary: "Origin" };
  return {
    "access-control-allow-origin": allowed ? origin : "*",
    "access-control-expose-headers": ExposedHeaders,
    ...(allowed ? { vary: "Origin" } : {}),
  };
}
