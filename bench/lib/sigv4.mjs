// AWS Signature Version 4 for the SQS scenario, synchronous (node:crypto), because autocannon builds
// each request in a synchronous `setupRequest`. Checked at the start of every run against the AWS
// SDK's own signer (@smithy/signature-v4): the two must produce the same signature.
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";

const sha256Hex = (text) => createHash("sha256").update(text, "utf8").digest("hex");
const hmac = (key, text) => createHmac("sha256", key).update(text, "utf8").digest();

/** `YYYYMMDDTHHMMSSZ` of a date. */
export const amzDateOf = (date) => date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");

/**
 * The headers of a signed `POST /` with `body`, signing `host`, `x-amz-date` and the given headers.
 * @param {{ host: string, headers: Record<string, string>, body: string, accessKeyId: string, secretAccessKey: string, region?: string, date?: Date }} request
 */
export function signedHeaders({ host, headers, body, accessKeyId, secretAccessKey, region = "us-east-1", date = new Date() }) {
  const amzDate = amzDateOf(date);
  const day = amzDate.slice(0, 8);
  const all = { ...Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])), host, "x-amz-date": amzDate };
  const names = Object.keys(all).sort();
  const canonical = ["POST", "/", "", names.map((name) => `${name}:${String(all[name]).trim()}\n`).join(""), names.join(";"), sha256Hex(body)].join("\n");
  const scope = `${day}/${region}/sqs/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), "sqs"), "aws4_request");
  const signature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  const { host: _host, ...sent } = all;
  return { ...sent, authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}` };
}

class NodeSha256 {
  constructor(secret) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", secret);
  }
  update(data) {
    this.hash.update(typeof data === "string" ? Buffer.from(data, "utf8") : data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/** Throws unless this signer and the AWS SDK's agree on a sample request. */
export async function checkAgainstSdkSigner(credentials) {
  const date = new Date();
  const sample = { host: "127.0.0.1:8787", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage" }, body: '{"QueueUrl":"q","MessageBody":"é"}' };
  const ours = signedHeaders({ ...sample, ...credentials, date });
  const sdk = await new SignatureV4({ credentials, region: "us-east-1", service: "sqs", sha256: NodeSha256, applyChecksum: false }).sign(
    { method: "POST", protocol: "http:", hostname: "127.0.0.1", port: 8787, path: "/", query: {}, headers: { host: sample.host, ...sample.headers }, body: sample.body },
    { signingDate: date },
  );
  if (ours.authorization !== sdk.headers.authorization) {
    throw new Error(`the bench's SigV4 signer disagrees with @smithy/signature-v4:\n${ours.authorization}\n${sdk.headers.authorization}`);
  }
}
