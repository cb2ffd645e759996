// edge-cmq queues: create, list, get, update, delete, purge, rewind, and redrive start/status/cancel.
import type { OperationInput, OperationOutput } from "@edge-cmq/client";
import { UsageError, command, parseTime, type Group, type OptionSpecs, type Values } from "../args.js";
import { deleted, deletedText, keyValues, listInput, listOptions, listing, time } from "./shared.js";

/** The attributes a create or an update sets. */
type Attributes = Omit<OperationInput<"updateQueue">, "queue">;

const attributeOptions = {
  "visibility-timeout": { type: "string", value: "seconds", integer: true, description: "how long a received message stays hidden (default 30)" },
  "polling-wait-seconds": { type: "string", value: "seconds", integer: true, description: "default long-poll wait of a receive (default 0)" },
  "max-msg-size": { type: "string", value: "bytes", integer: true, description: "largest message body (default 65536)" },
  "retention-seconds": { type: "string", value: "seconds", integer: true, description: "how long a message is kept (default 345600)" },
  "rewind-seconds": { type: "string", value: "seconds", integer: true, description: "how long deleted messages stay rewindable (0: off)" },
  "max-messages": { type: "string", value: "n", integer: true, description: "most messages the queue holds" },
  "dead-letter-queue": { type: "string", value: "queue", description: "move messages that fail here (with one of the next two)" },
  "max-receive-count": { type: "string", value: "n", integer: true, description: "... after this many receives without a delete" },
  "max-time-to-live": { type: "string", value: "seconds", integer: true, description: "... when not deleted this long after enqueue" },
} as const satisfies OptionSpecs;

const noDeadLetter = { type: "boolean", description: "remove the dead-letter policy" } as const satisfies OptionSpecs[string];

function attributesOf(values: Values<typeof attributeOptions & { "no-dead-letter"?: typeof noDeadLetter }>): Attributes {
  const attributes: Attributes = {
    visibilityTimeout: values["visibility-timeout"],
    pollingWaitSeconds: values["polling-wait-seconds"],
    maxMsgSize: values["max-msg-size"],
    msgRetentionSeconds: values["retention-seconds"],
    rewindSeconds: values["rewind-seconds"],
    maxMsgHeapNum: values["max-messages"],
  };
  if (values["no-dead-letter"]) attributes.deadLetter = null;
  const deadLetterQueue = values["dead-letter-queue"];
  const bound = values["max-receive-count"] !== undefined || values["max-time-to-live"] !== undefined;
  if (deadLetterQueue === undefined && bound) throw new UsageError("--max-receive-count and --max-time-to-live need --dead-letter-queue");
  if (deadLetterQueue !== undefined) {
    if (values["no-dead-letter"]) throw new UsageError("--dead-letter-queue and --no-dead-letter contradict each other");
    attributes.deadLetter =
      values["max-time-to-live"] !== undefined
        ? { queue: deadLetterQueue, maxTimeToLive: values["max-time-to-live"] }
        : { queue: deadLetterQueue, maxReceiveCount: values["max-receive-count"] ?? 5 };
  }
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined));
}

const queueText = (queue: object) => keyValues(queue);
const redriveText = (redrive: object) => keyValues(redrive);

const redriveCommands: Group = {
  summary: "Move the messages of a dead-letter queue back to their source queues (or elsewhere)",
  commands: {
    start: command({
      summary: "Start moving the queue's messages to their source queues, or to --destination",
      args: ["queue"],
      options: {
        destination: { type: "string", value: "queue", description: "move them here instead of where they came from" },
        "max-per-second": { type: "string", value: "n", integer: true, description: "messages moved per second (default 100, at most 500)" },
        "max-messages": { type: "string", value: "n", integer: true, description: "stop after this many" },
      },
      run: async ({ client, args, values, emit, signal }) =>
        emit(
          await client.startRedrive(
            { queue: args.queue, destination: values.destination, maxPerSecond: values["max-per-second"], maxMessages: values["max-messages"] },
            { signal },
          ),
          redriveText,
        ),
    }),
    status: command({
      summary: "The latest redrive's progress",
      args: ["queue"],
      run: async ({ client, args, emit, signal }) => emit(await client.getRedrive({ queue: args.queue }, { signal }), redriveText),
    }),
    cancel: command({
      summary: "Stop a running redrive; messages already moved stay moved",
      args: ["queue"],
      run: async ({ client, args, emit, signal }) => emit(await client.cancelRedrive({ queue: args.queue }, { signal }), redriveText),
    }),
  },
};

export const queueCommands: Group = {
  summary: "Create, inspect, change and delete queues",
  commands: {
    list: command({
      summary: "List queues",
      options: listOptions,
      run: async ({ client, values, emit, signal }) => {
        const page = await client.listQueues(listInput(values), { signal });
        emit(page, () =>
          listing<OperationOutput<"listQueues">["queues"][number]>(
            page.queues,
            [
              ["NAME", (queue) => queue.name],
              ["VISIBILITY", (queue) => `${queue.visibilityTimeout}s`],
              ["RETENTION", (queue) => `${queue.msgRetentionSeconds}s`],
              ["DEAD-LETTER", (queue) => queue.deadLetter?.queue],
              ["CREATED", (queue) => time(queue.createdAt)],
            ],
            page,
          ),
        );
      },
    }),
    create: command({
      summary: "Create a queue (an identical one existing is fine; one with other attributes is a conflict)",
      args: ["queue"],
      options: {
        ...attributeOptions,
        "location-hint": { type: "string", value: "hint", description: "where the queue lives: wnam, enam, sam, weur, eeur, apac, oc, afr, me" },
      },
      run: async ({ client, args, values, emit, signal }) => {
        // Passed as given: the service checks it.
        const locationHint = values["location-hint"] as OperationInput<"createQueue">["locationHint"];
        const result = await client.createQueue({ queue: args.queue, ...attributesOf(values), locationHint }, { signal });
        emit(result, () => `${result.created ? "created" : "exists, identical:"} queue ${result.queue.name}\n`);
      },
    }),
    get: command({
      summary: "A queue's attributes and message counts",
      args: ["queue"],
      run: async ({ client, args, emit, signal }) => emit(await client.getQueue({ queue: args.queue }, { signal }), queueText),
    }),
    update: command({
      summary: "Change a queue's attributes; those not given keep their value",
      args: ["queue"],
      options: { ...attributeOptions, "no-dead-letter": noDeadLetter },
      run: async ({ client, args, values, emit, signal }) => {
        const attributes = attributesOf(values);
        if (Object.keys(attributes).length === 0) throw new UsageError("nothing to change; see `edge-cmq queues update --help`");
        emit(await client.updateQueue({ queue: args.queue, ...attributes }, { signal }), queueText);
      },
    }),
    delete: command({
      summary: "Delete a queue and every message in it",
      args: ["queue"],
      run: async ({ client, args, emit, signal }) => {
        await client.deleteQueue({ queue: args.queue }, { signal });
        emit(deleted("queue", args.queue), deletedText);
      },
    }),
    purge: command({
      summary: "Delete every message of a queue",
      args: ["queue"],
      run: async ({ client, args, emit, signal }) => {
        const result = await client.purgeQueue({ queue: args.queue }, { signal });
        emit(result, () => `purged ${result.purged} messages from ${args.queue}\n`);
      },
    }),
    rewind: command({
      summary: "Make every message enqueued since a time receivable again (needs --rewind-seconds on the queue)",
      args: ["queue"],
      options: { since: { type: "string", value: "time", description: "Unix ms, an ISO date, or an age back from now: 90s, 15m, 2h, 1d (required)" } },
      run: async ({ client, args, values, emit, signal }) => {
        if (values.since === undefined) throw new UsageError("missing --since; see `edge-cmq queues rewind --help`");
        const result = await client.rewindQueue({ queue: args.queue, since: parseTime(values.since, "since") }, { signal });
        emit(result, () => `rewound ${result.rewound} messages of ${args.queue}\n`);
      },
    }),
    redrive: redriveCommands,
  },
};
