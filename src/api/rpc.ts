import { RpcTarget, WorkerEntrypoint } from "cloudflare:workers";
import { RootPrincipal, authenticate, requireConfigured, type Principal } from "../auth/authenticate";
import { ServiceError } from "../errors";
import { parse } from "../schema/parse";
import {
  ChangeVisibilityBody,
  CreateQueueBody,
  DeleteMessagesBody,
  ListQueuesQuery,
  OutgoingMessage,
  PeekQuery,
  ReceiveBody,
  RedriveBody,
  RewindBody,
  SendBatchBody,
  UpdateQueueBody,
  type DeleteResult,
  type PeekedMessage,
  type QueueInfo,
  type ReceivedMessage,
  type RedriveStatus,
} from "../schema/queue";
import { QueueOperations, scopeOf, type QueueList, type Scope } from "../service/queues";
import { TopicOperations, type TopicList } from "../service/topics";
import {
  CreateSubscriptionBody,
  CreateTopicBody,
  PublishBatchBody,
  PublishedMessage,
  UpdateSubscriptionBody,
  UpdateTopicBody,
  type SubscriptionInfo,
  type TopicInfo,
} from "../schema/topic";
import * as v from "valibot";

const ListOptions = v.strictObject({
  prefix: ListQueuesQuery.entries.prefix,
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))),
  cursor: ListQueuesQuery.entries.cursor,
});
const PeekOptions = v.strictObject({
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
  cursor: PeekQuery.entries.cursor,
});

/**
 * The operations over RPC, for one principal: the same operations as the REST API, with the same
 * validation, rights checks and error codes. An error reaches the caller as an Error named
 * "ServiceError" whose message starts with its code in brackets (`[QueueNotFound] ...`), because
 * workerd passes an error's name and message over RPC but not its other properties.
 */
export class QueueClient extends RpcTarget {
  constructor(
    private readonly env: Env,
    private readonly principal: Principal,
  ) {
    super();
  }

  private call<T>(operation: (queues: QueueOperations) => Promise<T>): Promise<T> {
    return this.run((scope) => operation(new QueueOperations(this.env, scope)));
  }

  private callTopics<T>(operation: (topics: TopicOperations) => Promise<T>): Promise<T> {
    return this.run((scope) => operation(new TopicOperations(this.env, scope)));
  }

  private async run<T>(operation: (scope: Scope) => Promise<T>): Promise<T> {
    return rpcErrors(async () => {
      requireConfigured(this.env);
      return operation(scopeOf(this.env, this.principal));
    });
  }

  createQueue(name: string, attributes: unknown = {}): Promise<{ created: boolean; queue: QueueInfo }> {
    return this.call((queues) => queues.createQueue(name, parse(CreateQueueBody, attributes, "attributes")));
  }

  getQueue(name: string): Promise<QueueInfo> {
    return this.call((queues) => queues.getQueue(name));
  }

  listQueues(options: unknown = {}): Promise<QueueList> {
    return this.call((queues) => queues.listQueues(parse(ListOptions, options, "options")));
  }

  updateQueue(name: string, attributes: unknown): Promise<QueueInfo> {
    return this.call((queues) => queues.updateQueue(name, parse(UpdateQueueBody, attributes, "attributes")));
  }

  deleteQueue(name: string): Promise<void> {
    return this.call((queues) => queues.deleteQueue(name));
  }

  /** Sends one message: `send("orders", "body")` or `send("orders", {body, delaySeconds, tags})`. */
  send(name: string, message: unknown): Promise<{ id: string }> {
    const input = typeof message === "string" ? { body: message } : message;
    return this.call(async (queues) => {
      const [id] = await queues.send(name, [parse(OutgoingMessage, input, "message")]);
      return { id: id! };
    });
  }

  sendBatch(name: string, messages: unknown): Promise<{ messages: Array<{ id: string }> }> {
    return this.call(async (queues) => {
      const batch = parse(SendBatchBody, { messages }, "batch");
      const ids = await queues.send(name, batch.messages);
      return { messages: ids.map((id) => ({ id })) };
    });
  }

  receive(name: string, options: unknown = {}): Promise<{ messages: ReceivedMessage[] }> {
    return this.call(async (queues) => {
      const request = parse(ReceiveBody, options, "options");
      const messages = await queues.receive(name, {
        max: request.max ?? 1,
        waitSeconds: request.waitSeconds,
        visibilityTimeout: request.visibilityTimeout,
      });
      return { messages };
    });
  }

  deleteMessage(name: string, receiptHandle: string): Promise<void> {
    return this.call((queues) => queues.deleteMessage(name, receiptHandle));
  }

  deleteMessages(name: string, receiptHandles: unknown): Promise<{ results: DeleteResult[] }> {
    return this.call(async (queues) => {
      const request = parse(DeleteMessagesBody, { receiptHandles }, "request");
      return { results: await queues.deleteMessages(name, request.receiptHandles) };
    });
  }

  changeVisibility(name: string, receiptHandle: string, visibilityTimeout: number): Promise<{ nextVisibleAt: number }> {
    return this.call((queues) => {
      const request = parse(ChangeVisibilityBody, { receiptHandle, visibilityTimeout }, "request");
      return queues.changeVisibility(name, request.receiptHandle, request.visibilityTimeout);
    });
  }

  peek(name: string, options: unknown = {}): Promise<{ messages: PeekedMessage[]; nextCursor: string | null }> {
    return this.call((queues) => queues.peek(name, parse(PeekOptions, options, "options")));
  }

  purge(name: string): Promise<{ purged: number }> {
    return this.call((queues) => queues.purge(name));
  }

  rewind(name: string, sinceMs: number): Promise<{ rewound: number }> {
    return this.call((queues) => queues.rewind(name, parse(RewindBody, { since: sinceMs }, "request").since));
  }

  startRedrive(name: string, options: unknown = {}): Promise<RedriveStatus> {
    return this.call((queues) => queues.startRedrive(name, parse(RedriveBody, options, "options")));
  }

  getRedrive(name: string): Promise<RedriveStatus> {
    return this.call((queues) => queues.getRedrive(name));
  }

  cancelRedrive(name: string): Promise<RedriveStatus> {
    return this.call((queues) => queues.cancelRedrive(name));
  }

  createTopic(name: string, attributes: unknown = {}): Promise<{ created: boolean; topic: TopicInfo }> {
    return this.callTopics((topics) => topics.createTopic(name, parse(CreateTopicBody, attributes, "attributes")));
  }

  getTopic(name: string): Promise<TopicInfo> {
    return this.callTopics((topics) => topics.getTopic(name));
  }

  listTopics(options: unknown = {}): Promise<TopicList> {
    return this.callTopics((topics) => topics.listTopics(parse(ListOptions, options, "options")));
  }

  updateTopic(name: string, attributes: unknown): Promise<TopicInfo> {
    return this.callTopics((topics) => topics.updateTopic(name, parse(UpdateTopicBody, attributes, "attributes")));
  }

  deleteTopic(name: string): Promise<void> {
    return this.callTopics((topics) => topics.deleteTopic(name));
  }

  /** Publishes one message: `publish("events", "body")` or `publish("events", {body, tags, routingKey})`. */
  publish(name: string, message: unknown): Promise<{ id: string }> {
    const input = typeof message === "string" ? { body: message } : message;
    return this.callTopics(async (topics) => {
      const [id] = await topics.publish(name, [parse(PublishedMessage, input, "message")]);
      return { id: id! };
    });
  }

  publishBatch(name: string, messages: unknown): Promise<{ messages: Array<{ id: string }> }> {
    return this.callTopics(async (topics) => {
      const batch = parse(PublishBatchBody, { messages }, "batch");
      const ids = await topics.publish(name, batch.messages);
      return { messages: ids.map((id) => ({ id })) };
    });
  }

  subscribe(topic: string, name: string, attributes: unknown): Promise<{ created: boolean; subscription: SubscriptionInfo }> {
    return this.callTopics((topics) =>
      topics.subscribe(topic, name, parse(CreateSubscriptionBody, attributes, "attributes")),
    );
  }

  getSubscription(topic: string, name: string): Promise<SubscriptionInfo> {
    return this.callTopics((topics) => topics.getSubscription(topic, name));
  }

  listSubscriptions(topic: string): Promise<{ subscriptions: SubscriptionInfo[] }> {
    return this.callTopics(async (topics) => ({ subscriptions: await topics.listSubscriptions(topic) }));
  }

  updateSubscription(topic: string, name: string, attributes: unknown): Promise<SubscriptionInfo> {
    return this.callTopics((topics) =>
      topics.updateSubscription(topic, name, parse(UpdateSubscriptionBody, attributes, "attributes")),
    );
  }

  unsubscribe(topic: string, name: string): Promise<void> {
    return this.callTopics((topics) => topics.unsubscribe(topic, name));
  }
}

async function rpcErrors<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof ServiceError) {
      const rpcError = new Error(`[${error.code}] ${error.message}`);
      rpcError.name = "ServiceError";
      throw rpcError;
    }
    throw error;
  }
}

/**
 * The service-binding entrypoint other Workers bind to (`"entrypoint": "QueueService"`). Its
 * operations act with the root credentials' rights in the default account, as whoever configures
 * the binding controls this deployment; `withKey` and `withToken` give a client limited to a key's
 * or a token's account and rights.
 */
export class QueueService extends WorkerEntrypoint<Env> {
  /** A client acting as the key with this secret, or the token (`cmqt.` ...), in its own account. */
  async withCredentials(secretOrToken: string): Promise<QueueClient> {
    return rpcErrors(async () => {
      const request = new Request("https://rpc.internal/", { headers: { authorization: `Bearer ${secretOrToken}` } });
      return new QueueClient(this.env, await authenticate(request, "", this.env));
    });
  }

  /** The root client; every other method of this entrypoint is this client's. */
  root(): QueueClient {
    return new QueueClient(this.env, RootPrincipal());
  }
}

type ClientMethods = { [K in keyof QueueClient]: QueueClient[K] };
export interface QueueService extends ClientMethods {}

// Every operation of QueueClient is also a method of the entrypoint, acting as root, so that
// `env.CMQ.send("orders", "hi")` works without first asking for a client.
for (const name of Object.getOwnPropertyNames(QueueClient.prototype)) {
  if (name === "constructor" || name.startsWith("call") || name === "run") continue;
  Object.defineProperty(QueueService.prototype, name, {
    value(this: QueueService, ...args: unknown[]) {
      const client = this.root() as unknown as Record<string, (...inner: unknown[]) => unknown>;
      return client[name]!(...args);
    },
    writable: true,
    configurable: true,
  });
}
