// Part: hand-overs and abandoned polls (issue 11, items 1 and 2) against the real service.
//
//   abandoned polls  20 HTTP long polls (waitSeconds 20) whose clients disconnect after 1 s, then
//                    5 sends: none may be claimed for a gone client (counts: active 5,
//                    inactive 0), a live receiver gets them, the dead-letter queue stays empty
//                    although the queue dead-letters after a single receive. The Worker sees a
//                    client's disconnect through request.signal; under local `wrangler dev` it
//                    never arrives: workerd's HTTP server notices a reset connection but not one
//                    closed normally (as this client closes it), and wrangler's ProxyWorker
//                    forwards from a Durable Object with a fetch not cancelled with the request.
//                    So there this check is reported, not failed (`--strict-abandoned`,
//                    RELIABILITY_STRICT_ABANDONED=1, makes it fail). The same case runs inside
//                    workerd in test/api/abandoned-poll.test.ts.
//   large hand-over  40 messages of 1 MiB received with a 1 s visibility timeout on a queue that
//                    dead-letters after one receive: all 40 move together to the dead-letter queue
//                    (one call of 40 MiB is past the runtime's 32 MiB bound); then a redrive moves
//                    all 40 back.
import { call, callAnswered, expectStatus, sleep } from "./lib/client.mjs";
import { startService } from "./lib/service.mjs";

const OneMiB = 1_048_576;

/**
 * @param {{short: boolean, workDir: string, log: (line: string) => void}} options
 */
export async function handoverPart({ short, workDir, log, strictAbandoned = process.env.RELIABILITY_STRICT_ABANDONED === "1" }) {
  const started = Date.now();
  const service = await startService({ workDir, label: "handover" });
  const problems = [];
  try {
    const notes = [];
    const abandoned = await abandonedPolls(service, strictAbandoned ? problems : notes);
    for (const note of notes) log(`  note (local wrangler dev does not pass client disconnects on): ${note}`);
    log(`  abandoned polls: ${JSON.stringify(abandoned)}`);
    const large = await largeHandOver(service, problems, short ? 40 : 48);
    log(`  large hand-over: ${JSON.stringify(large)}`);
    return {
      summary: { part: "handover", ...abandoned, ...large, wallSeconds: Math.round((Date.now() - started) / 1000) },
      problems,
    };
  } finally {
    await service.stop();
  }
}

async function abandonedPolls(service, problems) {
  const queue = "abandoned-q";
  const dlq = "abandoned-dlq";
  expectStatus(await callAnswered(service, "PUT", `/v1/queues/${dlq}`, {}), 201, "create dead-letter queue");
  expectStatus(
    await callAnswered(service, "PUT", `/v1/queues/${queue}`, { visibilityTimeout: 1, deadLetter: { queue: dlq, maxReceiveCount: 1 } }),
    201,
    "create queue",
  );
  // The client gives up after 1 s and closes its connection: the service must drop the poll.
  const polls = await Promise.all(
    Array.from({ length: 20 }, () => call(service, "POST", `/v1/queues/${queue}/messages/receive`, { waitSeconds: 20 }, { timeoutMs: 1_000 })),
  );
  const answered = polls.filter((poll) => poll.status !== 0).length;
  if (answered > 0) problems.push(`abandoned polls: ${answered} of 20 polls were answered within 1 s`);
  // The cancellations travel from the Worker to the queue's object: give them a moment.
  await sleep(1_000);
  for (let i = 0; i < 5; i++) {
    expectStatus(await call(service, "POST", `/v1/queues/${queue}/messages`, { body: `after-abort-${i}` }), 200, "send");
  }
  const counts = (await call(service, "GET", `/v1/queues/${queue}`)).body.counts;
  if (counts.active !== 5 || counts.inactive !== 0) problems.push(`abandoned polls: counts after 5 sends ${JSON.stringify(counts)}, expected active 5, inactive 0`);
  const live = await call(service, "POST", `/v1/queues/${queue}/messages/receive`, { max: 16, waitSeconds: 1, visibilityTimeout: 30 });
  const liveMessages = live.body?.messages ?? [];
  const liveGot = liveMessages.length;
  if (liveGot !== 5) problems.push(`abandoned polls: a live receiver got ${liveGot} of 5 messages`);
  if (liveGot > 0) {
    await call(service, "POST", `/v1/queues/${queue}/messages/delete`, { receiptHandles: liveMessages.map((m) => m.receiptHandle) });
  }
  // A message claimed for a gone client (visibility 1 s, one receive allowed) would move by now.
  await sleep(2_500);
  const deadLetters = (await call(service, "GET", `/v1/queues/${dlq}`)).body.counts.total;
  if (deadLetters !== 0) problems.push(`abandoned polls: ${deadLetters} messages no client saw ended in the dead-letter queue`);
  return { abandonedPolls: 20, claimedForGone: counts.inactive, liveGot, deadLettered: deadLetters };
}

async function waitFor(read, done, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(500);
    value = await read();
  }
  return value;
}

async function largeHandOver(service, problems, count) {
  const queue = "large-q";
  const dlq = "large-dlq";
  expectStatus(await callAnswered(service, "PUT", `/v1/queues/${dlq}`, { maxMsgSize: OneMiB }), 201, "create dead-letter queue");
  expectStatus(
    await callAnswered(service, "PUT", `/v1/queues/${queue}`, { maxMsgSize: OneMiB, deadLetter: { queue: dlq, maxReceiveCount: 1 } }),
    201,
    "create queue",
  );
  for (let i = 0; i < count; i++) {
    const result = await call(service, "POST", `/v1/queues/${queue}/messages`, { body: String(i % 10).repeat(OneMiB) });
    expectStatus(result, 200, `send large ${i}`);
  }
  let received = 0;
  while (received < count) {
    const result = await call(service, "POST", `/v1/queues/${queue}/messages/receive`, { max: 8, visibilityTimeout: 1 });
    expectStatus(result, 200, "receive large");
    received += result.body.messages.length;
  }
  // Every receive was the last allowed: all moves come due about together, 1 s later.
  const dead = await waitFor(
    async () => (await call(service, "GET", `/v1/queues/${dlq}`)).body.counts,
    (counts) => counts.total === count,
    30_000,
  );
  if (dead.total !== count) problems.push(`large hand-over: ${dead.total} of ${count} dead letters of 1 MiB arrived within 30 s`);
  const source = (await call(service, "GET", `/v1/queues/${queue}`)).body.counts;
  if (source.total !== 0) problems.push(`large hand-over: the source still holds ${JSON.stringify(source)}`);

  expectStatus(await call(service, "POST", `/v1/queues/${dlq}/redrive`, {}), 202, "start redrive");
  const redrive = await waitFor(
    async () => (await call(service, "GET", `/v1/queues/${dlq}/redrive`)).body,
    (status) => status.status !== "running",
    30_000,
  );
  if (redrive.status !== "completed" || redrive.moved !== count) problems.push(`large hand-over: redrive ended ${JSON.stringify(redrive)}`);
  const back = (await call(service, "GET", `/v1/queues/${queue}`)).body.counts;
  if (back.active !== count) problems.push(`large hand-over: after the redrive the source holds ${JSON.stringify(back)}`);
  return { largeMessages: count, deadLettered1MiB: dead.total, redriven1MiB: redrive.moved ?? 0 };
}
