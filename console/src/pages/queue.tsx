import type { EdgeCmqClient, OperationOutput } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { DeadLetterPolicy, UpdateQueueBody } from "../../../src/schema/queue";
import { href } from "../app";
import { ConfirmButton, Field, Section, Select, Status, formatTime, listOf, numberOf, useAction, useLoad } from "../ui";
import { check, explain } from "../validate";
import { DeadLetterView, QueueAdmin } from "./queue-admin";
import { QueueMessages } from "./queue-messages";
import { RatesChart } from "./rates-chart";

type Queue = OperationOutput<"getQueue">;

const RefreshMs = 5_000;

export function QueuePage({ client, name }: { client: EdgeCmqClient; name: string }) {
  const queue = useLoad(() => client.getQueue({ queue: name }), [name], RefreshMs);
  const action = useAction();
  const data = queue.data;
  return (
    <>
      <p class="crumbs">
        <a href={href("queues")}>Queues</a> /
      </p>
      <h1>Queue {name}</h1>
      <Status error={queue.error ?? action.error} done={action.done} />
      {data && (
        <>
          <dl class="counts" aria-label="Message counts">
            <div><dt>Active</dt><dd data-count="active">{data.counts.active}</dd></div>
            <div><dt>Inactive</dt><dd data-count="inactive">{data.counts.inactive}</dd></div>
            <div><dt>Delayed</dt><dd data-count="delayed">{data.counts.delayed}</dd></div>
            <div><dt>Rewindable</dt><dd data-count="rewindable">{data.counts.rewindable}</dd></div>
          </dl>
          <p class="hint">Oldest message: {formatTime(data.oldestMessageAt)}. Created {formatTime(data.createdAt)}, changed {formatTime(data.modifiedAt)}.</p>
          <div class="columns">
            <div>
              <QueueMessages client={client} queue={name} onChange={queue.reload} />
            </div>
            <div>
              <RatesChart client={client} queue={name} />
              <QueueAdmin client={client} queue={data} onChange={queue.reload} />
              <DeadLetterView client={client} queue={name} />
            </div>
          </div>
          <EditQueue client={client} queue={data} onSaved={queue.reload} />
          <Section title="Delete the queue">
            <ConfirmButton
              label="Delete queue"
              question={`Delete queue ${name} and every message in it?`}
              onConfirm={() =>
                void action.run(async () => {
                  await client.deleteQueue({ queue: name });
                  location.hash = href("queues");
                })
              }
            />
          </Section>
        </>
      )}
    </>
  );
}

const text = (value: number) => String(value);
type DeadLetterKind = "maxReceiveCount" | "maxTimeToLive";
const deadLetterOptions = DeadLetterPolicy.options;

/** Every mutable attribute, each explained by the API's own schema, checked by it before saving. */
function EditQueue({ client, queue, onSaved }: { client: EdgeCmqClient; queue: Queue; onSaved: () => void }) {
  const [fields, setFields] = useState({
    visibilityTimeout: text(queue.visibilityTimeout),
    pollingWaitSeconds: text(queue.pollingWaitSeconds),
    maxMsgSize: text(queue.maxMsgSize),
    msgRetentionSeconds: text(queue.msgRetentionSeconds),
    rewindSeconds: text(queue.rewindSeconds),
    maxMsgHeapNum: text(queue.maxMsgHeapNum),
    delaySeconds: text(queue.delaySeconds),
  });
  const policy = queue.deadLetter;
  const [deadLetterQueue, setDeadLetterQueue] = useState(policy?.queue ?? "");
  const [deadLetterKind, setDeadLetterKind] = useState<DeadLetterKind>(policy && "maxTimeToLive" in policy ? "maxTimeToLive" : "maxReceiveCount");
  const [deadLetterLimit, setDeadLetterLimit] = useState(policy ? text("maxTimeToLive" in policy ? policy.maxTimeToLive : policy.maxReceiveCount) : "");
  const [permission, setPermission] = useState<string>(queue.redriveAllow.permission);
  const [sources, setSources] = useState(queue.redriveAllow.permission === "byQueue" ? queue.redriveAllow.sourceQueues.join(", ") : "");
  const action = useAction();

  const labels: Record<keyof typeof fields, string> = {
    visibilityTimeout: "Visibility timeout (s)",
    pollingWaitSeconds: "Long-poll wait (s)",
    maxMsgSize: "Largest message (bytes)",
    msgRetentionSeconds: "Retention (s)",
    rewindSeconds: "Rewind window (s)",
    maxMsgHeapNum: "Most messages",
    delaySeconds: "Delivery delay (s)",
  };

  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const numbers = Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, numberOf(value)]));
      const deadLetter = deadLetterQueue.trim() === "" ? null : { queue: deadLetterQueue.trim(), [deadLetterKind]: numberOf(deadLetterLimit) };
      const redriveAllow = permission === "byQueue" ? { permission, sourceQueues: listOf(sources) ?? [] } : { permission };
      const patch = check(UpdateQueueBody, { ...numbers, deadLetter, redriveAllow });
      await client.updateQueue({ queue: queue.name, ...patch });
      onSaved();
      return "attributes saved";
    });
  };

  return (
    <Section title="Attributes">
      <form onSubmit={submit} noValidate class="grid">
        {(Object.keys(fields) as Array<keyof typeof fields>).map((key) => (
          <Field label={labels[key]} name={key} value={fields[key]} hint={explain(UpdateQueueBody, key)} onInput={(value) => setFields({ ...fields, [key]: value })} />
        ))}
        <fieldset class="wide">
          <legend>Dead-letter queue</legend>
          <Field label="Dead-letter queue name" name="deadLetterQueue" value={deadLetterQueue} onInput={setDeadLetterQueue} hint="Messages this queue gives up on move there; empty for none." />
          <Select
            label="Move a message by"
            value={deadLetterKind}
            options={["maxReceiveCount", "maxTimeToLive"]}
            onChange={(value) => setDeadLetterKind(value as DeadLetterKind)}
            hint={`maxReceiveCount: ${explain(deadLetterOptions[0], "maxReceiveCount")}. maxTimeToLive: ${explain(deadLetterOptions[1], "maxTimeToLive")}.`}
          />
          <Field label={deadLetterKind === "maxReceiveCount" ? "Receives before moving" : "Seconds before moving"} name="deadLetterLimit" value={deadLetterLimit} onInput={setDeadLetterLimit} />
        </fieldset>
        <fieldset class="wide">
          <legend>Which queues may use this one as their dead-letter queue</legend>
          <Select label="Permission" value={permission} options={["allowAll", "denyAll", "byQueue"]} onChange={setPermission} />
          {permission === "byQueue" && <Field label="Source queues" name="sourceQueues" value={sources} onInput={setSources} hint="Queue names, separated by commas." />}
        </fieldset>
        <div class="wide">
          <button type="submit" disabled={action.busy}>Save attributes</button>
          <Status error={action.error} done={action.done} />
        </div>
      </form>
    </Section>
  );
}
