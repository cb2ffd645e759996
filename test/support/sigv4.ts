import { SignatureV4 } from "@smithy/signature-v4";

/** SHA-256 and HMAC-SHA256 through Web Crypto, in the shape the AWS signer takes (`ChecksumConstructor`). */
class WebCryptoSha256 {
  private chunks: Uint8Array[] = [];

  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {}

  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.chunks.push(toBytes(data));
  }

  async digest(): Promise<Uint8Array> {
    const data = new Uint8Array(this.chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
    let offset = 0;
    for (const chunk of this.chunks) {
      data.set(chunk, offset);
      offset += chunk.byteLength;
    }
    if (this.secret === undefined) return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    const key = await crypto.subtle.importKey("raw", toBytes(this.secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
  }

  reset(): void {
    this.chunks = [];
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Query parameters as the signer takes them: a repeated name becomes a list of its values. */
function queryOf(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of params) {
    const previous = query[name];
    query[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return query;
}

export interface SigV4Signing {
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  service?: string;
  signingDate?: Date;
  sessionToken?: string;
}

/**
 * Signs a request with the AWS SDK's own SigV4 signer (`@smithy/signature-v4`) and returns the
 * headers it sends: the signer, not this service's code, decides what a valid signature is.
 */
export async function sigV4Headers(
  method: string,
  url: string,
  body: string,
  headers: Record<string, string>,
  signing: SigV4Signing,
): Promise<Record<string, string>> {
  const parsed = new URL(url);
  const signer = new SignatureV4({
    credentials: { accessKeyId: signing.accessKeyId, secretAccessKey: signing.secretAccessKey, sessionToken: signing.sessionToken },
    region: signing.region ?? "us-east-1",
    service: signing.service ?? "sqs",
    sha256: WebCryptoSha256,
  });
  const signed = await signer.sign(
    {
      method,
      protocol: parsed.protocol,
      hostname: parsed.hostname,
      port: parsed.port ? Number(parsed.port) : undefined,
      path: parsed.pathname,
      query: queryOf(parsed.searchParams),
      headers: { host: parsed.host, ...headers },
      body,
    },
    { signingDate: signing.signingDate ?? new Date() },
  );
  return signed.headers as Record<string, string>;
}
