import * as v from "valibot";

/**
 * C0 control characters and DEL. Tags and routing keys travel in the headers of HTTP pushes
 * (`x-cmq-message-tag`, `x-cmq-routing-key`), where CR, LF and NUL are refused by the runtime
 * ("Invalid header value", RFC 9110 §5.5): stored, such a value would fail every push until its
 * retention ends. The other controls are refused with them, since no tag or key needs them.
 */
const ControlCharacter = /[\u0000-\u001f\u007f]/;

/** A check for strings that end up in a header: no control characters. */
export const headerSafe = (what: string) =>
  v.check<string, string>(
    (value) => !ControlCharacter.test(value),
    `a ${what} may not contain control characters (CR, LF, NUL, tab or other characters below U+0020, or DEL)`,
  );

/** With the `u` flag, a surrogate matches only when it is not half of a pair. */
const LoneSurrogate = /\p{Cs}/u;

/**
 * The path of the first string (or object key) in `input` that is not well-formed UTF-16, or null.
 * SQLite stores text as UTF-8, where a lone surrogate has no encoding: it would be stored as U+FFFD,
 * so what a consumer receives would differ from what was acknowledged.
 */
export function illFormedTextPath(input: unknown, path: readonly string[] = []): string[] | null {
  if (typeof input === "string") return LoneSurrogate.test(input) ? [...path] : null;
  if (input === null || typeof input !== "object") return null;
  if (Array.isArray(input)) {
    for (let index = 0; index < input.length; index++) {
      const found = illFormedTextPath(input[index], [...path, String(index)]);
      if (found) return found;
    }
    return null;
  }
  for (const [key, value] of Object.entries(input)) {
    if (LoneSurrogate.test(key)) return [...path, key];
    const found = illFormedTextPath(value, [...path, key]);
    if (found) return found;
  }
  return null;
}
