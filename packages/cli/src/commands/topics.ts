// edge-cmq topics (create, list, get, delete, publish) and subscriptions (create, list, get, delete).
import type { EdgeCmqClient, OperationInput, OperationOutput } from "@edge-cmq/client";
import { UsageError, command, listOption, type Group } from "../args.js";
import { deleted, deletedText, keyValues, listInput, listOptions, listing, sendingCommand, time, type Column } from "./shared.js";

type SubscribeInput = OperationInput<"subscribe">;
type PublishedMessage = OperationInput<"publishMessages">["messages"][number];

const subscriptionColumns: Column<OperationOutput<"listSubscriptions">["subscriptions"][number]>[] = [
  ["NAME", (subscription) => subscription.name],
  ["PROTOCOL", (subscription) => subscription.protocol],
  ["ENDPOINT", (subscription) => subscription.endpoint],
  ["FILTER-TAGS", (subscription) => subscription.filterTags],
  ["BINDING-KEYS", (subscription) => subscription.bindingKeys],
  ["DELIVERED", (subscription) => subscription.stats.delivered],
];

const subscribe = command({
  summary: "Subscribe a queue (--queue) or an endpoint (--protocol with --target) to a topic",
  args: ["topic", "subscription"],
  options: {
    queue: { type: "string", value: "queue", description: "deliver to this queue (protocol queue)" },
    protocol: { type: "string", value: "protocol", description: "queue, http, https or worker" },
    target: { type: "string", value: "target", description: "where to deliver: the queue's name, the URL, or the Worker's name" },
    "filter-tag": { type: "string", multiple: true, value: "tag", description: "only messages with one of these tags (topics filtered by tag)" },
    "binding-key": { type: "string", multiple: true, value: "key", description: "only messages whose routing key matches (topics filtered by routing key)" },
    format: { type: "string", value: "format", description: "JSON (an envelope) or SIMPLIFIED (the body alone)" },
  },
  run: async ({ client, args, values, emit, signal }) => {
    const target = subscriptionTarget(values);
    const result = await client.subscribe(
      {
        topic: args.topic,
        subscription: args.subscription,
        ...target,
        filterTags: listOption(values["filter-tag"]),
        bindingKeys: listOption(values["binding-key"]),
        // Passed as given: the service checks it.
        notifyContentFormat: values.format as SubscribeInput["notifyContentFormat"],
      },
      { signal },
    );
    emit(result, () => `${result.created ? "subscribed" : "exists, identical:"} ${result.subscription.name} (${result.subscription.protocol} ${result.subscription.endpoint}) to ${args.topic}\n`);
  },
});

function subscriptionTarget(values: { queue?: string | undefined; protocol?: string | undefined; target?: string | undefined }): Pick<SubscribeInput, "protocol" | "endpoint"> {
  if (values.queue !== undefined) {
    if (values.target !== undefined || (values.protocol !== undefined && values.protocol !== "queue")) throw new UsageError("--queue is a target of its own: not with --target or another --protocol");
    return { protocol: "queue", endpoint: values.queue };
  }
  if (values.protocol === undefined || values.target === undefined) throw new UsageError("give --queue, or --protocol with --target; see `edge-cmq subscriptions create --help`");
  // Passed as given: the service checks it.
  return { protocol: values.protocol as SubscribeInput["protocol"], endpoint: values.target };
}

const unsubscribe = command({
  summary: "Remove a subscription",
  args: ["topic", "subscription"],
  run: async ({ client, args, emit, signal }) => {
    await client.unsubscribe({ topic: args.topic, subscription: args.subscription }, { signal });
    emit(deleted("subscription", args.subscription), deletedText);
  },
});

export const topicCommands: Group = {
  summary: "Create, inspect and delete topics; publish to them; subscribe to them",
  commands: {
    list: command({
      summary: "List topics",
      options: listOptions,
      run: async ({ client, values, emit, signal }) => {
        const page = await client.listTopics(listInput(values), { signal });
        emit(page, () =>
          listing<OperationOutput<"listTopics">["topics"][number]>(
            page.topics,
            [
              ["NAME", (topic) => topic.name],
              ["FILTER", (topic) => topic.filterType],
              ["RETENTION", (topic) => `${topic.msgRetentionSeconds}s`],
              ["CREATED", (topic) => time(topic.createdAt)],
            ],
            page,
          ),
        );
      },
    }),
    create: command({
      summary: "Create a topic (an identical one existing is fine)",
      args: ["topic"],
      options: {
        "filter-type": { type: "string", value: "type", description: "tag (default) or routingKey: how subscriptions filter" },
        "max-msg-size": { type: "string", value: "bytes", integer: true, description: "largest message body (default 65536)" },
        "retention-seconds": { type: "string", value: "seconds", integer: true, description: "how long the topic keeps its copy (default 86400)" },
      },
      run: async ({ client, args, values, emit, signal }) => {
        // Passed as given: the service checks it.
        const filterType = values["filter-type"] as OperationInput<"createTopic">["filterType"];
        const result = await client.createTopic(
          { topic: args.topic, filterType, maxMsgSize: values["max-msg-size"], msgRetentionSeconds: values["retention-seconds"] },
          { signal },
        );
        emit(result, () => `${result.created ? "created" : "exists, identical:"} topic ${result.topic.name}\n`);
      },
    }),
    get: command({
      summary: "A topic's attributes and counts",
      args: ["topic"],
      run: async ({ client, args, emit, signal }) => emit(await client.getTopic({ topic: args.topic }, { signal }), keyValues),
    }),
    delete: command({
      summary: "Delete a topic and its subscriptions",
      args: ["topic"],
      run: async ({ client, args, emit, signal }) => {
        await client.deleteTopic({ topic: args.topic }, { signal });
        emit(deleted("topic", args.topic), deletedText);
      },
    }),
    publish: sendingCommand({
      verb: "publish",
      target: "topic",
      options: { "routing-key": { type: "string", value: "key", description: "the routing key (topics filtered by routing key)" } },
      toMessage: (values) => ({ routingKey: values["routing-key"] }),
      sendBatch: async (client: EdgeCmqClient, topic: string, messages: PublishedMessage[], signal: AbortSignal) => (await client.publishMessages({ topic, messages }, { signal })).messages,
    }),
    subscribe,
    unsubscribe,
  },
};

export const subscriptionCommands: Group = {
  summary: "A topic's subscriptions: list, inspect, create, delete",
  commands: {
    list: command({
      summary: "List a topic's subscriptions",
      args: ["topic"],
      options: listOptions,
      run: async ({ client, args, values, emit, signal }) => {
        const page = await client.listSubscriptions({ topic: args.topic, ...listInput(values) }, { signal });
        emit(page, () => listing(page.subscriptions, subscriptionColumns, page));
      },
    }),
    get: command({
      summary: "A subscription's attributes and delivery statistics",
      args: ["topic", "subscription"],
      run: async ({ client, args, emit, signal }) => emit(await client.getSubscription({ topic: args.topic, subscription: args.subscription }, { signal }), keyValues),
    }),
    create: subscribe,
    delete: unsubscribe,
  },
};
