// The real service for the API 3.0 compatibility tests: `wrangler dev` on a free 127.0.0.1 port with
// its own state folder (test/reliability/lib/service.mjs starts it), and the REST calls the tests
// make around the SDK (keys with policies, disabling a key, reading messages).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RootSecretKey, startService } from "../reliability/lib/service.mjs";

export async function startTcapiService() {
  const workDir = mkdtempSync(path.join(tmpdir(), "cmq-tcapi-"));
  const service = await startService({ workDir, label: "tcapi" });
  /** A REST call with the root credentials: the answer's status and JSON body. */
  async function rest(method, route, body) {
    const response = await fetch(`${service.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${RootSecretKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }
  async function createKey(statements, account = "default") {
    const created = await rest("POST", `/v1/accounts/${account}/keys`, { policy: { statements } });
    if (created.status !== 201) throw new Error(`creating a key answered ${created.status}: ${JSON.stringify(created.body)}`);
    return { secretId: created.body.secretId, secretKey: created.body.secretKey };
  }
  return {
    url: service.url,
    /** The endpoint as a tencentcloud-sdk-nodejs client takes it: host and port, no scheme. */
    endpoint: service.url.replace(/^http:\/\//, ""),
    key: await createKey([{ actions: ["*"], resources: ["*"] }]),
    rest,
    createKey,
    async stop() {
      await service.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
