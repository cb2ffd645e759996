// Runs test/sqs/boto3-client.py with Debian's /usr/bin/python3 (python3-boto3) against a service.
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";

const python = "/usr/bin/python3";

export const hasBoto3 = () => spawnSync(python, ["-c", "import boto3"], { stdio: "ignore" }).status === 0;

export const md5Hex = (text) => createHash("md5").update(text, "utf8").digest("hex");

export async function runBoto3Client({ endpoint, secretId, secretKey, queueName }) {
  const { stdout } = await promisify(execFile)(python, [path.join(import.meta.dirname, "boto3-client.py")], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", SQS_ENDPOINT: endpoint, SQS_SECRET_ID: secretId, SQS_SECRET_KEY: secretKey, SQS_QUEUE_NAME: queueName },
    timeout: 60_000,
  });
  return JSON.parse(stdout);
}
