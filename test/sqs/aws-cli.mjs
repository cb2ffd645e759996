// Runs Debian's AWS CLI (`awscli`, v2.9: its botocore speaks SQS's query protocol) against a service,
// with nothing of this machine's AWS configuration: its own HOME, no config or credentials files.
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const aws = "/usr/bin/aws";

export const hasAwsCli = () => spawnSync(aws, ["--version"], { stdio: "ignore" }).status === 0;

/** A CLI bound to `endpoint` and a key: `run("sqs", "send-message", ...)` answers its exit status and output. */
export function awsCliFor({ endpoint, secretId, secretKey }) {
  const home = mkdtempSync(path.join(tmpdir(), "aws-cli-"));
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    AWS_ACCESS_KEY_ID: secretId,
    AWS_SECRET_ACCESS_KEY: secretKey,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: path.join(home, "config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, "credentials"),
    AWS_PAGER: "",
    AWS_MAX_ATTEMPTS: "1",
  };
  return (...args) =>
    new Promise((resolve) => {
      execFile(aws, [...args, "--endpoint-url", endpoint, "--output", "json"], { env, timeout: 60_000 }, (error, stdout, stderr) => {
        const status = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ status, json: stdout.trim() ? JSON.parse(stdout) : null, stderr });
      });
    });
}
