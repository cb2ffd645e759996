import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { messageOf } from "./validate";

/** A labelled input; its explanation is tied to it with aria-describedby. */
export function Field(props: {
  label: string;
  hint?: string;
  value: string;
  onInput: (value: string) => void;
  type?: "text" | "password" | "search" | "datetime-local";
  name?: string;
  multiline?: boolean;
  placeholder?: string;
  required?: boolean;
  autoComplete?: string;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const common = {
    id,
    name: props.name,
    value: props.value,
    placeholder: props.placeholder,
    required: props.required,
    "aria-describedby": props.hint ? hintId : undefined,
    onInput: (event: Event) => props.onInput((event.currentTarget as HTMLInputElement | HTMLTextAreaElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.multiline ? <textarea rows={4} {...common} /> : <input {...common} type={(props.type ?? "text") as "text"} autoComplete={props.autoComplete ?? "off"} />}
      {props.hint && (
        <small id={hintId} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

export function Select(props: { label: string; hint?: string; value: string; options: readonly string[]; onChange: (value: string) => void }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} value={props.value} aria-describedby={props.hint ? `${id}-hint` : undefined} onChange={(event) => props.onChange(event.currentTarget.value)}>
        {props.options.map((option) => (
          <option value={option}>{option === "" ? "(none)" : option}</option>
        ))}
      </select>
      {props.hint && (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

/** The outcome of the last action: an error is announced to screen readers at once. */
export function Status(props: { error: string | null; done?: string | null }) {
  if (props.error) return <p class="error" role="alert">{props.error}</p>;
  if (props.done) return <p class="done" role="status">{props.done}</p>;
  return null;
}

/** Runs an action, keeping its error or its success message for Status. */
export function useAction() {
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (action: () => Promise<string | void>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const message = await action();
      if (message) setDone(message);
      return true;
    } catch (failure) {
      setError(messageOf(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, done, busy, run };
}

/** Loads data, again on `reload()` and every `refreshMs` while shown. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let live = true;
    const fetchNow = () =>
      loadRef.current().then(
        (value) => {
          if (!live) return;
          setData(value);
          setError(null);
        },
        (failure: unknown) => live && setError(messageOf(failure)),
      );
    void fetchNow();
    const timer = refreshMs ? setInterval(fetchNow, refreshMs) : undefined;
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [...deps, version]);
  return { data, error, reload: () => setVersion((n) => n + 1) };
}

/** A destructive button that asks once more, in place, before it acts. */
export function ConfirmButton(props: { label: string; question: string; onConfirm: () => void; disabled?: boolean; ariaLabel?: string }) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" class="danger" disabled={props.disabled} aria-label={props.ariaLabel} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={props.question}>
      <span>{props.question}</span>
      <button
        type="button"
        class="danger"
        ref={confirmRef}
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        Yes, {props.label.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function Section(props: { title: string; children: ComponentChildren; id?: string }) {
  const id = useId();
  return (
    <section aria-labelledby={id} id={props.id}>
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

export const formatTime = (unixMs: number | null): string => (unixMs === null ? "—" : new Date(unixMs).toISOString().replace("T", " ").slice(0, 19));

/** Tags typed as `a, b, c`. */
export const listOf = (text: string): string[] | undefined => {
  const items = text
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  return items.length > 0 ? items : undefined;
};

/** A number typed in a field; text that is not one goes to the schema as it is, to be refused there. */
export const numberOf = (text: string): number | string | undefined => (text.trim() === "" ? undefined : Number.isFinite(Number(text)) ? Number(text) : text);

/** A JSON object typed in a field; text that is not JSON goes on as it is, to be refused by the schema. */
export const jsonOf = (text: string): unknown => {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** The page sizes a list offers. */
/** A paged list's caption: how many in all, and how many of them this page shows. */
export const listCaption = (total: number, shown: number, noun: string): string =>
  `${total} ${total === 1 ? noun : `${noun}s`}${total > shown ? `, ${shown} on this page` : ""}`;

export const PageSizes = ["10", "50", "100"] as const;

/**
 * A list read a page at a time with the API's cursors. The cursors of the pages already seen are
 * kept, so that going back asks for the same page again; new filters start over at the first.
 */
export function usePages<T extends { nextCursor: string | null }>(
  load: (page: { cursor?: string; limit: number }) => Promise<T>,
  deps: unknown[],
  refreshMs?: number,
  defaultLimit: (typeof PageSizes)[number] = "50",
) {
  const [limit, setLimit] = useState<string>(defaultLimit);
  const key = JSON.stringify([...deps, limit]);
  const [seen, setSeen] = useState<{ key: string; cursors: string[] }>({ key, cursors: [] });
  const cursors = seen.key === key ? seen.cursors : [];
  const cursor = cursors[cursors.length - 1];
  const list = useLoad(() => load({ limit: Number(limit), ...(cursor === undefined ? {} : { cursor }) }), [key, cursor], refreshMs);
  const nextCursor = list.data?.nextCursor ?? null;
  return {
    ...list,
    pageNumber: cursors.length + 1,
    limit,
    setLimit,
    next: nextCursor ? () => setSeen({ key, cursors: [...cursors, nextCursor] }) : null,
    previous: cursors.length > 0 ? () => setSeen({ key, cursors: cursors.slice(0, -1) }) : null,
  };
}

/** Previous and next page of a `usePages` list, and its page size; not shown while every size holds the whole list. */
export function Pager(props: { label: string; pages: ReturnType<typeof usePages<{ nextCursor: string | null }>>; total: number | undefined }) {
  const { pages } = props;
  if (!pages.previous && !pages.next && (props.total ?? 0) <= Number(PageSizes[0])) return null;
  return (
    <nav class="pager row" aria-label={`Pages of ${props.label}`}>
      <button type="button" disabled={!pages.previous} onClick={() => pages.previous?.()}>
        Previous page
      </button>
      <span data-page-number>Page {pages.pageNumber}</span>
      <button type="button" disabled={!pages.next} onClick={() => pages.next?.()}>
        Next page
      </button>
      <Select label={`${props.label} per page`} value={pages.limit} options={PageSizes} onChange={pages.setLimit} />
    </nav>
  );
}
