import { env } from "cloudflare:workers";
import { serviceKeys } from "../../src/auth/crypto";
import { signTc3 } from "../../src/auth/tc3";
import { mintToken, type TokenClaims } from "../../src/auth/tokens";
import { api, RootSecretKey } from "./http";

export interface TestKey {
  accountId: string;
  secretId: string;
  secretKey: string;
}

/** Creates a key in an account (root credentials) and returns its id and secret. */
export async function createKey(
  statements: Array<{ actions: string[]; resources: string[] }>,
  accountId = "default",
): Promise<TestKey> {
  const response = await api("POST", `/v1/accounts/${accountId}/keys`, { policy: { statements } });
  if (response.status !== 201) throw new Error(`createKey: ${response.status} ${JSON.stringify(response.body)}`);
  return { accountId, secretId: response.body.secretId, secretKey: response.body.secretKey };
}

export async function createAccount(name: string): Promise<string> {
  const response = await api("POST", "/v1/accounts", { name });
  if (response.status !== 201) throw new Error(`createAccount: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id as string;
}

export const bearer = (secret: string) => `Bearer ${secret}`;

/** A token signed with the service's own key but with claims chosen by the test (for example, already expired). */
export async function forgeValidToken(claims: TokenClaims): Promise<string> {
  const keys = await serviceKeys(env.SECRET_ENCRYPTION_KEY || RootSecretKey);
  return mintToken(keys.tokens, claims);
}

/** Headers of a TC3-HMAC-SHA256 signed request to the test host. */
export async function tc3Headers(
  method: string,
  path: string,
  body: string,
  key: { secretId: string; secretKey: string },
  timestampSeconds = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const headers = new Headers({ host: "cmq.test", "content-type": "application/json" });
  const { authorization, timestamp } = await signTc3(
    { method, url: `http://cmq.test${path}`, headers, body },
    key.secretId,
    key.secretKey,
    timestampSeconds,
  );
  return { authorization, "x-tc-timestamp": timestamp, "content-type": "application/json" };
}
