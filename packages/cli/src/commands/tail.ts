// edge-cmq tail: follow a queue or a topic, printing each message as it arrives.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { UsageError, command, listOption, type Context, type OptionSpecs } from "../args.js";
import { deleteOrFail, messageLine } from "./messages.js";

const PeekIntervalMs = 1_000;

const tailOptions = {
  topic: { type: "string", value: "topic", description: "follow this topic instead of a queue" },
  peek: { type: "boolean", description: "for a queue: read without receiving or deleting" },
  "filter-tag": { type: "string", multiple: true, value: "tag", description: "for a topic: only messages with one of these tags" },
  "binding-key": { type: "string", multiple: true, value: "key", description: "for a topic: only messages whose routing key matches" },
  wait: { type: "string", value: "seconds", integer: true, description: "long-poll wait of each receive (default 20)" },
} as const satisfies OptionSpecs;

type TailContext = Context<typeof tailOptions, readonly ["queue?"]>;

export const tailCommand = command({
  summary: "Follow a queue or a topic, printing each message as it arrives, until Ctrl-C",
  details: [
    "A queue is consumed: each message printed is deleted (acknowledged) after it is printed. With",
    "--peek nothing changes: stored messages are read in enqueue order, then new ones every second.",
    "",
    "A topic has no live feed yet: tail --topic creates a temporary queue (tail-<random>), subscribes",
    "it to the topic (filtered by --filter-tag or --binding-key), follows it, and deletes both when",
    "stopped (SIGINT, SIGTERM). Messages published before it started are not shown.",
    "",
    "--json prints one JSON line per message. Stopped by SIGINT it exits 130, by SIGTERM 143; when",
    "the reader of its output goes away (| head) it exits 0 and deletes nothing it could not print.",
  ].join("\n"),
  args: ["queue?"],
  options: tailOptions,
  run: async (context) => {
    const { args, values } = context;
    if ((args.queue === undefined) === (values.topic === undefined)) throw new UsageError("give a queue or --topic (one of them); see `edge-cmq tail --help`");
    if (values.topic !== undefined) {
      if (values.peek) throw new UsageError("--peek follows a queue; a topic is followed through a temporary queue");
      return tailTopic(context, values.topic);
    }
    if (values["filter-tag"] || values["binding-key"]) throw new UsageError("--filter-tag and --binding-key filter a topic");
    // One of the two was given, and it is not --topic.
    const queue = args.queue!;
    return values.peek ? peekQueue(context, queue) : consumeQueue(context, queue);
  },
});

const print = ({ emitLine }: TailContext, message: Parameters<typeof messageLine>[0]) => emitLine(message, messageLine);

/** Receives, prints, deletes, until the signal aborts; the receive under way is cancelled then. */
async function consumeQueue(context: TailContext, queue: string): Promise<void> {
  const { client, signal, values } = context;
  const waitSeconds = values.wait ?? 20;
  while (!signal.aborted) {
    let messages;
    try {
      ({ messages } = await client.receiveMessages({ queue, max: 16, waitSeconds }, { signal }));
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    for (const message of messages) print(context, message);
    // A write to a closed pipe fails on a later tick: wait for it, and leave those messages to come back.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (context.isOutputClosed) return;
    if (messages.length) await deleteOrFail(client, queue, messages.map((message) => message.receiptHandle));
  }
}

/**
 * Pages through the queue with peek, remembering the last page's cursor: a page without a next
 * cursor is read again from that cursor a second later, and what was printed from it is skipped.
 */
async function peekQueue(context: TailContext, queue: string): Promise<void> {
  const { client, signal } = context;
  let cursor: string | undefined;
  let printed = new Set<string>();
  while (!signal.aborted) {
    let page;
    try {
      page = await client.peekMessages({ queue, limit: 100, cursor }, { signal });
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    for (const message of page.messages) {
      // A deleted message is only kept for rewind: it is no longer in the queue.
      if (printed.has(message.id) || message.state === "deleted") continue;
      printed.add(message.id);
      print(context, message);
    }
    if (page.nextCursor) {
      cursor = page.nextCursor;
      printed = new Set();
      continue;
    }
    try {
      await sleep(PeekIntervalMs, undefined, { signal });
    } catch {
      return;
    }
  }
}

async function tailTopic(context: TailContext, topic: string): Promise<void> {
  const { client, values } = context;
  // Names are at most 64 characters and start with a letter; a random part keeps two tails apart.
  const name = `tail-${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await client.createQueue({ queue: name });
  try {
    await client.subscribe({
      topic,
      subscription: name,
      protocol: "queue",
      endpoint: name,
      filterTags: listOption(values["filter-tag"]),
      bindingKeys: listOption(values["binding-key"]),
    });
    try {
      if (!context.isJson) context.note(`following topic ${topic} through queue ${name}; Ctrl-C to stop`);
      await consumeQueue(context, name);
    } finally {
      await client.unsubscribe({ topic, subscription: name });
    }
  } finally {
    await client.deleteQueue({ queue: name });
  }
}
