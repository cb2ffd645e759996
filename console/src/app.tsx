import type { EdgeCmqClient } from "@edge-cmq/client";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { AccountsPage } from "./pages/accounts";
import { QueuePage } from "./pages/queue";
import { QueuesPage } from "./pages/queues";
import { SignInPage } from "./pages/sign-in";
import { TopicPage } from "./pages/topic";
import { TopicsPage } from "./pages/topics";
import { clientFor, forgetSignIn, storedSignIn, storeSignIn, type SignIn } from "./session";

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

export function App() {
  const [signIn, setSignIn] = useState<SignIn | null>(storedSignIn);
  const client = useMemo(() => (signIn ? clientFor(signIn) : null), [signIn]);
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);
  // A new page moves focus to its content, as a page load would, for keyboard and screen-reader users.
  useEffect(() => mainRef.current?.focus(), [route.join("/")]);

  if (!client || !signIn) {
    return (
      <SignInPage
        onSignIn={(given) => {
          storeSignIn(given);
          setSignIn(given);
          if (!location.hash) location.hash = "#/queues";
        }}
      />
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
          <a href={href("accounts")} aria-current={section === "accounts" ? "page" : undefined}>Accounts</a>
        </nav>
        <button
          type="button"
          onClick={() => {
            forgetSignIn();
            setSignIn(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <Page client={client} signIn={signIn} section={section} name={name} />
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
