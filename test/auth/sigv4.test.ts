import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authenticate } from "../../src/auth/authenticate";
import { SigV4WindowSeconds } from "../../src/auth/sigv4";
import { ServiceError } from "../../src/errors";
import { createKey, type TestKey } from "../support/auth";
import { api, RootSecretKey } from "../support/http";
import { sigV4Headers, type SigV4Signing } from "../support/sigv4";

const Refused = "invalid credentials: the SecretId is unknown or the signature does not match";
const url = "http://cmq.test/000000000000/orders?Action=SendMessage&Note=a%20b%2Fc%21&Empty=";
const body = JSON.stringify({ QueueUrl: "http://cmq.test/000000000000/orders", MessageBody: "héllo" });
const jsonHeaders = { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage" };

const signingOf = (key: TestKey, extra: Partial<SigV4Signing> = {}): SigV4Signing => ({
  accessKeyId: key.secretId,
  secretAccessKey: key.secretKey,
  ...extra,
});

interface Parts {
  method: string;
  url: string;
  body: string;
  headers: Record<string, string>;
}

async function signed(signing: SigV4Signing, parts: Partial<Parts> = {}): Promise<Parts> {
  const request = { method: "POST", url, body, headers: { ...jsonHeaders }, ...parts };
  return { ...request, headers: await sigV4Headers(request.method, request.url, request.body, request.headers, signing) };
}

async function outcome(parts: Parts, nowMs = Date.now()): Promise<string> {
  const request = new Request(parts.url, { method: parts.method, headers: parts.headers });
  try {
    const principal = await authenticate(request, parts.body, env, nowMs);
    return `accepted as ${principal.kind}`;
  } catch (error) {
    if (error instanceof ServiceError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

const anyKey = () => createKey([{ actions: ["*"], resources: ["*"] }]);

describe("AWS Signature Version 4", () => {
  it("accepts a request the AWS SDK signed with a key's SecretId and SecretKey", async () => {
    const key = await anyKey();

    const result = await outcome(await signed(signingOf(key)));

    expect(result).toBe("accepted as key");
  });

  it("accepts the root credentials", async () => {
    const result = await outcome(await signed({ accessKeyId: env.ROOT_SECRET_ID!, secretAccessKey: RootSecretKey }));

    expect(result).toBe("accepted as root");
  });

  it.each(["us-east-1", "eu-central-1", "local"])("accepts any region in the scope (%s)", async (region) => {
    const key = await anyKey();

    const result = await outcome(await signed(signingOf(key, { region })));

    expect(result).toBe("accepted as key");
  });

  it("accepts a GET with an empty body and a path and query that need encoding", async () => {
    const key = await anyKey();
    const parts = await signed(signingOf(key), { method: "GET", url: "http://cmq.test/a%20b/c~d?z=1&a=%E2%9C%93&a=0&m=x*y", body: "" });

    const result = await outcome(parts);

    expect(result).toBe("accepted as key");
  });

  it("accepts a change to a header that is not signed", async () => {
    const key = await anyKey();
    const parts = await signed(signingOf(key));

    const result = await outcome({ ...parts, headers: { ...parts.headers, "user-agent": "changed" } });

    expect(result).toBe("accepted as key");
  });

  const tamperings: Array<[string, (parts: Parts) => Parts]> = [
    ["the method", (parts) => ({ ...parts, method: "PUT" })],
    ["the path", (parts) => ({ ...parts, url: parts.url.replace("/orders", "/orderz") })],
    ["a query value", (parts) => ({ ...parts, url: parts.url.replace("Action=SendMessage", "Action=DeleteQueue") })],
    ["an added query parameter", (parts) => ({ ...parts, url: `${parts.url}&Extra=1` })],
    ["the body", (parts) => ({ ...parts, body: parts.body.replace("héllo", "hello"), headers: withoutContentHash(parts.headers) })],
    ["a signed header", (parts) => ({ ...parts, headers: { ...parts.headers, "x-amz-target": "AmazonSQS.DeleteQueue" } })],
    ["the host", (parts) => ({ ...parts, headers: { ...parts.headers, host: "other.test" } })],
    ["X-Amz-Date, within the window", (parts) => ({ ...parts, headers: { ...parts.headers, "x-amz-date": shiftAmzDate(parts.headers["x-amz-date"]!, 1) } })],
    ["the signature", (parts) => ({ ...parts, headers: { ...parts.headers, authorization: parts.headers.authorization!.replace(/.$/, (c) => (c === "0" ? "1" : "0")) } })],
    ["the region in the scope", (parts) => ({ ...parts, headers: { ...parts.headers, authorization: parts.headers.authorization!.replace("/us-east-1/", "/us-west-2/") } })],
  ];

  it.each(tamperings)("refuses a request whose %s changed after signing", async (_part, tamper) => {
    const key = await anyKey();
    const parts = await signed(signingOf(key));

    const result = await outcome(tamper(parts));

    expect(result).toBe(`Unauthenticated: ${Refused}`);
  });

  it("refuses a changed body whose x-amz-content-sha256 still names the signed one", async () => {
    const key = await anyKey();
    const parts = await signed(signingOf(key), { headers: { ...jsonHeaders, "x-amz-content-sha256": await sha256Hex(body) } });

    const result = await outcome({ ...parts, body: parts.body.replace("héllo", "hello") });

    expect(result).toBe("Unauthenticated: x-amz-content-sha256 is not the SHA-256 of the body");
  });

  it("answers an unknown access key id, a wrong secret for a key and for root in exactly the same way", async () => {
    const key = await anyKey();

    const unknown = await outcome(await signed({ accessKeyId: `AKID${"z".repeat(32)}`, secretAccessKey: key.secretKey }));
    const wrongForKey = await outcome(await signed(signingOf(key, { secretAccessKey: `${key.secretKey}x` })));
    const wrongForRoot = await outcome(await signed({ accessKeyId: env.ROOT_SECRET_ID!, secretAccessKey: `${RootSecretKey}x` }));

    expect(unknown).toBe(`Unauthenticated: ${Refused}`);
    expect(wrongForKey).toBe(unknown);
    expect(wrongForRoot).toBe(unknown);
  });

  it("refuses a disabled key", async () => {
    const key = await anyKey();
    await api("PATCH", `/v1/accounts/default/keys/${key.secretId}`, { disabled: true });

    const result = await outcome(await signed(signingOf(key)));

    expect(result).toBe("Unauthenticated: invalid credentials: key is disabled");
  });

  it("refuses temporary credentials (X-Amz-Security-Token) clearly", async () => {
    const key = await anyKey();

    const result = await outcome(await signed(signingOf(key, { sessionToken: "session-token" })));

    expect(result).toMatch(/^Unauthenticated: temporary credentials \(X-Amz-Security-Token\) are not supported/);
  });

  it.each([
    ["signed more than 15 minutes ago", -(SigV4WindowSeconds + 5)],
    ["signed more than 15 minutes ahead", SigV4WindowSeconds + 5],
  ])("refuses a request %s", async (_when, offsetSeconds) => {
    const key = await anyKey();
    const nowMs = Date.now();
    const parts = await signed(signingOf(key, { signingDate: new Date(nowMs + offsetSeconds * 1000) }));

    const result = await outcome(parts, nowMs);

    expect(result).toMatch(/^Unauthenticated: signature expired/);
  });

  it("accepts a request signed 14 minutes ago", async () => {
    const key = await anyKey();
    const nowMs = Date.now();
    const parts = await signed(signingOf(key, { signingDate: new Date(nowMs - 14 * 60_000) }));

    const result = await outcome(parts, nowMs);

    expect(result).toBe("accepted as key");
  });

  it("refuses a scope for another service than sqs", async () => {
    const key = await anyKey();

    const result = await outcome(await signed(signingOf(key, { service: "s3" })));

    expect(result).toBe('Unauthenticated: credential scope must name the service "sqs", not "s3"');
  });

  it("refuses an x-amz-content-sha256 that is not the body's hash", async () => {
    const key = await anyKey();
    const parts = await signed(signingOf(key), { headers: { ...jsonHeaders, "x-amz-content-sha256": "0".repeat(64) } });

    const result = await outcome(parts);

    expect(result).toBe("Unauthenticated: x-amz-content-sha256 is not the SHA-256 of the body");
  });

  it("accepts an x-amz-content-sha256 that is the body's hash", async () => {
    const key = await anyKey();
    const hash = await sha256Hex(body);
    const parts = await signed(signingOf(key), { headers: { ...jsonHeaders, "x-amz-content-sha256": hash } });

    const result = await outcome(parts);

    expect(result).toBe("accepted as key");
  });

  it.each([
    ["no SignedHeaders", (h: string) => h.replace(/SignedHeaders=[^,]+,\s*/, "")],
    ["an unsorted SignedHeaders", (h: string) => h.replace(/SignedHeaders=([^,]+)/, (_m, list: string) => `SignedHeaders=${list.split(";").reverse().join(";")}`)],
    ["SignedHeaders without host", (h: string) => h.replace(/SignedHeaders=([^,]+)/, (_m, list: string) => `SignedHeaders=${list.split(";").filter((n) => n !== "host").join(";")}`)],
    ["a short signature", (h: string) => h.replace(/Signature=([0-9a-f]+)/, (_m, sig: string) => `Signature=${sig.slice(2)}`)],
  ])("refuses an Authorization header with %s", async (_case, mangle) => {
    const key = await anyKey();
    const parts = await signed(signingOf(key));

    const result = await outcome({ ...parts, headers: { ...parts.headers, authorization: mangle(parts.headers.authorization!) } });

    expect(result).toMatch(/^Unauthenticated: (malformed AWS4-HMAC-SHA256 credentials|SignedHeaders must)/);
  });

  it("authenticates a native REST request signed with SigV4 as well", async () => {
    const key = await anyKey();
    const headers = await sigV4Headers("GET", "http://cmq.test/v1/queues", "", {}, signingOf(key));

    const response = await api("GET", "/v1/queues", undefined, { auth: null, headers });

    expect(response.status).toBe(200);
  });
});

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

const withoutContentHash = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => name !== "x-amz-content-sha256"));

function shiftAmzDate(amzDate: string, seconds: number): string {
  const ms = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  const shifted = new Date(ms + seconds * 1000).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return shifted.slice(0, 8) === amzDate.slice(0, 8) ? shifted : new Date(ms - seconds * 1000).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}
