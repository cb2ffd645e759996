import type { GenericSchema, InferOutput } from "valibot";
import { EdgeCmqError } from "@edge-cmq/client";
import { ServiceError } from "../../src/errors";
import { parse } from "../../src/schema/parse";

/**
 * Validates a form's input with the API's own schema and its own parse, so that the console refuses
 * exactly what the API refuses, with the same message, before anything is sent.
 */
export function check<TSchema extends GenericSchema>(schema: TSchema, input: unknown): InferOutput<TSchema> {
  return parse(schema, input, "");
}

/** The message to show for a failed action: the API's (or the schema's) own words and code. */
export function messageOf(error: unknown): string {
  if (error instanceof ServiceError) return error.message;
  if (error instanceof EdgeCmqError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

type SchemaNode = {
  type: string;
  wrapped?: SchemaNode;
  entries?: Record<string, SchemaNode>;
  pipe?: Array<{ type: string; requirement?: unknown; description?: string }>;
  options?: unknown[];
};

/** A field's explanation from its schema: the description and the bounds the API enforces. */
export function explain(schema: GenericSchema, field: string): string {
  let node = (schema as unknown as SchemaNode).entries?.[field];
  while (node?.wrapped) node = node.wrapped;
  if (!node) return "";
  const pipe = node.pipe ?? [];
  const description = pipe.find((item) => item.type === "description")?.description ?? "";
  const min = pipe.find((item) => item.type === "min_value")?.requirement;
  const max = pipe.find((item) => item.type === "max_value")?.requirement;
  const range = min !== undefined && max !== undefined ? `${Number(min).toLocaleString("en")} to ${Number(max).toLocaleString("en")}` : "";
  return [description, range].filter(Boolean).join("; ");
}
