import * as v from "valibot";
import { QueueName } from "../schema/queue";
import { ConsumerResult, ConsumerSettingsBody } from "../schema/queue-consumer";
import { QueueConsumerOperations } from "../service/queue-consumer";
import { operation, type OperationContext } from "./operation";

const queue = { queue: QueueName };
const onQueue = (action: "manage" | "read") =>
  ({ kind: "resource", action, resource: (input: { queue: string }) => `queue:${input.queue}` }) as const;
const consumers = (context: OperationContext) => new QueueConsumerOperations(context.env, context.scope);

/** A queue's consumer Worker: batches pushed through a service binding, acked or retried per message. */
export const queueConsumerOperations = {
  setQueueConsumer: operation({
    group: "consumers",
    summary: "Set the Worker (a service binding) the queue pushes batches to; also needs `receive` on the queue",
    input: v.strictObject({ ...queue, ...ConsumerSettingsBody.entries }),
    output: v.object({ created: v.boolean(), consumer: ConsumerResult }),
    access: onQueue("manage"),
    errors: ["QueueNotFound"],
    run: (context, { queue: name, ...settings }) => consumers(context).setConsumer(name, settings),
  }),
  getQueueConsumer: operation({
    group: "consumers",
    summary: "The queue's consumer: settings, paused or not, and counters",
    input: v.strictObject(queue),
    output: ConsumerResult,
    access: onQueue("read"),
    errors: ["QueueNotFound", "ConsumerNotFound"],
    run: (context, input) => consumers(context).getConsumer(input.queue),
  }),
  deleteQueueConsumer: operation({
    group: "consumers",
    summary: "Remove the queue's consumer; batches in flight still settle",
    input: v.strictObject(queue),
    output: null,
    access: onQueue("manage"),
    errors: ["QueueNotFound", "ConsumerNotFound"],
    run: (context, input) => consumers(context).deleteConsumer(input.queue),
  }),
  pauseQueueConsumer: operation({
    group: "consumers",
    summary: "Stop delivering to the consumer; sends go on and messages wait",
    input: v.strictObject(queue),
    output: ConsumerResult,
    access: onQueue("manage"),
    errors: ["QueueNotFound", "ConsumerNotFound"],
    run: (context, input) => consumers(context).pauseConsumer(input.queue, true),
  }),
  resumeQueueConsumer: operation({
    group: "consumers",
    summary: "Deliver to the consumer again",
    input: v.strictObject(queue),
    output: ConsumerResult,
    access: onQueue("manage"),
    errors: ["QueueNotFound", "ConsumerNotFound"],
    run: (context, input) => consumers(context).pauseConsumer(input.queue, false),
  }),
};
