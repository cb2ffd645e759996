#!/usr/bin/env node
// `npm start`: serves the API locally through `wrangler dev` on port 8787 (`--port` or PORT to
// change it), state persisted under .wrangler/state, with development root credentials unless
// `--var NAME:value` (or the environment) gives others. `-c path/to/wrangler.jsonc` (repeatable)
// runs another Worker beside the service, in the same session: the service stays the one served on
// the port, and it gets a service binding to each such Worker, named after it in upper snake case
// (`cmq-example-consumer` → CMQ_EXAMPLE_CONSUMER), usable as a `worker` subscription endpoint.
// Other arguments go to wrangler as they are. The web console is built first (`npm run build`), so
// that wrangler serves it at /console/.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "..");
const serviceConfig = path.join(repoRoot, "wrangler.jsonc");

const args = [];
const besideConfigs = [];
const input = process.argv.slice(2);
for (let index = 0; index < input.length; index++) {
  const arg = input[index];
  if (arg === "-c" || arg === "--config") besideConfigs.push(input[++index]);
  else if (arg.startsWith("--config=")) besideConfigs.push(arg.slice("--config=".length));
  else args.push(arg);
}
const others = besideConfigs.filter((config) => path.resolve(config) !== serviceConfig);

const givenVars = new Set();
args.forEach((arg, index) => {
  const value = arg === "--var" ? args[index + 1] : arg.startsWith("--var=") ? arg.slice(6) : null;
  if (value) givenVars.add(value.split(":")[0]);
});

const credentials = {
  ROOT_SECRET_ID: process.env.ROOT_SECRET_ID || "AKIDdevelopmentroot00000000000000",
  ROOT_SECRET_KEY: process.env.ROOT_SECRET_KEY || "development-secret-key-not-for-production",
};
const port = process.env.PORT || "8787";
const defaultedVars = Object.entries(credentials).filter(([name]) => !givenVars.has(name));

/** wrangler.jsonc allows comments; a full-line `//` comment is the only kind it holds. */
const readJsonc = (file) => JSON.parse(readFileSync(file, "utf8").replace(/^\s*\/\/.*$/gm, ""));
const bindingName = (workerName) => workerName.toUpperCase().replace(/[^A-Z0-9]+/g, "_");

/**
 * With other Workers beside it, the service runs from a copy of its config with a service binding to
 * each of them: wrangler.jsonc itself stays free of them, so `wrangler deploy` never needs them.
 */
function configWithBindings() {
  const config = readJsonc(serviceConfig);
  delete config.$schema;
  config.main = path.join(repoRoot, config.main);
  if (config.assets) config.assets.directory = path.join(repoRoot, config.assets.directory);
  const bindings = others.map((file) => {
    const name = readJsonc(file).name;
    return { binding: bindingName(name), service: name };
  });
  config.services = [...(config.services ?? []), ...bindings];
  const dir = path.join(repoRoot, ".wrangler", "dev");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "wrangler.jsonc");
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  for (const { binding, service } of bindings) console.log(`Running ${service} beside the service, bound as ${binding}`);
  return file;
}

const given = (flag) => args.some((arg) => arg === flag || arg.startsWith(`${flag}=`));
const wranglerArgs = [
  "dev",
  ...(others.length > 0 ? ["-c", configWithBindings(), ...others.flatMap((file) => ["-c", file])] : []),
  ...(given("--port") ? [] : ["--port", port]),
  ...(given("--persist-to") ? [] : ["--persist-to", ".wrangler/state"]),
  ...args,
];
for (const [name, value] of defaultedVars) wranglerArgs.push("--var", `${name}:${value}`);

const servedPort = (() => {
  const index = args.findIndex((arg) => arg === "--port" || arg.startsWith("--port="));
  if (index < 0) return port;
  return args[index] === "--port" ? args[index + 1] : args[index].slice("--port=".length);
})();
if (defaultedVars.length > 0) {
  console.log("Development credentials (override with --var NAME:value):");
  for (const [name, value] of defaultedVars) console.log(`  ${name}=${value}`);
  const key = givenVars.has("ROOT_SECRET_KEY") ? "<your ROOT_SECRET_KEY>" : credentials.ROOT_SECRET_KEY;
  console.log(`Try: curl -H "Authorization: Bearer ${key}" http://localhost:${servedPort}/v1/queues`);
  console.log(`Web console: http://localhost:${servedPort}/console/ (sign in with ROOT_SECRET_KEY)\n`);
}

execFileSync(process.execPath, [path.join(repoRoot, "node_modules/vite/bin/vite.js"), "build", "--config", "console/vite.config.ts", "--logLevel", "warn"], {
  cwd: repoRoot,
  stdio: "inherit",
});

const child = spawn("wrangler", wranglerArgs, {
  stdio: "inherit",
  env: {
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG_PATH: ".wrangler/logs",
    ...process.env,
  },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
