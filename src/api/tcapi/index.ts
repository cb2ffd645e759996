import { authenticate, presentsCredentials, type Principal } from "../../auth/authenticate";
import { OperationContext } from "../../operations";
import { corsHeaders } from "../cors";
import type { ProtocolAdapter } from "../dispatch";
import { jsonResponse, parseJsonText, readBodyText } from "../http";
import { tcActions } from "./actions";
import { tcErrorResponse, TcWireError } from "./errors";
import { queryParameters } from "./query";
import { isTcAction, parseWire, TcRequest, TcVersion } from "./wire";

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
  const version = request.headers.get("x-tc-version");
  if (version === null) throw new TcWireError("MissingParameter", "The request is missing a required parameter `Version` (X-TC-Version).");
  if (version !== TcVersion) throw new TcWireError("NoSuchVersion", `The API version \`${version}\` does not exist: this endpoint speaks ${TcVersion}.`);
  const action = request.headers.get("x-tc-action")!;
  if (!isTcAction(action)) throw new TcWireError("InvalidAction", `The action \`${action}\` is not one of the CMQ actions of tdmq ${TcVersion}.`);
  const url = new URL(request.url);
  if (request.method === "POST" && url.search !== "") {
    throw new TcWireError("InvalidParameter", "A POST request takes its parameters in its JSON body, not in the query string.");
  }
  const raw = request.method === "GET" ? queryParameters(url, TcRequest[action]) : parseJsonText(bodyText);
  const input = parseWire(TcRequest[action], raw);
  const context = new OperationContext(env, principal, request.signal);
  const output = await (tcActions[action] as (context: OperationContext, input: unknown) => Promise<Record<string, unknown>>)(context, input);
  return jsonResponse({ Response: { ...output, RequestId: requestId } }, 200);
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
