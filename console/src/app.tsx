import type { EdgeCmqClient } from "@edge-cmq/client";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { AccountsPage } from "./pages/accounts";
import { QueuePage } from "./pages/queue";
import { QueuesPage } from "./pages/queues";
import { SignInPage } from "./pages/sign-in";
import { TopicPage } from "./pages/topic";
import { TopicsPage } from "./pages/topics";
import { Rights, RightsProvider, type WhoAmI } from "./rights";
import { clientFor, forgetSignIn, signOutAt, storedSignIn, storeSignIn, type SignIn } from "./session";
import { Status, formatTime } from "./ui";
import { messageOf } from "./validate";

/** Pages are addressed by the URL's fragment (`#/queues/orders`): the static files need no fallback route. */
function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join("/")}`;

const expiredNotice = (signIn: SignIn) => `Signed out: the browser token ends at ${formatTime(signIn.kind === "token" ? signIn.expiresAt ?? null : null)}. Sign in again.`;

/** The kept sign-in, unless its token has ended: that one is put away without a request the service would refuse. */
function keptSignIn(): { signIn: SignIn | null; notice: string | null } {
  const signIn = storedSignIn();
  const endsAt = signIn && signOutAt(signIn);
  if (!signIn || endsAt === null || endsAt > Date.now()) return { signIn, notice: null };
  forgetSignIn();
  return { signIn: null, notice: expiredNotice(signIn) };
}

export function App() {
  const [kept] = useState(keptSignIn);
  const [signIn, setSignIn] = useState<SignIn | null>(kept.signIn);
  const [notice, setNotice] = useState<string | null>(kept.notice);
  const [identity, setIdentity] = useState<WhoAmI | null>(null);
  const [identityError, setIdentityError] = useState<string | null>(null);
  const client = useMemo(() => (signIn ? clientFor(signIn) : null), [signIn]);
  const rights = useMemo(() => (identity ? new Rights(identity) : null), [identity]);
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);
  // A new page moves focus to its content, as a page load would, for keyboard and screen-reader users.
  useEffect(() => mainRef.current?.focus(), [route.join("/"), rights]);
  // Credentials kept from before a reload: ask again who they are.
  useEffect(() => {
    if (!client || identity) return;
    client.whoami().then(setIdentity, (failure: unknown) => setIdentityError(messageOf(failure)));
  }, [client]);
  const signOut = () => {
    forgetSignIn();
    setSignIn(null);
    setIdentity(null);
    setIdentityError(null);
  };
  // A token signs the console out shortly before it ends, rather than leave every page refused.
  useEffect(() => {
    const endsAt = signIn && signOutAt(signIn);
    if (!signIn || endsAt === null) return;
    const timer = setTimeout(() => {
      signOut();
      setNotice(expiredNotice(signIn));
    }, Math.max(0, endsAt - Date.now()));
    return () => clearTimeout(timer);
  }, [signIn]);

  if (!client || !signIn) {
    return (
      <SignInPage
        notice={notice}
        onSignIn={(given, who) => {
          const signedIn: SignIn = given.kind === "token" && who.token ? { ...given, expiresAt: who.token.expiresAt } : given;
          storeSignIn(signedIn);
          setNotice(null);
          setIdentity(who);
          setSignIn(signedIn);
          if (!location.hash) location.hash = "#/queues";
        }}
      />
    );
  }
  if (!rights) {
    return (
      <main>
        <Status error={identityError} />
        {identityError ? <button type="button" onClick={signOut}>Sign out</button> : <p role="status">Signing in…</p>}
      </main>
    );
  }
  const [section = "queues", name] = route;
  return (
    <>
      <a class="skip" href="#main" onClick={(event) => (event.preventDefault(), mainRef.current?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">edge-cmq</span>
        <nav aria-label="Sections">
          <a href={href("queues")} aria-current={section === "queues" ? "page" : undefined}>Queues</a>
          <a href={href("topics")} aria-current={section === "topics" ? "page" : undefined}>Topics</a>
          {/* Every account is root's to see; other credentials see their own. */}
          <a href={href("accounts")} aria-current={section === "accounts" ? "page" : undefined}>{rights.isRoot ? "Accounts" : "Account"}</a>
        </nav>
        <span class="hint" data-identity>
          {rights.isRoot ? "root" : `${identity!.kind} ${identity!.secretId ?? "of root"}`} in {identity!.account}
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <RightsProvider value={rights}>
          <Page client={client} signIn={signIn} section={section} name={name} />
        </RightsProvider>
      </main>
    </>
  );
}

function Page({ client, signIn, section, name }: { client: EdgeCmqClient; signIn: SignIn; section: string; name: string | undefined }) {
  if (section === "queues") return name ? <QueuePage key={name} client={client} name={name} /> : <QueuesPage client={client} />;
  if (section === "topics") return name ? <TopicPage key={name} client={client} signIn={signIn} name={name} /> : <TopicsPage client={client} />;
  if (section === "accounts") return <AccountsPage client={client} />;
  return <p>No such page. <a href={href("queues")}>Go to the queues</a>.</p>;
}
