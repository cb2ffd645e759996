import { env, exports } from "cloudflare:workers";
import { createClient, type ClientOptions, type EdgeCmqClient } from "../../packages/client/src";
import { RootSecretKey } from "../support/http";

export const Endpoint = "http://cmq.test";

/** The Worker under test, reached as a client reaches it over HTTP. */
export const workerFetch: typeof fetch = (input, init) =>
  (exports as unknown as { default: Fetcher }).default.fetch(new Request(input as RequestInfo, init)) as unknown as Promise<Response>;

/** A client over HTTP to the Worker under test, as root unless other credentials are given. */
export function httpClient(options: Partial<ClientOptions> = {}): EdgeCmqClient {
  const credentials = options.secretKey || options.token || options.getToken ? {} : { secretKey: RootSecretKey };
  return createClient({ endpoint: Endpoint, fetch: workerFetch, ...credentials, ...options });
}

/** A client over the service binding to the Worker under test (root unless credentials are given). */
export function bindingClient(options: Partial<ClientOptions> = {}): EdgeCmqClient {
  return createClient({ binding: env.CMQ, ...options });
}

export const transports = [
  ["HTTP", httpClient],
  ["service binding", bindingClient],
] as const;

/** Records what each attempt of an HTTP client sent, then passes it to the Worker. */
export function recordingFetch(next: typeof fetch = workerFetch): { fetch: typeof fetch; requests: Request[] } {
  const requests: Request[] = [];
  return {
    requests,
    fetch: async (input, init) => {
      const request = new Request(input as RequestInfo, init);
      requests.push(request.clone());
      return next(request);
    },
  };
}

/** A sleep that returns at once and remembers what it was asked to wait. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; waitsMs: number[] } {
  const waitsMs: number[] = [];
  return { waitsMs, sleep: async (ms) => void waitsMs.push(ms) };
}
