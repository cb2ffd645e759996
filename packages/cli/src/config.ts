// Where the tool finds the service and its credentials. Each setting comes from the first of:
// a flag; the profile named by --profile; the environment (EDGE_CMQ_*); the profile named by
// EDGE_CMQ_PROFILE, else "default". Credentials come as a whole from one source, so a key id of one
// source is never paired with another's secret.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { UsageError } from "./args.js";

/** A profile of the config file, or the settings of one other source. */
interface Settings {
  endpoint?: string | undefined;
  secretId?: string | undefined;
  secretKey?: string | undefined;
  token?: string | undefined;
}

/** The credentials of one source, each absent when it gives none. */
interface Credentials {
  secretId: string | undefined;
  secretKey: string | undefined;
  token: string | undefined;
}

/** The flags that choose the service and the credentials. */
export interface ConfigFlags {
  endpoint?: string | undefined;
  "secret-id"?: string | undefined;
  "secret-key"?: string | undefined;
  token?: string | undefined;
  profile?: string | undefined;
}

export type Environment = Record<string, string | undefined>;

/** The config file: $EDGE_CMQ_CONFIG, else $XDG_CONFIG_HOME/edge-cmq/config.json, else ~/.config/edge-cmq/config.json. */
export function configPath(env: Environment): string {
  if (env.EDGE_CMQ_CONFIG) return env.EDGE_CMQ_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "edge-cmq", "config.json");
}

function readProfiles(path: string): Record<string, Settings | undefined> | undefined {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UsageError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let config: { profiles?: unknown } | null | undefined;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the config file ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof config?.profiles !== "object" || config.profiles === null) throw new UsageError(`the config file ${path} has no "profiles" object`);
  // Profiles are the user's JSON: their fields are read as given.
  return config.profiles as Record<string, Settings | undefined>;
}

const credentialsOf = (source: Settings): Credentials | undefined =>
  source.secretKey || source.token ? { secretId: source.secretId || undefined, secretKey: source.secretKey || undefined, token: source.token || undefined } : undefined;

/** `{ endpoint, secretId?, secretKey?, token? }` from flags, profiles and environment, as described above. */
export function resolveConfig(flags: ConfigFlags, env: Environment): { endpoint: string } & Credentials {
  const path = configPath(env);
  const profiles = readProfiles(path);
  const fromFlags: Settings = { endpoint: flags.endpoint, secretId: flags["secret-id"], secretKey: flags["secret-key"], token: flags.token };
  let named: Settings | undefined = {};
  if (flags.profile) {
    named = profiles?.[flags.profile];
    if (!named) throw new UsageError(`no profile "${flags.profile}" in ${path}`);
  }
  const fromEnv: Settings = { endpoint: env.EDGE_CMQ_ENDPOINT, secretId: env.EDGE_CMQ_SECRET_ID, secretKey: env.EDGE_CMQ_SECRET_KEY, token: env.EDGE_CMQ_TOKEN };
  const fallbackName = env.EDGE_CMQ_PROFILE || "default";
  const fallback = profiles?.[fallbackName] ?? {};
  if (env.EDGE_CMQ_PROFILE && !profiles?.[fallbackName]) throw new UsageError(`no profile "${fallbackName}" in ${path}`);
  const sources: Settings[] = [fromFlags, named, fromEnv, fallback];
  const endpoint = sources.map((source) => source.endpoint).find(Boolean);
  if (!endpoint) throw new UsageError("no endpoint: pass --endpoint, set EDGE_CMQ_ENDPOINT, or add a profile to the config file");
  const credentials = sources.map(credentialsOf).find(Boolean);
  if (!credentials) throw new UsageError("no credentials: pass --secret-key (with --secret-id to sign) or --token, set EDGE_CMQ_SECRET_KEY or EDGE_CMQ_TOKEN, or add them to a profile");
  return { endpoint, ...credentials };
}
