// Bundles the tool into dist/edge-cmq.js for Node: its commands and the typed client from source
// (packages/client/src), so the package runs with no dependency installed and needs no client build.
import { build } from "esbuild";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const distDir = join(packageDir, "dist");
const outfile = join(distDir, "edge-cmq.js");

const result = await build({
  entryPoints: [join(packageDir, "src/main.ts")],
  outfile,
  write: false,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node22",
  alias: { "@edge-cmq/client": join(packageDir, "../client/src/index.ts") },
  logLevel: "warning",
});
// Written aside, then renamed over the old file: a run of the tool meanwhile sees one or the other, whole.
mkdirSync(distDir, { recursive: true });
writeFileSync(`${outfile}.${process.pid}`, result.outputFiles[0].contents);
renameSync(`${outfile}.${process.pid}`, outfile);
console.log(`built ${outfile}`);
