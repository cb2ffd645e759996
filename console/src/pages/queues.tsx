import type { EdgeCmqClient } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { CreateQueueBody, QueueName } from "../../../src/schema/queue";
import { href } from "../app";
import { Field, Section, Status, useAction, useLoad } from "../ui";
import { check } from "../validate";

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

function CreateQueue({ client, onCreated }: { client: EdgeCmqClient; onCreated: () => void }) {
  const [name, setName] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const queue = check(QueueName, name);
      const attributes = check(CreateQueueBody, {});
      const created = await client.createQueue({ queue, ...attributes });
      onCreated();
      location.hash = href("queues", created.queue.name);
      return `queue ${created.queue.name} ${created.created ? "created" : "exists already"}`;
    });
  };
  return (
    <Section title="Create a queue">
      <form onSubmit={submit} noValidate>
        <Field label="Queue name" name="queue" value={name} onInput={setName} hint="Its attributes can be set on its page once it exists." />
        <button type="submit" disabled={action.busy}>Create queue</button>
        <Status error={action.error} done={action.done} />
      </form>
    </Section>
  );
}
