// `edge-cmq <group> <command> [arguments] [options]`: finds the command, parses its line, builds a
// client from the configuration, runs it, prints what it answers and turns failures into an exit
// code and one line on stderr.
import { createClient } from "@edge-cmq/client";
import { UsageError, commandHelp, groupHelp, isGroup, parseCommand, type Command, type Context, type Group } from "./args.js";
import { resolveConfig, type Environment } from "./config.js";
import { ExitCode, errorLine, exitCodeOf } from "./exit-codes.js";
import { keyCommands, tokenCommands } from "./commands/keys.js";
import { messageCommands } from "./commands/messages.js";
import { queueCommands } from "./commands/queues.js";
import { subscriptionCommands, topicCommands } from "./commands/topics.js";
import { tailCommand } from "./commands/tail.js";

export const root: Group = {
  summary: "edge-cmq on the command line: queues, messages, topics, keys and tokens.",
  details: [
    "Configuration: flags, else the profile of --profile, else EDGE_CMQ_ENDPOINT, EDGE_CMQ_SECRET_ID,",
    "EDGE_CMQ_SECRET_KEY and EDGE_CMQ_TOKEN, else the profile of EDGE_CMQ_PROFILE or \"default\" in",
    "$EDGE_CMQ_CONFIG (default ~/.config/edge-cmq/config.json): {\"profiles\": {\"name\": {\"endpoint\",",
    "\"secretId\", \"secretKey\", \"token\"}}}.",
    "",
    "Exit codes: 0 ok; 1 service or network failure; 2 usage (a wrong command line or configuration,",
    "or a value the service refused); 3 credentials refused or not allowed; 4 not found; 5 conflict;",
    "130 interrupted (SIGINT); 143 terminated (SIGTERM).",
  ].join("\n"),
  commands: {
    queues: queueCommands,
    messages: messageCommands,
    topics: topicCommands,
    subscriptions: subscriptionCommands,
    keys: keyCommands,
    tokens: tokenCommands,
    tail: tailCommand,
  },
};

/** Where a run writes and reads: the process's streams and environment, or a test's. */
export interface Io {
  stdout: Output;
  stderr: Output;
  readonly stdin: NodeJS.ReadableStream;
  env: Environment;
}

interface Output {
  write(text: string): unknown;
  on?(event: "error", listener: (error: NodeJS.ErrnoException) => void): unknown;
  off?(event: "error", listener: (error: NodeJS.ErrnoException) => void): unknown;
}

/** What stopped a command: a signal, or the reader of its output going away. */
type StopCause = "SIGINT" | "SIGTERM" | "EPIPE";

/**
 * Runs one command line and resolves to its exit code. `io` is the process's by default; SIGINT
 * and SIGTERM abort the command's signal, and a command that follows a stream cleans up then.
 */
export async function main(argv: string[], io: Io = processIo()): Promise<ExitCode> {
  const controller = new AbortController();
  const stop: { by: StopCause | undefined } = { by: undefined };
  const onSignal = (signal: "SIGINT" | "SIGTERM") => {
    stop.by = signal;
    controller.abort(new Error(`stopped by ${signal}`));
  };
  // A reader that went away (`edge-cmq tail q | head -1`) ends the command as a signal would,
  // without a stack trace: nothing more can be printed, so nothing more is received and deleted.
  const onOutputError = (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    stop.by = "EPIPE";
    controller.abort(new Error("standard output closed"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  io.stdout.on?.("error", onOutputError);
  try {
    await run(argv, io, controller.signal, stop);
    return stop.by ? signalExitCode(stop.by) : ExitCode.ok;
  } catch (error) {
    if (stop.by) return signalExitCode(stop.by);
    io.stderr.write(`${errorLine(error)}\n`);
    return exitCodeOf(error);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    // Left in place when the reader went away: a write still queued would fail again.
    if (stop.by !== "EPIPE") io.stdout.off?.("error", onOutputError);
  }
}

/** The process's streams and environment; standard input is opened only by a command that reads it. */
const processIo = (): Io => ({
  stdout: process.stdout,
  stderr: process.stderr,
  get stdin() {
    return process.stdin;
  },
  env: process.env,
});

const signalExitCode = (signal: StopCause): ExitCode => ({ SIGINT: ExitCode.interrupted, SIGTERM: ExitCode.terminated, EPIPE: ExitCode.ok })[signal];

async function run(argv: string[], io: Io, signal: AbortSignal, stop: { by: StopCause | undefined }): Promise<void> {
  let node: Command | Group = root;
  let path = "edge-cmq";
  let rest = argv;
  while (isGroup(node)) {
    const [name, ...after] = rest;
    if (name === undefined || name === "--help" || name === "-h") {
      const help = groupHelp(node, path);
      if (name === undefined) {
        io.stderr.write(help);
        throw new UsageError(`missing a command; see \`${path} --help\``);
      }
      io.stdout.write(help);
      return;
    }
    const next: Command | Group | undefined = Object.hasOwn(node.commands, name) ? node.commands[name] : undefined;
    if (!next) throw new UsageError(`unknown command '${name}'; see \`${path} --help\``);
    node = next;
    path = `${path} ${name}`;
    rest = after;
  }
  const { values, args } = parseCommand(node, rest, path);
  if (values.help) {
    io.stdout.write(commandHelp(node, path));
    return;
  }
  const config = resolveConfig(values, io.env);
  const client = createClient(config);
  const print = (text: string) => {
    io.stdout.write(text);
  };
  // Parsed as the command declares: the values and arguments have the types its `run` expects.
  const context: Context = {
    client,
    values: values as Context["values"],
    args: args as Context["args"],
    signal,
    get stdin() {
      return io.stdin;
    },
    path,
    print,
    /** A remark for people, on stderr so that it never mixes with output. */
    note: (text) => {
      io.stderr.write(`${text}\n`);
    },
    isJson: Boolean(values.json),
    /** Prints one result: JSON as it is, or `render(result)` for people. */
    emit: (result, render) => print(values.json ? `${JSON.stringify(result)}\n` : render(result)),
    /** Whether what was printed may not have reached a reader (the pipe closed): then it is not acknowledged. */
    get isOutputClosed() {
      return stop.by === "EPIPE";
    },
    /** Prints one item of a stream: a JSON line, or `render(item)`. */
    emitLine: (item, render) => print(values.json ? `${JSON.stringify(item)}\n` : render(item)),
  };
  await node.run(context);
}
