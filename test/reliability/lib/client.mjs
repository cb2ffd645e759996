// A small JSON client for the service over loopback: keep-alive connections, a timeout per
// request, and errors as values, so that load and crash loops can count every outcome.
import http from "node:http";
import { RootSecretKey } from "./service.mjs";

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });

/**
 * @returns {Promise<{status: number, body: any, ms: number} | {status: 0, error: string, ms: number}>}
 *   status 0: no answer (refused, reset, timed out): the request may or may not have taken effect.
 */
export function call(service, method, path, body, { timeoutMs = 40_000 } = {}) {
  const started = performance.now();
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const base = typeof service === "string" ? service : service.url;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result) => {
      if (settled) return;
      settled = true;
      resolve({ ...result, ms: performance.now() - started });
    };
    let request;
    try {
      request = http.request(`${base}${path}`, {
        method,
        agent,
        headers: {
          authorization: `Bearer ${RootSecretKey}`,
          ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      });
    } catch (error) {
      done({ status: 0, error: String(error) });
      return;
    }
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", (error) => done({ status: 0, error: error.code ?? error.message }));
    request.on("response", (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("error", (error) => done({ status: 0, error: error.code ?? error.message }));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = text;
        }
        done({ status: response.statusCode, body: parsed });
      });
    });
    if (payload !== undefined) request.write(payload);
    request.end();
  });
}

/** Calls until there is an answer (any status), waiting between tries; for setup and checks across restarts. */
export async function callAnswered(service, method, path, body, { tries = 60, waitMs = 500, timeoutMs } = {}) {
  let last;
  for (let i = 0; i < tries; i++) {
    last = await call(service, method, path, body, timeoutMs ? { timeoutMs } : {});
    if (last.status !== 0 && last.status < 500) return last;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  throw new Error(`${method} ${path}: no answer after ${tries} tries: ${JSON.stringify(last)}`);
}

export function expectStatus(result, status, what) {
  if (result.status !== status) throw new Error(`${what}: expected ${status}, got ${result.status} ${JSON.stringify(result.body ?? result.error)}`);
  return result.body;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function percentile(values, p) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The seq part of a receipt handle (`<seq base 36>-<token>`): which stored copy a receive got. */
export function copyOf(receiptHandle) {
  return receiptHandle.split("-")[0];
}
