import type { EdgeCmqClient } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { CreateQueueBody, LocationHints, QueueName } from "../../../src/schema/queue";
import { href } from "../app";
import { Field, Section, Select, Status, listOf, useLoad } from "../ui";
import { check, explain } from "../validate";
import { QueueAttributeForm } from "./queue-attributes";

/** How often the list's counts are read again. */
const RefreshMs = 5_000;
/** Queues shown per page: each row reads its queue's counts. */
const PageSize = 50;

export function QueuesPage({ client }: { client: EdgeCmqClient }) {
  const [search, setSearch] = useState("");
  const list = useLoad(
    async () => {
      const page = await client.listQueues({ limit: PageSize, ...(search ? { search } : {}) });
      const queues = await Promise.all(page.queues.map((queue) => client.getQueue({ queue: queue.name })));
      return { queues, total: page.total };
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
              {list.data.total} {list.data.total === 1 ? "queue" : "queues"}
              {list.data.total > list.data.queues.length ? `, the first ${list.data.queues.length} shown` : ""}; counts refresh every {RefreshMs / 1000} s
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
      <CreateQueue client={client} onCreated={list.reload} />
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
