import { createClient, type EdgeCmqClient } from "@edge-cmq/client";

/** What a person signs in with: a key (its SecretKey, with its SecretId to sign requests) or a browser token. */
export type SignIn = { kind: "key"; secretId: string; secretKey: string } | { kind: "token"; token: string };

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
