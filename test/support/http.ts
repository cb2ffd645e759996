import { exports } from "cloudflare:workers";

export const RootSecretKey = "test-root-secret-key-0123456789abcdef";

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the Worker's fetch handler as a client would, with the root bearer secret unless told otherwise. */
export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  options: { auth?: string | null; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers = new Headers(options.headers);
  const auth = options.auth === undefined ? `Bearer ${RootSecretKey}` : options.auth;
  if (auth) headers.set("authorization", auth);
  let payload: string | undefined = options.rawBody;
  if (payload === undefined && body !== undefined) {
    payload = JSON.stringify(body);
    headers.set("content-type", "application/json");
  }
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(
    new Request(`http://cmq.test${path}`, { method, headers, body: payload }),
  );
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as T) : (undefined as T), headers: response.headers };
}

export const uniqueName = (prefix = "q"): string => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
