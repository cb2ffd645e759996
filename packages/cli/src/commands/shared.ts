// Options and renderings that several command groups share.
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { EdgeCmqClient } from "@edge-cmq/client";
import { UsageError, listOption, type Command, type Context, type OptionSpecs, type Values } from "../args.js";
import { keyValues, table, time, type Column } from "../output.js";

export const listOptions = {
  prefix: { type: "string", value: "text", description: "names starting with this" },
  search: { type: "string", value: "text", description: "names containing this" },
  limit: { type: "string", value: "n", integer: true, description: "most entries (default 100, at most 1000)" },
  cursor: { type: "string", value: "cursor", description: "nextCursor of the previous page" },
} as const satisfies OptionSpecs;

/** The list options given, as a list operation's input. */
export const listInput = (values: Values<typeof listOptions>) => ({ prefix: values.prefix, search: values.search, limit: values.limit, cursor: values.cursor });

/** A listing for people: the table, then how many the filters match and the next page's cursor. */
export const listing = <TRow>(rows: readonly TRow[], columns: readonly Column<TRow>[], { total, nextCursor }: { total: number; nextCursor?: string | null | undefined }): string =>
  `${table(rows, columns)}${rows.length} of ${total}${nextCursor ? `; next page: --cursor ${nextCursor}` : ""}\n`;

/** What a delete answers: the operation answers nothing, the tool says what went. */
export const deleted = (kind: string, name: string): Record<string, string | boolean> => ({ deleted: true, [kind]: name });
export const deletedText = (result: Record<string, string | boolean>): string => `deleted ${Object.entries(result).filter(([key]) => key !== "deleted").map(([key, value]) => `${key} ${value}`).join(", ")}\n`;

export { keyValues, table, time, type Column };

/** A message as sendingCommand gathers it: the body and tags, and the fields of `toMessage`. */
interface GatheredMessage {
  body: string;
  tags?: string[] | undefined;
}

const sendingOptions = (verb: string) =>
  ({
    file: { type: "string", value: "path", description: `${verb} this file's content as one message` },
    tag: { type: "string", multiple: true, value: "tag", description: "tag the message (repeat or comma-separate)" },
  }) as const satisfies OptionSpecs;

type SendingContext = Context<ReturnType<typeof sendingOptions>, readonly ["queue" | "topic", "body?"]>;

/**
 * A command that sends messages to `target` (a queue or a topic): the body given as an argument,
 * a file's content (--file), or each non-empty line of standard input, in batches of up to 16
 * (one request each). `toMessage(body, values)` adds the command's own fields; `sendBatch` makes
 * the call and answers the new ids.
 */
export function sendingCommand<const TOptions extends OptionSpecs, TMessage extends GatheredMessage>({
  verb,
  target,
  options,
  toMessage,
  sendBatch,
}: {
  verb: string;
  target: "queue" | "topic";
  options: TOptions;
  toMessage: (values: Values<TOptions>) => Omit<TMessage, keyof GatheredMessage>;
  sendBatch: (client: EdgeCmqClient, target: string, messages: TMessage[], signal: AbortSignal) => Promise<{ id: string }[]>;
}): Command {
  return {
    summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} a message given as an argument, a file's content (--file), or each line of standard input`,
    details: `With neither a body nor --file, each non-empty line of standard input is one message, ${verb === "send" ? "sent" : `${verb}ed`} in batches of up to 16.`,
    args: [target, "body?"],
    options: { ...sendingOptions(verb), ...options },
    run: async (context) => {
      // Parsed from the options above: sendingOptions' and the command's own.
      const { client, args, values, stdin, emit, signal } = context as SendingContext;
      const tags = listOption(values.tag);
      const ids: { id: string }[] = [];
      let batch: TMessage[] = [];
      for await (const body of bodiesFrom(args.body, values.file, stdin)) {
        // The body and tags, and the rest of a TMessage from toMessage.
        batch.push({ body, tags, ...toMessage(context.values as Values<TOptions>) } as TMessage);
        if (batch.length === 16) {
          ids.push(...(await sendBatch(client, args[target], batch, signal)));
          batch = [];
        }
      }
      if (batch.length) ids.push(...(await sendBatch(client, args[target], batch, signal)));
      emit({ messages: ids }, () => ids.map((message) => `${message.id}\n`).join(""));
    },
  };
}

async function* bodiesFrom(body: string | undefined, file: string | undefined, stdin: NodeJS.ReadableStream): AsyncGenerator<string> {
  if (body !== undefined && file !== undefined) throw new UsageError("give a body or --file, not both");
  if (body !== undefined) {
    yield body;
    return;
  }
  if (file !== undefined) {
    yield await readFile(file, "utf8");
    return;
  }
  // Empty lines are skipped: a message body is at least one character.
  for await (const line of createInterface({ input: stdin, crlfDelay: Infinity })) if (line.length > 0) yield line;
}
