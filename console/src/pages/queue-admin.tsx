import type { EdgeCmqClient, OperationOutput } from "@edge-cmq/client";
import { useEffect, useState } from "preact/hooks";
import { RedriveBody, RewindBody } from "../../../src/schema/queue";
import { href } from "../app";
import { Allowed, refusal, useRights } from "../rights";
import { ConfirmButton, Field, Section, Status, formatTime, numberOf, useAction, useLoad } from "../ui";
import { check, explain } from "../validate";

type Queue = OperationOutput<"getQueue">;
type Redrive = OperationOutput<"getRedrive">;

/** Purge and rewind. */
export function QueueAdmin({ client, queue, onChange }: { client: EdgeCmqClient; queue: Queue; onChange: () => void }) {
  const [since, setSince] = useState("");
  const action = useAction();
  const rewind = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      // datetime-local is in the browser's local time; an empty one goes on as nothing, for the schema to refuse.
      const input = check(RewindBody, { since: since ? new Date(since).getTime() : undefined });
      const { rewound } = await client.rewindQueue({ queue: queue.name, ...input });
      onChange();
      return `${rewound} ${rewound === 1 ? "message" : "messages"} receivable again`;
    });
  };
  return (
    <Section title="Purge and rewind">
      <Allowed refusal={refusal(useRights(), "manage", `queue:${queue.name}`)}>
        <ConfirmButton
          label="Purge"
          question={`Delete every message of ${queue.name}?`}
          onConfirm={() =>
            void action.run(async () => {
              const { purged } = await client.purgeQueue({ queue: queue.name });
              onChange();
              return `purged ${purged} ${purged === 1 ? "message" : "messages"}`;
            })
          }
        />
        <form onSubmit={rewind} noValidate class="row">
          <Field
            label="Rewind to"
            type="datetime-local"
            name="since"
            value={since}
            onInput={setSince}
            hint={queue.rewindSeconds > 0 ? `Messages enqueued since then become receivable again; the window is ${queue.rewindSeconds} s.` : "Rewind is off: set a rewind window in the attributes first."}
          />
          <button type="submit" disabled={action.busy}>Rewind</button>
        </form>
      </Allowed>
      <Status error={action.error} done={action.done} />
    </Section>
  );
}

const RedriveRefreshMs = 2_000;

/** The latest redrive of a queue, or null when none has run (the list is empty then, not an error). */
const latestRedrive = async (client: EdgeCmqClient, queue: string): Promise<Redrive | null> => (await client.listRedrives({ queue })).redrives[0] ?? null;

/**
 * For a dead-letter queue: the queues it serves, and the latest redrive with its progress, read
 * when the page opens and again while one runs.
 */
export function DeadLetterView({ client, queue }: { client: EdgeCmqClient; queue: string }) {
  const rights = useRights();
  const sources = useLoad(() => client.listDeadLetterSourceQueues({ queue }), [queue]);
  const [status, setStatus] = useState<Redrive | null>(null);
  const [destination, setDestination] = useState("");
  const [rate, setRate] = useState("");
  const action = useAction();
  const names = sources.data?.queues.map((source) => source.name) ?? [];
  const running = status?.status === "running";
  useEffect(() => {
    let live = true;
    void latestRedrive(client, queue).then((latest) => live && setStatus(latest), () => undefined);
    return () => {
      live = false;
    };
  }, [queue]);
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => void latestRedrive(client, queue).then(setStatus, () => undefined), RedriveRefreshMs);
    return () => clearInterval(timer);
  }, [running, queue]);
  const start = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const request = check(RedriveBody, { destination: destination.trim() || undefined, maxPerSecond: numberOf(rate) });
      for (const target of request.destination ? [request.destination] : names) rights.require("send", `queue:${target}`);
      setStatus(await client.startRedrive({ queue, ...request }));
      return "redrive started";
    });
  };
  const show = () =>
    void action.run(async () => {
      setStatus(await latestRedrive(client, queue));
    });
  return (
    <Section title="Dead letters">
      <Status error={sources.error} />
      {names.length === 0 ? (
        <p>No queue uses {queue} as its dead-letter queue.</p>
      ) : (
        <p>
          Dead-letter queue of{" "}
          {names.map((name, index) => (
            <>
              {index > 0 && ", "}
              <a href={href("queues", name)}>{name}</a>
            </>
          ))}
          .
        </p>
      )}
      {!status && <p data-redrive="none">No redrive has run on {queue}.</p>}
      {status && (
        <dl class="redrive" aria-label="Latest redrive" aria-live="polite">
          <div><dt>Redrive</dt><dd data-redrive="status">{status.status}</dd></div>
          <div><dt>Moved</dt><dd data-redrive="moved">{status.moved}</dd></div>
          <div><dt>Remaining</dt><dd>{status.remaining}</dd></div>
          <div><dt>To</dt><dd>{status.destination ?? "their source queues"}</dd></div>
          <div><dt>Started</dt><dd>{formatTime(status.startedAt)}</dd></div>
          {status.lastError && <div><dt>Last error</dt><dd>{status.lastError}</dd></div>}
        </dl>
      )}
      <Allowed refusal={refusal(rights, "manage", `queue:${queue}`)}>
        <form onSubmit={start} noValidate class="row">
          <Field label="Redrive to" name="destination" value={destination} onInput={setDestination} hint="Empty: each message back to the queue it came from." />
          <Field label="Messages per second" name="maxPerSecond" value={rate} onInput={setRate} hint={explain(RedriveBody, "maxPerSecond") || "Empty: the service's default."} />
          <button type="submit" disabled={action.busy}>Start redrive</button>
        </form>
      </Allowed>
      <button type="button" onClick={show} disabled={action.busy}>Refresh the redrive</button>
      {running && status && rights.may("manage", `queue:${queue}`) && (
        <button
          type="button"
          onClick={() =>
            void action.run(async () => {
              setStatus(await client.cancelRedrive({ queue, startedAt: status.startedAt }));
              return "redrive cancelled";
            })
          }
        >
          Cancel redrive
        </button>
      )}
      <Status error={action.error} done={action.done} />
    </Section>
  );
}
