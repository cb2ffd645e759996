import type { EdgeCmqClient, OperationOutput } from "@edge-cmq/client";
import { UpdateQueueBody } from "../../../src/schema/queue";
import { href } from "../app";
import { Allowed, refusal, useRights } from "../rights";
import { ConfirmButton, Section, Status, formatTime, useAction, useLoad } from "../ui";
import { check } from "../validate";
import { QueueAttributeForm } from "./queue-attributes";
import { DeadLetterView, QueueAdmin } from "./queue-admin";
import { QueueMessages, SendMessage } from "./queue-messages";
import { QueueTagsView } from "./queue-tags";
import { RatesChart } from "./rates-chart";

type Queue = OperationOutput<"getQueue">;

const RefreshMs = 5_000;

/**
 * A queue's page. Credentials that may not read the queue are told so without asking the service;
 * if they may send to it (a browser token made for a sending page), they get the send form alone.
 */
export function QueuePage({ client, name }: { client: EdgeCmqClient; name: string }) {
  const rights = useRights();
  if (rights.may("read", `queue:${name}`)) return <ReadableQueuePage client={client} name={name} />;
  return (
    <>
      <p class="crumbs">
        <a href={href("queues")}>Queues</a> /
      </p>
      <h1>Queue {name}</h1>
      <p class="hint" data-refused>
        {refusal(rights, "read", `queue:${name}`)} Its counts, messages and settings are not shown.
      </p>
      {rights.may("send", `queue:${name}`) && <SendMessage client={client} queue={name} onSent={() => undefined} />}
    </>
  );
}

function ReadableQueuePage({ client, name }: { client: EdgeCmqClient; name: string }) {
  const queue = useLoad(() => client.getQueue({ queue: name }), [name], RefreshMs);
  const action = useAction();
  const manageRefusal = refusal(useRights(), "manage", `queue:${name}`);
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
              <QueueTagsView client={client} queue={name} />
            </div>
          </div>
          <EditQueue client={client} queue={data} onSaved={queue.reload} />
          <Section title="Delete the queue">
            <Allowed refusal={manageRefusal}>
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
            </Allowed>
          </Section>
        </>
      )}
    </>
  );
}

/** Saves a changed attribute set, checked by the API's own schema first. */
function EditQueue({ client, queue, onSaved }: { client: EdgeCmqClient; queue: Queue; onSaved: () => void }) {
  return (
    <Section title="Attributes">
      <Allowed refusal={refusal(useRights(), "manage", `queue:${queue.name}`)}>
        <QueueAttributeForm
          queue={queue}
          submitLabel="Save attributes"
          onSubmit={async (attributes) => {
            const patch = check(UpdateQueueBody, attributes);
            await client.updateQueue({ queue: queue.name, ...patch });
            onSaved();
            return "attributes saved";
          }}
        />
      </Allowed>
    </Section>
  );
}
