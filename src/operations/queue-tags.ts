import * as v from "valibot";
import { QueueLimits, QueueName, QueueTags } from "../schema/queue";
import { QueueTagsAnswer } from "../schema/results";
import { operation } from "./operation";

const queue = { queue: QueueName };
const onQueue = (action: "manage" | "read") =>
  ({ kind: "resource", action, resource: (input: { queue: string }) => `queue:${input.queue}` }) as const;

/** Queue tags (SQS TagQueue, UntagQueue, ListQueueTags): labels for the owner, no effect on messages. */
export const queueTagOperations = {
  tagQueue: operation({
    group: "queues",
    summary: `Add or replace tags on a queue; it holds at most ${QueueLimits.queueTagsMax}`,
    input: v.strictObject({
      ...queue,
      tags: v.pipe(QueueTags, v.check((tags) => Object.keys(tags).length > 0, "give at least 1 tag")),
    }),
    output: QueueTagsAnswer,
    access: onQueue("manage"),
    errors: ["QueueNotFound"],
    run: ({ queues }, input) => queues.tagQueue(input.queue, input.tags),
  }),
  untagQueue: operation({
    group: "queues",
    summary: "Remove tags from a queue by key; keys it does not have are ignored",
    input: v.strictObject({
      ...queue,
      keys: v.pipe(
        v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(QueueLimits.queueTagKeyMaxLength))),
        v.minLength(1, "give at least 1 key"),
        v.maxLength(QueueLimits.queueTagsMax, `give at most ${QueueLimits.queueTagsMax} keys`),
      ),
    }),
    output: QueueTagsAnswer,
    access: onQueue("manage"),
    errors: ["QueueNotFound"],
    run: ({ queues }, input) => queues.untagQueue(input.queue, input.keys),
  }),
  listQueueTags: operation({
    group: "queues",
    summary: "A queue's tags",
    input: v.strictObject(queue),
    output: QueueTagsAnswer,
    access: onQueue("read"),
    errors: ["QueueNotFound"],
    run: ({ queues }, input) => queues.listQueueTags(input.queue),
  }),
};
