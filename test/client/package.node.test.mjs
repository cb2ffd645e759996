import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const packageDir = new URL("../../packages/client/", import.meta.url).pathname;
const distDir = join(packageDir, "dist");

describe("the client package", () => {
  it("builds an ESM bundle and declarations that stand alone", async () => {
    await run(process.execPath, ["scripts/build.mjs"], { cwd: packageDir });

    const declarations = readdirSync(distDir).filter((name) => name.endsWith(".d.ts"));
    const imports = declarations.flatMap((name) => [...readFileSync(join(distDir, name), "utf8").matchAll(/from "([^"]+)"/g)].map((match) => match[1]));
    const bundle = readFileSync(join(distDir, "index.js"), "utf8");
    const client = await import(join(distDir, "index.js"));

    expect(declarations).toContain("index.d.ts");
    expect(declarations).toContain("catalog.d.ts");
    // Only the package's own modules: nothing of the service's source, no dependency.
    expect(imports.filter((path) => !/^\.\/[\w-]+$/.test(path))).toEqual([]);
    expect(bundle).not.toMatch(/^import /m);
    expect(Object.keys(client).sort()).toEqual(["EdgeCmqError", "LiveProtocol", "LiveSocket", "consume", "createClient", "idempotentOperations", "openLive"]);
    expect(typeof client.createClient({ endpoint: "https://cmq.example", secretKey: "k" }).sendMessages).toBe("function");
  });

  it("stays within the browser size budget", async () => {
    const { stdout } = await run(process.execPath, ["scripts/size.mjs"], { cwd: packageDir });

    const gzipBytes = Number(/minified \+ gzip\s+(\d+) bytes/.exec(stdout)?.[1]);
    expect(gzipBytes).toBeGreaterThan(1_000);
    expect(gzipBytes).toBeLessThanOrEqual(8 * 1024);
  });
});
