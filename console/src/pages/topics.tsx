import type { EdgeCmqClient } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { CreateTopicBody, FilterTypes, TopicName } from "../../../src/schema/topic";
import { href } from "../app";
import { Allowed, useRights } from "../rights";
import { Field, Pager, Section, Select, Status, useAction, usePages, listCaption } from "../ui";
import { check } from "../validate";

export function TopicsPage({ client }: { client: EdgeCmqClient }) {
  const [search, setSearch] = useState("");
  const rights = useRights();
  const list = usePages((page) => client.listTopics({ ...page, ...(search ? { search } : {}) }), [search]);
  return (
    <>
      <h1>Topics</h1>
      <div role="search">
        <Field label="Search topics" type="search" value={search} onInput={setSearch} hint="Names containing this, in any case." />
      </div>
      <Status error={list.error} />
      {list.data && (
        <div class="table-wrap">
          <table>
            <caption>
              {listCaption(list.data.total, list.data.topics.length, "topic")}
            </caption>
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Filter</th><th scope="col">Retention (s)</th></tr>
            </thead>
            <tbody>
              {list.data.topics.map((topic) => (
                <tr>
                  <th scope="row"><a href={href("topics", topic.name)}>{topic.name}</a></th>
                  <td>{topic.filterType}</td>
                  <td>{topic.msgRetentionSeconds}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Topics" pages={list} total={list.data?.total} />
      <Allowed refusal={rights.mayOnSome("manage", "topic") ? null : "Your credentials may not create topics: that takes manage on a topic."}>
        <CreateTopic client={client} />
      </Allowed>
    </>
  );
}

function CreateTopic({ client }: { client: EdgeCmqClient }) {
  const [name, setName] = useState("");
  const [filterType, setFilterType] = useState<string>(FilterTypes[0]);
  const action = useAction();
  const rights = useRights();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const topic = check(TopicName, name);
      rights.require("manage", `topic:${topic}`);
      const attributes = check(CreateTopicBody, { filterType });
      const created = await client.createTopic({ topic, ...attributes });
      location.hash = href("topics", created.topic.name);
    });
  };
  return (
    <Section title="Create a topic">
      <form onSubmit={submit} noValidate>
        <Field label="Topic name" name="topic" value={name} onInput={setName} />
        <Select label="Route by" value={filterType} options={FilterTypes} onChange={setFilterType} hint="tag: subscriptions filter by message tags; routingKey: by binding keys matched against a message's routing key. Fixed once created." />
        <button type="submit" disabled={action.busy}>Create topic</button>
        <Status error={action.error} />
      </form>
    </Section>
  );
}
