import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { LiveProtocol } from "../../src/schema/live";
import { api, RootSecretKey } from "../support/http";

export type Frame = Record<string, any>;

/** How long a test waits for a frame the object owes it before failing (a guard against hanging, not a timing). */
const FrameWaitMs = 5_000;

/**
 * A test's end of a live socket: frames arrive into a list; `next` takes the next one of a type,
 * failing the test if it does not come.
 */
export class LiveClient {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | null = null;
  private listeners: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (event) => {
      this.frames.push(JSON.parse(event.data as string) as Frame);
      this.notify();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.notify();
    });
  }

  private notify(): void {
    for (const listener of this.listeners.splice(0)) listener();
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits until `accept` holds for the state, or fails after `FrameWaitMs`. */
  async until<T>(accept: () => T | undefined, what: string): Promise<T> {
    const deadline = Date.now() + FrameWaitMs;
    for (;;) {
      const found = accept();
      if (found !== undefined) return found;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new Error(`no ${what} arrived; frames so far: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remainingMs);
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Takes (removes) the first frame of `type` (and `id`, when given). */
  take(type: string, id?: string): Promise<Frame> {
    return this.until(() => {
      const index = this.frames.findIndex((frame) => frame.type === type && (id === undefined || frame.id === id));
      return index < 0 ? undefined : this.frames.splice(index, 1)[0];
    }, `${type} frame${id ? ` ${id}` : ""}`);
  }

  /** Sends a frame with `id` and takes its answer (or error frame). */
  async call(frame: Frame): Promise<Frame> {
    this.send(frame);
    return this.until(() => {
      const index = this.frames.findIndex((each) => each.id === frame.id);
      return index < 0 ? undefined : this.frames.splice(index, 1)[0];
    }, `answer to ${frame.id}`);
  }

  /** Takes pushed messages until `count` have come. */
  async messages(count: number): Promise<Frame[]> {
    const taken: Frame[] = [];
    while (taken.length < count) taken.push(...(await this.take("messages")).messages);
    return taken;
  }

  waitClosed(): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closed ?? undefined, "close");
  }

  close(): void {
    this.ws.close(1000, "done");
  }
}

export interface Upgrade {
  status: number;
  body: any;
  protocol: string | null;
  client: LiveClient | null;
}

/** Opens `path` as a browser would: the token (if any) in the subprotocol offer, no headers. */
export async function connect(
  path: string,
  options: { token?: string; protocols?: string[]; headers?: Record<string, string> } = {},
): Promise<Upgrade> {
  const protocols = options.protocols ?? [LiveProtocol, ...(options.token ? [options.token] : [])];
  const headers = new Headers({ upgrade: "websocket", ...options.headers });
  if (protocols.length > 0) headers.set("sec-websocket-protocol", protocols.join(", "));
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(new Request(`http://cmq.test${path}`, { headers }));
  if (!response.webSocket) {
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, protocol: null, client: null };
  }
  const client = new LiveClient(response.webSocket);
  return { status: response.status, body: undefined, protocol: response.headers.get("sec-websocket-protocol"), client };
}

/** Opens a socket that must be accepted, and waits for its `ready` frame. */
export async function openLive(path: string, options: { token?: string; headers?: Record<string, string> } = {}): Promise<LiveClient> {
  const upgrade = await connect(path, options.token || options.headers ? options : { headers: { authorization: `Bearer ${RootSecretKey}` } });
  expect(upgrade.status, JSON.stringify(upgrade.body)).toBe(101);
  await upgrade.client!.take("ready");
  return upgrade.client!;
}

export async function mintToken(actions: string[], resources: string[], ttlSeconds?: number): Promise<string> {
  const response = await api("POST", "/v1/tokens", { actions, resources, ...(ttlSeconds ? { ttlSeconds } : {}) });
  expect(response.status).toBe(201);
  return response.body.token as string;
}

export async function createQueue(name: string, attributes: Record<string, unknown> = {}): Promise<string> {
  expect((await api("PUT", `/v1/queues/${name}`, attributes)).status).toBe(201);
  return name;
}

export async function sendBodies(queue: string, ...bodies: string[]): Promise<string[]> {
  const response = await api("POST", `/v1/queues/${queue}/messages`, { messages: bodies.map((body) => ({ body })) });
  expect(response.status).toBe(200);
  return response.body.messages.map((m: { id: string }) => m.id);
}

export async function counts(queue: string): Promise<Record<string, number>> {
  return (await api("GET", `/v1/queues/${queue}`)).body.counts;
}
