// Command lines: each command declares its arguments and options once; parsing (node:util
// parseArgs), validation of numbers and the --help text all come from that declaration.
import { parseArgs } from "node:util";

/** The command line is wrong: exit code 2, with a pointer to the command's help. */
export class UsageError extends Error {
  name = "UsageError";
}

/** Options every command takes. */
export const globalOptions = {
  endpoint: { type: "string", value: "url", description: "the service's URL (EDGE_CMQ_ENDPOINT)" },
  "secret-id": { type: "string", value: "id", description: "sign requests (TC3-HMAC-SHA256) with this key id (EDGE_CMQ_SECRET_ID)" },
  "secret-key": { type: "string", value: "key", description: "the secret key; alone, sent as a bearer secret (EDGE_CMQ_SECRET_KEY)" },
  token: { type: "string", value: "token", description: "a token from `tokens mint` instead of a key (EDGE_CMQ_TOKEN)" },
  profile: { type: "string", value: "name", description: "a profile of the config file (EDGE_CMQ_PROFILE, else \"default\")" },
  json: { type: "boolean", description: "JSON for scripts: one document, or one line per message for streams" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

/**
 * Parses `argv` for `command`: `{ values, args }`, where `args` names the positionals as the
 * command declares them (`"queue"`, `"body?"` optional, `"handle..."` one or more).
 */
export function parseCommand(command, argv, path) {
  const shadowed = Object.keys(command.options ?? {}).filter((name) => Object.hasOwn(globalOptions, name));
  // A command's --endpoint would silently replace the service's URL: declarations must not overlap.
  if (shadowed.length) throw new Error(`${path} declares global options again: ${shadowed.join(", ")}`);
  const declared = { ...globalOptions, ...command.options };
  const options = Object.fromEntries(
    Object.entries(declared).map(([name, option]) => [name, { type: option.type, ...(option.short && { short: option.short }), ...(option.multiple && { multiple: true }) }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${error.message.split("\n")[0]}; see \`${path} --help\``);
  }
  const { values, positionals } = parsed;
  if (values.help) return { values, args: {}, positionals };
  const args = {};
  const specs = command.args ?? [];
  let index = 0;
  for (const spec of specs) {
    const name = spec.replace(/[?.]+$/, "");
    if (spec.endsWith("...")) {
      args[name] = positionals.slice(index);
      index = positionals.length;
      if (args[name].length === 0) throw new UsageError(`missing <${name}>; see \`${path} --help\``);
    } else if (index < positionals.length) {
      args[name] = positionals[index++];
    } else if (!spec.endsWith("?")) {
      throw new UsageError(`missing <${name}>; see \`${path} --help\``);
    }
  }
  if (index < positionals.length) throw new UsageError(`unexpected argument '${positionals[index]}'; see \`${path} --help\``);
  for (const [name, option] of Object.entries(declared)) {
    if (option.integer && values[name] !== undefined) values[name] = integerOption(name, values[name], path);
  }
  return { values, args, positionals };
}

function integerOption(name, text, path) {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`--${name} takes an integer, not '${text}'; see \`${path} --help\``);
  return Number(text);
}

/** A point in time given as Unix ms, an ISO 8601 date, or an age (`90s`, `15m`, `2h`, `1d`) back from now. */
export function parseTime(text, name, nowMs = Date.now()) {
  const age = /^(\d+)(s|m|h|d)$/.exec(text);
  if (age) return nowMs - Number(age[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2]];
  if (/^\d+$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new UsageError(`--${name} takes Unix ms, an ISO date or an age such as 15m, not '${text}'`);
  return parsed;
}

/** Comma-separated or repeated values: `--tag a,b --tag c` gives ["a", "b", "c"]. */
export function listOption(values) {
  return values === undefined ? undefined : values.flatMap((value) => value.split(",")).map((value) => value.trim()).filter(Boolean);
}

/** The --help text of a command. */
export function commandHelp(command, path) {
  const argText = (command.args ?? []).map((spec) => (spec.endsWith("?") ? `[${spec.slice(0, -1)}]` : spec.endsWith("...") ? `<${spec.slice(0, -3)}>...` : `<${spec}>`));
  const lines = [`Usage: ${[path, ...argText].join(" ")} [options]`, "", command.summary];
  if (command.details) lines.push("", command.details);
  if (command.options && Object.keys(command.options).length) lines.push("", "Options:", ...optionLines(command.options));
  lines.push("", "Global options:", ...optionLines(globalOptions));
  return `${lines.join("\n")}\n`;
}

/** The --help text of a group: its commands, one line each. */
export function groupHelp(group, path) {
  const width = Math.max(...Object.keys(group.commands).map((name) => name.length));
  const lines = [`Usage: ${path} <command> [options]`, "", group.summary, "", "Commands:"];
  for (const [name, entry] of Object.entries(group.commands)) lines.push(`  ${name.padEnd(width)}  ${entry.summary}`);
  if (group.details) lines.push("", group.details);
  lines.push("", `Run \`${path} <command> --help\` for a command's arguments and options.`);
  return `${lines.join("\n")}\n`;
}

function optionLines(options) {
  const labels = Object.entries(options).map(([name, option]) => {
    const short = option.short ? `-${option.short}, ` : "";
    const value = option.type === "string" ? ` <${option.value ?? "value"}>` : "";
    return [`${short}--${name}${value}${option.multiple ? "..." : ""}`, option.description];
  });
  const width = Math.max(...labels.map(([label]) => label.length));
  return labels.map(([label, description]) => `  ${label.padEnd(width)}  ${description}`);
}
