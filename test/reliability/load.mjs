// Part 5: load. 200 concurrent long-polling consumers and 20 producers on one queue of the real
// service, for a bounded time on loopback. No answer may be an error (the service documents no
// throttling code, so every non-2xx counts), and the accounting is exact at the end: every
// acknowledged send received and deleted exactly once, unless a delete failed with a documented
// code (then the message may come back once more, and is counted).
import { call, callAnswered, expectStatus, percentile, sleep } from "./lib/client.mjs";
import { startService } from "./lib/service.mjs";

/**
 * @param {{short: boolean, workDir: string, log: (line: string) => void, random: () => number}} options
 */
export async function loadPart({ short, workDir, log, random }) {
  const settings = short
    ? { loadMs: 5_000, consumers: 200, producers: 20, waitSeconds: 3 }
    : { loadMs: 30_000, consumers: 200, producers: 20, waitSeconds: 10 };
  const started = Date.now();
  const service = await startService({ workDir, label: "load" });
  const problems = [];
  try {
    const queue = "load-q";
    expectStatus(await callAnswered(service, "PUT", `/v1/queues/${queue}`, { visibilityTimeout: 120 }), 201, "create queue");

    const acked = new Map(); // id → {body, at}
    const uncertain = new Set(); // bodies of sends without an answer
    const errors = new Map();
    const countError = (what, result) => {
      const kind = `${what} ${result.status} ${result.status === 0 ? result.error : (result.body?.error?.code ?? "")}`;
      errors.set(kind, (errors.get(kind) ?? 0) + 1);
    };
    const sendLatency = [];
    const receiveLatency = [];
    const deleteLatency = [];
    const endToEnd = [];
    let stopProducing = false;
    let counter = 0;

    const producer = async (p) => {
      while (!stopProducing) {
        const count = random() < 0.5 ? 1 : 1 + Math.floor(random() * 16);
        const bodies = Array.from({ length: count }, () => `load-${p}-${counter++}`);
        const result = await call(service, "POST", `/v1/queues/${queue}/messages`, count === 1 ? { body: bodies[0] } : { messages: bodies.map((body) => ({ body })) }, { timeoutMs: 30_000 });
        sendLatency.push(result.ms);
        if (result.status === 200) {
          const at = Date.now();
          const ids = count === 1 ? [result.body.id] : result.body.messages.map((m) => m.id);
          ids.forEach((id, i) => acked.set(id, { body: bodies[i], at }));
        } else {
          countError("send", result);
          for (const body of bodies) uncertain.add(body);
          await sleep(50);
        }
      }
    };

    const seen = new Map(); // id → {body, receives, deletes, deleteRefusals}
    let stopConsuming = false;
    let emptyPolls = 0;
    let polls = 0;
    const consumer = async () => {
      while (!stopConsuming) {
        polls++;
        const result = await call(service, "POST", `/v1/queues/${queue}/messages/receive`, { max: 16, waitSeconds: settings.waitSeconds }, { timeoutMs: (settings.waitSeconds + 20) * 1000 });
        if (result.status !== 200) {
          countError("receive", result);
          await sleep(100);
          continue;
        }
        const messages = result.body.messages;
        if (messages.length === 0) {
          emptyPolls++;
          continue;
        }
        receiveLatency.push(result.ms);
        const now = Date.now();
        for (const message of messages) {
          const record = seen.get(message.id) ?? { body: message.body, receives: 0, deletes: 0, deleteRefusals: 0 };
          record.receives++;
          seen.set(message.id, record);
          const sent = acked.get(message.id);
          if (sent) endToEnd.push(now - sent.at);
        }
        const deleted = await call(service, "POST", `/v1/queues/${queue}/messages/delete`, { receiptHandles: messages.map((m) => m.receiptHandle) }, { timeoutMs: 30_000 });
        deleteLatency.push(deleted.ms);
        if (deleted.status !== 200) {
          countError("delete", deleted);
          continue;
        }
        deleted.body.results.forEach((outcome, i) => {
          const record = seen.get(messages[i].id);
          if (outcome.deleted) record.deletes++;
          else {
            record.deleteRefusals++;
            errors.set(`delete result ${outcome.error?.code}`, (errors.get(`delete result ${outcome.error?.code}`) ?? 0) + 1);
          }
        });
      }
    };

    const consumers = Array.from({ length: settings.consumers }, () => consumer());
    // Let the consumers park first, so that the producers meet 200 waiting receivers.
    await sleep(1_000);
    const loadStarted = Date.now();
    const producers = Array.from({ length: settings.producers }, (_, p) => producer(p));
    await sleep(settings.loadMs);
    stopProducing = true;
    await Promise.all(producers);
    const loadSeconds = (Date.now() - loadStarted) / 1000;

    // Every acknowledged message received, and the queue empty; then the consumers stop.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const missing = [...acked.keys()].filter((id) => !seen.has(id)).length;
      const info = await call(service, "GET", `/v1/queues/${queue}`);
      if (missing === 0 && info.status === 200 && info.body.counts.total === 0) break;
      if (Date.now() > deadline) {
        problems.push(`after 60 s of draining: ${missing} acknowledged messages not received, counts ${JSON.stringify(info.body?.counts)}`);
        break;
      }
      await sleep(250);
    }
    stopConsuming = true;
    await Promise.all(consumers);

    let losses = 0;
    let duplicates = 0;
    let deletedTwice = 0;
    let unackedStored = 0;
    for (const [id, { body }] of acked) {
      const record = seen.get(id);
      if (!record) {
        losses++;
        if (losses <= 10) problems.push(`acknowledged message ${id} never received`);
        continue;
      }
      if (record.body !== body) problems.push(`${id} received with another body`);
    }
    for (const [id, record] of seen) {
      if (!acked.has(id)) {
        if (uncertain.has(record.body)) unackedStored++;
        else problems.push(`received ${id} (${record.body}), which nobody sent`);
      }
      if (record.receives > 1) {
        duplicates++;
        // Allowed only after a delete that did not go through.
        if (record.deleteRefusals === 0) problems.push(`${id} received ${record.receives} times although no delete of it failed`);
      }
      if (record.deletes > 1) deletedTwice++;
      if (record.deletes === 0 && record.deleteRefusals === 0) problems.push(`${id} received but never deleted`);
    }
    if (deletedTwice > 0) problems.push(`${deletedTwice} messages deleted twice`);
    for (const [kind, n] of errors) problems.push(`error ${kind}: ${n}×`);
    const final = await callAnswered(service, "GET", `/v1/queues/${queue}`);
    if (final.body.counts.total !== 0 || final.body.counts.inactive !== 0) problems.push(`queue not empty at the end: ${JSON.stringify(final.body.counts)}`);

    const round = (x) => Math.round(x);
    const summary = {
      part: "load",
      consumers: settings.consumers,
      producers: settings.producers,
      messages: acked.size,
      received: [...seen.values()].reduce((n, r) => n + r.receives, 0),
      deleted: [...seen.values()].reduce((n, r) => n + r.deletes, 0),
      duplicates,
      losses,
      errors: [...errors.values()].reduce((a, b) => a + b, 0),
      unacknowledgedButStored: unackedStored,
      reloads: service.unplannedRestarts,
      sendPerSecond: round(acked.size / loadSeconds),
      polls,
      emptyPolls,
      sendMsP50: round(percentile(sendLatency, 50)),
      sendMsP99: round(percentile(sendLatency, 99)),
      deleteMsP99: round(percentile(deleteLatency, 99)),
      endToEndMsP50: round(percentile(endToEnd, 50)),
      endToEndMsP99: round(percentile(endToEnd, 99)),
      wallSeconds: round((Date.now() - started) / 1000),
    };
    log(`  ${acked.size} messages in ${loadSeconds.toFixed(1)} s by ${settings.producers} producers, ${settings.consumers} consumers long-polling ${settings.waitSeconds} s`);
    if (service.unplannedRestarts > 0) {
      problems.push(`the runtime was restarted ${service.unplannedRestarts}× by wrangler (a watched file changed, e.g. package.json or node_modules, during the run): figures not trustworthy, run again`);
    }
    return { summary, problems };
  } finally {
    await service.stop();
  }
}
