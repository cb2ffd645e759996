import { WorkerEntrypoint } from "cloudflare:workers";
import { requireConfigured, rootScope } from "../auth/root";
import { QueueError } from "../errors";
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
import { QueueOperations, type QueueList } from "../service/queues";
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
 * The service-binding interface: other Workers bind to it (`entrypoint = "QueueService"`) and call
 * the same operations as the REST API, with the same validation and error codes. An error reaches
 * the caller as an Error whose message starts with its code in brackets (`[QueueNotFound] ...`),
 * because workerd passes an error's message over RPC but not its other properties.
 */
export class QueueService extends WorkerEntrypoint<Env> {
  private async call<T>(operation: (queues: QueueOperations) => Promise<T>): Promise<T> {
    try {
      requireConfigured(this.env);
      return await operation(new QueueOperations(this.env, rootScope(this.env)));
    } catch (error) {
      if (error instanceof QueueError) {
        const rpcError = new Error(`[${error.code}] ${error.message}`);
        rpcError.name = "QueueError";
        throw rpcError;
      }
      throw error;
    }
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
}
