import * as v from "valibot";
import type { Clock } from "../../clock";
import { ErrorCode, ServiceError, unwrap, type Result } from "../../errors";
import { LiveCloseCode, LiveLimits, LiveQueueOptions, QueueClientFrame, type LiveGrant } from "../../schema/live";
import type { DeleteResult, OutgoingMessage, ReceivedMessage } from "../../schema/queue";
import { acceptSocket, closeSocket, errorFrame, readFrame, refuseFrame, refusal, sendFrame, upgradeSettings, upgraded } from "../live";
import type { PartitionReceiver } from "./live-partitions";
import type { Waiter, Waiters } from "./waiters";

/** What a queue socket remembers across the object's eviction (WebSocket attachments survive it). */
interface QueueSocketState {
  kind: "queue";
  id: string;
  grant: LiveGrant;
  visibilityTimeoutSeconds: number | null;
  /** Messages the object may still push before the client grants more. */
  credit: number;
}

const QueueSocketSettings = v.strictObject({
  grant: v.strictObject({
    canReceive: v.boolean(),
    canSend: v.boolean(),
    senderId: v.nullable(v.string()),
    expiresAt: v.nullable(v.number()),
  }),
  options: LiveQueueOptions,
});

/** One socket's `send` frame: its messages and who sent them. */
export interface SendRequest {
  messages: OutgoingMessage[];
  senderId: string | null;
}

/** The queue operations a socket's frames run: the object's own methods, as a request runs them. */
export interface LiveQueuePort {
  exists(): boolean;
  /** Each send all or nothing on its own, answered in order. */
  sendEach(sends: readonly SendRequest[]): Promise<Array<Result<{ ids: string[] }>>>;
  deleteMessages(receiptHandles: string[]): Promise<Result<DeleteResult[]>>;
  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): Promise<Result<{ nextVisibleAt: number }>>;
  /** Claims for waiting receivers: a socket was just given credit. */
  wake(nowMs: number): void;
}

const QueueSocketTag = "queue";
const WebSocketOpen = 1;

/**
 * Send frames gathered while the object is busy: frames that arrive in the same turn of the event
 * loop, from one socket or several, are stored in one transaction, so a producer that sends one
 * message per frame pays one commit per turn rather than per message.
 */
class SendGatherer {
  private pending: Array<{ send: SendRequest; answer: (result: Result<{ ids: string[] }>) => void; fail: (error: unknown) => void }> = [];

  constructor(private readonly port: LiveQueuePort) {}

  send(send: SendRequest): Promise<Result<{ ids: string[] }>> {
    return new Promise((answer, fail) => {
      // A zero timer fires once the frames already delivered to the object have been read.
      if (this.pending.length === 0) setTimeout(() => void this.flush(), 0);
      this.pending.push({ send, answer, fail });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const results = await this.port.sendEach(batch.map((each) => each.send));
      batch.forEach((each, index) => each.answer(results[index]!));
    } catch (error) {
      for (const each of batch) each.fail(error);
    }
  }
}

/**
 * A live socket as a waiting receiver: it waits while it has credit, takes its turn, and goes to
 * the back of the line after each, so sockets, long polls and RPC receivers share the queue round
 * robin. Messages are claimed by the engine's claim, as any receive's are.
 */
class SocketWaiter implements Waiter, PartitionReceiver {
  /** Credit held for takes from other partitions under way (see `LivePartitionPump`); not kept across eviction. */
  private reserved = 0;

  constructor(
    public ws: WebSocket,
    readonly state: QueueSocketState,
    private readonly sockets: LiveQueueSockets,
  ) {}

  /** A batch while it waits alone; one message per turn while others wait, so that turns alternate. */
  get max(): number {
    return this.sockets.othersWaiting() ? 1 : Math.min(this.room, LiveLimits.pushBatchMax);
  }

  get room(): number {
    return Math.max(0, this.state.credit - this.reserved);
  }

  reserve(count: number): void {
    this.reserved += count;
  }

  release(count: number): void {
    this.reserved = Math.max(0, this.reserved - count);
  }

  get visibilityTimeoutSeconds(): number | undefined {
    return this.state.visibilityTimeoutSeconds ?? undefined;
  }

  isLive(): boolean {
    if (this.sockets.expired(this)) {
      closeSocket(this.ws, LiveCloseCode.policy, "credential expired");
      return false;
    }
    return this.room > 0 && this.ws.readyState === WebSocketOpen;
  }

  deliver(result: Result<ReceivedMessage[]>): void {
    if (!result.ok) {
      closeSocket(this.ws, LiveCloseCode.deleted, result.error.message);
      return;
    }
    this.push(result.value);
  }

  /** Pushes messages claimed for the socket (here or in another partition), spending its credit. */
  push(messages: ReceivedMessage[]): void {
    this.state.credit -= messages.length;
    this.save();
    // A socket gone meanwhile leaves its messages claimed: they come back when their visibility ends.
    sendFrame(this.ws, { type: "messages", messages });
    if (this.state.credit > 0) this.sockets.queue(this);
  }

  save(): void {
    try {
      this.ws.serializeAttachment(this.state);
    } catch {
      // A socket closed meanwhile: nothing of it is kept.
    }
  }
}

/**
 * The queue's live sockets (`GET /v1/queues/{name}/live`), held with the WebSocket Hibernation API.
 * Credit and settings live in each socket's attachment, so after an eviction the object finds its
 * sockets again (`restore`) and keeps pushing to those with credit. On a queue of several
 * partitions the sockets stay in its home object (partition 0), fed from the other partitions by
 * `LivePartitionPump` and with their frames routed by `PartitionedLivePort`.
 */
export class LiveQueueSockets {
  private readonly byId = new Map<string, SocketWaiter>();
  private readonly sends: SendGatherer;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly waiters: Waiters,
    private readonly port: LiveQueuePort,
    private readonly clock: Clock,
  ) {
    this.sends = new SendGatherer(port);
  }

  /** Finds the sockets kept across an eviction; answers whether any has credit to push to. */
  restore(): boolean {
    let withCredit = false;
    for (const ws of this.ctx.getWebSockets(QueueSocketTag)) {
      const waiter = this.waiterOf(ws);
      if (waiter && waiter.state.credit > 0) {
        this.queue(waiter);
        withCredit = true;
      }
    }
    return withCredit;
  }

  /** Accepts an upgrade the service authorised; settings come from the service, not the client. */
  accept(request: Request): Response {
    if (!this.port.exists()) return refusal(ErrorCode.QueueNotFound, "queue does not exist");
    const settings = upgradeSettings(this.ctx, request, QueueSocketSettings, "queue");
    if (settings instanceof Response) return settings;
    const state: QueueSocketState = {
      kind: "queue",
      id: crypto.randomUUID(),
      grant: settings.grant,
      visibilityTimeoutSeconds: settings.options.visibilityTimeout ?? null,
      credit: 0,
    };
    const { client, server } = acceptSocket(this.ctx, state, [QueueSocketTag]);
    this.byId.set(state.id, new SocketWaiter(server, state, this));
    const { canReceive, canSend } = state.grant;
    sendFrame(server, { type: "ready", socket: state.id, canReceive, canSend, creditMax: LiveLimits.creditMax });
    return upgraded(client);
  }

  /** One frame from a client: answered by a frame; a bad one by an error frame, nothing changed. */
  async message(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const waiter = this.waiterOf(ws);
    if (!waiter) return;
    if (this.expired(waiter)) {
      closeSocket(ws, LiveCloseCode.policy, "credential expired");
      return;
    }
    const read = readFrame(message, QueueClientFrame);
    if (!read.ok) {
      refuseFrame(ws, read);
      return;
    }
    const frame = read.frame;
    const id = frame.id;
    try {
      const answer = await this.run(waiter, frame);
      if (answer) sendFrame(ws, answer);
      if (frame.type === "credit") this.port.wake(this.clock.nowMs());
    } catch (error) {
      sendFrame(ws, errorFrame(error, id));
    }
  }

  private async run(waiter: SocketWaiter, frame: QueueClientFrame): Promise<object> {
    const { grant } = waiter.state;
    if (frame.type === "send") {
      if (!grant.canSend) throw new ServiceError(ErrorCode.Forbidden, "this socket's credential may not send to the queue");
      return { type: "sent", id: frame.id, ids: unwrap(await this.sends.send({ messages: frame.messages, senderId: grant.senderId })).ids };
    }
    if (!grant.canReceive) throw new ServiceError(ErrorCode.Forbidden, "this socket's credential may not receive from the queue");
    switch (frame.type) {
      case "credit": {
        const credit = waiter.state.credit + frame.messages;
        if (credit > LiveLimits.creditMax) {
          throw new ServiceError(ErrorCode.InvalidParameter, `credit would be ${credit}; a socket holds at most ${LiveLimits.creditMax} unspent`);
        }
        waiter.state.credit = credit;
        waiter.save();
        this.queue(waiter);
        return frame.id === undefined ? { type: "credited", credit } : { type: "credited", id: frame.id, credit };
      }
      case "ack": {
        const [result] = unwrap(await this.port.deleteMessages([frame.receiptHandle]));
        if (result && !result.deleted) {
          throw new ServiceError(ErrorCode.ReceiptHandleInvalid, result.error?.message ?? "receipt handle refused");
        }
        return { type: "acked", id: frame.id };
      }
      case "nack": {
        const { nextVisibleAt } = unwrap(await this.port.changeVisibility(frame.receiptHandle, frame.delaySeconds ?? 0));
        return { type: "nacked", id: frame.id, nextVisibleAt };
      }
      case "extend": {
        const { nextVisibleAt } = unwrap(await this.port.changeVisibility(frame.receiptHandle, frame.visibilityTimeout));
        return { type: "extended", id: frame.id, nextVisibleAt };
      }
    }
  }

  /** A socket closed: it waits no more; what it held comes back when its visibility ends. */
  closed(ws: WebSocket, code?: number): void {
    const waiter = this.waiterOf(ws);
    if (waiter) {
      this.byId.delete(waiter.state.id);
      this.waiters.remove(waiter);
    }
    closeSocket(ws, code === undefined || code === 1005 || code === 1006 ? 1000 : code, "");
  }

  /** Every socket closes with 4404: the queue was deleted. */
  closeAll(reason: string): void {
    for (const ws of this.ctx.getWebSockets(QueueSocketTag)) closeSocket(ws, LiveCloseCode.deleted, reason);
    for (const waiter of this.byId.values()) this.waiters.remove(waiter);
    this.byId.clear();
  }

  /** The sockets that may be given messages now (credit left, open, credential valid), in the order they joined. */
  receivers(): SocketWaiter[] {
    return [...this.byId.values()].filter((waiter) => waiter.isLive());
  }

  /** Puts a socket with credit in line, unless it already is. */
  queue(waiter: SocketWaiter): void {
    if (!this.waiters.has(waiter)) this.waiters.add(waiter);
  }

  /** Whether receivers besides the one at the front of the line wait. */
  othersWaiting(): boolean {
    return this.waiters.size > 1;
  }

  expired(waiter: SocketWaiter): boolean {
    const { expiresAt } = waiter.state.grant;
    return expiresAt !== null && this.clock.nowMs() >= expiresAt;
  }

  /** The waiter of a socket, rebuilt from its attachment after an eviction. */
  private waiterOf(ws: WebSocket): SocketWaiter | null {
    const state = ws.deserializeAttachment() as QueueSocketState | null;
    if (!state || state.kind !== "queue") return null;
    let waiter = this.byId.get(state.id);
    if (!waiter) {
      waiter = new SocketWaiter(ws, state, this);
      this.byId.set(state.id, waiter);
    }
    waiter.ws = ws;
    return waiter;
  }
}
