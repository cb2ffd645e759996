// Scenario 11: what the SQS interface costs over the native REST API. Single sends, and a receive of
// one message followed by its delete, through SQS's AWS JSON 1.0 protocol (each request SigV4-signed
// with the root credentials, as an SDK signs it) and through `/v1` (bearer secret), on queues of
// their own, interleaved in short rounds so that other load falls on both alike. Both go straight
// to the runtime's entry socket, past wrangler's proxy, with the runtime on a CPU of its own: what
// is compared is the service's own work per request.
import { combineLoads, runLoad } from "../lib/http.mjs";
import { pinApart } from "../lib/processes.mjs";
import { makeRow } from "../lib/report.mjs";
import { checkAgainstSdkSigner, signedHeaders } from "../lib/sigv4.mjs";

const RestQueue = "bench-sqs-rest";
const SqsQueue = "bench-sqs";
/** Seconds each case runs in one round of a full run. */
const PairSliceSeconds = 1;
/** Rounds per second of `--duration`: each case runs twice its duration, in 1 s slices. */
const RoundsPerSecond = 2;

const RatioOf = "SQS messages/s divided by REST messages/s, each summed over the same interleaved rounds";

export async function sqs(ctx) {
  const { opts, service, client } = ctx;
  const credentials = { accessKeyId: ctx.root.secretId, secretAccessKey: ctx.root.secretKey };
  await checkAgainstSdkSigner(credentials);
  // wrangler's proxy spends about as much CPU per request as the runtime, more on an SQS request's
  // larger headers, and it and the load generator would share the CPUs the runtime needs: the
  // ratio would then measure the local harness as much as the adapter.
  const entry = await service.runtimeUrl().then(
    (url) => ({ url, label: "the runtime workerd's entry socket, past wrangler's proxy" }),
    (error) => ({ url: service.url, label: `wrangler's proxy (${error.message.split("\n")[0]})` }),
  );
  const base = entry.url;
  const host = new URL(base).host;
  const queueUrl = `${base}/default/${SqsQueue}`;
  const signed = (action, body) =>
    signedHeaders({ host, body, ...credentials, headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `AmazonSQS.${action}` } });
  const sqsCall = async (action, input) => {
    const body = JSON.stringify(input);
    // fetch, not the probe client, which would set its own content-type over the signed one.
    const answer = await fetch(`${base}/`, { method: "POST", headers: signed(action, body), body });
    const text = await answer.text();
    if (answer.status !== 200) throw new Error(`${action} answered ${answer.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  await client.call("PUT", `/v1/queues/${RestQueue}`, {}, { extraHeaders: ctx.authHeaders });
  await sqsCall("CreateQueue", { QueueName: SqsQueue });

  /** Messages deleted per case, counted from the deletes' answers. */
  const deleted = { "rest-receive-delete": 0, "sqs-receive-delete": 0 };
  const restSendBody = JSON.stringify({ body: ctx.body });
  const sqsSendBody = JSON.stringify({ QueueUrl: queueUrl, MessageBody: ctx.body });
  const sqsReceiveBody = JSON.stringify({ QueueUrl: queueUrl, MaxNumberOfMessages: 1 });
  // A signature holds for 15 minutes: requests with a fixed body are signed once per case, those
  // that carry a receipt handle as they are built.
  const cases = {
    "rest-send": () => ({ method: "POST", path: `/v1/queues/${RestQueue}/messages`, body: restSendBody, headers: ctx.jsonHeaders }),
    "sqs-send": () => ({ method: "POST", path: "/", body: sqsSendBody, headers: signed("SendMessage", sqsSendBody) }),
    "rest-receive-delete": () => ({
      requests: [
        {
          method: "POST",
          path: `/v1/queues/${RestQueue}/messages/receive`,
          body: JSON.stringify({ max: 1 }),
          onResponse: (status, body, context) => {
            context.handle = status === 200 ? JSON.parse(body).messages[0]?.receiptHandle : undefined;
          },
        },
        {
          method: "DELETE",
          setupRequest: (request, context) =>
            context.handle ? { ...request, path: `/v1/queues/${RestQueue}/messages/${encodeURIComponent(context.handle)}`, body: undefined } : null,
          onResponse: (status) => {
            if (status < 300) deleted["rest-receive-delete"]++;
          },
        },
      ],
      headers: ctx.jsonHeaders,
    }),
    "sqs-receive-delete": () => ({
      requests: [
        {
          method: "POST",
          path: "/",
          body: sqsReceiveBody,
          headers: signed("ReceiveMessage", sqsReceiveBody),
          onResponse: (status, body, context) => {
            context.handle = status === 200 ? JSON.parse(body).Messages?.[0]?.ReceiptHandle : undefined;
          },
        },
        {
          method: "POST",
          path: "/",
          setupRequest: (request, context) => {
            if (!context.handle) return null;
            const body = JSON.stringify({ QueueUrl: queueUrl, ReceiptHandle: context.handle });
            return { ...request, body, headers: signed("DeleteMessage", body) };
          },
          onResponse: (status) => {
            if (status === 200) deleted["sqs-receive-delete"]++;
          },
        },
      ],
    }),
  };
  const options = (name, extra) => {
    // autocannon takes a single request's path from the URL only.
    const { path = "", ...rest } = cases[name]();
    return { url: `${base}${path}`, connections: opts.connections, ...rest, ...extra };
  };

  // Enough waiting messages that no receive finds its queue empty, however fast it runs.
  const backlog = Math.max(2_000, opts.duration * 2_000);
  const fill = (path, headers, body, amount) => runLoad({ url: `${base}${path}`, connections: opts.connections, method: "POST", headers, body, amount }, []);
  const restBatch = JSON.stringify({ messages: Array.from({ length: 16 }, () => ({ body: ctx.body })) });
  const sqsBatch = JSON.stringify({ QueueUrl: queueUrl, Entries: Array.from({ length: 10 }, (_, index) => ({ Id: `m${index}`, MessageBody: ctx.body })) });
  ctx.log(`  sqs: filling both queues with about ${backlog.toLocaleString("en-US")} messages`);
  await fill(`/v1/queues/${RestQueue}/messages`, ctx.jsonHeaders, restBatch, Math.ceil(backlog / 16));
  await fill("/", signed("SendMessageBatch", sqsBatch), sqsBatch, Math.ceil(backlog / 10));

  const runtimePid = ctx.processes().find((proc) => proc.role === "runtime")?.pid;
  const pinning = runtimePid === undefined ? { pinned: false, reason: "no runtime workerd found", restore: () => undefined } : pinApart(runtimePid);
  const slices = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  const rounds = opts.smoke ? 1 : Math.max(opts.rounds, Math.round((opts.duration * RoundsPerSecond) / PairSliceSeconds));
  const slice = opts.smoke ? Math.max(1, opts.duration) : PairSliceSeconds;
  try {
    // Warm every path outside the timing, pinned as the timing runs.
    for (const name of Object.keys(cases)) await runLoad(options(name, { amount: opts.connections * 8 }), []);
    for (const name of Object.keys(deleted)) deleted[name] = 0;
    // Many short rounds, each running an SQS case and its REST case back to back in alternating
    // order (ABBA), so that the runtime's own periodic work (garbage collection, SQLite
    // checkpoints) and any burst elsewhere fall on both alike; each side's rate is its total
    // over all rounds.
    const pairs = [
      ["rest-send", "sqs-send"],
      ["rest-receive-delete", "sqs-receive-delete"],
    ];
    for (let round = 0; round < rounds; round++) {
      ctx.log(`  sqs: round ${round + 1}/${rounds}, ${slice} s per case`);
      for (const pair of pairs) {
        for (const name of round % 2 === 0 ? pair : [...pair].reverse()) {
          slices[name].push(await runLoad(options(name, { duration: slice }), ctx.processes()));
        }
      }
    }
  } finally {
    pinning.restore();
  }
  const loads = Object.fromEntries(Object.entries(slices).map(([name, list]) => [name, combineLoads(list)]));
  const failed = (load) => load.non2xx + load.errors + load.timeouts;
  const note = (...list) => {
    const failures = list.reduce((sum, load) => sum + failed(load), 0);
    return failures > 0 ? `${failures} requests failed` : undefined;
  };
  const detail = (load) => ({ seconds: load.seconds, requests: load.ok, latencyMs: load.latency, cpuMsPerRequest: load.cpuMsPerRequest, rounds: load.rounds });
  const deletedPerSecond = (name) => deleted[name] / loads[name].seconds;
  const harness = {
    entry: entry.label,
    cpus: pinning.pinned ? `runtime on CPU ${pinning.runtimeCpus}, load generator on CPU ${pinning.clientCpus}` : `shared (${pinning.reason})`,
    rounds,
    secondsPerCase: slice,
  };
  const ratioOf = (value, floor) => (floor > 0 ? value / floor : null);
  ctx.add(
    makeRow({
      scenario: "sqs",
      metric: "SendMessage messages/s, one per request (AWS JSON 1.0, SigV4)",
      value: loads["sqs-send"].requestsPerSecond,
      unit: "msg/s",
      floor: loads["rest-send"].requestsPerSecond,
      floorMetric: "REST send messages/s, same run",
      ratio: ratioOf(loads["sqs-send"].requestsPerSecond, loads["rest-send"].requestsPerSecond),
      target: 0.9,
      note: note(loads["sqs-send"], loads["rest-send"]),
      detail: { ratioOf: RatioOf, harness, sqs: detail(loads["sqs-send"]), rest: detail(loads["rest-send"]) },
    }),
    makeRow({
      scenario: "sqs",
      metric: "ReceiveMessage + DeleteMessage messages/s, one at a time",
      value: deletedPerSecond("sqs-receive-delete"),
      unit: "msg/s",
      floor: deletedPerSecond("rest-receive-delete"),
      floorMetric: "REST receive + delete messages/s, same run",
      ratio: ratioOf(deletedPerSecond("sqs-receive-delete"), deletedPerSecond("rest-receive-delete")),
      target: 0.9,
      note: note(loads["sqs-receive-delete"], loads["rest-receive-delete"]),
      detail: { ratioOf: RatioOf, harness, sqs: detail(loads["sqs-receive-delete"]), rest: detail(loads["rest-receive-delete"]) },
    }),
    // The runtime's CPU per request (the median of the rounds) shows what the adapter costs apart
    // from how the rounds' throughput swings.
    ...[
      ["SendMessage", "sqs-send", "rest-send", "REST send"],
      ["ReceiveMessage and DeleteMessage", "sqs-receive-delete", "rest-receive-delete", "REST receive and delete"],
    ].map(([label, sqsCase, restCase, restLabel]) =>
      makeRow({
        scenario: "sqs",
        metric: `runtime CPU per request, ${label}`,
        value: loads[sqsCase].cpuMsPerRequest.runtime,
        unit: "ms",
        floor: loads[restCase].cpuMsPerRequest.runtime,
        floorMetric: `runtime CPU per request, ${restLabel}`,
      }),
    ),
  );
}
