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
/**
 * Rounds per second of `--duration`: each case runs six times its duration, in 1 s slices. A round
 * swings by about ± 12 % on a quiet machine, so 60 rounds (the default 10 s) keep the ratio of the
 * totals within about ± 0.03 of itself from run to run.
 */
const RoundsPerSecond = 6;

const RatioOf = "SQS messages/s divided by REST messages/s, each summed over the same interleaved rounds";

/**
 * The comparison against any service at `base`: creates both queues, fills them, and returns
 * `measure(processes)`, which warms every path and runs the interleaved rounds. `secretId` and
 * `secretKey` sign the SQS requests; the REST ones carry `secretKey` as a bearer key.
 */
export async function prepareSqsComparison({ base, secretId, secretKey, body, connections, rounds, slice, log, queues = { rest: RestQueue, sqs: SqsQueue } }) {
  const credentials = { accessKeyId: secretId, secretAccessKey: secretKey };
  await checkAgainstSdkSigner(credentials);
  const host = new URL(base).host;
  const jsonHeaders = { authorization: `Bearer ${secretKey}`, "content-type": "application/json" };
  const signed = (action, text) =>
    signedHeaders({ host, body: text, ...credentials, headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `AmazonSQS.${action}` } });
  const call = async (path, headers, text, expected, method = "POST") => {
    // fetch, not a probe client, which would set its own content-type over the signed one.
    const answer = await fetch(`${base}${path}`, { method, headers, body: text });
    const answerText = await answer.text();
    if (!expected.includes(answer.status)) throw new Error(`${method} ${path} answered ${answer.status}: ${answerText.slice(0, 300)}`);
    return answerText;
  };
  await call(`/v1/queues/${queues.rest}`, jsonHeaders, "{}", [200, 201], "PUT");
  const created = JSON.stringify({ QueueName: queues.sqs });
  // The URL names the key's account, whichever it is.
  const { QueueUrl: queueUrl } = JSON.parse(await call("/", signed("CreateQueue", created), created, [200]));

  /** Messages deleted per case, counted from the deletes' answers. */
  const deleted = { "rest-receive-delete": 0, "sqs-receive-delete": 0 };
  const restSendBody = JSON.stringify({ body });
  const sqsSendBody = JSON.stringify({ QueueUrl: queueUrl, MessageBody: body });
  const sqsReceiveBody = JSON.stringify({ QueueUrl: queueUrl, MaxNumberOfMessages: 1 });
  // A signature holds for 15 minutes: each round signs its fixed bodies anew, and requests that
  // carry a receipt handle are signed as they are built.
  const cases = {
    "rest-send": () => ({ method: "POST", path: `/v1/queues/${queues.rest}/messages`, body: restSendBody, headers: jsonHeaders }),
    "sqs-send": () => ({ method: "POST", path: "/", body: sqsSendBody, headers: signed("SendMessage", sqsSendBody) }),
    "rest-receive-delete": () => ({
      requests: [
        {
          method: "POST",
          path: `/v1/queues/${queues.rest}/messages/receive`,
          body: JSON.stringify({ max: 1 }),
          onResponse: (status, answer, context) => {
            context.handle = status === 200 ? JSON.parse(answer).messages[0]?.receiptHandle : undefined;
          },
        },
        {
          method: "DELETE",
          setupRequest: (request, context) =>
            context.handle ? { ...request, path: `/v1/queues/${queues.rest}/messages/${encodeURIComponent(context.handle)}`, body: undefined } : null,
          onResponse: (status) => {
            if (status < 300) deleted["rest-receive-delete"]++;
          },
        },
      ],
      headers: jsonHeaders,
    }),
    "sqs-receive-delete": () => ({
      requests: [
        {
          method: "POST",
          path: "/",
          body: sqsReceiveBody,
          headers: signed("ReceiveMessage", sqsReceiveBody),
          onResponse: (status, answer, context) => {
            context.handle = status === 200 ? JSON.parse(answer).Messages?.[0]?.ReceiptHandle : undefined;
          },
        },
        {
          method: "POST",
          path: "/",
          setupRequest: (request, context) => {
            if (!context.handle) return null;
            const text = JSON.stringify({ QueueUrl: queueUrl, ReceiptHandle: context.handle });
            return { ...request, body: text, headers: signed("DeleteMessage", text) };
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
    return { url: `${base}${path}`, connections, ...rest, ...extra };
  };

  // Enough waiting messages that no receive finds its queue empty, however fast it runs: at most
  // 2,000 messages/s for each second the receive case runs.
  const backlog = Math.max(2_000, rounds * slice * 2_000);
  const fill = (path, headers, text, amount) => runLoad({ url: `${base}${path}`, connections, method: "POST", headers, body: text, amount }, []);
  const restBatch = JSON.stringify({ messages: Array.from({ length: 16 }, () => ({ body })) });
  const sqsBatch = JSON.stringify({ QueueUrl: queueUrl, Entries: Array.from({ length: 10 }, (_, index) => ({ Id: `m${index}`, MessageBody: body })) });
  log(`  sqs: filling both queues with about ${backlog.toLocaleString("en-US")} messages`);
  await fill(`/v1/queues/${queues.rest}/messages`, jsonHeaders, restBatch, Math.ceil(backlog / 16));
  await fill("/", signed("SendMessageBatch", sqsBatch), sqsBatch, Math.ceil(backlog / 10));

  /** Warms every path, then runs the rounds; `processes` are metered for CPU. */
  async function measure(processes = () => []) {
    for (const name of Object.keys(cases)) await runLoad(options(name, { amount: connections * 8 }), []);
    for (const name of Object.keys(deleted)) deleted[name] = 0;
    // Many short rounds, each running an SQS case and its REST case back to back in alternating
    // order (ABBA), so that the runtime's own periodic work (garbage collection, SQLite
    // checkpoints) and any burst elsewhere fall on both alike; each side's rate is its total
    // over all rounds.
    const slices = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
    const pairs = [
      ["rest-send", "sqs-send"],
      ["rest-receive-delete", "sqs-receive-delete"],
    ];
    for (let round = 0; round < rounds; round++) {
      log(`  sqs: round ${round + 1}/${rounds}, ${slice} s per case`);
      for (const pair of pairs) {
        for (const name of round % 2 === 0 ? pair : [...pair].reverse()) {
          slices[name].push(await runLoad(options(name, { duration: slice }), processes()));
        }
      }
    }
    const loads = Object.fromEntries(Object.entries(slices).map(([name, list]) => [name, combineLoads(list)]));
    const deletedPerSecond = (name) => deleted[name] / loads[name].seconds;
    return {
      loads,
      rates: {
        sqsSend: loads["sqs-send"].requestsPerSecond,
        restSend: loads["rest-send"].requestsPerSecond,
        sqsReceiveDelete: deletedPerSecond("sqs-receive-delete"),
        restReceiveDelete: deletedPerSecond("rest-receive-delete"),
      },
    };
  }

  async function cleanUp() {
    await call(`/v1/queues/${queues.rest}`, jsonHeaders, undefined, [200, 204, 404], "DELETE");
    const text = JSON.stringify({ QueueUrl: queueUrl });
    await call("/", signed("DeleteQueue", text), text, [200, 400]);
  }

  return { measure, cleanUp };
}

export async function sqs(ctx) {
  const { opts, service } = ctx;
  // wrangler's proxy spends about as much CPU per request as the runtime, more on an SQS request's
  // larger headers, and it and the load generator would share the CPUs the runtime needs: the
  // ratio would then measure the local harness as much as the adapter.
  const entry = await service.runtimeUrl().then(
    (url) => ({ url, label: "the runtime workerd's entry socket, past wrangler's proxy" }),
    (error) => ({ url: service.url, label: `wrangler's proxy (${error.message.split("\n")[0]})` }),
  );
  const rounds = opts.smoke ? 1 : Math.max(opts.rounds, Math.round((opts.duration * RoundsPerSecond) / PairSliceSeconds));
  const slice = opts.smoke ? Math.max(1, opts.duration) : PairSliceSeconds;
  const comparison = await prepareSqsComparison({
    base: entry.url,
    secretId: ctx.root.secretId,
    secretKey: ctx.root.secretKey,
    body: ctx.body,
    connections: opts.connections,
    rounds,
    slice,
    log: ctx.log,
  });
  const runtimePid = ctx.processes().find((proc) => proc.role === "runtime")?.pid;
  const pinning = runtimePid === undefined ? { pinned: false, reason: "no runtime workerd found", restore: () => undefined } : pinApart(runtimePid);
  let measured;
  try {
    // Warmed pinned, as the rounds run.
    measured = await comparison.measure(ctx.processes);
  } finally {
    pinning.restore();
  }
  const { loads, rates } = measured;
  const failed = (load) => load.non2xx + load.errors + load.timeouts;
  const note = (...list) => {
    const failures = list.reduce((sum, load) => sum + failed(load), 0);
    return failures > 0 ? `${failures} requests failed` : undefined;
  };
  const detail = (load) => ({ seconds: load.seconds, requests: load.ok, latencyMs: load.latency, cpuMsPerRequest: load.cpuMsPerRequest, rounds: load.rounds });
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
      value: rates.sqsSend,
      unit: "msg/s",
      floor: rates.restSend,
      floorMetric: "REST send messages/s, same run",
      ratio: ratioOf(rates.sqsSend, rates.restSend),
      target: 0.9,
      note: note(loads["sqs-send"], loads["rest-send"]),
      detail: { ratioOf: RatioOf, harness, sqs: detail(loads["sqs-send"]), rest: detail(loads["rest-send"]) },
    }),
    makeRow({
      scenario: "sqs",
      metric: "ReceiveMessage + DeleteMessage messages/s, one at a time",
      value: rates.sqsReceiveDelete,
      unit: "msg/s",
      floor: rates.restReceiveDelete,
      floorMetric: "REST receive + delete messages/s, same run",
      ratio: ratioOf(rates.sqsReceiveDelete, rates.restReceiveDelete),
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
