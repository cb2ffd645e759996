import type { OperationOutput } from "@edge-cmq/client";
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { DeadLetterPolicy, UpdateQueueBody } from "../../../src/schema/queue";
import { Field, Select, Status, listOf, numberOf, useAction } from "../ui";
import { explain } from "../validate";

type Queue = OperationOutput<"getQueue">;
type DeadLetterKind = "maxReceiveCount" | "maxTimeToLive";

const deadLetterOptions = DeadLetterPolicy.options;
const numericFields = ["visibilityTimeout", "pollingWaitSeconds", "maxMsgSize", "msgRetentionSeconds", "rewindSeconds", "maxMsgHeapNum", "delaySeconds"] as const;
type NumericField = (typeof numericFields)[number];
const labels: Record<NumericField, string> = {
  visibilityTimeout: "Visibility timeout (s)",
  pollingWaitSeconds: "Long-poll wait (s)",
  maxMsgSize: "Largest message (bytes)",
  msgRetentionSeconds: "Retention (s)",
  rewindSeconds: "Rewind window (s)",
  maxMsgHeapNum: "Most messages",
  delaySeconds: "Delivery delay (s)",
};

/** The attributes as typed, before the schema checks them; a field left empty is not sent. */
export type TypedAttributes = Record<string, unknown>;

/**
 * Every mutable attribute of a queue, each explained by the API's own schema (its description and
 * bounds). With `queue`, the fields start at its values (editing); without, empty (the defaults).
 */
export function QueueAttributeForm(props: {
  queue: Queue | null;
  submitLabel: string;
  onSubmit: (attributes: TypedAttributes) => Promise<string | void>;
  /** Fields before the attributes (a new queue's name). */
  children?: ComponentChildren;
  /** Fields after them (a new queue's tags and placement). */
  extra?: ComponentChildren;
}) {
  const { queue } = props;
  const [fields, setFields] = useState<Record<NumericField, string>>(
    () => Object.fromEntries(numericFields.map((key) => [key, queue ? String(queue[key]) : ""])) as Record<NumericField, string>,
  );
  const policy = queue?.deadLetter ?? null;
  const [deadLetterQueue, setDeadLetterQueue] = useState(policy?.queue ?? "");
  const [deadLetterKind, setDeadLetterKind] = useState<DeadLetterKind>(policy && "maxTimeToLive" in policy ? "maxTimeToLive" : "maxReceiveCount");
  const [deadLetterLimit, setDeadLetterLimit] = useState(policy ? String("maxTimeToLive" in policy ? policy.maxTimeToLive : policy.maxReceiveCount) : "");
  const allowed = queue?.redriveAllow ?? { permission: "allowAll" as const };
  const [permission, setPermission] = useState<string>(allowed.permission);
  const [sources, setSources] = useState(allowed.permission === "byQueue" ? allowed.sourceQueues.join(", ") : "");
  const action = useAction();

  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(() => {
      const numbers = Object.fromEntries(numericFields.map((key) => [key, numberOf(fields[key])]).filter(([, value]) => value !== undefined));
      // Editing, an empty name removes the policy; creating, it sets none.
      const deadLetter = deadLetterQueue.trim() === "" ? (queue ? null : undefined) : { queue: deadLetterQueue.trim(), [deadLetterKind]: numberOf(deadLetterLimit) };
      const redriveAllow = permission === "byQueue" ? { permission, sourceQueues: listOf(sources) ?? [] } : { permission };
      return props.onSubmit({ ...numbers, ...(deadLetter === undefined ? {} : { deadLetter }), redriveAllow });
    });
  };

  return (
    <form onSubmit={submit} noValidate class="grid">
      {props.children}
      {numericFields.map((key) => (
        <Field
          label={labels[key]}
          name={key}
          value={fields[key]}
          hint={`${explain(UpdateQueueBody, key)}${queue ? "" : "; empty: the default"}`}
          onInput={(value) => setFields({ ...fields, [key]: value })}
        />
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
      {props.extra}
      <div class="wide">
        <button type="submit" disabled={action.busy}>{props.submitLabel}</button>
        <Status error={action.error} done={action.done} />
      </div>
    </form>
  );
}
