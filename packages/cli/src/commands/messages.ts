// edge-cmq messages: send (an argument, a file, or standard input line by line), receive, peek, delete.
import { EdgeCmqError, type EdgeCmqClient, type OperationInput, type OperationOutput } from "@edge-cmq/client";
import { command, type Group } from "../args.js";
import { sendingCommand, table, time, type Column } from "./shared.js";

type SentMessage = OperationInput<"sendMessages">["messages"][number];
type ReceivedMessage = OperationOutput<"receiveMessages">["messages"][number];
type PeekedMessage = OperationOutput<"peekMessages">["messages"][number];

/** One received or peeked message on one line, for people (also what `tail` prints). */
export const messageLine = (message: { enqueuedAt: number; id: string; tags?: string[] | undefined; body: string }): string =>
  `${time(message.enqueuedAt)}  ${message.id}${message.tags?.length ? `  [${message.tags.join(",")}]` : ""}  ${message.body.replace(/\n/g, "\\n")}\n`;

export const messageCommands: Group = {
  summary: "Send, receive, peek at and delete messages",
  commands: {
    send: sendingCommand({
      verb: "send",
      target: "queue",
      options: { "delay-seconds": { type: "string", value: "seconds", integer: true, description: "receivable only after this long" } },
      toMessage: (values) => ({ delaySeconds: values["delay-seconds"] }),
      sendBatch: async (client: EdgeCmqClient, queue: string, messages: SentMessage[], signal: AbortSignal) => (await client.sendMessages({ queue, messages }, { signal })).messages,
    }),
    receive: command({
      summary: "Receive messages and print them; with --delete, delete those printed",
      details: "Without --delete, what is received stays hidden for the visibility timeout and comes back unless deleted by its receipt handle. --json prints one JSON line per message.",
      args: ["queue"],
      options: {
        max: { type: "string", value: "n", integer: true, description: "most messages (default 1, at most 16)" },
        wait: { type: "string", value: "seconds", integer: true, description: "wait up to this long for the first one (default: the queue's pollingWaitSeconds)" },
        "visibility-timeout": { type: "string", value: "seconds", integer: true, description: "hide them this long instead of the queue's default" },
        delete: { type: "boolean", description: "delete the messages once printed (acknowledge them)" },
      },
      run: async ({ client, args, values, print, emitLine, isJson, signal }) => {
        const { messages } = await client.receiveMessages(
          { queue: args.queue, max: values.max, waitSeconds: values.wait, visibilityTimeout: values["visibility-timeout"] },
          { signal },
        );
        if (!isJson && messages.length) print(table(messages, receivedColumns));
        if (isJson) for (const message of messages) emitLine(message, messageLine);
        if (values.delete && messages.length) {
          await deleteOrFail(client, args.queue, messages.map((message) => message.receiptHandle));
        }
      },
    }),
    peek: command({
      summary: "Look at stored messages in enqueue order without changing them",
      args: ["queue"],
      options: {
        limit: { type: "string", value: "n", integer: true, description: "most messages (default 16, at most 100)" },
        cursor: { type: "string", value: "cursor", description: "nextCursor of the previous page" },
      },
      run: async ({ client, args, values, emit, signal }) => {
        const page = await client.peekMessages({ queue: args.queue, limit: values.limit, cursor: values.cursor }, { signal });
        emit(page, () =>
          `${table<PeekedMessage>(page.messages, [
            ["ID", (message) => message.id],
            ["STATE", (message) => message.state],
            ["RECEIVES", (message) => message.receiveCount],
            ["ENQUEUED", (message) => time(message.enqueuedAt)],
            ["TAGS", (message) => message.tags],
            ["BODY", (message) => message.body],
          ])}${page.nextCursor ? `next page: --cursor ${page.nextCursor}\n` : ""}`,
        );
      },
    }),
    delete: command({
      summary: "Delete received messages by their receipt handles",
      args: ["queue", "receipt-handle..."],
      run: async ({ client, args, emit }) => {
        const results = await deleteOrFail(client, args.queue, args["receipt-handle"]);
        emit({ results }, () => `deleted ${results.length} messages\n`);
      },
    }),
  },
};

const receivedColumns: Column<ReceivedMessage>[] = [
  ["ID", (message) => message.id],
  ["RECEIVES", (message) => message.receiveCount],
  ["ENQUEUED", (message) => time(message.enqueuedAt)],
  ["TAGS", (message) => message.tags],
  ["BODY", (message) => message.body],
  ["RECEIPT-HANDLE", (message) => message.receiptHandle],
];

/**
 * Deletes by receipt handle, 16 a request; not given a signal, so messages already printed are
 * acknowledged even when the command is being stopped. Throws the first handle's error.
 */
export async function deleteOrFail(client: EdgeCmqClient, queue: string, receiptHandles: string[]): Promise<OperationOutput<"deleteMessages">["results"]> {
  const results: OperationOutput<"deleteMessages">["results"] = [];
  for (let start = 0; start < receiptHandles.length; start += 16) {
    results.push(...(await client.deleteMessages({ queue, receiptHandles: receiptHandles.slice(start, start + 16) })).results);
  }
  const failed = results.find((result) => !result.deleted);
  if (failed) {
    const code = failed.error?.code ?? "ReceiptHandleInvalid";
    throw new EdgeCmqError({ code, message: `${failed.error?.message ?? "not deleted"}: ${failed.receiptHandle}` });
  }
  return results;
}
