// Bundles the tool into dist/edge-cmq.js for Node: its commands and the typed client from source
// (packages/client/src), so the package runs with no dependency installed and needs no client build.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const distDir = join(packageDir, "dist");

rmSync(distDir, { recursive: true, force: true });
await build({
  entryPoints: [join(packageDir, "src/main.js")],
  outfile: join(distDir, "edge-cmq.js"),
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node22",
  alias: { "@edge-cmq/client": join(packageDir, "../client/src/index.ts") },
  logLevel: "warning",
});
console.log(`built ${join(distDir, "edge-cmq.js")}`);
