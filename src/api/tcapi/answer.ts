import type { Principal } from "../../auth/authenticate";
import { OperationContext } from "../../operations";
import { jsonResponse } from "../http";
import { tcActions } from "./actions";
import { TcWireError } from "./errors";
import { isTcAction, parseWire, TcRequest, TcVersion, type TcAction } from "./wire";

/** What an authenticated API 3.0 request names, however it came (TC3 headers and JSON, or a signed form). */
export interface TcCall {
  env: Env;
  principal: Principal;
  signal: AbortSignal;
  requestId: string;
  /** The API version the request names, null when it names none. */
  version: string | null;
  /** Where the transport carries the version, for the error naming it. */
  versionParameter: string;
  action: string;
  /** The action's parameters as the JSON a POST would carry, read by the action's schema. */
  parametersOf: (schema: (typeof TcRequest)[TcAction]) => unknown;
}

/**
 * Checks the version and the action, validates the action's parameters and runs it on the catalog:
 * `{"Response": {..., "RequestId"}}`. Both transports of API 3.0 end here, so they answer alike.
 */
export async function answerTcCall(call: TcCall): Promise<Response> {
  if (call.version === null) throw new TcWireError("MissingParameter", `The request is missing a required parameter \`Version\` (${call.versionParameter}).`);
  if (call.version !== TcVersion) throw new TcWireError("NoSuchVersion", `The API version \`${call.version}\` does not exist: this endpoint speaks ${TcVersion}.`);
  const action = call.action;
  if (!isTcAction(action)) throw new TcWireError("InvalidAction", `The action \`${action}\` is not one of the CMQ actions of tdmq ${TcVersion}.`);
  const input = parseWire(TcRequest[action], call.parametersOf(TcRequest[action]));
  const context = new OperationContext(call.env, call.principal, call.signal);
  const output = await (tcActions[action] as (context: OperationContext, input: unknown) => Promise<Record<string, unknown>>)(context, input);
  return jsonResponse({ Response: { ...output, RequestId: call.requestId } }, 200);
}
