// Options and renderings that several command groups share.
import { createInterface } from "node:readline";
import { UsageError } from "../args.js";
import { keyValues, table, time } from "../output.js";

export const listOptions = {
  prefix: { type: "string", value: "text", description: "names starting with this" },
  search: { type: "string", value: "text", description: "names containing this" },
  limit: { type: "string", value: "n", integer: true, description: "most entries (default 100, at most 1000)" },
  cursor: { type: "string", value: "cursor", description: "nextCursor of the previous page" },
};

/** The list options given, as a list operation's input. */
export const listInput = (values) => ({ prefix: values.prefix, search: values.search, limit: values.limit, cursor: values.cursor });

/** A listing for people: the table, then how many the filters match and the next page's cursor. */
export const listing = (rows, columns, { total, nextCursor }) =>
  `${table(rows, columns)}${rows.length} of ${total}${nextCursor ? `; next page: --cursor ${nextCursor}` : ""}\n`;

/** What a delete answers: the operation answers nothing, the tool says what went. */
export const deleted = (kind, name) => ({ deleted: true, [kind]: name });
export const deletedText = (result) => `deleted ${Object.entries(result).filter(([key]) => key !== "deleted").map(([key, value]) => `${key} ${value}`).join(", ")}\n`;

export { keyValues, table, time };

/** Message bodies from an argument, a file (`--file`), or standard input, one message a line. */
export async function* bodiesFrom(body, file, stdin, readFile) {
  if (body !== undefined && file !== undefined) throw new UsageError("give a body or --file, not both");
  if (body !== undefined) {
    yield body;
    return;
  }
  if (file !== undefined) {
    yield await readFile(file);
    return;
  }
  // Empty lines are skipped: a message body is at least one character.
  for await (const line of createInterface({ input: stdin, crlfDelay: Infinity })) if (line.length > 0) yield line;
}

/** Sends what `bodies` yields in batches of up to 16 (a batch is one request), through `sendBatch`. */
export async function sendInBatches(bodies, toMessage, sendBatch) {
  const ids = [];
  let batch = [];
  for await (const body of bodies) {
    batch.push(toMessage(body));
    if (batch.length === 16) {
      ids.push(...(await sendBatch(batch)));
      batch = [];
    }
  }
  if (batch.length) ids.push(...(await sendBatch(batch)));
  return ids;
}
