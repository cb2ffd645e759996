import * as v from "valibot";
import { QueueLimits } from "../schema/queue";

export const integerIn = (range: { min: number; max: number }, description: string) =>
  v.pipe(v.number(), v.integer(), v.minValue(range.min), v.maxValue(range.max), v.description(description));

/** Listing queues or topics: a name prefix, a page size and the cursor of the previous page. */
export const ListOptions = v.strictObject({
  prefix: v.optional(v.pipe(v.string(), v.maxLength(QueueLimits.nameMaxLength), v.description("names starting with this"))),
  limit: v.optional(integerIn({ min: 1, max: QueueLimits.listMax }, "most entries in the page"), QueueLimits.listDefault),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(200), v.description("nextCursor of the previous page"))),
});
