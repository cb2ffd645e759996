import { openLive, type EdgeCmqClient, type LiveSocket, type LiveTopicMessage, type OperationOutput } from "@edge-cmq/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { LiveTopicOptions } from "../../../src/schema/live";
import type { SignIn } from "../session";
import { Field, Section, Status, formatTime, listOf } from "../ui";
import { check, messageOf } from "../validate";

type Topic = OperationOutput<"getTopic">;

/** How many messages the panel keeps: the newest, first. */
export const LiveListSize = 100;
/** Credit granted when the socket opens; each message pushed is granted again, so it stays there. */
const LiveCredit = 100;
/** A socket token outlives a watch of a few minutes; the socket closes (1008) when it expires. */
const LiveTokenTtlSeconds = 900;
const BodyPreviewChars = 200;

type LiveStatus =
  | { state: "idle" }
  | { state: "connecting" }
  | { state: "live" }
  | { state: "closed"; reason: string };

/**
 * The browser token the socket opens with. Browsers cannot set headers on a WebSocket and the
 * service refuses a secret key in the subprotocol offer, so a key sign-in mints a token that can
 * only watch this topic.
 */
async function socketToken(client: EdgeCmqClient, signIn: SignIn, topic: string): Promise<string> {
  if (signIn.kind === "token") return signIn.token;
  const minted = await client.createToken({ actions: ["receive"], resources: [`topic:${topic}`], ttlSeconds: LiveTokenTtlSeconds });
  return minted.token;
}

/** Watches a topic's messages over its live socket, the newest first. */
export function WatchLive({ client, signIn, topic }: { client: EdgeCmqClient; signIn: SignIn; topic: Topic }) {
  const [filter, setFilter] = useState("");
  const [status, setStatus] = useState<LiveStatus>({ state: "idle" });
  const [messages, setMessages] = useState<LiveTopicMessage[]>([]);
  const [dropped, setDropped] = useState(0);
  const [socketError, setSocketError] = useState<string | null>(null);
  // The watch in progress: `stop` ends it, even while the socket is still opening.
  const stopRef = useRef<(() => void) | null>(null);
  const byTag = topic.filterType === "tag";

  // Leaving the page closes the socket cleanly.
  useEffect(() => () => stopRef.current?.(), []);

  const start = (event: Event) => {
    event.preventDefault();
    if (stopRef.current) return;
    let filters: LiveTopicOptions;
    try {
      const given = listOf(filter);
      filters = check(LiveTopicOptions, byTag ? { filterTags: given } : { bindingKeys: given });
    } catch (failure) {
      setSocketError(messageOf(failure));
      return;
    }
    let socket: LiveSocket<LiveTopicMessage> | null = null;
    let stopped = false;
    stopRef.current = () => {
      stopped = true;
      stopRef.current = null;
      socket?.close(1000, "stopped");
    };
    setMessages([]);
    setDropped(0);
    setSocketError(null);
    setStatus({ state: "connecting" });
    void (async () => {
      try {
        const token = await socketToken(client, signIn, topic.name);
        if (stopped) return setStatus({ state: "closed", reason: "stopped" });
        const opened = await openLive({ endpoint: location.origin, token, topic: topic.name, ...filters });
        socket = opened;
        void opened.closed.then(({ code, reason }) => {
          if (stopRef.current && !stopped) stopRef.current = null;
          setStatus({ state: "closed", reason: stopped ? "stopped" : [code, reason].filter(Boolean).join(" ") });
        });
        // Stopped while the socket was opening: it is closed now that it can be.
        if (stopped) return opened.close(1000, "stopped");
        opened.onMessages((batch, droppedBefore) => {
          setMessages((shown) => [...batch.slice().reverse(), ...shown].slice(0, LiveListSize));
          if (droppedBefore) setDropped((count) => count + droppedBefore);
          // Each message spent one credit: give it back so the socket keeps its full window.
          opened.credit(batch.length).catch(() => undefined);
        });
        // An error frame answering no call leaves the socket open: it is shown, the watch goes on.
        opened.onError((error) => setSocketError(messageOf(error)));
        await opened.credit(LiveCredit);
        if (!stopped) setStatus({ state: "live" });
      } catch (failure) {
        if (!stopped) stopRef.current = null;
        // Once the socket exists, its close tells the status; before, the failure does.
        if (!socket) setStatus({ state: "closed", reason: messageOf(failure) });
      }
    })();
  };

  const watching = status.state === "connecting" || status.state === "live";
  return (
    <Section title="Watch live">
      <form onSubmit={start} noValidate class="row">
        <Field
          label={byTag ? "Watch tags" : "Watch binding keys"}
          name="liveFilter"
          value={filter}
          onInput={setFilter}
          hint={byTag ? "Separated by commas; empty: every message." : "Separated by commas; '*' matches one word, '#' any number; empty: every message."}
        />
        {watching ? (
          <button type="button" onClick={() => stopRef.current?.()}>Stop watching</button>
        ) : (
          <button type="submit">Start watching</button>
        )}
      </form>
      <p class="live-status" role="status" data-live-state={status.state}>
        {status.state === "idle" && "Not watching."}
        {status.state === "connecting" && "Connecting…"}
        {status.state === "live" && `Live: showing the newest ${LiveListSize} messages published from now on.`}
        {status.state === "closed" && `Closed: ${status.reason}.`}
        {dropped > 0 && ` ${dropped} messages were dropped for want of credit.`}
      </p>
      <Status error={socketError} />
      <ol class="messages" aria-label="Live messages">
        {messages.map((message) => (
          <li key={message.id} data-message-id={message.id}>
            <span class="mono">{message.id}</span>
            <span>{formatTime(message.publishedAt)}</span>
            <span>{byTag ? message.tags.join(", ") || "no tags" : message.routingKey ?? "no routing key"}</span>
            <pre class="body">{message.body.length > BodyPreviewChars ? `${message.body.slice(0, BodyPreviewChars)}…` : message.body}</pre>
          </li>
        ))}
      </ol>
    </Section>
  );
}
