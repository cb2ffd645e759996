import * as v from "valibot";
import { QueueLimits } from "../schema/queue";

export const integerIn = (range: { min: number; max: number }, description: string) =>
  v.pipe(v.number(), v.integer(), v.minValue(range.min), v.maxValue(range.max), v.description(description));

/**
 * Listing queues, topics or subscriptions: name filters, a page size, and either the cursor of the
 * previous page or an offset into the whole list. Answers carry the total the filters match.
 */
export const ListOptions = v.strictObject({
  prefix: v.optional(v.pipe(v.string(), v.maxLength(QueueLimits.nameMaxLength), v.description("names starting with this (case-insensitive)"))),
  search: v.optional(v.pipe(v.string(), v.maxLength(QueueLimits.nameMaxLength), v.description("names containing this anywhere (case-insensitive)"))),
  limit: v.optional(integerIn({ min: 1, max: QueueLimits.listMax }, "most entries in the page"), QueueLimits.listDefault),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(200), v.description("nextCursor of the previous page; not with offset"))),
  offset: v.optional(integerIn({ min: 0, max: QueueLimits.listOffsetMax }, "entries of the whole list to skip; not with cursor")),
});
