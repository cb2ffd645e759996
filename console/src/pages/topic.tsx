import type { EdgeCmqClient, OperationOutput } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { PublishedMessage, UpdateTopicBody } from "../../../src/schema/topic";
import { href } from "../app";
import { Allowed, refusal, useRights } from "../rights";
import { ConfirmButton, Field, Section, Status, formatTime, jsonOf, listOf, numberOf, useAction, useLoad } from "../ui";
import type { SignIn } from "../session";
import { check, explain } from "../validate";
import { WatchLive } from "./topic-live";
import { Subscribe, Subscriptions } from "./topic-subscriptions";

type Topic = OperationOutput<"getTopic">;

const RefreshMs = 5_000;

/** A topic's page; credentials that may not read the topic are told so without asking the service. */
export function TopicPage({ client, signIn, name }: { client: EdgeCmqClient; signIn: SignIn; name: string }) {
  const rights = useRights();
  if (rights.may("read", `topic:${name}`)) return <ReadableTopicPage client={client} signIn={signIn} name={name} />;
  return (
    <>
      <p class="crumbs"><a href={href("topics")}>Topics</a> /</p>
      <h1>Topic {name}</h1>
      <p class="hint" data-refused>{refusal(rights, "read", `topic:${name}`)} Its settings, subscriptions and messages are not shown.</p>
    </>
  );
}

function ReadableTopicPage({ client, signIn, name }: { client: EdgeCmqClient; signIn: SignIn; name: string }) {
  const topic = useLoad(() => client.getTopic({ topic: name }), [name], RefreshMs);
  const action = useAction();
  const rights = useRights();
  const manageRefusal = refusal(rights, "manage", `topic:${name}`);
  const data = topic.data;
  return (
    <>
      <p class="crumbs"><a href={href("topics")}>Topics</a> /</p>
      <h1>Topic {name}</h1>
      <Status error={topic.error ?? action.error} />
      {data && (
        <>
          <p class="hint">
            Routes by {data.filterType}; {data.subscriptionCount} subscriptions; {data.messageCount} messages kept. Created {formatTime(data.createdAt)}.
          </p>
          <Subscriptions client={client} topic={data} onChange={topic.reload} />
          <div class="columns">
            <div>
              <Publish client={client} topic={data} onPublished={topic.reload} />
            </div>
            <div>
              <Subscribe client={client} topic={data} onSubscribed={topic.reload} />
              <EditTopic client={client} topic={data} onSaved={topic.reload} />
            </div>
          </div>
          <Allowed refusal={refusal(rights, "receive", `topic:${name}`)}>
            <WatchLive client={client} signIn={signIn} topic={data} />
          </Allowed>
          <Section title="Delete the topic">
            <Allowed refusal={manageRefusal}>
              <ConfirmButton
                label="Delete topic"
                question={`Delete topic ${name} and its subscriptions?`}
                onConfirm={() => void action.run(async () => {
                  await client.deleteTopic({ topic: name });
                  location.hash = href("topics");
                })}
              />
            </Allowed>
          </Section>
        </>
      )}
    </>
  );
}

function Publish({ client, topic, onPublished }: { client: EdgeCmqClient; topic: Topic; onPublished: () => void }) {
  const [body, setBody] = useState("");
  const [tags, setTags] = useState("");
  const [routingKey, setRoutingKey] = useState("");
  const [attributes, setAttributes] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const message = check(PublishedMessage, {
        body,
        tags: listOf(tags),
        routingKey: routingKey.trim() || undefined,
        attributes: jsonOf(attributes),
      });
      const { id } = await client.publish(topic.name, message);
      onPublished();
      return `published message ${id}`;
    });
  };
  return (
    <Section title="Publish a test message">
      <Allowed refusal={refusal(useRights(), "publish", `topic:${topic.name}`)}>
        <form onSubmit={submit} noValidate>
          <Field label="Body" name="body" multiline value={body} onInput={setBody} />
          {topic.filterType === "tag" ? (
            <Field label="Tags" name="tags" value={tags} onInput={setTags} hint="Separated by commas; subscriptions with filter tags get messages carrying one of them." />
          ) : (
            <Field label="Routing key" name="routingKey" value={routingKey} onInput={setRoutingKey} hint="Dot-separated words, matched against each subscription's binding keys." />
          )}
          <Field label="Attributes (JSON)" name="attributes" multiline value={attributes} onInput={setAttributes} />
          <button type="submit" disabled={action.busy}>Publish</button>
          <Status error={action.error} done={action.done} />
        </form>
      </Allowed>
    </Section>
  );
}

function EditTopic({ client, topic, onSaved }: { client: EdgeCmqClient; topic: Topic; onSaved: () => void }) {
  const [maxMsgSize, setMaxMsgSize] = useState(String(topic.maxMsgSize));
  const [retention, setRetention] = useState(String(topic.msgRetentionSeconds));
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const patch = check(UpdateTopicBody, { maxMsgSize: numberOf(maxMsgSize), msgRetentionSeconds: numberOf(retention) });
      await client.updateTopic({ topic: topic.name, ...patch });
      onSaved();
      return "attributes saved";
    });
  };
  return (
    <Section title="Attributes">
      <Allowed refusal={refusal(useRights(), "manage", `topic:${topic.name}`)}>
        <form onSubmit={submit} noValidate class="row">
          <Field label="Largest message (bytes)" name="maxMsgSize" value={maxMsgSize} onInput={setMaxMsgSize} hint={explain(UpdateTopicBody, "maxMsgSize")} />
          <Field label="Retention (s)" name="msgRetentionSeconds" value={retention} onInput={setRetention} hint={explain(UpdateTopicBody, "msgRetentionSeconds")} />
          <button type="submit" disabled={action.busy}>Save attributes</button>
        </form>
      </Allowed>
      <Status error={action.error} done={action.done} />
    </Section>
  );
}
