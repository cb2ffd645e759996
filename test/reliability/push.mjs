// Part 3: failing push endpoints. An HTTP server on 127.0.0.1 answers 500, hangs past the 15 s push
// timeout, closes the connection, or fails until some seconds have passed and then answers 200; a
// topic (EXPONENTIAL_DECAY_RETRY, 60 s retention) on the real service has an http subscription to
// each. Every delivery must follow the retry schedule (1, 2, 4 ... s after each failure, counted
// from the end of the failed attempt), be attempted until the schedule ends (nothing given up early),
// stop once delivered, and end in the subscription's stats as delivered or failed.
import http from "node:http";
import { call, callAnswered, expectStatus, sleep } from "./lib/client.mjs";
import { startService } from "./lib/service.mjs";

const PushTimeoutMs = 15_000;
/** How late a retry may come: the alarm's own delay in wrangler dev, and the round's work. */
const LateSlackMs = 2_500;
const EarlySlackMs = 50;

/** The test endpoint: /p/<mode>/<argument>/<tag>. */
function startEndpoint() {
  const requests = [];
  const firstAt = new Map();
  const sockets = new Set();
  const server = http.createServer((request, response) => {
    const at = Date.now();
    const [, , mode, argument] = request.url.split("/");
    const record = { path: request.url, mode, messageId: request.headers["x-cmq-message-id"], at, endedAt: null, status: null };
    requests.push(record);
    if (!firstAt.has(request.url)) firstAt.set(request.url, at);
    // The answer ends the attempt, or the connection closing (the service giving up, or /close).
    response.on("close", () => {
      record.endedAt ??= Date.now();
    });
    request.resume();
    const answer = (status) => {
      record.status = status;
      record.endedAt = Date.now();
      response.writeHead(status, { "content-type": "text/plain" }).end(String(status));
    };
    if (mode === "status") answer(Number(argument));
    else if (mode === "ok") answer(200);
    else if (mode === "recover") answer(at - firstAt.get(request.url) >= Number(argument) ? 200 : 503);
    else if (mode === "close") {
      record.status = "closed";
      request.socket.destroy();
    } else if (mode === "hang") {
      record.status = "hung";
      // No answer: the service gives up after 15 s and closes the connection.
    } else answer(404);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        requests,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** The EXPONENTIAL_DECAY_RETRY wait after the n-th failure. */
const exponentialDelayMs = (failures) => Math.min(1_000 * 2 ** (failures - 1), 512_000);

/**
 * @param {{short: boolean, workDir: string, log: (line: string) => void}} options
 */
export async function pushPart({ short, workDir, log }) {
  const started = Date.now();
  const endpoint = await startEndpoint();
  const service = await startService({ workDir, label: "push" });
  const problems = [];
  try {
    const retentionMs = 60_000;
    const subscriptions = [
      { name: "s500", path: "/p/status/500/a", expect: "failed" },
      { name: "sclose", path: "/p/close/0/a", expect: "failed" },
      { name: "shang", path: "/p/hang/0/a", expect: "failed" },
      { name: "srecover", path: "/p/recover/10000/a", expect: "delivered" },
      { name: "sok", path: "/p/ok/0/a", expect: "delivered" },
      ...(short ? [] : [{ name: "srecoverlate", path: "/p/recover/25000/a", expect: "delivered" }]),
    ];
    const topic = "push-t";
    expectStatus(await callAnswered(service, "PUT", `/v1/topics/${topic}`, { msgRetentionSeconds: retentionMs / 1000 }), 201, "create topic");
    for (const sub of subscriptions) {
      expectStatus(
        await callAnswered(service, "PUT", `/v1/topics/${topic}/subscriptions/${sub.name}`, {
          protocol: "http",
          endpoint: `${endpoint.url}${sub.path}`,
          notifyStrategy: "EXPONENTIAL_DECAY_RETRY",
        }),
        201,
        `subscribe ${sub.name}`,
      );
    }
    // BACKOFF_RETRY takes about 80 s: only in the full run, on its own topic with a longer retention.
    const backoff = short ? null : { topic: "push-b", name: "sbackoff", path: "/p/status/500/b", retentionMs: 120_000 };
    if (backoff) {
      expectStatus(await callAnswered(service, "PUT", `/v1/topics/${backoff.topic}`, { msgRetentionSeconds: backoff.retentionMs / 1000 }), 201, "create backoff topic");
      expectStatus(
        await callAnswered(service, "PUT", `/v1/topics/${backoff.topic}/subscriptions/${backoff.name}`, {
          protocol: "http",
          endpoint: `${endpoint.url}${backoff.path}`,
          notifyStrategy: "BACKOFF_RETRY",
        }),
        201,
        "subscribe backoff",
      );
    }

    const messageCount = short ? 1 : 2;
    const publishedAt = Date.now();
    const published = expectStatus(
      await call(service, "POST", `/v1/topics/${topic}/messages`, { messages: Array.from({ length: messageCount }, (_, i) => ({ body: `push ${i}` })) }),
      200,
      "publish",
    );
    const ids = published.messages.map((m) => m.id);
    if (backoff) expectStatus(await call(service, "POST", `/v1/topics/${backoff.topic}/messages`, { body: "backoff" }), 200, "publish backoff");

    // Short: long enough for the first retries of each kind and the 10 s recovery. Full: until
    // every delivery has run its course (the schedule ends with the 60 s retention).
    const deadline = publishedAt + (short ? 24_000 : (backoff ? backoff.retentionMs : retentionMs) + 20_000);
    const stats = async (t, name) => (await callAnswered(service, "GET", `/v1/topics/${t}/subscriptions/${name}`)).body.stats;
    for (;;) {
      await sleep(1_000);
      if (Date.now() >= deadline) break;
      if (!short) {
        const all = await Promise.all(subscriptions.map((sub) => stats(topic, sub.name)));
        const backoffDone = !backoff || (await stats(backoff.topic, backoff.name)).pending === 0;
        const hangsOpen = endpoint.requests.some((r) => r.mode === "hang" && r.endedAt === null);
        if (backoffDone && !hangsOpen && all.every((s) => s.pending === 0)) break;
      }
    }
    await sleep(short ? 0 : 2_000);

    // Verdicts, per subscription and message, from what the endpoint saw.
    let attempts = 0;
    let retries = 0;
    let delivered = 0;
    let failed = 0;
    const gapsSeen = [];
    for (const sub of [...subscriptions, ...(backoff ? [{ ...backoff, expect: "failed", backoff: true }] : [])]) {
      const subStats = await stats(sub.backoff ? backoff.topic : topic, sub.name);
      const messageIds = sub.backoff ? [endpoint.requests.find((r) => r.path === backoff.path)?.messageId].filter(Boolean) : ids;
      const limitMs = sub.backoff ? backoff.retentionMs : retentionMs;
      for (const id of messageIds) {
        const tries = endpoint.requests.filter((r) => r.path === sub.path && r.messageId === id);
        const label = `${sub.name} message ${id.slice(0, 8)}`;
        attempts += tries.length;
        retries += Math.max(0, tries.length - 1);
        if (tries.length === 0) {
          problems.push(`${label}: never attempted`);
          continue;
        }
        if (tries[0].at - publishedAt > 3_000) problems.push(`${label}: first attempt ${tries[0].at - publishedAt} ms after publish`);
        for (let i = 1; i < tries.length; i++) {
          const previous = tries[i - 1];
          const endedAt = previous.endedAt ?? previous.at;
          const gap = tries[i].at - endedAt;
          if (sub.backoff) {
            if (gap < 19_000 - EarlySlackMs || gap > 29_000 + LateSlackMs) problems.push(`${label}: retry ${i} came ${gap} ms after attempt ${i} ended, not 19-29 s`);
          } else {
            const wanted = exponentialDelayMs(i);
            gapsSeen.push(`${sub.name}:${(gap / 1000).toFixed(1)}/${wanted / 1000}`);
            if (gap < wanted - EarlySlackMs || gap > wanted + LateSlackMs) {
              problems.push(`${label}: retry ${i} came ${gap} ms after attempt ${i} ended; the schedule says ${wanted} ms`);
            }
          }
          if (previous.status === 200) problems.push(`${label}: attempted again after a 200`);
        }
        if (sub.path.includes("/hang/")) {
          for (const t of tries) {
            const held = (t.endedAt ?? Date.now()) - t.at;
            if (t.endedAt !== null && (held < PushTimeoutMs - 500 || held > PushTimeoutMs + 3_000)) problems.push(`${label}: a hanging attempt was given up after ${held} ms, not 15 s`);
          }
        }
        const successes = tries.filter((t) => t.status === 200).length;
        if (short) {
          // The schedule is still running for the failing endpoints; check what it did so far.
          const expectedSoFar = sub.path.includes("/hang/") ? 2 : sub.expect === "failed" ? 4 : 1;
          if (sub.expect === "failed" && tries.length < expectedSoFar) problems.push(`${label}: only ${tries.length} attempts in the first ${Math.round((deadline - publishedAt) / 1000)} s`);
          if (sub.expect === "delivered" && successes !== 1) problems.push(`${label}: ${successes} successful pushes, expected 1 by now`);
          continue;
        }
        if (sub.expect === "delivered" && successes !== 1) problems.push(`${label}: ${successes} successful pushes, expected exactly 1`);
        if (sub.expect === "failed") {
          if (successes !== 0) problems.push(`${label}: a failing endpoint accepted a push`);
          const last = tries[tries.length - 1];
          const lastEnd = last.endedAt ?? last.at;
          if (sub.backoff) {
            if (tries.length !== 4) problems.push(`${label}: ${tries.length} attempts under BACKOFF_RETRY, expected 4`);
          } else {
            // Nothing given up early: the attempt after the last would have fallen after the retention end.
            const nextWouldBe = lastEnd + exponentialDelayMs(tries.length);
            if (nextWouldBe < publishedAt + limitMs - LateSlackMs) {
              problems.push(`${label}: given up after ${tries.length} attempts although a retry at +${Math.round((nextWouldBe - publishedAt) / 1000)} s fits in the ${limitMs / 1000} s retention`);
            }
          }
        }
      }
      if (!short) {
        const want = sub.expect === "delivered" ? { delivered: messageIds.length, failed: 0, pending: 0 } : { delivered: 0, failed: messageIds.length, pending: 0 };
        const got = { delivered: subStats.delivered, failed: subStats.failed, pending: subStats.pending };
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${sub.name}: stats ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        if (sub.expect === "failed" && !subStats.lastError) problems.push(`${sub.name}: no lastError recorded`);
        delivered += subStats.delivered;
        failed += subStats.failed;
      } else {
        if (sub.expect === "failed" && subStats.lastError === null) problems.push(`${sub.name}: no lastError recorded yet`);
        delivered += subStats.delivered;
        failed += subStats.failed;
      }
      log(`  ${sub.name}: ${endpoint.requests.filter((r) => r.path === sub.path).length} requests, stats ${JSON.stringify({ delivered: subStats.delivered, failed: subStats.failed, pending: subStats.pending, lastError: subStats.lastError })}`);
    }
    log(`  retry gaps seen (seconds seen/scheduled): ${gapsSeen.join(" ")}`);
    if (service.unplannedRestarts > 0) {
      problems.push(`the runtime was restarted ${service.unplannedRestarts}× by wrangler (a watched file changed, e.g. package.json or node_modules, during the run): figures not trustworthy, run again`);
    }
    return {
      summary: {
        part: "push",
        messages: ids.length + (backoff ? 1 : 0),
        subscriptions: subscriptions.length + (backoff ? 1 : 0),
        attempts,
        retries,
        delivered,
        failed,
        losses: problems.filter((p) => p.includes("given up") || p.includes("never attempted")).length,
        reloads: service.unplannedRestarts,
        wallSeconds: Math.round((Date.now() - started) / 1000),
      },
      problems,
    };
  } finally {
    await service.stop();
    await endpoint.close();
  }
}
