import { describe, expect, it } from "vitest";
import { restRoutes, type RequestParts } from "../../src/api/rest/routes";
import { rpcMethods, type RpcMethod } from "../../src/api/rpc/methods";
import { ErrorCode, ErrorTraitsOf } from "../../src/errors";
import { HttpStatusOfError } from "../../src/api/rest/errors";
import { operationNames } from "../../src/operations";
import { createClient, EdgeCmqError } from "../../packages/client/src";
import { bindingArguments, bindingCalls } from "../../packages/client/src/binding-calls";
import { httpRoutes } from "../../packages/client/src/http-routes";
import { httpClient, bindingClient } from "./support";

const routeOf = (name: string) => restRoutes.find((route) => route.operation === name);

describe("the client's tables follow the service's", () => {
  it("has a method for every operation of the catalog, over HTTP and over a binding, and no other", () => {
    const conveniences = ["send", "publish"];

    expect(Object.keys(httpClient()).sort()).toEqual([...operationNames, ...conveniences].sort());
    expect(Object.keys(bindingClient()).sort()).toEqual([...operationNames, ...conveniences].sort());
  });

  it("needs an endpoint or a binding", () => {
    expect(() => createClient({ secretKey: "k" })).toThrow(/endpoint or a binding/);
  });

  it.each(operationNames)("sends %s to the route the REST table declares", (name) => {
    const [method, path, fieldsFrom] = httpRoutes[name];

    expect({ method, path: path, fieldsFrom }).toEqual({
      method: routeOf(name)?.method,
      path: routeOf(name)?.path,
      fieldsFrom: routeOf(name)?.fieldsFrom,
    });
  });

  it.each(operationNames)("decodes the REST answer of %s back to the operation's output", (name) => {
    const route = routeOf(name)!;
    const createdAs = httpRoutes[name][3];
    const batch = { messages: [{ id: "m-1" }] };
    const output = createdAs ? { created: true, [createdAs]: { name: "x" } } : name.endsWith("Messages") ? batch : { value: 1 };
    const parts: RequestParts = { params: {}, query: {}, body: name === "sendMessages" || name === "publishMessages" ? { messages: [{}] } : {} };

    const answer = route.toAnswer ? route.toAnswer(output as never, parts) : { status: 200, body: output };
    const notCreated = createdAs && route.toAnswer!({ created: false, [createdAs]: { name: "x" } } as never, parts);

    // The client reads `created` from 201 versus 200 and the resource from the body.
    expect(createdAs ? { created: answer.status === 201, [createdAs]: answer.body } : answer.body).toEqual(output);
    if (notCreated) expect(notCreated.status).toBe(200);
  });

  it.each(operationNames)("calls %s over a binding through the RPC method that runs it, with the same input", (name) => {
    const call = bindingCalls[name];
    const spec = (rpcMethods as Record<string, RpcMethod>)[call[0]]!;
    const input: Record<string, unknown> = Object.fromEntries(call.slice(1).filter((field) => field !== "*").map((field) => [field, `value-of-${field}`]));
    if ((call as readonly string[]).includes("*")) input.other = "value-of-other";

    const rebuilt = spec.toInput(...bindingArguments(call, input));

    expect(spec.operation).toBe(name);
    expect(rebuilt).toEqual(input);
  });

  it.each(Object.values(ErrorCode))("knows the traits and status of %s as the service does", (code) => {
    const error = new EdgeCmqError({ code, message: "m" });

    expect({ fault: error.fault, retryable: error.retryable, status: error.status }).toEqual({ ...ErrorTraitsOf[code], status: HttpStatusOfError[code] });
  });
});
