// Part 2: crash and restart. The real service under producer, publisher and consumer load; its
// runtime workerd is SIGKILLed at random moments and the service started again on the same state.
// A client-side ledger records every acknowledged send and publish (id and body); consumers
// receive and delete. At the end every acknowledged message was received at least once from its
// queue (and each acknowledged publish from each subscribed queue), a queue never held two copies
// of one message, a message whose delete was acknowledged never came back, and duplicates are
// counted: allowed only for messages whose delete was not acknowledged. A fourth queue has a
// consumer Worker (test/reliability/consumer-worker, in the same runtime, killed with it) that
// reports each batch to a recorder in this process before acknowledging it: every acknowledged send
// reaches it, and a message reaches it twice only when a crash fell between the two deliveries
// (the ack that would have deleted it was lost with the runtime). A fifth queue is FIFO: each
// producer sends to a group of its own, and each group's messages must first arrive in the order
// their sends were acknowledged, crashes or not.
import { createServer } from "node:http";
import { call, callAnswered, copyOf, expectStatus, sleep } from "./lib/client.mjs";
import { startService } from "./lib/service.mjs";
import { socketConsumer } from "./lib/socket-consumer.mjs";

/**
 * @param {{short: boolean, workDir: string, log: (line: string) => void, random: () => number}} options
 */
export async function crashPart({ short, workDir, log, random }) {
  const settings = short
    ? { loadMs: 9_000, kills: 2, producers: 3, publishers: 1, workerProducers: 1, fifoProducers: 2, consumersPerQueue: 2, drainMs: 150_000 }
    : { loadMs: 45_000, kills: 6, producers: 4, publishers: 2, workerProducers: 2, fifoProducers: 3, consumersPerQueue: 3, drainMs: 180_000 };
  const started = Date.now();
  // What the consumer Worker reported: message id → body and the time of each delivery.
  const workerSeen = new Map();
  const recorder = await startRecorder((messages) => {
    const at = Date.now();
    for (const { id, body } of messages) {
      const record = workerSeen.get(id) ?? { body, deliveries: [] };
      if (record.body !== body) record.otherBody = true;
      record.deliveries.push(at);
      workerSeen.set(id, record);
    }
  });
  const service = await startService({ workDir, label: "crash", consumer: { binding: "CRASH_CONSUMER", recorderUrl: recorder.url } });
  const problems = [];
  try {
    const queue = "crash-q";
    const workerQueue = "crash-wq";
    expectStatus(await callAnswered(service, "PUT", `/v1/queues/${workerQueue}`, { visibilityTimeout: 10 }), 201, "create the consumer Worker's queue");
    // maxRetries at its most: a crash counts a delivery, and no message may run out of retries here.
    const consumerSettings = { binding: "CRASH_CONSUMER", batchSize: 16, maxWaitMs: 200, maxConcurrency: 2, maxRetries: 100 };
    expectStatus(await callAnswered(service, "PUT", `/v1/queues/${workerQueue}/consumer`, consumerSettings), 201, "set the consumer");
    const fifoQueue = "crash-f.fifo";
    expectStatus(await callAnswered(service, "PUT", `/v1/queues/${fifoQueue}`, { fifo: true, visibilityTimeout: 5 }), 201, "create the FIFO queue");
    const topic = "crash-t";
    const topicQueues = ["crash-tq1", "crash-tq2"];
    expectStatus(await callAnswered(service, "PUT", `/v1/queues/${queue}`, { visibilityTimeout: 5 }), 201, "create queue");
    expectStatus(await callAnswered(service, "PUT", `/v1/topics/${topic}`, {}), 201, "create topic");
    for (const [i, name] of topicQueues.entries()) {
      expectStatus(await callAnswered(service, "PUT", `/v1/queues/${name}`, { visibilityTimeout: 5 }), 201, `create ${name}`);
      expectStatus(await callAnswered(service, "PUT", `/v1/topics/${topic}/subscriptions/s${i}`, { protocol: "queue", endpoint: name }), 201, "subscribe");
    }

    // The ledger: what the service acknowledged, and what it may or may not have stored.
    const acked = new Map(); // queue name → Map(id → body)
    for (const name of [queue, ...topicQueues, fifoQueue, workerQueue]) acked.set(name, new Map());
    // The FIFO queue's groups: ids in the order their sends were acknowledged.
    const groupOrder = new Map();
    const consumed = [queue, ...topicQueues, fifoQueue];
    const uncertainBodies = new Set();
    const errors = new Map(); // unexpected answers, by kind
    const countError = (kind) => errors.set(kind, (errors.get(kind) ?? 0) + 1);
    const outages = []; // [from, to] while the runtime was down or restarting
    let noAnswers = 0;
    const inOutage = (at) => outages.some(([from, to]) => at >= from - 1_000 && at <= (to ?? Infinity) + 3_000);

    /** A 5xx during a crash or a restart is the same as no answer; elsewhere it is an error. */
    const unanswered = (result, at) => {
      if (result.status === 0 || (result.status >= 500 && inOutage(at))) {
        noAnswers++;
        return true;
      }
      return false;
    };

    let sendCounter = 0;
    let stopLoad = false;
    const producer = async (p, kind) => {
      while (!stopLoad) {
        const count = 1 + Math.floor(random() * 8);
        const bodies = Array.from({ length: count }, () => `${kind}-${p}-${sendCounter++}-${"x".repeat(Math.floor(random() * 200))}`);
        const at = Date.now();
        const paths = { send: `/v1/queues/${queue}/messages`, wsend: `/v1/queues/${workerQueue}/messages`, fsend: `/v1/queues/${fifoQueue}/messages` };
        const path = paths[kind] ?? `/v1/topics/${topic}/messages`;
        const group = `g${p}`;
        const messages = bodies.map((body) => (kind === "fsend" ? { body, groupId: group, deduplicationId: body.slice(0, 40) } : { body }));
        const result = await call(service, "POST", path, count === 1 ? messages[0] : { messages }, { timeoutMs: 10_000 });
        if (result.status === 200) {
          const ids = count === 1 ? [result.body.id] : result.body.messages.map((m) => m.id);
          const targets = kind === "send" ? [queue] : kind === "wsend" ? [workerQueue] : kind === "fsend" ? [fifoQueue] : topicQueues;
          ids.forEach((id, i) => {
            for (const name of targets) acked.get(name).set(id, bodies[i]);
          });
          if (kind === "fsend") groupOrder.set(group, [...(groupOrder.get(group) ?? []), ...ids]);
        } else {
          for (const body of bodies) uncertainBodies.add(body);
          if (!unanswered(result, at)) countError(`${kind} ${result.status} ${result.body?.error?.code ?? ""}`);
          await sleep(100);
        }
      }
    };

    // What consumers saw, per queue and message id.
    const seen = new Map();
    for (const name of consumed) seen.set(name, new Map());
    let receives = 0;
    let firstReceives = 0;
    let stopConsume = false;
    const consumer = async (name) => {
      while (!stopConsume) {
        const at = Date.now();
        const result = await call(service, "POST", `/v1/queues/${name}/messages/receive`, { max: 16, waitSeconds: 1 }, { timeoutMs: 10_000 });
        if (result.status !== 200) {
          if (!unanswered(result, at)) countError(`receive ${result.status} ${result.body?.error?.code ?? ""}`);
          await sleep(100);
          continue;
        }
        const messages = result.body.messages;
        if (messages.length === 0) continue;
        receives += messages.length;
        for (const message of messages) {
          const record = seen.get(name).get(message.id) ?? { body: message.body, receives: 0, copies: new Set(), deleteAcked: false, afterDeleteAck: 0, first: firstReceives++ };
          record.receives++;
          record.copies.add(copyOf(message.receiptHandle));
          if (record.deleteAcked) record.afterDeleteAck++;
          if (record.body !== message.body) problems.push(`${name}: message ${message.id} came back with another body`);
          seen.get(name).set(message.id, record);
        }
        const deleteAt = Date.now();
        const deleted = await call(service, "POST", `/v1/queues/${name}/messages/delete`, { receiptHandles: messages.map((m) => m.receiptHandle) }, { timeoutMs: 10_000 });
        if (deleted.status === 200) {
          deleted.body.results.forEach((outcome, i) => {
            if (outcome.deleted) seen.get(name).get(messages[i].id).deleteAcked = true;
            // A handle expires when a restart outlasts the visibility timeout: documented, the message comes back.
            else if (outcome.error?.code !== "ReceiptHandleInvalid") countError(`delete result ${outcome.error?.code}`);
          });
        } else if (!unanswered(deleted, deleteAt)) {
          countError(`delete ${deleted.status} ${deleted.body?.error?.code ?? ""}`);
        }
      }
    };

    // One consumer of the queue is a live socket, acking over it; a token outlives the run.
    const mintToken = async () =>
      expectStatus(await call(service, "POST", "/v1/tokens", { actions: ["receive"], resources: [`queue:${queue}`], ttlSeconds: 3_600 }), 201, "token").token;
    const record = (name) => (message) => {
      receives++;
      const entry = seen.get(name).get(message.id) ?? { body: message.body, receives: 0, copies: new Set(), deleteAcked: false, afterDeleteAck: 0 };
      entry.receives++;
      entry.copies.add(copyOf(message.receiptHandle));
      if (entry.deleteAcked) entry.afterDeleteAck++;
      if (entry.body !== message.body) problems.push(`${name}: message ${message.id} came back with another body`);
      seen.get(name).set(message.id, entry);
    };
    const socketConsumers = [
      socketConsumer({
        service,
        queue,
        token: mintToken,
        onMessage: record(queue),
        onAcked: (message) => (seen.get(queue).get(message.id).deleteAcked = true),
        countError,
        stopped: () => stopConsume,
      }),
    ];

    const tasks = [];
    for (let p = 0; p < settings.producers; p++) tasks.push(producer(p, "send"));
    for (let p = 0; p < settings.publishers; p++) tasks.push(producer(p, "publish"));
    for (let p = 0; p < settings.workerProducers; p++) tasks.push(producer(p, "wsend"));
    for (let p = 0; p < settings.fifoProducers; p++) tasks.push(producer(p, "fsend"));
    const consumers = [];
    for (const name of consumed) for (let c = 0; c < settings.consumersPerQueue; c++) consumers.push(consumer(name));

    // Kills at random moments of the load, at least 2.5 s of running service apart.
    const restartMs = [];
    const loadEnds = Date.now() + settings.loadMs;
    for (let k = 0; k < settings.kills; k++) {
      const room = Math.max(0, (loadEnds - Date.now()) / (settings.kills - k) - 2_500);
      await sleep(1_500 + random() * room);
      const from = Date.now();
      outages.push([from, null]);
      restartMs.push(await service.crash());
      outages[outages.length - 1][1] = Date.now();
      log(`  crash ${k + 1}/${settings.kills}: runtime killed at +${((from - started) / 1000).toFixed(1)} s, answering again after ${((Date.now() - from) / 1000).toFixed(1)} s`);
    }
    await sleep(Math.max(0, loadEnds - Date.now()));
    stopLoad = true;
    await Promise.all(tasks);
    const loadDoneAt = Date.now();

    // Drain: consumers go on until every acknowledged message was seen, the queues are empty and the
    // topic has no delivery pending (a delivery cut by a crash is attempted again when the object restarts).
    const drained = async () => {
      for (const name of consumed) {
        for (const id of acked.get(name).keys()) if (!seen.get(name).has(id)) return false;
        const info = await call(service, "GET", `/v1/queues/${name}`);
        if (info.status !== 200 || info.body.counts.total !== 0) return false;
      }
      for (const id of acked.get(workerQueue).keys()) if (!workerSeen.has(id)) return false;
      const workerInfo = await call(service, "GET", `/v1/queues/${workerQueue}`);
      if (workerInfo.status !== 200 || workerInfo.body.counts.total !== 0) return false;
      const subs = await call(service, "GET", `/v1/topics/${topic}/subscriptions`);
      return subs.status === 200 && subs.body.subscriptions.every((sub) => sub.stats.pending === 0);
    };
    const drainDeadline = Date.now() + settings.drainMs;
    while (!(await drained()) && Date.now() < drainDeadline) await sleep(500);
    // A last look at anything still arriving, then the consumers stop.
    await sleep(2_000);
    stopConsume = true;
    await Promise.all(consumers);
    const sockets = await Promise.all(socketConsumers);
    const drainMs = Date.now() - loadDoneAt;

    // Verdicts.
    let losses = 0;
    let duplicates = 0;
    let doubleCopies = 0;
    let backAfterDelete = 0;
    let ackedTotal = 0;
    let uncertainStored = 0;
    for (const name of consumed) {
      const ledger = acked.get(name);
      ackedTotal += ledger.size;
      for (const [id, body] of ledger) {
        const record = seen.get(name).get(id);
        if (!record) {
          losses++;
          if (losses <= 10) problems.push(`${name}: acknowledged message ${id} was never received`);
        } else if (record.body !== body) problems.push(`${name}: ${id} received with another body`);
      }
      for (const [id, record] of seen.get(name)) {
        if (!ledger.has(id)) {
          if (uncertainBodies.has(record.body)) uncertainStored++;
          else problems.push(`${name}: received ${id} (${record.body.slice(0, 30)}), which nobody sent`);
        }
        if (record.receives > 1) duplicates++;
        if (record.copies.size > 1) {
          doubleCopies++;
          problems.push(`${name}: ${id} stored ${record.copies.size} times`);
        }
        if (record.afterDeleteAck > 0) {
          backAfterDelete++;
          problems.push(`${name}: ${id} received again after its delete was acknowledged`);
        }
      }
    }
    // The FIFO queue: within a group, first receives in the order the sends were acknowledged.
    let fifoOutOfOrder = 0;
    for (const [group, ids] of groupOrder) {
      const firsts = ids.map((id) => seen.get(fifoQueue).get(id)?.first).filter((first) => first !== undefined);
      const at = firsts.findIndex((first, i) => i > 0 && first < firsts[i - 1]);
      if (at > 0) {
        fifoOutOfOrder++;
        problems.push(`${fifoQueue}: group ${group} received out of send order at its message ${at + 1}`);
      }
    }
    // The consumer Worker's queue: every acknowledged send delivered; a second delivery only across a crash.
    let workerLosses = 0;
    let workerDuplicates = 0;
    const crashBetween = (from, to) => outages.some(([down, up]) => down <= to && (up ?? Infinity) >= from);
    for (const [id, body] of acked.get(workerQueue)) {
      const record = workerSeen.get(id);
      if (!record) {
        workerLosses++;
        if (workerLosses <= 10) problems.push(`${workerQueue}: acknowledged message ${id} never reached the consumer Worker`);
      } else if (record.body !== body || record.otherBody) problems.push(`${workerQueue}: ${id} reached the consumer Worker with another body`);
    }
    for (const [id, record] of workerSeen) {
      if (!acked.get(workerQueue).has(id) && !uncertainBodies.has(record.body)) problems.push(`${workerQueue}: the consumer Worker got ${id}, which nobody sent`);
      if (record.deliveries.length < 2) continue;
      workerDuplicates++;
      for (let i = 1; i < record.deliveries.length; i++) {
        if (!crashBetween(record.deliveries[i - 1], record.deliveries[i])) {
          problems.push(`${workerQueue}: ${id} delivered again with no crash since its acknowledged delivery`);
          break;
        }
      }
    }
    ackedTotal += acked.get(workerQueue).size;
    losses += workerLosses;
    if (workerLosses > 10) problems.push(`... ${workerLosses} acknowledged messages never reached the consumer Worker`);
    const consumerStats = (await callAnswered(service, "GET", `/v1/queues/${workerQueue}/consumer`)).body.stats;
    if (consumerStats.failed > 0) problems.push(`consumer Worker: ${consumerStats.failed} messages counted failed (${consumerStats.lastError})`);

    const subs = await callAnswered(service, "GET", `/v1/topics/${topic}/subscriptions`);
    for (const sub of subs.body.subscriptions) {
      if (sub.stats.failed > 0) problems.push(`subscription ${sub.name}: ${sub.stats.failed} deliveries counted failed (${sub.stats.lastError})`);
    }
    for (const [kind, n] of errors) problems.push(`unexpected answer ${kind}: ${n}×`);
    if (losses > 10) problems.push(`... ${losses} acknowledged messages lost in all`);

    const summary = {
      part: "crash",
      messages: ackedTotal,
      sent: acked.get(queue).size,
      published: acked.get(topicQueues[0]).size,
      sentToFifoQueue: acked.get(fifoQueue).size,
      fifoGroupsOutOfOrder: fifoOutOfOrder,
      sentToConsumerWorker: acked.get(workerQueue).size,
      consumerWorkerDeliveries: [...workerSeen.values()].reduce((sum, record) => sum + record.deliveries.length, 0),
      consumerWorkerDuplicates: workerDuplicates,
      kills: service.kills,
      reloads: service.unplannedRestarts,
      receives,
      socketPushes: sockets.reduce((sum, each) => sum + each.pushed, 0),
      socketConnections: sockets.reduce((sum, each) => sum + each.connections, 0),
      duplicates,
      doubleCopies,
      backAfterDelete,
      losses,
      unacknowledgedButStored: uncertainStored,
      noAnswers,
      restartSeconds: restartMs.map((ms) => Math.round(ms / 100) / 10),
      drainSeconds: Math.round(drainMs / 1000),
      wallSeconds: Math.round((Date.now() - started) / 1000),
    };
    if (service.unplannedRestarts > 0) {
      problems.push(`the runtime was restarted ${service.unplannedRestarts}× by wrangler (a watched file changed, e.g. package.json or node_modules, during the run): figures not trustworthy, run again`);
    }
    return { summary, problems };
  } finally {
    await service.stop();
    recorder.close();
  }
}

/** An HTTP server on loopback that hands each POSTed batch's messages to `record` and answers 204. */
function startRecorder(record) {
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      try {
        record(JSON.parse(Buffer.concat(chunks).toString("utf8")).messages);
        response.writeHead(204).end();
      } catch {
        response.writeHead(400).end();
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${server.address().port}/batches`, close: () => server.close() }));
  });
}
