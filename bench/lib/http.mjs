// A keep-alive JSON client for probes (latency samples, setup), and autocannon runs for load.
import http from "node:http";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { cpuMeter } from "./processes.mjs";

export function createClient(baseUrl, headers = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const { hostname, port } = new URL(baseUrl);

  /**
   * One request; resolves when the whole answer has arrived, with the time it took.
   * @returns {Promise<{status: number, json: any, text: string, ms: number, startedAt: number, endedAt: number}>}
   */
  function request(method, path, body, { timeoutMs = 60_000, extraHeaders = {} } = {}) {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const startedAt = performance.now();
      const req = http.request(
        {
          agent,
          hostname,
          port,
          method,
          path,
          headers: {
            ...headers,
            ...extraHeaders,
            ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks = [];
          res.on("data", (chunk) => chunks.push(chunk));
          res.on("end", () => {
            const endedAt = performance.now();
            const text = Buffer.concat(chunks).toString("utf8");
            let json = null;
            try {
              json = text ? JSON.parse(text) : null;
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode, json, text, ms: endedAt - startedAt, startedAt, endedAt });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** The request, and an error unless it answered one of `expected`. */
  async function call(method, path, body, { expect = [200, 201], ...options } = {}) {
    const response = await request(method, path, body, options);
    if (!expect.includes(response.status)) {
      throw new Error(`${method} ${path} answered ${response.status}: ${response.text.slice(0, 300)}`);
    }
    return response;
  }

  return { request, call, close: () => agent.destroy() };
}

/**
 * One autocannon run (keep-alive connections, no pipelining) with the CPU time each workerd and
 * this process spent meanwhile.
 * @param {object} options autocannon options; `url` is required
 * @param {{pid:number, role:string}[]} processes workerd processes to meter
 * @param {(instance: any) => void} [onStart] gets the running instance (to stop it early)
 */
export async function runLoad(options, processes = [], onStart) {
  const meter = cpuMeter(processes);
  const result = await new Promise((resolve, reject) => {
    const instance = autocannon({ pipelining: 1, timeout: 30, ...options }, (error, value) => (error ? reject(error) : resolve(value)));
    onStart?.(instance);
  });
  const cpuMs = meter();
  const seconds = (new Date(result.finish).getTime() - new Date(result.start).getTime()) / 1000;
  const ok = result["2xx"];
  return {
    seconds,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    requestsPerSecond: ok / seconds,
    latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, mean: result.latency.mean },
    cpuMsPerRequest: Object.fromEntries(Object.entries(cpuMs).map(([role, ms]) => [role, ok > 0 ? round3(ms / ok) : null])),
    cpuBusy: Object.fromEntries(Object.entries(cpuMs).map(([role, ms]) => [role, round3(ms / 1000 / seconds)])),
  };
}

const round3 = (value) => Math.round(value * 1000) / 1000;

/** Sums slices of the same load measured in several rounds. */
export function combineLoads(slices) {
  const ok = slices.reduce((sum, slice) => sum + slice.ok, 0);
  const seconds = slices.reduce((sum, slice) => sum + slice.seconds, 0);
  const median = (values) => {
    const sorted = values.filter((value) => value !== null && value !== undefined).sort((a, b) => a - b);
    return sorted.length === 0 ? null : sorted[Math.floor((sorted.length - 1) / 2)];
  };
  const roles = new Set(slices.flatMap((slice) => Object.keys(slice.cpuMsPerRequest)));
  return {
    seconds,
    ok,
    non2xx: slices.reduce((sum, slice) => sum + slice.non2xx, 0),
    errors: slices.reduce((sum, slice) => sum + slice.errors, 0),
    timeouts: slices.reduce((sum, slice) => sum + slice.timeouts, 0),
    requestsPerSecond: ok / seconds,
    latency: { p50: median(slices.map((slice) => slice.latency.p50)), p99: median(slices.map((slice) => slice.latency.p99)) },
    cpuMsPerRequest: Object.fromEntries([...roles].map((role) => [role, median(slices.map((slice) => slice.cpuMsPerRequest[role]))])),
    cpuBusy: Object.fromEntries([...roles].map((role) => [role, median(slices.map((slice) => slice.cpuBusy[role]))])),
    rounds: slices.map((slice) => ({ seconds: round3(slice.seconds), requestsPerSecond: round3(slice.requestsPerSecond) })),
  };
}
