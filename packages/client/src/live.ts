import type { OperationInput, Output } from "./catalog";
import { EdgeCmqError } from "./errors";

/** The subprotocol of the service's live sockets. */
export const LiveProtocol = "edge-cmq.live.v1";

/** A message pushed over a queue's socket: as a receive hands it over. */
export type LiveMessage = Output<"receiveMessages">["messages"][number];

/** A message pushed over a topic's socket. */
export interface LiveTopicMessage {
  id: string;
  body: string;
  tags: string[];
  routingKey: string | null;
  attributes: LiveMessage["attributes"];
  senderId: string | null;
  publishedAt: number;
}

export interface LiveOptions {
  /** The service's origin (`https://cmq.example.com`); the socket goes to its `wss:` (or `ws:`) form. */
  endpoint: string;
  /** The browser token the socket opens with (sent in the subprotocol offer). */
  token: string;
  /** `{ queue }` to consume from and send to a queue, `{ topic }` to watch a topic. */
  queue?: string;
  topic?: string;
  /** On a queue: hide pushed messages this long (seconds) instead of the queue's default. */
  visibilityTimeout?: number;
  /** On a topic: take only messages with one of these tags, or whose routing key matches one of these binding keys. */
  filterTags?: string[];
  bindingKeys?: string[];
  /** Opens the socket (default: the global `WebSocket`); tests and runtimes without one pass their own. */
  connect?: (url: string, protocols: string[]) => WebSocket | Promise<WebSocket>;
}

/** What the service said when the socket opened. */
export interface LiveReady {
  socket: string;
  canReceive?: boolean;
  canSend?: boolean;
  creditMax: number;
}

type Frame = Record<string, any>;

/**
 * A live socket (`GET /v1/queues/{name}/live` or `/v1/topics/{name}/live`): grant credit, get
 * messages pushed to `onMessages`, and answer them; every request frame is answered by a promise
 * that rejects with an `EdgeCmqError` carrying the service's code.
 */
export class LiveSocket<TMessage = LiveMessage> {
  /** Resolves once the service accepted the socket. */
  readonly ready: Promise<LiveReady>;
  /** Resolves when the socket closed, with the code and reason (4404: deleted; 1008: credential expired). */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly pending = new Map<string, { resolve: (frame: Frame) => void; reject: (error: EdgeCmqError) => void }>();
  private readonly listeners = new Set<(messages: TMessage[], dropped?: number) => void>();
  private readonly errorListeners = new Set<(error: EdgeCmqError) => void>();
  private nextId = 0;

  constructor(private readonly ws: WebSocket) {
    let onReady!: (ready: LiveReady) => void;
    let onReadyFailed!: (error: EdgeCmqError) => void;
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onReadyFailed = reject;
    });
    this.closed = new Promise((resolve) => {
      ws.addEventListener("close", (event) => {
        const gone = new EdgeCmqError({ code: "NetworkError", message: `the socket closed: ${event.code} ${event.reason}` });
        onReadyFailed(gone);
        for (const call of this.pending.values()) call.reject(gone);
        this.pending.clear();
        resolve({ code: event.code, reason: event.reason });
      });
    });
    // A socket that never opened rejects `ready` only through `close`; nobody need handle it twice.
    this.ready.catch(() => undefined);
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as Frame;
      if (frame.type === "ready") onReady(frame as unknown as LiveReady);
      else if (frame.type === "messages") for (const listener of this.listeners) listener(frame.messages, frame.dropped);
      else if (typeof frame.id === "string" && this.pending.has(frame.id)) {
        const call = this.pending.get(frame.id)!;
        this.pending.delete(frame.id);
        if (frame.type === "error") call.reject(new EdgeCmqError(frame.error));
        else call.resolve(frame);
      } else if (frame.type === "error") {
        for (const listener of this.errorListeners) listener(new EdgeCmqError(frame.error));
      }
    });
  }

  /** Calls `listener` with each batch of pushed messages (on a topic, with how many were dropped before it). */
  onMessages(listener: (messages: TMessage[], dropped?: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` with errors that answer no call. */
  onError(listener: (error: EdgeCmqError) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Lets the service push `messages` more; resolves with the credit now unspent (at most 1,000). */
  async credit(messages: number): Promise<number> {
    return (await this.call({ type: "credit", messages })).credit;
  }

  /** Deletes a pushed message by its receipt handle. */
  async ack(receiptHandle: string): Promise<void> {
    await this.call({ type: "ack", receiptHandle });
  }

  /** Makes a pushed message visible again, at once or after `delaySeconds`. */
  async nack(receiptHandle: string, delaySeconds?: number): Promise<{ nextVisibleAt: number }> {
    const answer = await this.call({ type: "nack", receiptHandle, ...(delaySeconds === undefined ? {} : { delaySeconds }) });
    return { nextVisibleAt: answer.nextVisibleAt };
  }

  /** Hides a pushed message for `visibilityTimeout` seconds from now. */
  async extend(receiptHandle: string, visibilityTimeout: number): Promise<{ nextVisibleAt: number }> {
    const answer = await this.call({ type: "extend", receiptHandle, visibilityTimeout });
    return { nextVisibleAt: answer.nextVisibleAt };
  }

  /** Sends 1 to 16 messages to the queue; resolves with their ids once they are stored. */
  async send(messages: Array<string | OperationInput<"sendMessages">["messages"][number]>): Promise<string[]> {
    const answer = await this.call({ type: "send", messages: messages.map((message) => (typeof message === "string" ? { body: message } : message)) });
    return answer.ids;
  }

  close(code = 1000, reason = ""): void {
    this.ws.close(code, reason);
  }

  private call(frame: Frame): Promise<Frame> {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }
}

/**
 * Opens a live socket on a queue (`{ queue }`) or a topic (`{ topic }`), with a browser token;
 * resolves once the service accepted it.
 */
export async function openLive(options: LiveOptions & { topic: string }): Promise<LiveSocket<LiveTopicMessage>>;
export async function openLive(options: LiveOptions & { queue: string }): Promise<LiveSocket<LiveMessage>>;
export async function openLive(options: LiveOptions): Promise<LiveSocket<any>> {
  const resource = options.queue !== undefined ? `queues/${encodeURIComponent(options.queue)}` : `topics/${encodeURIComponent(options.topic ?? "")}`;
  const url = new URL(`/v1/${resource}/live`, options.endpoint);
  url.protocol = url.protocol === "http:" ? "ws:" : "wss:";
  if (options.visibilityTimeout !== undefined) url.searchParams.set("visibilityTimeout", String(options.visibilityTimeout));
  for (const tag of options.filterTags ?? []) url.searchParams.append("filterTags", tag);
  for (const key of options.bindingKeys ?? []) url.searchParams.append("bindingKeys", key);
  const connect = options.connect ?? ((target, protocols) => new WebSocket(target, protocols));
  const socket = new LiveSocket<unknown>(await connect(url.toString(), [LiveProtocol, options.token]));
  await socket.ready;
  return socket;
}
