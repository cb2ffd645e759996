// The service's wrangler config with service bindings added, for runs that put a consumer Worker
// beside it in one `wrangler dev` (the bench's consumer scenario, the crash test).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/** Reads a JSONC file (comments, trailing commas) with TypeScript's parser. */
export function readJsonc(file) {
  const { config, error } = ts.parseConfigFileTextToJson(file, readFileSync(file, "utf8"));
  if (error) throw new Error(`${file} does not parse: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
  delete config.$schema;
  return config;
}

/**
 * Writes, beside the service's wrangler.jsonc in `appDir`, a copy that also declares `services`
 * (service bindings to other local Workers), and returns its name. The service's own config stays
 * as it is deployed.
 */
export function serviceConfigWith(appDir, services, name = "wrangler.with-services.json") {
  const config = readJsonc(path.join(appDir, "wrangler.jsonc"));
  writeFileSync(path.join(appDir, name), JSON.stringify({ ...config, services: [...(config.services ?? []), ...services] }, null, 2));
  return name;
}
