import * as v from "valibot";
import { QueueTags } from "../../schema/queue";
import type { SqsCall } from "./actions";
import { runForSqs } from "./catalog-call";
import { SqsWire, SqsWireError } from "./errors";
import { queueNameOf } from "./queue-url";
import type { SqsInput } from "./wire";

/** SQS's parameter for each input field of the tag operations, for error messages. */
const WireNames = { queue: "QueueUrl", tags: "Tags", keys: "TagKeys" };

const queueOf = (call: SqsCall, queueUrl: string) => queueNameOf(queueUrl, call.context.principal.account);

/**
 * CreateQueue's `tags`, checked by the catalog's own rules before the queue is created: a bad tag
 * is SQS's InvalidParameterValue, not an attribute error.
 */
export function checkCreateTags(tags: Record<string, string> | undefined): void {
  if (tags === undefined) return;
  const result = v.safeParse(QueueTags, tags);
  if (result.success) return;
  const issue = result.issues[0];
  const path = ["tags", ...(issue.path?.map((item) => String(item.key)) ?? [])].join(".");
  throw new SqsWireError(SqsWire.InvalidParameterValue, `Value for parameter ${path} is invalid. Reason: ${issue.message}.`);
}

/** TagQueue, UntagQueue and ListQueueTags translated onto the catalog's queue tag operations. */
export const queueTagActions = {
  async TagQueue(call: SqsCall, input: SqsInput<"TagQueue">) {
    await runForSqs(call, "tagQueue", { queue: queueOf(call, input.QueueUrl), tags: input.Tags }, WireNames);
    return {};
  },

  async UntagQueue(call: SqsCall, input: SqsInput<"UntagQueue">) {
    await runForSqs(call, "untagQueue", { queue: queueOf(call, input.QueueUrl), keys: input.TagKeys }, WireNames);
    return {};
  },

  async ListQueueTags(call: SqsCall, input: SqsInput<"ListQueueTags">) {
    const { tags } = await runForSqs(call, "listQueueTags", { queue: queueOf(call, input.QueueUrl) }, WireNames);
    return Object.keys(tags).length === 0 ? {} : { Tags: tags };
  },
};
