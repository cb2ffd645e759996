// Scenario 11: what the SQS interface costs over the native REST API. Single sends, and a receive of
// one message followed by its delete, through SQS's AWS JSON 1.0 protocol (each request SigV4-signed
// with the root credentials, as an SDK signs it) and through `/v1` (bearer secret), on queues of
// their own, interleaved in short rounds so that other load falls on both alike.
import { combineLoads, runLoad } from "../lib/http.mjs";
import { makeRow } from "../lib/report.mjs";
import { checkAgainstSdkSigner, signedHeaders } from "../lib/sigv4.mjs";

const RestQueue = "bench-sqs-rest";
/** Seconds each case runs in one round of a full run. */
const PairSliceSeconds = 1;

const RatioOf = "the median over rounds of SQS messages/s divided by REST messages/s in the same round (value and floor are totals)";

const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length === 0 ? null : sorted[Math.floor((sorted.length - 1) / 2)];
};
const SqsQueue = "bench-sqs";

export async function sqs(ctx) {
  const { opts, service, client } = ctx;
  const credentials = { accessKeyId: ctx.root.secretId, secretAccessKey: ctx.root.secretKey };
  await checkAgainstSdkSigner(credentials);
  const host = new URL(service.url).host;
  const queueUrl = `${service.url}/default/${SqsQueue}`;
  const signed = (action, body) =>
    signedHeaders({ host, body, ...credentials, headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `AmazonSQS.${action}` } });
  const sqsCall = async (action, input) => {
    const body = JSON.stringify(input);
    // fetch, not the probe client, which would set its own content-type over the signed one.
    const answer = await fetch(`${service.url}/`, { method: "POST", headers: signed(action, body), body });
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
    return { url: `${service.url}${path}`, connections: opts.connections, ...rest, ...extra };
  };

  // Enough waiting messages that no receive finds its queue empty, however fast it runs.
  const backlog = Math.max(2_000, opts.duration * 2_000);
  const fill = (path, headers, body, amount) => runLoad({ url: `${service.url}${path}`, connections: opts.connections, method: "POST", headers, body, amount }, []);
  const restBatch = JSON.stringify({ messages: Array.from({ length: 16 }, () => ({ body: ctx.body })) });
  const sqsBatch = JSON.stringify({ QueueUrl: queueUrl, Entries: Array.from({ length: 10 }, (_, index) => ({ Id: `m${index}`, MessageBody: ctx.body })) });
  ctx.log(`  sqs: filling both queues with about ${backlog.toLocaleString("en-US")} messages`);
  await fill(`/v1/queues/${RestQueue}/messages`, ctx.jsonHeaders, restBatch, Math.ceil(backlog / 16));
  await fill("/", signed("SendMessageBatch", sqsBatch), sqsBatch, Math.ceil(backlog / 10));

  // Warm every path outside the timing.
  for (const name of Object.keys(cases)) await runLoad(options(name, { amount: opts.connections * 8 }), []);
  for (const name of Object.keys(deleted)) deleted[name] = 0;
  // Many short rounds, each pairing an SQS case with its REST case back to back and in alternating
  // order (ABBA), so that a burst of load elsewhere on the machine falls on both sides of a pair:
  // the ratio is the median of the pairs' ratios.
  const rounds = opts.smoke ? 1 : Math.max(opts.rounds, Math.round(opts.duration / PairSliceSeconds));
  const slice = opts.smoke ? Math.max(1, opts.duration) : PairSliceSeconds;
  const slices = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  /** Messages/s per round: requests for sends, deletes counted from answers for receive+delete. */
  const rates = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  const pairs = [
    ["rest-send", "sqs-send"],
    ["rest-receive-delete", "sqs-receive-delete"],
  ];
  for (let round = 0; round < rounds; round++) {
    ctx.log(`  sqs: round ${round + 1}/${rounds}, ${slice} s per case`);
    for (const pair of pairs) {
      for (const name of round % 2 === 0 ? pair : [...pair].reverse()) {
        const before = deleted[name] ?? 0;
        const load = await runLoad(options(name, { duration: slice }), ctx.processes());
        slices[name].push(load);
        rates[name].push(name in deleted ? (deleted[name] - before) / load.seconds : load.requestsPerSecond);
      }
    }
  }
  const pairedRatio = ([restCase, sqsCase]) => median(rates[sqsCase].map((rate, round) => rate / rates[restCase][round]));
  const loads = Object.fromEntries(Object.entries(slices).map(([name, list]) => [name, combineLoads(list)]));
  const failed = (load) => load.non2xx + load.errors + load.timeouts;
  const note = (...list) => {
    const failures = list.reduce((sum, load) => sum + failed(load), 0);
    return failures > 0 ? `${failures} requests failed` : undefined;
  };
  const detail = (load) => ({ seconds: load.seconds, requests: load.ok, latencyMs: load.latency, cpuMsPerRequest: load.cpuMsPerRequest, rounds: load.rounds });
  const deletedPerSecond = (name) => deleted[name] / loads[name].seconds;
  ctx.add(
    makeRow({
      scenario: "sqs",
      metric: "SendMessage messages/s, one per request (AWS JSON 1.0, SigV4)",
      value: loads["sqs-send"].requestsPerSecond,
      unit: "msg/s",
      floor: loads["rest-send"].requestsPerSecond,
      floorMetric: "REST send messages/s, same run",
      ratio: pairedRatio(pairs[0]),
      target: 0.9,
      note: note(loads["sqs-send"], loads["rest-send"]),
      detail: { ratioOf: RatioOf, sqs: detail(loads["sqs-send"]), rest: detail(loads["rest-send"]) },
    }),
    makeRow({
      scenario: "sqs",
      metric: "ReceiveMessage + DeleteMessage messages/s, one at a time",
      value: deletedPerSecond("sqs-receive-delete"),
      unit: "msg/s",
      floor: deletedPerSecond("rest-receive-delete"),
      floorMetric: "REST receive + delete messages/s, same run",
      ratio: pairedRatio(pairs[1]),
      target: 0.9,
      note: note(loads["sqs-receive-delete"], loads["rest-receive-delete"]),
      detail: { ratioOf: RatioOf, sqs: detail(loads["sqs-receive-delete"]), rest: detail(loads["rest-receive-delete"]) },
    }),
    // On a busy machine throughput swings from round to round; the runtime's CPU per request
    // shows what the adapter itself costs.
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
