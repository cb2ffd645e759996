import { TcWireError } from "./errors";

type SchemaNode = { type: string; entries?: Record<string, SchemaNode>; wrapped?: SchemaNode; item?: SchemaNode };

const setOwn = (target: object, key: string, value: unknown) =>
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });

/** The schema of the value at `keys` below `schema`, or null where the schema has none. */
function schemaAt(schema: SchemaNode | undefined, keys: readonly string[]): SchemaNode | null {
  let node = schema;
  for (const key of keys) {
    while (node?.wrapped) node = node.wrapped;
    if (!node) return null;
    if (node.type === "array") node = node.item;
    else if (node.type === "strict_object" || node.type === "object") node = Object.hasOwn(node.entries ?? {}, key) ? node.entries![key] : undefined;
    else return null;
  }
  while (node?.wrapped) node = node.wrapped;
  return node ?? null;
}

/** A query value as the type the schema expects there; left a string when it is not one, so validation names it. */
function typed(value: string, schema: SchemaNode | null): unknown {
  if (schema?.type === "number" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (schema?.type === "boolean" && (value === "true" || value === "false")) return value === "true";
  return value;
}

/**
 * Parameters as API 3.0 flattens them into a query or a form (`QueueNameList.0=a`,
 * `Tags.0.TagKey=k`), rebuilt into the JSON a POST would carry and typed by the action's schema.
 */
export function flatParameters(pairs: Iterable<readonly [string, string]>, schema: SchemaNode): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const [name, value] of pairs) {
    if (seen.has(name)) throw new TcWireError("InvalidParameter", `The parameter \`${name}\` is given more than once.`);
    seen.add(name);
    const keys = name.split(".");
    let node: Record<string, unknown> | unknown[] = root;
    keys.forEach((key, index) => {
      if (index === keys.length - 1) {
        setOwn(node, key, typed(value, schemaAt(schema, keys)));
        return;
      }
      const existing = Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
      if (existing !== undefined && (existing === null || typeof existing !== "object")) {
        throw new TcWireError("InvalidParameter", `The parameter \`${keys.slice(0, index + 1).join(".")}\` is given both as a value and as a list or object.`);
      }
      const child = existing ?? (/^\d+$/.test(keys[index + 1]!) ? [] : {});
      if (existing === undefined) setOwn(node, key, child);
      node = child as Record<string, unknown> | unknown[];
    });
  }
  return root;
}
