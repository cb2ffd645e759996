#!/usr/bin/env node
// The command-line tool. Its code is dist/edge-cmq.js, a bundle with the client inside, so the
// published package needs nothing at run time; in the repository, `npm run build -w packages/cli`.
let cli;
try {
  cli = await import("../dist/edge-cmq.js");
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
  process.stderr.write("edge-cmq is not built: run `npm run build -w packages/cli`\n");
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
