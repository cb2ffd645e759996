import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { HttpStatusOfError } from "../../src/api/rest/errors";
import type { ErrorCode } from "../../src/errors";
import { api, RootSecretKey, type ApiResponse } from "../support/http";

/** Asserts an error answer: the status of its code, the `{error: {code, message, requestId}}` shape, and the request id header. */
export function expectError(response: ApiResponse, code: ErrorCode, messagePart?: string | RegExp): void {
  expect({ status: response.status, code: response.body?.error?.code }, JSON.stringify(response.body)).toEqual({
    status: HttpStatusOfError[code],
    code,
  });
  const error = response.body.error;
  expect(typeof error.message).toBe("string");
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.headers.get("x-request-id")).toBe(error.requestId);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  if (messagePart !== undefined) expect(error.message).toMatch(messagePart);
}

/** Asserts a success status, showing the body when it is not. */
export function expectStatus(response: ApiResponse, status: number): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
}

/** Creates a queue over REST and returns its name. */
export async function createQueue(name: string, attributes: Record<string, unknown> = {}): Promise<string> {
  const response = await api("PUT", `/v1/queues/${name}`, attributes);
  expectStatus(response, 201);
  return name;
}

/** A queue's GET body (attributes, timestamps, counts), for "nothing changed" comparisons. */
export async function snapshot(name: string): Promise<unknown> {
  const response = await api("GET", `/v1/queues/${name}`);
  expectStatus(response, 200);
  return response.body;
}

/** Every stored message of a queue, as peek shows them (also rewindable state is left out by peek). */
export async function peekAll(name: string): Promise<any[]> {
  const response = await api("GET", `/v1/queues/${name}/messages?limit=100`);
  expectStatus(response, 200);
  return response.body.messages;
}

/** Sends a request with any body (stream, bytes) straight to the Worker's fetch handler. */
export async function rawFetch(
  method: string,
  path: string,
  body: BodyInit | null,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const request = new Request(`http://cmq.test${path}`, {
    method,
    headers: { authorization: `Bearer ${RootSecretKey}`, ...headers },
    body,
  });
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(request);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

export type RpcOutcome = { ok: true; value: any } | { ok: false; name: string; message: string };

/** Calls a QueueService method through the consumer Worker, which reaches it only over its service binding. */
export async function rpc(method: string, ...args: unknown[]): Promise<RpcOutcome> {
  const response = await env.CONSUMER.fetch("http://consumer/", {
    method: "POST",
    body: JSON.stringify({ method, args }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as RpcOutcome;
}

/** Asserts that an RPC call failed with the given code, as `[Code] text` in a ServiceError. */
export function expectRpcError(outcome: RpcOutcome, code: ErrorCode, messagePart?: string | RegExp): void {
  expect(outcome.ok, JSON.stringify(outcome)).toBe(false);
  if (outcome.ok) return;
  expect(outcome.name).toBe("ServiceError");
  expect(outcome.message).toMatch(new RegExp(`^\\[${code}\\] \\S`));
  if (messagePart !== undefined) expect(outcome.message).toMatch(messagePart);
}

/** The value of a successful RPC call. */
export function rpcValue(outcome: RpcOutcome): any {
  expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
  return outcome.ok ? outcome.value : undefined;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 8_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
