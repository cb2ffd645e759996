import type { EdgeCmqClient, OperationOutput } from "@edge-cmq/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { ContentFormats, CreateSubscriptionBody, NotifyStrategies, Protocols, SubscriptionName, UpdateSubscriptionBody } from "../../../src/schema/topic";
import { href } from "../app";
import { Allowed, refusal, useRights } from "../rights";
import { ConfirmButton, Field, Pager, Section, Select, Status, formatTime, listOf, useAction, usePages, listCaption } from "../ui";
import { check } from "../validate";

type Topic = OperationOutput<"getTopic">;
type Subscription = OperationOutput<"getSubscription">;

const RefreshMs = 5_000;

const filterLabel = (topic: Topic) => (topic.filterType === "tag" ? "Filter tags" : "Binding keys");
const filterHint = (topic: Topic) =>
  topic.filterType === "tag" ? "Separated by commas; empty: every message." : "Separated by commas; '*' matches one word, '#' any number.";
/** The filter field's value as the topic's kind of filter. */
const filterOf = (topic: Topic, text: string, emptyAs: string[] | undefined) =>
  topic.filterType === "tag" ? { filterTags: listOf(text) ?? emptyAs } : { bindingKeys: listOf(text) ?? emptyAs };

/** A topic's subscriptions, a page at a time, with their delivery statistics; each can be changed or removed in place. */
export function Subscriptions({ client, topic, onChange }: { client: EdgeCmqClient; topic: Topic; onChange: () => void }) {
  const rights = useRights();
  const manageRefusal = refusal(rights, "manage", `topic:${topic.name}`);
  const [search, setSearch] = useState("");
  const list = usePages((page) => client.listSubscriptions({ topic: topic.name, ...page, ...(search ? { search } : {}) }), [topic.name, search], RefreshMs);
  const [editing, setEditing] = useState<Subscription | null>(null);
  const action = useAction();
  const changed = () => {
    list.reload();
    onChange();
  };
  return (
    <>
      <Section title="Subscriptions">
        <Status error={list.error ?? action.error} done={action.done} />
        <div role="search">
          <Field label="Search subscriptions" type="search" value={search} onInput={setSearch} hint="Names containing this, in any case." />
        </div>
        {list.data && (
          <div class="table-wrap">
            <table aria-label="Subscriptions">
              <caption>
                {listCaption(list.data.total, list.data.subscriptions.length, "subscription")}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th><th scope="col">Endpoint</th><th scope="col">Filter</th><th scope="col">Retry</th>
                  <th scope="col">Delivered</th><th scope="col">Failed</th><th scope="col">Pending</th><th scope="col">Last error</th><th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {list.data.subscriptions.length === 0 && <tr><td colSpan={9}>No subscriptions.</td></tr>}
                {list.data.subscriptions.map((subscription) => (
                  <tr>
                    <th scope="row">{subscription.name}</th>
                    <td>
                      {subscription.protocol}:{" "}
                      {subscription.protocol === "queue" ? <a href={href("queues", subscription.endpoint)}>{subscription.endpoint}</a> : subscription.endpoint}
                    </td>
                    <td data-subscription-filter>{[...subscription.filterTags, ...subscription.bindingKeys].join(", ") || "everything"}</td>
                    <td>{subscription.notifyStrategy}, {subscription.notifyContentFormat}{subscription.signed ? ", signed" : ""}</td>
                    <td data-stat="delivered">{subscription.stats.delivered}</td>
                    <td>{subscription.stats.failed}</td>
                    <td>{subscription.stats.pending}</td>
                    <td>{subscription.stats.lastError ? `${subscription.stats.lastError} (${formatTime(subscription.stats.lastErrorAt)})` : "—"}</td>
                    <td class="actions">
                      <Allowed refusal={manageRefusal}>
                        <button type="button" onClick={() => setEditing(subscription)} aria-label={`Edit subscription ${subscription.name}`}>
                          Edit
                        </button>
                        <ConfirmButton
                          label="Unsubscribe"
                          question={`Remove subscription ${subscription.name}?`}
                          onConfirm={() =>
                            void action.run(async () => {
                              await client.unsubscribe({ topic: topic.name, subscription: subscription.name });
                              if (editing?.name === subscription.name) setEditing(null);
                              changed();
                            })
                          }
                        />
                      </Allowed>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager label="Subscriptions" pages={list} total={list.data?.total} />
      </Section>
      {editing && (
        <EditSubscription
          key={editing.name}
          client={client}
          topic={topic}
          subscription={editing}
          onDone={(saved) => {
            setEditing(null);
            if (saved) changed();
          }}
        />
      )}
    </>
  );
}

/** A subscription's filter and delivery settings, changed in place; its protocol and endpoint are fixed. */
function EditSubscription(props: { client: EdgeCmqClient; topic: Topic; subscription: Subscription; onDone: (saved: boolean) => void }) {
  const { client, topic, subscription } = props;
  const [filter, setFilter] = useState([...subscription.filterTags, ...subscription.bindingKeys].join(", "));
  const [strategy, setStrategy] = useState<string>(subscription.notifyStrategy);
  const [format, setFormat] = useState<string>(subscription.notifyContentFormat);
  const [secret, setSecret] = useState("");
  const [removeSecret, setRemoveSecret] = useState(false);
  const action = useAction();
  const sectionRef = useRef<HTMLDivElement>(null);
  // Opening the form takes the focus to it, for keyboard users.
  useEffect(() => sectionRef.current?.querySelector<HTMLElement>("input, select")?.focus(), []);
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const patch = check(UpdateSubscriptionBody, {
        // An empty filter clears it: the subscription then gets every message.
        ...filterOf(topic, filter, []),
        notifyStrategy: strategy,
        notifyContentFormat: format,
        ...(removeSecret ? { signingSecret: null } : secret ? { signingSecret: secret } : {}),
      });
      await client.updateSubscription({ topic: topic.name, subscription: subscription.name, ...patch });
      props.onDone(true);
    });
  };
  return (
    <div ref={sectionRef}>
      <Section title={`Edit subscription ${subscription.name}`}>
        <p class="hint">
          Delivers to {subscription.protocol}: {subscription.endpoint}. Protocol and endpoint are fixed once created: subscribe anew to change them.
        </p>
        <form onSubmit={submit} noValidate>
          <Field label={filterLabel(topic)} name="editFilter" value={filter} onInput={setFilter} hint={filterHint(topic)} />
          <Select label="Retry strategy" value={strategy} options={NotifyStrategies} onChange={setStrategy} />
          <Select label="Content format" value={format} options={ContentFormats} onChange={setFormat} hint="JSON: the message with its metadata; SIMPLIFIED: the body alone." />
          <Field
            label="New signing secret"
            type="password"
            name="signingSecret"
            value={secret}
            onInput={setSecret}
            hint={subscription.signed ? "Empty: keep the current secret." : "Empty: deliveries stay unsigned."}
          />
          {subscription.signed && (
            <label class="inline">
              <input type="checkbox" checked={removeSecret} onChange={(event) => setRemoveSecret(event.currentTarget.checked)} /> Remove the signing secret
            </label>
          )}
          <div>
            <button type="submit" disabled={action.busy}>Save subscription</button>
            <button type="button" onClick={() => props.onDone(false)}>Cancel</button>
          </div>
          <Status error={action.error} />
        </form>
      </Section>
    </div>
  );
}

export function Subscribe({ client, topic, onSubscribed }: { client: EdgeCmqClient; topic: Topic; onSubscribed: () => void }) {
  const rights = useRights();
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
        ...filterOf(topic, filter, undefined),
      });
      // A queue subscription delivers into the queue: it takes the right to send there.
      if (attributes.protocol === "queue") rights.require("send", `queue:${attributes.endpoint}`);
      await client.subscribe({ topic: topic.name, subscription, ...attributes });
      onSubscribed();
      setName("");
      return `subscription ${subscription} saved`;
    });
  };
  return (
    <Section title="Add a subscription">
      <Allowed refusal={refusal(rights, "manage", `topic:${topic.name}`)}>
        <form onSubmit={submit} noValidate>
          <Field label="Subscription name" name="subscription" value={name} onInput={setName} />
          <Select label="Deliver to" value={protocol} options={Protocols} onChange={setProtocol} hint="queue: a queue of this account; http(s): a URL; worker: a service binding's name." />
          <Field label="Endpoint" name="endpoint" value={endpoint} onInput={setEndpoint} hint="The queue's name, the URL, or the binding's name." />
          <Field label={filterLabel(topic)} name="filter" value={filter} onInput={setFilter} hint={filterHint(topic)} />
          <Select label="Retry strategy" value={strategy} options={NotifyStrategies} onChange={setStrategy} />
          <button type="submit" disabled={action.busy}>Subscribe</button>
          <Status error={action.error} done={action.done} />
        </form>
      </Allowed>
    </Section>
  );
}
