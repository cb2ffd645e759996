import { authenticate, presentsCredentials } from "../../auth/authenticate";
import { OperationContext } from "../../operations";
import { urlOf } from "../../request-url";
import type { ProtocolAdapter } from "../dispatch";
import { parseJsonText, readBodyText } from "../http";
import { sqsActions } from "./actions";
import { JsonContentType, sqsErrorResponse, sqsQueryErrorResponse, SqsWire, SqsWireError } from "./errors";
import { claimsQuery, handleQuery } from "./query";
import { parseWire, SqsRequest, UnsupportedActions, type SqsAction } from "./wire";

/** The AWS JSON 1.0 protocol names the action in this header: `AmazonSQS.<Action>`. */
const TargetPrefix = "AmazonSQS.";

const isAction = (name: string): name is SqsAction => Object.hasOwn(SqsRequest, name);

/**
 * One request: the body is read first (the signature covers it), the caller authenticated, the
 * action's wire schema checked, and the action translated onto the catalog.
 */
async function handle(request: Request, env: Env, requestId: string, target: string): Promise<Response> {
  const bodyText = await readBodyText(request);
  const action = target.slice(TargetPrefix.length);
  if (!presentsCredentials(request)) {
    throw new SqsWireError(SqsWire.MissingAuthenticationToken, "Request is missing Authentication Token: sign it with AWS Signature Version 4.");
  }
  const principal = await authenticate(request, bodyText, env);
  if (UnsupportedActions.has(action)) throw new SqsWireError(SqsWire.UnsupportedOperation, `${action} is not supported yet.`);
  if (!isAction(action)) throw new SqsWireError(SqsWire.InvalidAction, `The action ${action} is not valid for this endpoint.`);
  const input = parseWire(SqsRequest[action], parseJsonText(bodyText));
  const call = { context: new OperationContext(env, principal, request.signal), origin: urlOf(request).origin };
  const output = await (sqsActions[action] as (call: unknown, input: unknown) => Promise<unknown>)(call, input);
  return new Response(JSON.stringify(output), { status: 200, headers: { "content-type": JsonContentType, "x-amzn-requestid": requestId } });
}

/**
 * SQS's two protocols, both SigV4-signed: AWS JSON 1.0 (`POST` with `X-Amz-Target: AmazonSQS.<Action>`)
 * and the query protocol (form bodies, XML answers; query.ts).
 */
export const sqsAdapter: ProtocolAdapter = {
  name: "sqs",
  claims: (request) => {
    // Every request passes here, the native API's too: each header is read once.
    if (request.method !== "POST") return false;
    const target = request.headers.get("x-amz-target");
    return target === null ? claimsQuery(request) : target.startsWith(TargetPrefix);
  },
  handle: async (request, env, _ctx, requestId) => {
    const target = request.headers.get("x-amz-target");
    const isJson = target !== null && target.startsWith(TargetPrefix);
    try {
      return await (isJson ? handle(request, env, requestId, target) : handleQuery(request, env, requestId));
    } catch (error) {
      return isJson ? sqsErrorResponse(error, requestId) : sqsQueryErrorResponse(error, requestId);
    }
  },
  errorResponse: sqsErrorResponse,
};
