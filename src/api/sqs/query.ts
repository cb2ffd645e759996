import { authenticate, presentsCredentials } from "../../auth/authenticate";
import { OperationContext } from "../../operations";
import { urlOf } from "../../request-url";
import { readBodyText } from "../http";
import { sqsActions } from "./actions";
import { SqsWire, SqsWireError } from "./errors";
import { QueryRequestShapes, QueryResponseShapes, type QueryShape } from "./query-shapes";
import { parseWire, SqsRequest, UnsupportedActions, type SqsAction } from "./wire";
import { element, encodeMembers, escapeXml, SqsXmlNamespace, XmlContentType } from "./xml";

/**
 * SQS's query protocol (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-making-api-requests-xml.html):
 * `POST /` or `POST /{accountId}/{queueName}` with a form body `Action=SendMessage&Version=2012-11-05&...`,
 * answered in XML. The form is decoded into exactly the input the JSON protocol's action takes, the
 * same action runs, and its answer is written as XML: one translation onto the catalog, two encodings.
 */
export const QueryVersion = "2012-11-05";

const FormContentType = "application/x-www-form-urlencoded";

/**
 * A form POST with no `X-Amz-Target` (the caller has checked) and credentials in `Authorization`
 * (SigV4, as every SQS client signs, or this service's bearer key or token) is a query request. A
 * form without that header is not: CMQ's action API, and API 3.0's form variant, post forms to `/`
 * with their signature inside them. API 3.0's TC3 form names its action in `X-TC-Action`.
 */
export function claimsQuery(request: Request): boolean {
  const contentType = request.headers.get("content-type");
  if (contentType === null || !contentType.toLowerCase().startsWith(FormContentType)) return false;
  return request.headers.has("authorization") && !request.headers.has("x-tc-action");
}

const isAction = (name: string): name is SqsAction => Object.hasOwn(SqsRequest, name);

/** A form's parameters as a tree of their dot-separated names: `A.1.Name=x` is A → 1 → Name → "x". */
type FormNode = string | Map<string, FormNode>;

const invalid = (parameter: string, reason: string) =>
  new SqsWireError(SqsWire.InvalidParameterValue, `Value for parameter ${parameter} is invalid. Reason: ${reason}.`);

function formTree(parameters: Iterable<[string, string]>): Map<string, FormNode> {
  const root = new Map<string, FormNode>();
  for (const [name, value] of parameters) {
    const parts = name.split(".");
    if (parts.some((part) => part === "")) throw invalid(name, "a parameter name is dot-separated words, none empty");
    let node = root;
    parts.forEach((part, index) => {
      const path = parts.slice(0, index + 1).join(".");
      const existing = node.get(part);
      if (index === parts.length - 1) {
        if (existing !== undefined) throw invalid(path, typeof existing === "string" ? "it is given twice" : `it is given both as a value and as ${path}.…`);
        node.set(part, value);
        return;
      }
      if (typeof existing === "string") throw invalid(path, `it is given both as a value and as ${path}.…`);
      const child = existing ?? new Map<string, FormNode>();
      node.set(part, child);
      node = child;
    });
  }
  return root;
}

/** The elements of a flattened list or map, by their indexes, which run 1, 2, 3, ... without gaps. */
function indexed(node: FormNode, path: string): FormNode[] {
  // An empty list is sent as `Name=` (the AWS SDKs' query serializers do this).
  if (node === "") return [];
  if (typeof node === "string") throw invalid(path, `it is a list: send ${path}.1, ${path}.2, ...`);
  const items: FormNode[] = [];
  for (const [index, item] of node) {
    if (!/^[1-9]\d{0,3}$/.test(index)) throw invalid(`${path}.${index}`, "a list index is a whole number from 1");
    items[Number(index) - 1] = item;
  }
  const gap = items.findIndex((item) => item === undefined);
  if (items.length !== node.size || gap >= 0) throw invalid(`${path}.${gap + 1}`, `the indexes of ${path} must run from 1 without gaps`);
  return items;
}

/** One decoded value: a form subtree turned into the JSON the action takes, per its shape. */
function decode(node: FormNode, shape: QueryShape, path: string): unknown {
  switch (shape.kind) {
    case "list":
      return indexed(node, path).map((item, index) => decode(item, shape.member, `${path}.${index + 1}`));
    case "map": {
      const entries = indexed(node, path).map((item, index) => {
        const at = `${path}.${index + 1}`;
        if (typeof item === "string") throw invalid(at, `an entry has a ${shape.keyName} and a Value`);
        for (const part of item.keys()) {
          if (part !== shape.keyName && part !== "Value") throw invalid(`${at}.${part}`, `an entry has only a ${shape.keyName} and a Value`);
        }
        const key = item.get(shape.keyName);
        if (typeof key !== "string") throw new SqsWireError(SqsWire.MissingParameter, `The request must contain the parameter ${at}.${shape.keyName}.`);
        const value = item.get("Value");
        if (value === undefined) throw new SqsWireError(SqsWire.MissingParameter, `The request must contain the parameter ${at}.Value.`);
        return [key, decode(value, shape.value, `${at}.Value`)] as const;
      });
      const keys = new Set(entries.map(([key]) => key));
      if (keys.size !== entries.length) throw invalid(path, `each ${shape.keyName} may appear once`);
      return Object.fromEntries(entries);
    }
    case "structure": {
      if (typeof node === "string") throw invalid(path, `it is a structure: send ${path}.<member>`);
      const byLocation = new Map(Object.entries(shape.members).map(([name, member]) => [member.location ?? name, { name, shape: member.shape }]));
      const fields = new Map<string, unknown>();
      for (const [location, child] of node) {
        const member = byLocation.get(location) ?? { name: location, shape: { kind: "string" } as const };
        const at = path === "" ? location : `${path}.${location}`;
        // `Attribute.1.Name` and a bare `Attributes` would both fill Attributes: neither wins silently.
        if (fields.has(member.name)) throw invalid(at, `it is given twice, also as ${member.name}`);
        fields.set(member.name, decode(child, member.shape, at));
      }
      return Object.fromEntries(fields);
    }
    case "integer":
      if (typeof node !== "string") throw invalid(path, "it takes one value");
      // Anything but an integer stays a string, for the wire schema to refuse by name.
      return /^-?\d{1,15}$/.test(node) ? Number(node) : node;
    default:
      if (typeof node !== "string") throw invalid(path, "it takes one value");
      return node;
  }
}

const invalidAction = (action: string) => new SqsWireError(SqsWire.InvalidAction, `The action ${action} is not valid for this endpoint.`);

/** The action, and its parameters as the JSON protocol's input; the queue from the path when the form names none. */
export function decodeQueryRequest(parameters: Iterable<[string, string]>, url: URL): { action: string; input: Record<string, unknown> } {
  const tree = formTree(parameters);
  const action = tree.get("Action");
  const version = tree.get("Version");
  tree.delete("Action");
  tree.delete("Version");
  if (action === undefined || action === "") throw new SqsWireError(SqsWire.MissingAction, "The request must contain the parameter Action.");
  if (typeof action !== "string") throw invalid("Action", "it takes one value");
  if (version === undefined) throw new SqsWireError(SqsWire.MissingParameter, "The request must contain the parameter Version.");
  if (version !== QueryVersion) {
    throw new SqsWireError(SqsWire.NoSuchVersion, `The requested version (${typeof version === "string" ? version : "?"}) of service AmazonSQS does not exist: use ${QueryVersion}.`);
  }
  if (!Object.hasOwn(QueryRequestShapes, action)) throw invalidAction(action);
  const shape = QueryRequestShapes[action]!;
  const input = decode(tree, shape, "") as Record<string, unknown>;
  // Older SDKs send a queue's requests to its URL; the form's QueueUrl, when given, is the one used.
  const isQueueRequest = Object.hasOwn(shape.members, "QueueUrl");
  if (isQueueRequest && input.QueueUrl === undefined && url.pathname.split("/").length === 3) input.QueueUrl = `${url.origin}${url.pathname}`;
  return { action, input };
}

/** `<{Action}Response>` with the action's answer in `<{Action}Result>` and the request id. */
export function encodeQueryResponse(action: string, output: Record<string, unknown>, requestId: string): string {
  const shape = QueryResponseShapes[action];
  const result = shape === null ? "" : element(`${action}Result`, encodeMembers(output, shape?.members ?? {}));
  const metadata = element("ResponseMetadata", element("RequestId", escapeXml(requestId)));
  return `<?xml version="1.0"?><${action}Response xmlns="${SqsXmlNamespace}">${result}${metadata}</${action}Response>`;
}

/** One query request: body read (the signature covers it), caller authenticated, form decoded, action run. */
export async function handleQuery(request: Request, env: Env, requestId: string): Promise<Response> {
  const bodyText = await readBodyText(request);
  if (!presentsCredentials(request)) {
    throw new SqsWireError(SqsWire.MissingAuthenticationToken, "Request is missing Authentication Token: sign it with AWS Signature Version 4.");
  }
  const principal = await authenticate(request, bodyText, env);
  const url = urlOf(request);
  const { action, input } = decodeQueryRequest([...url.searchParams, ...new URLSearchParams(bodyText)], url);
  if (UnsupportedActions.has(action)) throw new SqsWireError(SqsWire.UnsupportedOperation, `${action} is not supported yet.`);
  if (!isAction(action)) throw invalidAction(action);
  const parsed = parseWire(SqsRequest[action], input);
  const call = { context: new OperationContext(env, principal, request.signal), origin: url.origin };
  const output = await (sqsActions[action] as (call: unknown, input: unknown) => Promise<Record<string, unknown>>)(call, parsed);
  return new Response(encodeQueryResponse(action, output, requestId), {
    status: 200,
    headers: { "content-type": XmlContentType, "x-amzn-requestid": requestId },
  });
}
