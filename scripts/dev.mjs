#!/usr/bin/env node
// `npm start`: serves the API locally through `wrangler dev` on port 8787, state persisted under
// .wrangler/state, with development root credentials unless `--var NAME:value` (or the environment)
// gives others. Extra arguments go to wrangler as they are.
import { spawn } from "node:child_process";

const args = process.argv.slice(2);
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

const given = (flag) => args.some((arg) => arg === flag || arg.startsWith(`${flag}=`));
const wranglerArgs = [
  "dev",
  ...(given("--port") ? [] : ["--port", port]),
  ...(given("--persist-to") ? [] : ["--persist-to", ".wrangler/state"]),
  ...args,
];
for (const [name, value] of defaultedVars) wranglerArgs.push("--var", `${name}:${value}`);

if (defaultedVars.length > 0) {
  console.log("Development credentials (override with --var NAME:value):");
  for (const [name, value] of defaultedVars) console.log(`  ${name}=${value}`);
  const key = givenVars.has("ROOT_SECRET_KEY") ? "<your ROOT_SECRET_KEY>" : credentials.ROOT_SECRET_KEY;
  console.log(`Try: curl -H "Authorization: Bearer ${key}" http://localhost:${port}/v1/health\n`);
}

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
