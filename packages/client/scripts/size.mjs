// The browser build's size: the core entry bundled and minified for browsers (esbuild), then
// gzipped at level 9. Fails when it passes the budget, so a change that bloats it is seen.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BudgetBytes = 8 * 1024;
const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

const result = await build({
  entryPoints: ["src/index.ts"],
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
const inputs = Object.keys(result.metafile.inputs);
// Paths are relative to the package: anything outside its src/ (the service, a dependency) is a leak.
const fromService = inputs.filter((path) => !path.startsWith("src/"));

const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`;
console.log(`core client (${inputs.length} modules), esbuild --bundle --minify --platform=browser:`);
console.log(`  minified         ${minified.length} bytes (${kb(minified.length)})`);
console.log(`  minified + gzip  ${gzipped.length} bytes (${kb(gzipped.length)}), budget ${kb(BudgetBytes)}`);
if (fromService.length) {
  console.error(`the bundle pulls in modules from outside the client: ${fromService.join(", ")}`);
  process.exit(1);
}
if (gzipped.length > BudgetBytes) {
  console.error(`over budget by ${gzipped.length - BudgetBytes} bytes`);
  process.exit(1);
}
