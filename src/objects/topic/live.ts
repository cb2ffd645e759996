import * as v from "valibot";
import type { Clock } from "../../clock";
import { matchesAnyBindingKey, matchesTags } from "../../delivery/filters";
import { ErrorCode } from "../../errors";
import { LiveCloseCode, LiveLimits, LiveTopicOptions } from "../../schema/live";
import type { PublishedMessage } from "../../schema/topic";
import { acceptSocket, closeSocket, readFrame, refuseFrame, refusal, sendFrame, settingsOf, upgraded } from "../live";
import type { TopicMeta } from "./storage";

/** What a topic socket remembers across the object's eviction: its filters and its credential's end. */
interface TopicSocketState {
  kind: "topic";
  id: string;
  filterTags: string[];
  bindingKeys: string[];
  expiresAt: number | null;
}

const TopicSocketSettings = v.strictObject({ expiresAt: v.nullable(v.number()), options: LiveTopicOptions });

const TopicSocketTag = "topic";

/** A topic socket sends no frame but pings (answered by the runtime); anything else is named wrong. */
const TopicClientFrame = v.strictObject({ type: v.picklist(["ping"]) });

/**
 * Live views of a topic (`GET /v1/topics/{name}/live`): each socket is a subscription that lasts as
 * long as it does, filtered as a subscription is. Best effort: a message published while a socket
 * is connected is pushed once, with no outbox and no retry; a socket that falls behind by more than
 * `topicBufferedMaxBytes` is closed (4429) rather than buffered without bound.
 */
export class LiveTopicSockets {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly clock: Clock,
  ) {}

  accept(request: Request, meta: TopicMeta | null): Response {
    if (!meta) return refusal(ErrorCode.TopicNotFound, "topic does not exist");
    if (this.ctx.getWebSockets().length >= LiveLimits.socketsPerObject) {
      return refusal(ErrorCode.QuotaExceeded, `a topic holds at most ${LiveLimits.socketsPerObject} live sockets`);
    }
    const settings = v.parse(TopicSocketSettings, settingsOf(request));
    const state: TopicSocketState = {
      kind: "topic",
      id: crypto.randomUUID(),
      filterTags: settings.options.filterTags ?? [],
      bindingKeys: settings.options.bindingKeys ?? [],
      expiresAt: settings.expiresAt,
    };
    const { client, server } = acceptSocket(this.ctx, state, [TopicSocketTag]);
    sendFrame(server, { type: "ready", socket: state.id, filterTags: state.filterTags, bindingKeys: state.bindingKeys });
    return upgraded(client);
  }

  message(ws: WebSocket, message: string | ArrayBuffer): void {
    const read = readFrame(message, TopicClientFrame);
    if (!read.ok) refuseFrame(ws, read);
    else sendFrame(ws, { type: "pong" });
  }

  closed(ws: WebSocket, code?: number): void {
    closeSocket(ws, code === undefined || code === 1005 || code === 1006 ? 1000 : code, "");
  }

  /**
   * Pushes just-stored messages to every socket whose filters match, as a subscription's would
   * (an empty filter takes everything: a live view asks for what it wants to see).
   */
  publish(meta: TopicMeta, messages: readonly PublishedMessage[], ids: readonly string[], senderId: string | null): void {
    const sockets = this.ctx.getWebSockets(TopicSocketTag);
    if (sockets.length === 0) return;
    const nowMs = this.clock.nowMs();
    const pushed = messages.map((message, index) => ({
      id: ids[index]!,
      body: message.body,
      tags: message.tags ?? [],
      routingKey: message.routingKey ?? null,
      attributes: message.attributes ?? {},
      senderId,
      publishedAt: nowMs,
    }));
    for (const ws of sockets) {
      const state = ws.deserializeAttachment() as TopicSocketState | null;
      if (!state || state.kind !== "topic") continue;
      if (state.expiresAt !== null && nowMs >= state.expiresAt) {
        closeSocket(ws, LiveCloseCode.policy, "credential expired");
        continue;
      }
      const matching = pushed.filter((message) =>
        meta.attributes.filterType === "tag"
          ? matchesTags(state.filterTags, message.tags)
          : state.bindingKeys.length === 0 || matchesAnyBindingKey(state.bindingKeys, message.routingKey),
      );
      if (matching.length === 0) continue;
      if (typeof ws.bufferedAmount === "number" && ws.bufferedAmount > LiveLimits.topicBufferedMaxBytes) {
        closeSocket(ws, LiveCloseCode.tooSlow, "the socket does not read fast enough");
        continue;
      }
      sendFrame(ws, { type: "messages", messages: matching });
    }
  }

  closeAll(reason: string): void {
    for (const ws of this.ctx.getWebSockets(TopicSocketTag)) closeSocket(ws, LiveCloseCode.deleted, reason);
  }
}
