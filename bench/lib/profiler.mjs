// V8 CPU profiles of the runtime workerd (the Worker and every Durable Object share its isolate
// locally), recorded through the inspector port wrangler dev opens, over the Chrome DevTools
// Protocol. A profile opens in Chrome DevTools (Performance panel) or any .cpuprofile viewer.

/** Connects to the Worker's inspector target; wrangler's inspector proxy wants an Origin header. */
export async function connectProfiler(inspectorPort, { samplingIntervalUs = 200 } = {}) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets[0];
  if (!target?.webSocketDebuggerUrl) throw new Error(`no inspector target on port ${inspectorPort}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl, { headers: { origin: "http://127.0.0.1" } });
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error(`inspector at ${target.webSocketDebuggerUrl} refused the connection`)), { once: true });
  });
  let nextId = 0;
  const waiting = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data));
    const pending = message.id === undefined ? undefined : waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (message.error) pending.reject(new Error(`${message.error.message} (${message.error.code})`));
    else pending.resolve(message.result);
  });
  const command = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  await command("Profiler.enable");
  await command("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
  return {
    start: () => command("Profiler.start"),
    /** Stops and answers the profile. */
    stop: async () => (await command("Profiler.stop")).profile,
    close: () => socket.close(),
  };
}

/**
 * The functions that took the most CPU themselves (self time), as shares of the busy time (idle
 * samples are reported apart). Names and lines are the bundle's as V8 reports them: a function
 * the optimiser inlined counts in its caller, and native calls (SQLite `exec`, `arrayBuffer`) are
 * entries of their own. For the call tree, open the .cpuprofile in Chrome DevTools.
 */
export function topSelfTime(profile, count = 15) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFunction = new Map();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id).callFrame;
    if (frame.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const file = frame.url ? frame.url.split("/").pop() : "";
    const key = `${frame.functionName || "(anonymous)"}${file ? ` ${file}:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  return {
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    top: [...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, shareOfBusy: Math.round((1000 * us) / busyUs) / 1000 })),
  };
}
