import type { EdgeCmqClient, OperationOutput } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { CreateSubscriptionBody, NotifyStrategies, Protocols, PublishedMessage, SubscriptionName, UpdateTopicBody } from "../../../src/schema/topic";
import { href } from "../app";
import { ConfirmButton, Field, Section, Select, Status, formatTime, jsonOf, listOf, numberOf, useAction, useLoad } from "../ui";
import type { SignIn } from "../session";
import { check, explain } from "../validate";
import { WatchLive } from "./topic-live";

type Topic = OperationOutput<"getTopic">;

const RefreshMs = 5_000;

export function TopicPage({ client, signIn, name }: { client: EdgeCmqClient; signIn: SignIn; name: string }) {
  const topic = useLoad(() => client.getTopic({ topic: name }), [name], RefreshMs);
  const subscriptions = useLoad(() => client.listSubscriptions({ topic: name }), [name], RefreshMs);
  const action = useAction();
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
          <Section title="Subscriptions">
            <Status error={subscriptions.error} />
            {subscriptions.data && (
              <div class="table-wrap">
                <table aria-label="Subscriptions">
                  <thead>
                    <tr>
                      <th scope="col">Name</th><th scope="col">Endpoint</th><th scope="col">Filter</th>
                      <th scope="col">Delivered</th><th scope="col">Failed</th><th scope="col">Pending</th><th scope="col">Last error</th><th scope="col"><span class="visually-hidden">Actions</span></th>
                    </tr>
                  </thead>
                  <tbody>
                    {subscriptions.data.subscriptions.length === 0 && <tr><td colSpan={8}>No subscriptions.</td></tr>}
                    {subscriptions.data.subscriptions.map((subscription) => (
                      <tr>
                        <th scope="row">{subscription.name}</th>
                        <td>
                          {subscription.protocol}:{" "}
                          {subscription.protocol === "queue" ? <a href={href("queues", subscription.endpoint)}>{subscription.endpoint}</a> : subscription.endpoint}
                        </td>
                        <td>{[...subscription.filterTags, ...subscription.bindingKeys].join(", ") || "everything"}</td>
                        <td data-stat="delivered">{subscription.stats.delivered}</td>
                        <td>{subscription.stats.failed}</td>
                        <td>{subscription.stats.pending}</td>
                        <td>{subscription.stats.lastError ? `${subscription.stats.lastError} (${formatTime(subscription.stats.lastErrorAt)})` : "—"}</td>
                        <td>
                          <ConfirmButton
                            label="Unsubscribe"
                            question={`Remove subscription ${subscription.name}?`}
                            onConfirm={() => void action.run(async () => {
                              await client.unsubscribe({ topic: name, subscription: subscription.name });
                              subscriptions.reload();
                            })}
                          />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Section>
          <div class="columns">
            <div>
              <Publish client={client} topic={data} onPublished={subscriptions.reload} />
            </div>
            <div>
              <Subscribe client={client} topic={data} onSubscribed={subscriptions.reload} />
              <EditTopic client={client} topic={data} onSaved={topic.reload} />
            </div>
          </div>
          <WatchLive client={client} signIn={signIn} topic={data} />
          <Section title="Delete the topic">
            <ConfirmButton
              label="Delete topic"
              question={`Delete topic ${name} and its subscriptions?`}
              onConfirm={() => void action.run(async () => {
                await client.deleteTopic({ topic: name });
                location.hash = href("topics");
              })}
            />
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
    </Section>
  );
}

function Subscribe({ client, topic, onSubscribed }: { client: EdgeCmqClient; topic: Topic; onSubscribed: () => void }) {
  const [name, setName] = useState("");
  const [protocol, setProtocol] = useState<string>("queue");
  const [endpoint, setEndpoint] = useState("");
  const [filter, setFilter] = useState("");
  const [strategy, setStrategy] = useState<string>(NotifyStrategies[0]);
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const subscription = check(SubscriptionName, name);
      const attributes = check(CreateSubscriptionBody, {
        protocol,
        endpoint: endpoint.trim(),
        notifyStrategy: strategy,
        ...(topic.filterType === "tag" ? { filterTags: listOf(filter) } : { bindingKeys: listOf(filter) }),
      });
      await client.subscribe({ topic: topic.name, subscription, ...attributes });
      onSubscribed();
      setName("");
      return `subscription ${subscription} saved`;
    });
  };
  return (
    <Section title="Add a subscription">
      <form onSubmit={submit} noValidate>
        <Field label="Subscription name" name="subscription" value={name} onInput={setName} />
        <Select label="Deliver to" value={protocol} options={Protocols} onChange={setProtocol} hint="queue: a queue of this account; http(s): a URL; worker: a service binding's name." />
        <Field label="Endpoint" name="endpoint" value={endpoint} onInput={setEndpoint} hint="The queue's name, the URL, or the binding's name." />
        <Field
          label={topic.filterType === "tag" ? "Filter tags" : "Binding keys"}
          name="filter"
          value={filter}
          onInput={setFilter}
          hint={topic.filterType === "tag" ? "Separated by commas; empty: every message." : "Separated by commas; '*' matches one word, '#' any number."}
        />
        <Select label="Retry strategy" value={strategy} options={NotifyStrategies} onChange={setStrategy} />
        <button type="submit" disabled={action.busy}>Subscribe</button>
        <Status error={action.error} done={action.done} />
      </form>
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
      <form onSubmit={submit} noValidate class="row">
        <Field label="Largest message (bytes)" name="maxMsgSize" value={maxMsgSize} onInput={setMaxMsgSize} hint={explain(UpdateTopicBody, "maxMsgSize")} />
        <Field label="Retention (s)" name="msgRetentionSeconds" value={retention} onInput={setRetention} hint={explain(UpdateTopicBody, "msgRetentionSeconds")} />
        <button type="submit" disabled={action.busy}>Save attributes</button>
      </form>
      <Status error={action.error} done={action.done} />
    </Section>
  );
}
