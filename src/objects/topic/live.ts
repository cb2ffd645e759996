import * as v from "valibot";
import type { Clock } from "../../clock";
import { matchesAnyBindingKey, matchesTags } from "../../delivery/filters";
import { ErrorCode, ServiceError } from "../../errors";
import { LiveCloseCode, LiveLimits, LiveTopicOptions, TopicClientFrame } from "../../schema/live";
import type { PublishedMessage } from "../../schema/topic";
import { acceptSocket, closeSocket, errorFrame, readFrame, refuseFrame, refusal, sendFrame, upgradeSettings, upgraded } from "../live";
import type { TopicMeta } from "./storage";

/** What a topic socket remembers across the object's eviction: its filters and its credential's end. */
interface TopicSocketState {
  kind: "topic";
  id: string;
  filterTags: string[];
  bindingKeys: string[];
  expiresAt: number | null;
  /** Messages the object may still push; what matches beyond it is dropped and counted. */
  credit: number;
  /** Matching messages dropped since the last push, reported with the next one. */
  dropped: number;
}

const TopicSocketSettings = v.strictObject({ expiresAt: v.nullable(v.number()), options: LiveTopicOptions });

const TopicSocketTag = "topic";

/**
 * Live views of a topic (`GET /v1/topics/{name}/live`): each socket is a subscription that lasts as
 * long as it does, filtered as a subscription is. Best effort: a message published while a socket
 * is connected is pushed once, with no outbox and no retry. Flow control is by credit, as on a
 * queue socket: what matches while a socket has none is dropped (the runtime exposes no send
 * buffer to measure), and the next push says how many were.
 */
export class LiveTopicSockets {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly clock: Clock,
  ) {}

  accept(request: Request, meta: TopicMeta | null): Response {
    if (!meta) return refusal(ErrorCode.TopicNotFound, "topic does not exist");
    const settings = upgradeSettings(this.ctx, request, TopicSocketSettings, "topic");
    if (settings instanceof Response) return settings;
    const state: TopicSocketState = {
      kind: "topic",
      id: crypto.randomUUID(),
      filterTags: settings.options.filterTags ?? [],
      bindingKeys: settings.options.bindingKeys ?? [],
      expiresAt: settings.expiresAt,
      credit: 0,
      dropped: 0,
    };
    const { client, server } = acceptSocket(this.ctx, state, [TopicSocketTag]);
    sendFrame(server, { type: "ready", socket: state.id, filterTags: state.filterTags, bindingKeys: state.bindingKeys, creditMax: LiveLimits.creditMax });
    return upgraded(client);
  }

  message(ws: WebSocket, message: string | ArrayBuffer): void {
    const state = ws.deserializeAttachment() as TopicSocketState | null;
    if (!state || state.kind !== "topic") return;
    if (state.expiresAt !== null && this.clock.nowMs() >= state.expiresAt) {
      closeSocket(ws, LiveCloseCode.policy, "credential expired");
      return;
    }
    const read = readFrame(message, TopicClientFrame);
    if (!read.ok) {
      refuseFrame(ws, read);
      return;
    }
    if (read.frame.type === "ping") {
      sendFrame(ws, { type: "pong" });
      return;
    }
    const { id } = read.frame;
    const credit = state.credit + read.frame.messages;
    if (credit > LiveLimits.creditMax) {
      sendFrame(ws, errorFrame(new ServiceError(ErrorCode.InvalidParameter, `credit would be ${credit}; a socket holds at most ${LiveLimits.creditMax} unspent`), id));
      return;
    }
    ws.serializeAttachment({ ...state, credit });
    sendFrame(ws, id === undefined ? { type: "credited", credit } : { type: "credited", id, credit });
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
      const taken = matching.slice(0, state.credit);
      const dropped = state.dropped + matching.length - taken.length;
      if (taken.length > 0) sendFrame(ws, { type: "messages", messages: taken, dropped });
      ws.serializeAttachment({ ...state, credit: state.credit - taken.length, dropped: taken.length > 0 ? 0 : dropped });
    }
  }

  closeAll(reason: string): void {
    for (const ws of this.ctx.getWebSockets(TopicSocketTag)) closeSocket(ws, LiveCloseCode.deleted, reason);
  }
}
