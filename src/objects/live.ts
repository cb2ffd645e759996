import * as v from "valibot";
import { ErrorCode, ServiceError, type ErrorCode as Code } from "../errors";
import { LiveCloseCode, LiveLimits, LiveProtocol } from "../schema/live";
import { parse } from "../schema/parse";

/** The header the service passes a socket's grant and options in, from the Worker to the object. */
export const LiveSettingsHeader = "x-edge-cmq-live";

/** An object's answer to an upgrade it refuses, rebuilt into a ServiceError by the service. */
export function refusal(code: Code, message: string): Response {
  return new Response(JSON.stringify({ code, message }), { status: 409, headers: { "content-type": "application/json" } });
}

/** The settings the service sent with an upgrade; null for a request that is not one. */
export function settingsOf(request: Request): unknown {
  if (request.headers.get("upgrade") !== "websocket") return null;
  return JSON.parse(request.headers.get(LiveSettingsHeader) ?? "null");
}

/** An object's answer to a request that is not an upgrade sent by the service. */
export const notAnUpgrade = () => refusal(ErrorCode.MalformedRequest, "an object answers only WebSocket upgrades sent by the service");

/** An upgrade's settings, as the service sent them; or the refusal when the object holds its most sockets or they are not the service's. */
export function upgradeSettings<T>(ctx: DurableObjectState, request: Request, schema: v.GenericSchema<unknown, T>, holder: "queue" | "topic"): T | Response {
  if (ctx.getWebSockets().length >= LiveLimits.socketsPerObject) {
    return refusal(ErrorCode.QuotaExceeded, `a ${holder} holds at most ${LiveLimits.socketsPerObject} live sockets`);
  }
  const parsed = v.safeParse(schema, settingsOf(request));
  return parsed.success ? parsed.output : notAnUpgrade();
}

/**
 * Accepts a socket for the WebSocket Hibernation API, so that an idle one costs nothing and
 * outlives the object's eviction; `attachment` is what the socket remembers across eviction.
 */
export function acceptSocket(ctx: DurableObjectState, attachment: object, tags: string[]): { client: WebSocket; server: WebSocket } {
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  ctx.acceptWebSocket(server, tags);
  server.serializeAttachment(attachment);
  // Answered by the runtime without waking the object.
  ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  return { client, server };
}

export function upgraded(client: WebSocket): Response {
  return new Response(null, { status: 101, webSocket: client, headers: { "sec-websocket-protocol": LiveProtocol } });
}

/** Sends one frame; a socket already gone is not an error (what it held comes back by visibility). */
export function sendFrame(ws: WebSocket, frame: object): boolean {
  try {
    ws.send(JSON.stringify(frame));
    return true;
  } catch {
    return false;
  }
}

export function closeSocket(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}

/** An error frame, answering the frame `id` when it had one. */
export function errorFrame(error: unknown, id?: string): object {
  const { code, message } =
    error instanceof ServiceError ? error : { code: ErrorCode.InternalError, message: "internal error" };
  return id === undefined ? { type: "error", error: { code, message } } : { type: "error", id, error: { code, message } };
}

/** A frame's size in bytes; text is encoded only when its length alone cannot tell (UTF-8 takes at most 3 bytes per UTF-16 unit). */
function frameBytes(message: string | ArrayBuffer): number {
  if (typeof message !== "string") return message.byteLength;
  return message.length * 3 <= LiveLimits.frameMaxBytes ? message.length : new TextEncoder().encode(message).byteLength;
}

export type FrameRead<T> = { ok: true; frame: T } | { ok: false; error: ServiceError; id?: string; tooBig?: boolean };

/**
 * Reads a client's frame: JSON text of at most `frameMaxBytes`, valid by `schema`. Whatever is
 * wrong is named with the REST API's codes (MalformedRequest, InvalidParameter).
 */
export function readFrame<T extends v.GenericSchema>(message: string | ArrayBuffer, schema: T): FrameRead<v.InferOutput<T>> {
  if (frameBytes(message) > LiveLimits.frameMaxBytes) {
    return { ok: false, tooBig: true, error: new ServiceError(ErrorCode.RequestTooLarge, `a frame is at most ${LiveLimits.frameMaxBytes} bytes`) };
  }
  if (typeof message !== "string") return { ok: false, error: new ServiceError(ErrorCode.MalformedRequest, "frames are JSON text, not binary") };
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    return { ok: false, error: new ServiceError(ErrorCode.MalformedRequest, "a frame is one JSON object") };
  }
  const id = raw !== null && typeof raw === "object" && typeof (raw as { id?: unknown }).id === "string" ? (raw as { id: string }).id : undefined;
  try {
    return { ok: true, frame: parse(schema, raw, "frame") };
  } catch (error) {
    return { ok: false, error: error as ServiceError, id };
  }
}

/** Closes a socket whose frame was too big, or answers an error frame: the socket stays open. */
export function refuseFrame(ws: WebSocket, read: Extract<FrameRead<unknown>, { ok: false }>): void {
  if (read.tooBig) closeSocket(ws, LiveCloseCode.tooBig, read.error.message);
  else sendFrame(ws, errorFrame(read.error, read.id));
}
