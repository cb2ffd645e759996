import { useState } from "preact/hooks";
import type { WhoAmI } from "../rights";
import { clientFor, type SignIn } from "../session";
import { Field, Status, useAction } from "../ui";

/** Signs in with a key or a browser token, checked against the service before it is kept. */
export function SignInPage({ onSignIn, notice }: { onSignIn: (signIn: SignIn, identity: WhoAmI) => void; notice: string | null }) {
  const [kind, setKind] = useState<SignIn["kind"]>("key");
  const [secretId, setSecretId] = useState("");
  const [secretKey, setSecretKey] = useState("");
  const [token, setToken] = useState("");
  const action = useAction();

  const submit = (event: Event) => {
    event.preventDefault();
    const signIn: SignIn = kind === "key" ? { kind, secretId: secretId.trim(), secretKey } : { kind, token: token.trim() };
    void action.run(async () => {
      // Asking who they are proves the credentials and tells the console what they may do.
      onSignIn(signIn, await clientFor(signIn).whoami());
    });
  };

  return (
    <main class="sign-in">
      <h1>edge-cmq console</h1>
      {notice && (
        <p class="hint" role="status" data-notice>
          {notice}
        </p>
      )}
      <form onSubmit={submit} noValidate aria-label="Sign in">
        <fieldset>
          <legend>Sign in with</legend>
          <label class="inline">
            <input type="radio" name="kind" checked={kind === "key"} onChange={() => setKind("key")} /> a secret key
          </label>
          <label class="inline">
            <input type="radio" name="kind" checked={kind === "token"} onChange={() => setKind("token")} /> a browser token
          </label>
        </fieldset>
        {kind === "key" ? (
          <>
            <Field label="Secret key" type="password" value={secretKey} onInput={setSecretKey} autoComplete="current-password" required />
            <Field
              label="Secret id (optional)"
              hint="With it, requests are signed (TC3) instead of carrying the key itself."
              value={secretId}
              onInput={setSecretId}
              autoComplete="username"
            />
          </>
        ) : (
          <Field label="Browser token" type="password" value={token} onInput={setToken} required />
        )}
        <p class="hint">Kept in this tab's session storage only, and sent only to this service.</p>
        <button type="submit" disabled={action.busy}>Sign in</button>
        <Status error={action.error} />
      </form>
    </main>
  );
}
