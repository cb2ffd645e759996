import { createClient, type EdgeCmqClient } from "@edge-cmq/client";

/**
 * What a person signs in with: a key (its SecretKey, with its SecretId to sign requests) or a
 * browser token, with its expiry once the service has told it (Unix ms).
 */
export type SignIn = { kind: "key"; secretId: string; secretKey: string } | { kind: "token"; token: string; expiresAt?: number };

/** A token is put away this long before it ends: a request sent at the last moment would arrive after it. */
export const TokenExpiryMarginMs = 2_000;

/** When the sign-in's token is put away (Unix ms), or null for a key or a token not yet checked. */
export function signOutAt(signIn: SignIn): number | null {
  return signIn.kind === "token" && signIn.expiresAt !== undefined ? signIn.expiresAt - TokenExpiryMarginMs : null;
}

const StorageKey = "edge-cmq.console.credentials";

/**
 * Credentials live in sessionStorage: they end with the tab and are never written to disk by the
 * console. The client is pointed at this page's own origin, so they are sent to this service only
 * (and the Content-Security-Policy's `connect-src 'self'` holds the page to it).
 */
export function storedSignIn(): SignIn | null {
  const text = sessionStorage.getItem(StorageKey);
  if (!text) return null;
  try {
    return JSON.parse(text) as SignIn;
  } catch {
    sessionStorage.removeItem(StorageKey);
    return null;
  }
}

export function storeSignIn(signIn: SignIn): void {
  sessionStorage.setItem(StorageKey, JSON.stringify(signIn));
}

export function forgetSignIn(): void {
  sessionStorage.removeItem(StorageKey);
}

export function clientFor(signIn: SignIn): EdgeCmqClient {
  const endpoint = location.origin;
  if (signIn.kind === "token") return createClient({ endpoint, token: signIn.token });
  return signIn.secretId
    ? createClient({ endpoint, secretId: signIn.secretId, secretKey: signIn.secretKey })
    : createClient({ endpoint, secretKey: signIn.secretKey });
}
