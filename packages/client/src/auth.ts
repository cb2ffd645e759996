/** A browser token and when it stops working (Unix ms), as `createToken` answers. */
export interface IssuedToken {
  token: string;
  expiresAt: number;
}

/**
 * How the client proves who it is:
 * - `secretKey` alone: sent as a bearer secret (server to server, over HTTPS);
 * - `secretId` with `secretKey`: each request signed with TC3-HMAC-SHA256, the secret never sent;
 * - `token`: a browser token; or `getToken`, called for a first token and again before one expires.
 */
export interface Credentials {
  secretId?: string;
  secretKey?: string;
  token?: string;
  getToken?: () => Promise<IssuedToken>;
  /** How long before its expiry a token from `getToken` is replaced (default 60,000 ms). */
  refreshBeforeMs?: number;
}

export interface SignableRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

const encoder = new TextEncoder();
const toHex = (bytes: ArrayBuffer): string => Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
const sha256Hex = async (text: string): Promise<string> => toHex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));

async function hmac(key: string | ArrayBuffer, text: string): Promise<ArrayBuffer> {
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const cryptoKey = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(text));
}

/**
 * Signs a request with TC3-HMAC-SHA256, the scheme of Tencent Cloud API 3.0 that the service
 * verifies (src/auth/tc3.ts): the method, path, query, the `content-type` and `host` headers and the
 * body's SHA-256, under a key chained from the secret over the UTC date, the service and
 * `tc3_request`. Sets `Authorization` and `X-TC-Timestamp` on `request.headers`.
 */
export async function signTc3(request: SignableRequest, secretId: string, secretKey: string, nowMs: number, service = "cmq"): Promise<void> {
  const url = new URL(request.url);
  const timestamp = Math.floor(nowMs / 1000);
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const contentType = (request.headers.get("content-type") ?? "").trim().toLowerCase();
  const canonical = [
    request.method.toUpperCase(),
    url.pathname,
    url.search.slice(1),
    `content-type:${contentType}\nhost:${url.host.toLowerCase()}\n`,
    "content-type;host",
    await sha256Hex(request.body),
  ].join("\n");
  const scope = `${date}/${service}/tc3_request`;
  const stringToSign = `TC3-HMAC-SHA256\n${timestamp}\n${scope}\n${await sha256Hex(canonical)}`;
  const signingKey = await hmac(await hmac(await hmac(`TC3${secretKey}`, date), service), "tc3_request");
  const signature = toHex(await hmac(signingKey, stringToSign));
  request.headers.set("authorization", `TC3-HMAC-SHA256 Credential=${secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`);
  request.headers.set("x-tc-timestamp", String(timestamp));
}

/**
 * Keeps the current token from `getToken`: fetched on first use, replaced `refreshBeforeMs` before
 * it expires or when the service refused it; callers at the same moment share one refresh.
 */
export class TokenSource {
  private current?: IssuedToken;
  private pending?: Promise<IssuedToken>;

  constructor(
    private readonly getToken: () => Promise<IssuedToken>,
    private readonly refreshBeforeMs: number,
    private readonly now: () => number,
  ) {}

  async token(): Promise<string> {
    const current = this.current;
    if (current && this.now() < current.expiresAt - this.refreshBeforeMs) return current.token;
    return (await this.refresh()).token;
  }

  /** Drops the token the service refused, so the next call fetches another. */
  refused(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private refresh(): Promise<IssuedToken> {
    this.pending ??= this.getToken().then(
      (issued) => {
        this.current = issued;
        this.pending = undefined;
        return issued;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }
}
