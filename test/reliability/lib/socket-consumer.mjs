// A live-socket consumer for the crash test: it connects as a browser would (the token in the
// subprotocol offer; Node 22's global WebSocket), grants credit, records every pushed message,
// acks it and grants the credit back once the ack is answered. When the service dies under it, it
// connects again (the url changes on each restart) until told to stop.
import { sleep } from "./client.mjs";

const LiveProtocol = "edge-cmq.live.v1";
const Credit = 16;

/**
 * @param {{
 *   service: {url: string},
 *   queue: string,
 *   token: () => Promise<string>,
 *   onMessage: (message: any) => void,
 *   onAcked: (message: any) => void,
 *   countError: (kind: string) => void,
 *   stopped: () => boolean,
 * }} options
 * @returns {Promise<{connections: number, pushed: number}>}
 */
export async function socketConsumer({ service, queue, token, onMessage, onAcked, countError, stopped }) {
  let connections = 0;
  let pushed = 0;
  while (!stopped()) {
    let credential;
    try {
      credential = await token();
    } catch {
      await sleep(200);
      continue;
    }
    const url = `${service.url.replace(/^http/, "ws")}/v1/queues/${queue}/live`;
    await new Promise((resolve) => {
      let ws;
      try {
        ws = new WebSocket(url, [LiveProtocol, credential]);
      } catch {
        resolve();
        return;
      }
      const inFlight = new Map();
      let nextId = 0;
      const stopTimer = setInterval(() => {
        if (stopped()) ws.close(1000, "done");
      }, 200);
      ws.addEventListener("open", () => connections++);
      ws.addEventListener("message", (event) => {
        const frame = JSON.parse(String(event.data));
        if (frame.type === "ready") ws.send(JSON.stringify({ type: "credit", messages: Credit }));
        else if (frame.type === "messages") {
          for (const message of frame.messages) {
            pushed++;
            onMessage(message);
            const id = `a${nextId++}`;
            inFlight.set(id, message);
            ws.send(JSON.stringify({ type: "ack", id, receiptHandle: message.receiptHandle }));
          }
        } else if (frame.type === "acked") {
          onAcked(inFlight.get(frame.id));
          inFlight.delete(frame.id);
          ws.send(JSON.stringify({ type: "credit", messages: 1 }));
        } else if (frame.type === "error") {
          inFlight.delete(frame.id);
          // A handle expires when a restart outlasts the visibility timeout: the message comes back.
          if (frame.error.code !== "ReceiptHandleInvalid") countError(`socket ${frame.error.code}`);
          if (frame.id !== undefined) ws.send(JSON.stringify({ type: "credit", messages: 1 }));
        }
      });
      const finish = () => {
        clearInterval(stopTimer);
        resolve();
      };
      ws.addEventListener("close", finish);
      ws.addEventListener("error", () => {});
    });
    if (!stopped()) await sleep(200);
  }
  return { connections, pushed };
}
