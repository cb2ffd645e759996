// The browser build's size: the client bundled and minified for browsers (esbuild), then gzipped
// at level 9, for the core (createClient and its error type) and for the whole entry (with the
// consumer runner). Fails when the core passes its budget or when anything from outside the
// package's src/ is bundled, so a change that bloats it is seen.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const CoreBudgetBytes = 8 * 1024;
const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`;

async function measure(label, contents) {
  const result = await build({
    stdin: { contents, resolveDir: packageDir, sourcefile: "size-entry.js" },
    absWorkingDir: packageDir,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "warning",
  });
  const minified = result.outputFiles[0].contents;
  const gzipped = gzipSync(minified, { level: 9 });
  // Paths are relative to the package: anything outside its src/ (the service, a dependency) is a leak.
  const leaks = Object.keys(result.metafile.inputs).filter((path) => !path.startsWith("src/") && path !== "size-entry.js");
  if (leaks.length) throw new Error(`${label} bundles modules from outside the client: ${leaks.join(", ")}`);
  console.log(`${label}: minified ${minified.length} bytes (${kb(minified.length)}), minified + gzip ${gzipped.length} bytes (${kb(gzipped.length)})`);
  return gzipped.length;
}

console.log("esbuild --bundle --minify --platform=browser, then gzip -9:");
const core = await measure("core (createClient, EdgeCmqError)", 'export { createClient, EdgeCmqError } from "./src/index.ts";');
await measure("whole entry (with consume)", 'export * from "./src/index.ts";');
console.log(`core budget ${kb(CoreBudgetBytes)}: ${core <= CoreBudgetBytes ? "within" : "OVER"}`);
if (core > CoreBudgetBytes) process.exit(1);
