import { authenticate, presentsCredentials, type Principal } from "../../auth/authenticate";
import { corsHeaders } from "../cors";
import type { ProtocolAdapter } from "../dispatch";
import { parseJsonText, readBodyText } from "../http";
import { answerTcCall } from "./answer";
import { tcErrorResponse, TcWireError } from "./errors";
import { flatParameters } from "./query";

/**
 * One request: the body is read first (the signature covers it), the caller authenticated, the
 * version and action checked, the action's parameters validated, and the action translated onto
 * the catalog. API 3.0 takes `POST /` with a JSON body, or GET with the parameters in the query.
 */
async function handle(request: Request, env: Env, requestId: string, caller: { principal?: Principal }): Promise<Response> {
  if (request.method !== "POST" && request.method !== "GET") {
    throw new TcWireError("UnsupportedProtocol", `HTTP method ${request.method} is not supported: send POST or GET.`);
  }
  const bodyText = await readBodyText(request);
  if (!presentsCredentials(request)) {
    throw new TcWireError("AuthFailure.InvalidAuthorization", "The request has no Authorization header: sign it with TC3-HMAC-SHA256.");
  }
  if (request.headers.has("x-tc-token")) {
    // Temporary credentials (STS) have no counterpart: refused rather than signed-in as the key alone.
    throw new TcWireError("AuthFailure.TokenFailure", "Temporary credentials (X-TC-Token) are not supported: sign with a SecretId and SecretKey of this service.");
  }
  const principal = await authenticate(request, bodyText, env);
  caller.principal = principal;
  const url = new URL(request.url);
  return answerTcCall({
    env,
    principal,
    signal: request.signal,
    requestId,
    version: request.headers.get("x-tc-version"),
    versionParameter: "X-TC-Version",
    action: request.headers.get("x-tc-action")!,
    parametersOf: (schema) => {
      if (request.method === "GET") return flatParameters(url.searchParams, schema);
      if (url.search !== "") throw new TcWireError("InvalidParameter", "A POST request takes its parameters in its JSON body, not in the query string.");
      return parseJsonText(bodyText);
    },
  });
}

/** Tencent Cloud API 3.0, CMQ actions of TDMQ: any request naming its action in `X-TC-Action`. */
export const tcapiAdapter: ProtocolAdapter = {
  name: "tcapi",
  claims: (request) => request.headers.has("x-tc-action"),
  handle: async (request, env, _ctx, requestId) => {
    const caller: { principal?: Principal } = {};
    let response: Response;
    try {
      response = await handle(request, env, requestId, caller);
    } catch (error) {
      response = tcErrorResponse(error, requestId);
    }
    // A page may read the answer as it may read /v1's: the caller's account names the origins.
    for (const [name, value] of Object.entries(corsHeaders(request, caller.principal))) response.headers.set(name, value);
    return response;
  },
  errorResponse: tcErrorResponse,
};
