import { copyFileSync } from "node:fs";
import path from "node:path";
import { defineConfig } from "vite";

const consoleDir = import.meta.dirname;
/** The Worker's static-assets folder (wrangler.jsonc `assets.directory`): the app sits under /console/. */
const assetsDir = path.join(consoleDir, "dist");

export default defineConfig({
  root: consoleDir,
  base: "/console/",
  resolve: {
    // The client's source, not its build: one bundle, no separate build step.
    alias: { "@edge-cmq/client": path.join(consoleDir, "../packages/client/src/index.ts") },
  },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: path.join(assetsDir, "console"),
    emptyOutDir: true,
    // No inline module-preload helper: the Content-Security-Policy allows no inline script.
    modulePreload: { polyfill: false },
    target: "es2022",
  },
  plugins: [
    {
      name: "assets-headers",
      apply: "build",
      // Headers (the Content-Security-Policy among them) for the files the Worker serves.
      closeBundle: () => copyFileSync(path.join(consoleDir, "headers"), path.join(assetsDir, "_headers")),
    },
  ],
});
