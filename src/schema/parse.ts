import * as v from "valibot";
import { ErrorCode, ServiceError } from "../errors";
import { illFormedTextPath } from "./text";

type Issue = v.BaseIssue<unknown>;

const keysOf = (issue: Issue): string[] => issue.path?.map((item) => String(item.key)) ?? [];
const pathOf = (issue: Issue): string => keysOf(issue).join(".");

/**
 * A union's own issue says little ("invalid type"); the alternative that got furthest says what is wrong.
 * An alternative's issues have paths relative to the union's input, so the union's own path is put in front.
 */
function mostSpecific(issue: Issue): { issue: Issue; path: string[] } {
  const own = keysOf(issue);
  if (!issue.issues || issue.issues.length === 0) return { issue, path: own };
  let best: { issue: Issue; path: string[] } | null = null;
  for (const inner of issue.issues) {
    const candidate = mostSpecific(inner);
    const path = [...own, ...candidate.path];
    if (!best || path.length > best.path.length) best = { issue: candidate.issue, path };
  }
  return best!;
}

/**
 * Validates input against a schema, or throws InvalidParameter naming the first problem and where.
 * Every string in the input, whatever the schema, must be well-formed Unicode.
 */
export function parse<TSchema extends v.GenericSchema>(
  schema: TSchema,
  input: unknown,
  where: string | WireLocator = "body",
): v.InferOutput<TSchema> {
  const locate: WireLocator = typeof where === "string" ? (keys) => (where ? [where, ...keys] : keys) : where;
  refuseArraysAsObjects(schema, input, [], locate);
  const illFormed = illFormedTextPath(input);
  if (illFormed) {
    const path = locate(illFormed).join(".");
    throw new ServiceError(
      ErrorCode.InvalidParameter,
      `${path ? `${path}: ` : ""}not well-formed Unicode (a lone UTF-16 surrogate cannot be stored)`,
      [{ path: illFormed.join("."), message: "not well-formed Unicode" }],
    );
  }
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const { issue, path: keys } = mostSpecific(result.issues[0]);
  const path = locate(keys).join(".");
  throw new ServiceError(
    ErrorCode.InvalidParameter,
    `${path ? `${path}: ` : ""}${issue.message}`,
    result.issues.map((each) => ({ path: pathOf(each), message: each.message })),
  );
}

/** Where a field of the input sits on the wire (`["limit"]` → `["query", "limit"]`), for error messages. */
export type WireLocator = (keys: string[]) => string[];

type SchemaNode = { type: string; entries?: Record<string, SchemaNode>; wrapped?: SchemaNode; item?: SchemaNode };

/**
 * Valibot's object schemas take any non-null object, arrays included: `[]` would pass as `{}`.
 * Walks the schema beside the input and refuses an array wherever an object is expected.
 */
function refuseArraysAsObjects(schema: SchemaNode, input: unknown, path: string[], locate: WireLocator): void {
  if (input === null || typeof input !== "object") return;
  if (schema.wrapped) return refuseArraysAsObjects(schema.wrapped, input, path, locate);
  if (schema.type === "strict_object" || schema.type === "object") {
    if (Array.isArray(input)) {
      const where = locate(path).join(".");
      throw new ServiceError(ErrorCode.InvalidParameter, `${where ? `${where}: ` : ""}expected an object but received an array`);
    }
    for (const [key, entry] of Object.entries(schema.entries ?? {})) {
      if (Object.hasOwn(input, key)) refuseArraysAsObjects(entry, (input as Record<string, unknown>)[key], [...path, key], locate);
    }
  } else if (schema.type === "array" && schema.item && Array.isArray(input)) {
    input.forEach((item, index) => refuseArraysAsObjects(schema.item!, item, [...path, String(index)], locate));
  }
}

/**
 * A body that is one message or a batch `{"messages": [...]}`, validated once against the shape
 * it claims (the presence of `messages`), so that errors name that shape's fields.
 */
export function parseOneOrBatch<TOne extends v.GenericSchema, TBatch extends v.GenericSchema>(
  one: TOne,
  batch: TBatch,
  input: unknown,
): { batch: boolean; messages: v.InferOutput<TOne>[] } {
  if (input !== null && typeof input === "object" && !Array.isArray(input) && "messages" in input) {
    return { batch: true, messages: (parse(batch, input) as { messages: v.InferOutput<TOne>[] }).messages };
  }
  return { batch: false, messages: [parse(one, input)] };
}
