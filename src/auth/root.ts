import { ErrorCode, QueueError } from "../errors";
import type { Scope } from "../service/queues";

/** The account the root credentials administer. */
export const DefaultAccount = "default";
export const DefaultRegion = "local";

const textEncoder = new TextEncoder();

/** Compares two secrets in constant time: both are hashed first, so their lengths leak nothing either. */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", textEncoder.encode(given)),
    crypto.subtle.digest("SHA-256", textEncoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Refuses everything until both root credentials are set: an unconfigured service never opens up. */
export function requireConfigured(env: Env): { secretId: string; secretKey: string } {
  if (!env.ROOT_SECRET_ID || !env.ROOT_SECRET_KEY) {
    throw new QueueError(
      ErrorCode.NotConfigured,
      "service not configured: set the ROOT_SECRET_ID and ROOT_SECRET_KEY variables",
    );
  }
  return { secretId: env.ROOT_SECRET_ID, secretKey: env.ROOT_SECRET_KEY };
}

/** Authenticates `Authorization: Bearer <root secret key>` and returns the scope it acts in. */
export async function authenticateBearer(request: Request, env: Env): Promise<Scope> {
  const { secretKey } = requireConfigured(env);
  const header = request.headers.get("authorization");
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) {
    throw new QueueError(ErrorCode.Unauthenticated, "missing credentials: send Authorization: Bearer <secret key>");
  }
  if (!(await secretsEqual(match[1]!, secretKey))) {
    throw new QueueError(ErrorCode.Unauthenticated, "invalid credentials");
  }
  return rootScope(env);
}

export function rootScope(env: Env): Scope {
  return { account: DefaultAccount, region: env.REGION || DefaultRegion };
}
