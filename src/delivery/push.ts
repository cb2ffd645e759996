import type { MessageAttributes } from "../schema/message-attributes";
import type { ContentFormat } from "../schema/topic";

/** What a push carries about one message. */
export interface PushMessage {
  account: string;
  topic: string;
  subscription: string;
  messageId: string;
  body: string;
  tags: string[];
  routingKey: string | null;
  publishedAt: number;
  attributes?: MessageAttributes;
}

/** HTTP endpoints have this long to answer (CMQ: about 15 s); no answer in time is a failure. */
export const PushTimeoutMs = 15_000;
/** CMQ's own push User-Agent, so that a receiver written for CMQ that checks it needs no change. */
export const PushUserAgent = "Qcloud Notification Service Agent";

const textEncoder = new TextEncoder();

/**
 * The push body: CMQ's JSON envelope (`TopicOwner`, `topicName`, `subscriptionName`, `msgId`,
 * `msgBody`, `publishTime`, here in Unix ms) plus `msgTag` and `routingKey`, and `msgAttributes`
 * when the message has attributes; or the raw body when SIMPLIFIED, which carries nothing else.
 */
export function pushBody(message: PushMessage, format: ContentFormat): string {
  if (format === "SIMPLIFIED") return message.body;
  return JSON.stringify({
    TopicOwner: message.account,
    topicName: message.topic,
    subscriptionName: message.subscription,
    msgId: message.messageId,
    msgBody: message.body,
    msgTag: message.tags,
    routingKey: message.routingKey,
    publishTime: message.publishedAt,
    ...(message.attributes && Object.keys(message.attributes).length > 0 ? { msgAttributes: message.attributes } : {}),
  });
}

/**
 * The push request. With a signing secret it carries
 * `x-cmq-signature: t=<Unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, so a receiver can check
 * the sender and refuse replays outside its own time window.
 */
export async function buildPushRequest(
  url: string,
  message: PushMessage,
  format: ContentFormat,
  signingSecret: string | null,
  nowMs: number,
): Promise<Request> {
  const body = pushBody(message, format);
  const headers = new Headers({
    // CMQ sends both formats as text/plain (its push documentation); the format is named apart.
    "content-type": "text/plain; charset=utf-8",
    "x-cmq-content-format": format,
    "user-agent": PushUserAgent,
    "x-cmq-request-id": crypto.randomUUID(),
    "x-cmq-message-id": message.messageId,
    "x-cmq-message-tag": message.tags.join(", "),
    "x-cmq-topic": message.topic,
    "x-cmq-subscription": message.subscription,
  });
  if (message.routingKey !== null) headers.set("x-cmq-routing-key", message.routingKey);
  if (signingSecret) headers.set("x-cmq-signature", await signPush(signingSecret, body, Math.floor(nowMs / 1000)));
  // A redirect is an answer like any other non-2xx: it is not followed to wherever it points.
  return new Request(url, { method: "POST", headers, body, redirect: "manual" });
}

export async function signPush(secret: string, body: string, timestampSeconds: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", textEncoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, textEncoder.encode(`${timestampSeconds}.${body}`));
  const hex = Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
  return `t=${timestampSeconds},v1=${hex}`;
}

/** Sends one push; resolves to null on a 2xx, else to a description of the failure. */
export async function sendPush(fetcher: { fetch: typeof fetch } | null, request: Request): Promise<string | null> {
  try {
    const response = await (fetcher ? fetcher.fetch(request, { signal: AbortSignal.timeout(PushTimeoutMs) }) : fetch(request, { signal: AbortSignal.timeout(PushTimeoutMs) }));
    // Drain the body so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return null;
    return `HTTP ${response.status}`;
  } catch (error) {
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
      return `no answer within ${PushTimeoutMs / 1000} s`;
    }
    return error instanceof Error ? error.message : String(error);
  }
}
