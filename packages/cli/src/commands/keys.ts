// edge-cmq keys (create, list, disable, enable, rotate, delete) and tokens (mint).
import type { OperationInput, OperationOutput } from "@edge-cmq/client";
import { UsageError, command, listOption, type Group, type OptionSpecs, type Values } from "../args.js";
import { deleted, deletedText, keyValues, table, time, type Column } from "./shared.js";

type Policy = OperationInput<"createKey">["policy"];

const account = { type: "string", value: "id", description: "the account (default: default, the root's own)" } as const satisfies OptionSpecs[string];
const accountOf = (values: { account?: string | undefined }) => values.account ?? "default";

/** A policy from --policy (JSON), or one statement from --actions and --resources. */
function policyOf(values: Values<typeof rightsOptions & { policy: typeof policyOption }>): Policy {
  if (values.policy !== undefined) {
    if (values.actions !== undefined || values.resources !== undefined) throw new UsageError("give --policy, or --actions with --resources, not both");
    try {
      // Any JSON: the service checks the policy.
      return JSON.parse(values.policy) as Policy;
    } catch (error) {
      throw new UsageError(`--policy is not JSON: ${(error as Error).message}`);
    }
  }
  const actions = listOption(values.actions);
  const resources = listOption(values.resources);
  if (!actions?.length || !resources?.length) throw new UsageError("give --actions with --resources, or --policy; see `edge-cmq keys create --help`");
  // Passed as given: the service checks them.
  return { statements: [{ actions: actions as Policy["statements"][number]["actions"], resources }] };
}

const rightsOptions = {
  actions: { type: "string", multiple: true, value: "actions", description: "manage, read, send, receive, publish or * (comma-separated)" },
  resources: { type: "string", multiple: true, value: "patterns", description: "queue:<pattern>, topic:<pattern> or * (comma-separated)" },
} as const satisfies OptionSpecs;

const policyOption = { type: "string", value: "json", description: 'a whole policy: {"statements": [{"actions", "resources"}]}' } as const satisfies OptionSpecs[string];

const keyColumns: Column<OperationOutput<"listKeys">["keys"][number]>[] = [
  ["SECRET-ID", (key) => key.secretId],
  ["DISABLED", (key) => (key.disabled ? "yes" : "no")],
  ["CREATED", (key) => time(key.createdAt)],
  ["ROTATED", (key) => time(key.rotatedAt)],
  ["POLICY", (key) => key.policy.statements.map((statement) => `${statement.actions.join(",")} on ${statement.resources.join(",")}`).join("; ")],
];

const setDisabled = (disabled: boolean) => command({
  summary: disabled ? "Disable a key: its requests are refused until it is enabled" : "Enable a disabled key",
  args: ["secret-id"],
  options: { account },
  run: async ({ client, args, values, emit, signal }) =>
    emit(await client.updateKey({ account: accountOf(values), secretId: args["secret-id"], disabled }, { signal }), keyValues),
});

export const keyCommands: Group = {
  summary: "An account's keys: create, list, disable, enable, rotate, delete",
  commands: {
    list: command({
      summary: "List an account's keys, without their secrets",
      options: { account },
      run: async ({ client, values, emit, signal }) => {
        const result = await client.listKeys({ account: accountOf(values) }, { signal });
        emit(result, () => table(result.keys, keyColumns));
      },
    }),
    create: command({
      summary: "Create a key; its secretKey is shown this once",
      options: { account, ...rightsOptions, policy: policyOption },
      run: async ({ client, values, emit, signal }) => emit(await client.createKey({ account: accountOf(values), policy: policyOf(values) }, { signal }), keyValues),
    }),
    disable: setDisabled(true),
    enable: setDisabled(false),
    rotate: command({
      summary: "Give a key a new secretKey (shown this once); the old one stops working at once",
      args: ["secret-id"],
      options: { account },
      run: async ({ client, args, values, emit, signal }) => emit(await client.rotateKey({ account: accountOf(values), secretId: args["secret-id"] }, { signal }), keyValues),
    }),
    delete: command({
      summary: "Delete a key; it and the tokens it minted stop working",
      args: ["secret-id"],
      options: { account },
      run: async ({ client, args, values, emit, signal }) => {
        await client.deleteKey({ account: accountOf(values), secretId: args["secret-id"] }, { signal });
        emit(deleted("key", args["secret-id"]), deletedText);
      },
    }),
  },
};

export const tokenCommands: Group = {
  summary: "Short-lived tokens for browsers and other untrusted places",
  commands: {
    mint: command({
      summary: "Mint a token for --actions on --resources: at most your own rights, at most 24 h",
      options: { ...rightsOptions, "ttl-seconds": { type: "string", value: "seconds", integer: true, description: "how long it works (default 900, at most 86400)" } },
      run: async ({ client, values, emit, signal }) => {
        const actions = listOption(values.actions);
        const resources = listOption(values.resources);
        if (!actions?.length || !resources?.length) throw new UsageError("give --actions and --resources; see `edge-cmq tokens mint --help`");
        // Passed as given: the service checks them.
        const tokenActions = actions as OperationInput<"createToken">["actions"];
        const result = await client.createToken({ actions: tokenActions, resources, ttlSeconds: values["ttl-seconds"] }, { signal });
        emit(result, () => `${result.token}\nexpires ${time(result.expiresAt)}\n`);
      },
    }),
  },
};
