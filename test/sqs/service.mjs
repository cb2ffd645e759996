// The real service for the SQS compatibility tests: `wrangler dev` on a free 127.0.0.1 port with its
// own state folder (test/reliability/lib/service.mjs starts it), and a key created through the REST
// API for the SDK to sign with.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RootSecretKey, startService } from "../reliability/lib/service.mjs";

export async function startSqsService() {
  const workDir = mkdtempSync(path.join(tmpdir(), "cmq-sqs-"));
  const service = await startService({ workDir, label: "sqs" });
  const response = await fetch(`${service.url}/v1/accounts/default/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${RootSecretKey}`, "content-type": "application/json" },
    body: JSON.stringify({ policy: { statements: [{ actions: ["*"], resources: ["*"] }] } }),
  });
  if (response.status !== 201) throw new Error(`creating a key answered ${response.status}: ${await response.text()}`);
  const key = await response.json();
  return {
    url: service.url,
    key: { secretId: key.secretId, secretKey: key.secretKey },
    async stop() {
      await service.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
