import type { EdgeCmqClient } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { CreateQueueBody, LocationHints, QueueName } from "../../../src/schema/queue";
import { href } from "../app";
import { useRights, Allowed } from "../rights";
import { Field, Pager, Section, Select, Status, listOf, usePages, listCaption } from "../ui";
import { check, explain } from "../validate";
import { QueueAttributeForm } from "./queue-attributes";

/** How often the list's counts are read again. */
const RefreshMs = 5_000;
export function QueuesPage({ client }: { client: EdgeCmqClient }) {
  const [search, setSearch] = useState("");
  const rights = useRights();
  // The service filters and pages: a search finds names on every page, each row reads its queue's counts.
  const list = usePages(
    async (page) => {
      const listed = await client.listQueues({ ...page, ...(search ? { search } : {}) });
      const queues = await Promise.all(listed.queues.map((queue) => client.getQueue({ queue: queue.name })));
      return { queues, total: listed.total, nextCursor: listed.nextCursor };
    },
    [search],
    RefreshMs,
  );

  return (
    <>
      <h1>Queues</h1>
      <div role="search">
        <Field label="Search queues" type="search" value={search} onInput={setSearch} hint="Names containing this, in any case." />
      </div>
      <Status error={list.error} />
      {list.data && (
        <div class="table-wrap">
          <table>
            <caption>
              {listCaption(list.data.total, list.data.queues.length, "queue")}; counts refresh every {RefreshMs / 1000} s
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Active</th>
                <th scope="col">Inactive</th>
                <th scope="col">Delayed</th>
                <th scope="col">Dead-letter queue</th>
              </tr>
            </thead>
            <tbody>
              {list.data.queues.map((queue) => (
                <tr>
                  <th scope="row">
                    <a href={href("queues", queue.name)}>{queue.name}</a>
                  </th>
                  <td>{queue.counts.active}</td>
                  <td>{queue.counts.inactive}</td>
                  <td>{queue.counts.delayed}</td>
                  <td>{queue.deadLetter?.queue ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Queues" pages={list} total={list.data?.total} />
      <Allowed refusal={rights.mayOnSome("manage", "queue") ? null : "Your credentials may not create queues: that takes manage on a queue."}>
        <CreateQueue client={client} onCreated={list.reload} />
      </Allowed>
    </>
  );
}

/** `team=orders, env=test` as tags; a pair without `=` is a key with an empty value. */
const tagsOf = (text: string): Record<string, string> | undefined => {
  const pairs = listOf(text);
  if (!pairs) return undefined;
  return Object.fromEntries(pairs.map((pair) => (pair.includes("=") ? [pair.slice(0, pair.indexOf("=")).trim(), pair.slice(pair.indexOf("=") + 1).trim()] : [pair, ""])));
};

function CreateQueue({ client, onCreated }: { client: EdgeCmqClient; onCreated: () => void }) {
  const rights = useRights();
  const [name, setName] = useState("");
  const [tags, setTags] = useState("");
  const [locationHint, setLocationHint] = useState("");
  return (
    <Section title="Create a queue">
      <QueueAttributeForm
        queue={null}
        submitLabel="Create queue"
        onSubmit={async (attributes) => {
          const queue = check(QueueName, name);
          rights.require("manage", `queue:${queue}`);
          const body = check(CreateQueueBody, { ...attributes, tags: tagsOf(tags), locationHint: locationHint || undefined });
          const created = await client.createQueue({ queue, ...body });
          onCreated();
          location.hash = href("queues", created.queue.name);
          return `queue ${created.queue.name} ${created.created ? "created" : "exists already"}`;
        }}
        extra={
          <>
            <Field label="Tags" name="queueTags" value={tags} onInput={setTags} hint={`key=value pairs, separated by commas; ${explain(CreateQueueBody, "tags")}.`} />
            <Select label="Location hint" value={locationHint} options={["", ...LocationHints]} onChange={setLocationHint} hint={explain(CreateQueueBody, "locationHint")} />
          </>
        }
      >
        <div class="wide">
          <Field label="Queue name" name="queue" value={name} onInput={setName} hint="Attributes left empty take their defaults." />
        </div>
      </QueueAttributeForm>
    </Section>
  );
}
