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
