import { signedKey, type CmqParam } from "../../auth/cmq-signature";
import { CmqWire, CmqWireError } from "./errors";

/**
 * Parameters every request may carry besides its action's: the signature's, and what SDKs add
 * (`RequestClient`; `clientRequestId` from the Go SDK; `UserpollingWaitSeconds`, a client-side
 * timeout helper of the Python and C++ SDKs). `Region` is the host's in CMQ; here the deployment's.
 */
const CommonParams = new Set([
  "Action",
  "Region",
  "Timestamp",
  "Nonce",
  "SecretId",
  "SignatureMethod",
  "Signature",
  "Token",
  "RequestClient",
  "clientRequestId",
  "UserpollingWaitSeconds",
]);

/** A parameter key: letters and digits, `.n` list indexes; `_` is read as `.` (PHP's form rule). */
const KeyPattern = /^[A-Za-z][A-Za-z0-9]*(\.\d{1,4})?$/;

/**
 * The request's parameters, decoded as a form (`+` is a space, `%XX` a byte of UTF-8): the query
 * string, then a POST body whatever its Content-Type (the Python SDK sends none, Java `*\/*`).
 * A key given twice is refused (CMQ 10330), since the signature would not say which one counts.
 */
export function formParams(query: string, body: string): CmqParam[] {
  const params: CmqParam[] = [];
  const seen = new Set<string>();
  for (const source of [query, body]) {
    for (const [rawKey, value] of formPairs(source)) {
      const key = signedKey(rawKey);
      if (!KeyPattern.test(key)) throw new CmqWireError(CmqWire.BadKey, `bad parameter key format: ${JSON.stringify(rawKey)}`);
      if (seen.has(key)) throw new CmqWireError(CmqWire.NotRepeatable, `${key} parameter is not repeatable`);
      seen.add(key);
      params.push([key, value]);
    }
  }
  return params;
}

/**
 * The pairs of an `application/x-www-form-urlencoded` text. Unlike URLSearchParams, which keeps a
 * stray `%` as it is and turns bytes that are not UTF-8 into U+FFFD, a form that does not decode
 * exactly is refused (CMQ 10420): what is stored must be what the client signed.
 */
function formPairs(source: string): Array<[string, string]> {
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text.replaceAll("+", " "));
    } catch {
      throw new CmqWireError(CmqWire.Unparsable, "cannot parse the form: a %-escape is malformed or not UTF-8");
    }
  };
  const pairs: Array<[string, string]> = [];
  for (const pair of source.split("&")) {
    if (pair === "") continue;
    const equals = pair.indexOf("=");
    pairs.push(equals < 0 ? [decode(pair), ""] : [decode(pair.slice(0, equals)), decode(pair.slice(equals + 1))]);
  }
  return pairs;
}

/**
 * An action's parameters, read by name. An action reads every parameter it takes, then calls
 * `end()`: whatever is left is a parameter the action does not have, and is refused (CMQ 10320),
 * or a list form of a parameter that takes one value (CMQ 10330).
 */
export class ActionParams {
  private readonly values = new Map<string, string>();
  private readonly read = new Set<string>();
  private readonly scalars = new Set<string>();
  private readonly lists = new Set<string>();

  constructor(params: readonly CmqParam[]) {
    for (const [key, value] of params) if (!CommonParams.has(key)) this.values.set(key, value);
  }

  /** A parameter's text; a required one that is absent is CMQ's 10010. */
  string(name: string, required: true): string;
  string(name: string, required?: false): string | undefined;
  string(name: string, required = false): string | undefined {
    this.read.add(name);
    this.scalars.add(name);
    const value = this.values.get(name);
    if (value === undefined && required) throw new CmqWireError(CmqWire.MissingParameter, `missing required parameter ${name}`);
    return value;
  }

  /** A decimal integer (CMQ sends every value as text); anything else is CMQ's 10360. */
  integer(name: string, required: true): number;
  integer(name: string, required?: false): number | undefined;
  integer(name: string, required = false): number | undefined {
    const text = required ? this.string(name, true) : this.string(name);
    if (text === undefined) return undefined;
    if (!/^-?\d{1,15}$/.test(text)) throw new CmqWireError(CmqWire.WrongType, `${name} must be an integer`);
    return Number(text);
  }

  /**
   * A list parameter, `name.0`, `name.1`, ... or `name.1`, `name.2`, ...: SDKs differ on the first
   * index, but the indexes must follow each other (CMQ 10380). Absent, it is undefined.
   */
  list(name: string, required = false): string[] | undefined {
    this.lists.add(name);
    const entries: Array<[number, string]> = [];
    for (const [key, value] of this.values) {
      const dot = key.lastIndexOf(".");
      if (dot > 0 && key.slice(0, dot) === name) entries.push([Number(key.slice(dot + 1)), value]);
    }
    if (entries.length === 0) {
      if (required) throw new CmqWireError(CmqWire.MissingParameter, `missing required parameter ${name}.n`);
      return undefined;
    }
    entries.sort((a, b) => a[0] - b[0]);
    const first = entries[0]![0];
    if ((first !== 0 && first !== 1) || entries.some(([index], position) => index !== first + position)) {
      throw new CmqWireError(CmqWire.NotContiguous, `${name} parameter is not consequent: number it from 0 or 1 without gaps`);
    }
    for (const [index] of entries) this.read.add(`${name}.${index}`);
    return entries.map(([, value]) => value);
  }

  /** Refuses what the action did not read. */
  end(): void {
    for (const key of this.values.keys()) {
      if (this.read.has(key)) continue;
      const base = key.replace(/\.\d+$/, "");
      if (base !== key && this.scalars.has(base)) throw new CmqWireError(CmqWire.NotRepeatable, `${base} parameter is not repeatable`);
      if (this.lists.has(key)) throw new CmqWireError(CmqWire.UnknownParameter, `no such parameter: ${key}; the list form is ${key}.n`);
      throw new CmqWireError(CmqWire.UnknownParameter, `no such parameter: ${key}`);
    }
  }
}
