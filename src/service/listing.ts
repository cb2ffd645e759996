import { ErrorCode, ServiceError } from "../errors";
import { decodeCursor, encodeCursor } from "./cursor";

/** What every listing takes: a prefix or substring filter, a page size, and a cursor or an offset. */
export interface ListQuery {
  prefix?: string;
  search?: string;
  limit: number;
  cursor?: string;
  offset?: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  nextCursor: string | null;
}

/**
 * One page of a full, name-ordered list the caller may read: the page after the cursor's name, or
 * the page at `offset` (what offset-paged protocols such as CMQ's need), with the list's total.
 * Pages are full whatever the caller's rights, because rights are applied before paging.
 */
export function pageOf<T>(items: readonly T[], nameOf: (item: T) => string, query: ListQuery): Page<T> {
  if (query.cursor !== undefined && query.offset !== undefined) {
    throw new ServiceError(ErrorCode.InvalidParameter, "cursor and offset cannot both be given: page by one of them");
  }
  let start = query.offset ?? 0;
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor).toLowerCase();
    const next = items.findIndex((item) => nameOf(item).toLowerCase() > after);
    start = next < 0 ? items.length : next;
  }
  const page = items.slice(start, start + query.limit);
  const more = start + page.length < items.length;
  return {
    items: page,
    total: items.length,
    nextCursor: more && page.length > 0 ? encodeCursor(nameOf(page[page.length - 1]!).toLowerCase()) : null,
  };
}

/** Whether a name passes a listing's prefix and substring filters, compared without regard to case. */
export function matchesFilter(name: string, query: Pick<ListQuery, "prefix" | "search">): boolean {
  const key = name.toLowerCase();
  return key.startsWith((query.prefix ?? "").toLowerCase()) && key.includes((query.search ?? "").toLowerCase());
}
