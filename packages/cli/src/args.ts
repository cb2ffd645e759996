// Command lines: each command declares its arguments and options once; parsing (node:util
// parseArgs), validation of numbers and the --help text all come from that declaration.
import { parseArgs } from "node:util";
import type { EdgeCmqClient } from "@edge-cmq/client";

/** The command line is wrong: exit code 2, with a pointer to the command's help. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** How a command declares one option: `integer` options are strings parsed as integers. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  readonly integer?: boolean;
  /** The value's name in --help (`--endpoint <url>`). */
  readonly value?: string;
  readonly description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What an option parses to, from its declaration. */
type ValueOf<TSpec extends OptionSpec> = TSpec["type"] extends "boolean"
  ? boolean
  : TSpec extends { readonly integer: true }
    ? number
    : TSpec extends { readonly multiple: true }
      ? string[]
      : string;

/** The parsed options of a command, each absent when not given. */
export type Values<TOptions extends OptionSpecs> = { -readonly [TName in keyof TOptions]?: ValueOf<TOptions[TName]> };

/** What parsing gives before the declaration's types are applied. */
type ParsedValues = Record<string, string | boolean | number | string[] | undefined>;

type ArgName<TSpec extends string> = TSpec extends `${infer TName}...` ? TName : TSpec extends `${infer TName}?` ? TName : TSpec;

/** The positionals of a command by name: `"queue"` a string, `"body?"` maybe absent, `"handle..."` a list. */
export type Args<TSpecs extends readonly string[]> = {
  [TSpec in TSpecs[number] as TSpec extends `${string}?` ? never : ArgName<TSpec>]: TSpec extends `${string}...` ? string[] : string;
} & { [TSpec in TSpecs[number] as TSpec extends `${string}?` ? ArgName<TSpec> : never]?: string };

/** What a command runs with (built by main.ts). */
export interface Context<TOptions extends OptionSpecs = OptionSpecs, TArgs extends readonly string[] = readonly string[]> {
  client: EdgeCmqClient;
  values: Values<GlobalOptions & TOptions>;
  args: Args<TArgs>;
  signal: AbortSignal;
  readonly stdin: NodeJS.ReadableStream;
  path: string;
  print(text: string): void;
  /** A remark for people, on stderr so that it never mixes with output. */
  note(text: string): void;
  isJson: boolean;
  /** Prints one result: JSON as it is, or `render(result)` for people. */
  emit<TResult>(result: TResult, render: (result: TResult) => string): void;
  /** Whether what was printed may not have reached a reader (the pipe closed): then it is not acknowledged. */
  readonly isOutputClosed: boolean;
  /** Prints one item of a stream: a JSON line, or `render(item)`. */
  emitLine<TItem>(item: TItem, render: (item: TItem) => string): void;
}

/** A command: its help, its declared arguments and options, and what it does. */
export interface Command<TOptions extends OptionSpecs = OptionSpecs, TArgs extends readonly string[] = readonly string[]> {
  summary: string;
  details?: string;
  args?: TArgs;
  options?: TOptions;
  run(context: Context<TOptions, TArgs>): Promise<void>;
}

/** A group of commands (`edge-cmq queues ...`). */
export interface Group {
  summary: string;
  details?: string;
  commands: Record<string, Command | Group>;
}

/** Declares a command, its options' and arguments' types inferred for `run`. */
export const command = <const TOptions extends OptionSpecs = {}, const TArgs extends readonly string[] = []>(spec: Command<TOptions, TArgs>): Command<TOptions, TArgs> => spec;

export const isGroup = (node: Command | Group): node is Group => "commands" in node;

/** Options every command takes. */
export const globalOptions = {
  endpoint: { type: "string", value: "url", description: "the service's URL (EDGE_CMQ_ENDPOINT)" },
  "secret-id": { type: "string", value: "id", description: "sign requests (TC3-HMAC-SHA256) with this key id (EDGE_CMQ_SECRET_ID)" },
  "secret-key": { type: "string", value: "key", description: "the secret key; alone, sent as a bearer secret (EDGE_CMQ_SECRET_KEY)" },
  token: { type: "string", value: "token", description: "a token from `tokens mint` instead of a key (EDGE_CMQ_TOKEN)" },
  profile: { type: "string", value: "name", description: "a profile of the config file (EDGE_CMQ_PROFILE, else \"default\")" },
  json: { type: "boolean", description: "JSON for scripts: one document, or one line per message for streams" },
  help: { type: "boolean", short: "h", description: "show this help" },
} as const satisfies OptionSpecs;

type GlobalOptions = typeof globalOptions;

/**
 * Parses `argv` for `command`: `{ values, args }`, where `args` names the positionals as the
 * command declares them (`"queue"`, `"body?"` optional, `"handle..."` one or more).
 */
export function parseCommand(command: Command, argv: string[], path: string): { values: ParsedValues; args: Record<string, string | string[]>; positionals: string[] } {
  const shadowed = Object.keys(command.options ?? {}).filter((name) => Object.hasOwn(globalOptions, name));
  // A command's --endpoint would silently replace the service's URL: declarations must not overlap.
  if (shadowed.length) throw new Error(`${path} declares global options again: ${shadowed.join(", ")}`);
  const declared: OptionSpecs = { ...globalOptions, ...command.options };
  const options = Object.fromEntries(
    Object.entries(declared).map(([name, option]) => [name, { type: option.type, ...(option.short && { short: option.short }), ...(option.multiple && { multiple: true }) }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]}; see \`${path} --help\``);
  }
  const { positionals } = parsed;
  // Each option is declared a string or a boolean, one or `multiple`: its value is one of those.
  const values = parsed.values as ParsedValues;
  if (values.help) return { values, args: {}, positionals };
  const args: Record<string, string | string[]> = {};
  const specs = command.args ?? [];
  let index = 0;
  for (const spec of specs) {
    const name = spec.replace(/[?.]+$/, "");
    if (spec.endsWith("...")) {
      const rest = positionals.slice(index);
      args[name] = rest;
      index = positionals.length;
      if (rest.length === 0) throw new UsageError(`missing <${name}>; see \`${path} --help\``);
    } else if (index < positionals.length) {
      args[name] = positionals[index++]!;
    } else if (!spec.endsWith("?")) {
      throw new UsageError(`missing <${name}>; see \`${path} --help\``);
    }
  }
  if (index < positionals.length) throw new UsageError(`unexpected argument '${positionals[index]}'; see \`${path} --help\``);
  for (const [name, option] of Object.entries(declared)) {
    const value = values[name];
    // An integer option is declared a string, so its value is one.
    if (option.integer && value !== undefined) values[name] = integerOption(name, value as string, path);
  }
  return { values, args, positionals };
}

function integerOption(name: string, text: string, path: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`--${name} takes an integer, not '${text}'; see \`${path} --help\``);
  return Number(text);
}

/** A point in time given as Unix ms, an ISO 8601 date, or an age (`90s`, `15m`, `2h`, `1d`) back from now. */
export function parseTime(text: string, name: string, nowMs = Date.now()): number {
  const age = /^(\d+)(s|m|h|d)$/.exec(text);
  if (age) return nowMs - Number(age[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as "s" | "m" | "h" | "d"];
  if (/^\d+$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new UsageError(`--${name} takes Unix ms, an ISO date or an age such as 15m, not '${text}'`);
  return parsed;
}

/** Comma-separated or repeated values: `--tag a,b --tag c` gives ["a", "b", "c"]. */
export function listOption(values: string[] | undefined): string[] | undefined {
  return values === undefined ? undefined : values.flatMap((value) => value.split(",")).map((value) => value.trim()).filter(Boolean);
}

/** The --help text of a command. */
export function commandHelp(command: Command, path: string): string {
  const argText = (command.args ?? []).map((spec) => (spec.endsWith("?") ? `[${spec.slice(0, -1)}]` : spec.endsWith("...") ? `<${spec.slice(0, -3)}>...` : `<${spec}>`));
  const lines = [`Usage: ${[path, ...argText].join(" ")} [options]`, "", command.summary];
  if (command.details) lines.push("", command.details);
  if (command.options && Object.keys(command.options).length) lines.push("", "Options:", ...optionLines(command.options));
  lines.push("", "Global options:", ...optionLines(globalOptions));
  return `${lines.join("\n")}\n`;
}

/** The --help text of a group: its commands, one line each. */
export function groupHelp(group: Group, path: string): string {
  const width = Math.max(...Object.keys(group.commands).map((name) => name.length));
  const lines = [`Usage: ${path} <command> [options]`, "", group.summary, "", "Commands:"];
  for (const [name, entry] of Object.entries(group.commands)) lines.push(`  ${name.padEnd(width)}  ${entry.summary}`);
  if (group.details) lines.push("", group.details);
  lines.push("", `Run \`${path} <command> --help\` for a command's arguments and options.`);
  return `${lines.join("\n")}\n`;
}

function optionLines(options: OptionSpecs): string[] {
  const labels = Object.entries(options).map(([name, option]) => {
    const short = option.short ? `-${option.short}, ` : "";
    const value = option.type === "string" ? ` <${option.value ?? "value"}>` : "";
    return [`${short}--${name}${value}${option.multiple ? "..." : ""}`, option.description] as const;
  });
  const width = Math.max(...labels.map(([label]) => label.length));
  return labels.map(([label, description]) => `  ${label.padEnd(width)}  ${description}`);
}
