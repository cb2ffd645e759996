import type { EdgeCmqClient, OperationOutput } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { OutgoingMessage, ReceiveBody } from "../../../src/schema/queue";
import { Allowed, refusal, useRights } from "../rights";
import { Field, Section, Status, formatTime, jsonOf, listOf, numberOf, useAction } from "../ui";
import { check, explain } from "../validate";

type Received = OperationOutput<"receiveMessages">["messages"][number];
type Peeked = OperationOutput<"peekMessages">["messages"][number];

export function QueueMessages({ client, queue, onChange }: { client: EdgeCmqClient; queue: string; onChange: () => void }) {
  return (
    <>
      <SendMessage client={client} queue={queue} onSent={onChange} />
      <PeekMessages client={client} queue={queue} />
      <ReceiveMessages client={client} queue={queue} onChange={onChange} />
    </>
  );
}

export function SendMessage({ client, queue, onSent }: { client: EdgeCmqClient; queue: string; onSent: () => void }) {
  const [body, setBody] = useState("");
  const [delay, setDelay] = useState("");
  const [tags, setTags] = useState("");
  const [attributes, setAttributes] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const message = check(OutgoingMessage, { body, delaySeconds: numberOf(delay), tags: listOf(tags), attributes: jsonOf(attributes) });
      const { id } = await client.send(queue, message);
      setBody("");
      onSent();
      return `sent message ${id}`;
    });
  };
  return (
    <Section title="Send a message">
      <Allowed refusal={refusal(useRights(), "send", `queue:${queue}`)}>
        <form onSubmit={submit} noValidate>
          <Field label="Body" name="body" multiline value={body} onInput={setBody} />
          <Field label="Delay (s)" name="delaySeconds" value={delay} onInput={setDelay} hint="Empty: the queue's delivery delay." />
          <Field label="Tags" name="tags" value={tags} onInput={setTags} hint="Separated by commas." />
          <Field label="Attributes (JSON)" name="attributes" multiline value={attributes} onInput={setAttributes} hint={`For example {"color": {"type": "String", "value": "red"}}.`} />
          <button type="submit" disabled={action.busy}>Send</button>
          <Status error={action.error} done={action.done} />
        </form>
      </Allowed>
    </Section>
  );
}

function PeekMessages({ client, queue }: { client: EdgeCmqClient; queue: string }) {
  const [messages, setMessages] = useState<Peeked[] | null>(null);
  const action = useAction();
  const peek = () =>
    void action.run(async () => {
      const page = await client.peekMessages({ queue });
      setMessages(page.messages);
    });
  return (
    <Section title="Peek">
      <p class="hint">Shows stored messages in enqueue order without changing them.</p>
      <button type="button" onClick={peek} disabled={action.busy}>Peek messages</button>
      <Status error={action.error} />
      {messages && (
        <div class="table-wrap">
          <table aria-label="Peeked messages">
            <thead>
              <tr><th scope="col">Body</th><th scope="col">State</th><th scope="col">Tags</th><th scope="col">Enqueued</th><th scope="col">Receives</th></tr>
            </thead>
            <tbody>
              {messages.length === 0 && <tr><td colSpan={5}>No messages.</td></tr>}
              {messages.map((message) => (
                <tr>
                  <td class="body">{message.body}</td>
                  <td>{message.state}</td>
                  <td>{message.tags.join(", ")}</td>
                  <td>{formatTime(message.enqueuedAt)}</td>
                  <td>{message.receiveCount}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

function ReceiveMessages({ client, queue, onChange }: { client: EdgeCmqClient; queue: string; onChange: () => void }) {
  const [max, setMax] = useState("1");
  const [visibility, setVisibility] = useState("");
  const [received, setReceived] = useState<Received[]>([]);
  const action = useAction();
  const receive = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const options = check(ReceiveBody, { max: numberOf(max), visibilityTimeout: numberOf(visibility), waitSeconds: 0 });
      const answer = await client.receiveMessages({ queue, ...options });
      setReceived(answer.messages);
      onChange();
      return `received ${answer.messages.length} ${answer.messages.length === 1 ? "message" : "messages"}`;
    });
  };
  const remove = (message: Received) =>
    void action.run(async () => {
      await client.deleteMessage({ queue, receiptHandle: message.receiptHandle });
      setReceived((list) => list.filter((item) => item !== message));
      onChange();
      return `deleted message ${message.id}`;
    });
  return (
    <Section title="Receive and delete">
      <Allowed refusal={refusal(useRights(), "receive", `queue:${queue}`)}>
        <form onSubmit={receive} noValidate class="row">
          <Field label="How many" name="max" value={max} onInput={setMax} hint={explain(ReceiveBody, "max") || undefined} />
          <Field label="Hide for (s)" name="visibilityTimeout" value={visibility} onInput={setVisibility} hint={explain(ReceiveBody, "visibilityTimeout")} />
          <button type="submit" disabled={action.busy}>Receive</button>
        </form>
      </Allowed>
      <Status error={action.error} done={action.done} />
      {received.length > 0 && (
        <ul class="messages" aria-label="Received messages">
          {received.map((message) => (
            <li>
              <pre class="body">{message.body}</pre>
              <span class="hint">
                {message.tags.length > 0 && `tags ${message.tags.join(", ")}; `}received {message.receiveCount}×, hidden until {formatTime(message.nextVisibleAt)}
              </span>
              <button type="button" onClick={() => remove(message)} aria-label={`Delete message ${message.body.slice(0, 40)}`}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
