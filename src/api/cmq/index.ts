import type { Principal } from "../../auth/authenticate";
import { authenticateCmq } from "../../auth/cmq-signature";
import { systemClock } from "../../clock";
import { OperationContext } from "../../operations";
import { corsHeaders } from "../cors";
import type { ProtocolAdapter } from "../dispatch";
import { jsonResponse, readBodyText } from "../http";
import { restRoutes } from "../rest/routes";
import { handOffTcForm } from "../tcapi/form";
import type { CmqAction } from "./call";
import { cmqErrorResponse, CmqWire, CmqWireError } from "./errors";
import { ActionParams, formParams } from "./params";
import { queueActions } from "./queue-actions";
import { topicActions } from "./topic-actions";

/**
 * Actions by lower-case name: SDKs differ in case (Python upper-cases the first letter; Java sends
 * `ClearSUbscriptionFIlterTags`), so names match without regard to it.
 */
const actions = new Map<string, CmqAction>(Object.entries({ ...queueActions, ...topicActions }).map(([name, action]) => [name.toLowerCase(), action]));

/** The first path segments of the native API (`/v1/...`) and its document, which POSTs never reach here. */
const RestPrefixes = new Set(restRoutes.map((route) => route.path.split("/")[1]));
const isRestPath = (pathname: string) => pathname === "/openapi.json" || RestPrefixes.has(pathname.split("/")[1]);

/** Other protocols name themselves in a header; a request carrying one is theirs. */
const otherProtocolHeaders = ["authorization", "x-amz-target", "x-tc-action"];

/**
 * The CMQ action API: `GET ?Action=...` on any path, or a POST form on any path outside the
 * native API's, signed with CMQ's HMAC v1 parameters.
 */
function claims(request: Request, url: URL): boolean {
  if (otherProtocolHeaders.some((name) => request.headers.has(name))) return false;
  if (request.method === "GET") return url.searchParams.has("Action");
  return request.method === "POST" && !isRestPath(url.pathname);
}

/**
 * One request: the parameters are read from the query and the form body, the signature and the
 * nonce checked, the action found and translated onto the catalog. Every answer, error or not, is
 * HTTP 200 with `code`, `message` and `requestId` (CMQ's envelope).
 */
async function handle(request: Request, env: Env, requestId: string): Promise<{ principal?: Principal; response: Response }> {
  const url = new URL(request.url);
  const body = request.method === "POST" ? await readBodyText(request) : "";
  // Tencent Cloud API 3.0 signed with HmacSHA1/HmacSHA256 is a form too; it is told apart by its
  // Version parameter, which CMQ's action API does not have (src/api/tcapi/form.ts).
  const apiV3 = await handOffTcForm(request, env, requestId, url, body);
  if (apiV3) return apiV3;
  const params = formParams(url.search.slice(1), body);
  const principal = await authenticateCmq(env, { method: request.method, host: url.host, path: url.pathname }, params, systemClock.nowMs());
  const name = params.find(([key]) => key === "Action")?.[1];
  if (name === undefined) throw new CmqWireError(CmqWire.MissingParameter, "missing required parameter Action");
  const action = actions.get(name.toLowerCase());
  if (!action) throw new CmqWireError(CmqWire.UnknownAction, `action name ${name} is not existed`);
  const output = await action({ context: new OperationContext(env, principal, request.signal), params: new ActionParams(params) });
  return { principal, response: jsonResponse({ code: 0, message: "", requestId, ...output }, 200) };
}

export const cmqAdapter: ProtocolAdapter = {
  name: "cmq",
  claims,
  handle: async (request, env, _ctx, requestId) => {
    let answer: { principal?: Principal; response: Response };
    try {
      answer = await handle(request, env, requestId);
    } catch (error) {
      answer = { response: cmqErrorResponse(error, requestId) };
    }
    for (const [name, value] of Object.entries(corsHeaders(request, answer.principal))) answer.response.headers.set(name, value);
    return answer.response;
  },
  errorResponse: cmqErrorResponse,
};
