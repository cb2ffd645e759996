import type { Principal } from "../../auth/authenticate";
import { authenticateCmq, type CmqParam } from "../../auth/cmq-signature";
import { systemClock } from "../../clock";
import { answerTcCall } from "./answer";
import { tcErrorResponse, TcWireError } from "./errors";
import { flatParameters } from "./query";
import { TcVersion } from "./wire";

/**
 * The form variant of Tencent Cloud API 3.0: with `profile.signMethod` `HmacSHA256` or `HmacSHA1`,
 * tencentcloud-sdk-nodejs (like the other API 3.0 SDKs) sends no `X-TC-*` headers but a form, as a
 * POST body or a GET query, holding the action's parameters flattened (`QueueNameList.0`,
 * `Tags.0.TagKey`) beside `Action, Version, Region, Nonce, Timestamp, SecretId, SignatureMethod,
 * Signature, RequestClient` (and `Token`, `Language` when set), signed as CMQ's action API signs
 * (src/auth/cmq-signature.ts), as tencentcloud-sdk-nodejs's `formatRequestData` builds it.
 */
const CommonParams = new Set(["Action", "Version", "Region", "Nonce", "Timestamp", "SecretId", "SignatureMethod", "Signature", "RequestClient", "Token", "Language"]);

/** What every form request carries; `Version` is how it is told apart, so it is always there. */
const RequiredParams = ["Action", "SecretId", "Timestamp", "Nonce", "Signature"] as const;

/** A flattened key: names joined by `.`, list indexes as numbers (`Filters.0.Values.1`). */
const KeyPattern = /^[A-Za-z][A-Za-z0-9]*(\.([A-Za-z][A-Za-z0-9]*|\d{1,4}))*$/;

const rawPairs = (source: string) =>
  source
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const equals = pair.indexOf("=");
      return equals < 0 ? [pair, ""] : [pair.slice(0, equals), pair.slice(equals + 1)];
    });

const formDecode = (text: string) => decodeURIComponent(text.replaceAll("+", " "));

/**
 * Whether the request is API 3.0's: the form names `Version=2020-02-17`. CMQ's action API has no
 * Version parameter and none of its SDKs sends one, so the rule cannot take a CMQ request. A pair
 * that does not decode is passed over here; the handler refuses it in API 3.0's terms.
 */
function namesTcVersion(sources: readonly string[]): boolean {
  return sources.some((source) =>
    rawPairs(source).some(([key, value]) => {
      try {
        return formDecode(key!) === "Version" && formDecode(value!) === TcVersion;
      } catch {
        return false;
      }
    }),
  );
}

/**
 * The form's parameters, decoded exactly: a stray `%` or bytes that are not UTF-8 are refused rather
 * than replaced, since the signature covers the decoded values; a key given twice is refused, since
 * the signature would not say which one counts.
 */
function formParams(sources: readonly string[]): CmqParam[] {
  const params: CmqParam[] = [];
  const seen = new Set<string>();
  for (const source of sources) {
    for (const [rawKey, rawValue] of rawPairs(source)) {
      let key: string;
      let value: string;
      try {
        key = formDecode(rawKey!);
        value = formDecode(rawValue!);
      } catch {
        throw new TcWireError("InvalidParameter", "The form cannot be parsed: a %-escape is malformed or not UTF-8.");
      }
      if (!KeyPattern.test(key)) throw new TcWireError("InvalidParameter", `The parameter name ${JSON.stringify(key)} is malformed.`);
      if (seen.has(key)) throw new TcWireError("InvalidParameter", `The parameter \`${key}\` is given more than once.`);
      seen.add(key);
      params.push([key, value]);
    }
  }
  return params;
}

async function handleForm(request: Request, env: Env, requestId: string, url: URL, sources: readonly string[], caller: { principal?: Principal }): Promise<Response> {
  const params = formParams(sources);
  const value = (name: string) => params.find(([key]) => key === name)?.[1];
  const missing = RequiredParams.find((name) => value(name) === undefined);
  if (missing) throw new TcWireError("MissingParameter", `The request is missing a required parameter \`${missing}\`.`);
  // The same verifier as CMQ's action API: its window, its nonce store, its answer to unknown ids.
  const principal = await authenticateCmq(env, { method: request.method, host: url.host, path: url.pathname }, params, systemClock.nowMs());
  caller.principal = principal;
  return answerTcCall({
    env,
    principal,
    signal: request.signal,
    requestId,
    version: value("Version")!,
    versionParameter: "Version",
    action: value("Action")!,
    parametersOf: (schema) => flatParameters(params.filter(([key]) => !CommonParams.has(key)), schema),
  });
}

/** The answer to an API 3.0 form request, and who sent it when it authenticated. */
export interface TcFormAnswer {
  principal?: Principal;
  response: Response;
}

/**
 * The hand-off from CMQ's action API, which claims every header-less form: the answer of API 3.0
 * (its actions, its `{"Response": ...}` and its error codes) when the form names API 3.0's version,
 * undefined when it does not and the request is CMQ's. `body` is the POST body already read.
 */
export async function handOffTcForm(request: Request, env: Env, requestId: string, url: URL, body: string): Promise<TcFormAnswer | undefined> {
  const sources = [url.search.slice(1), body];
  if (!namesTcVersion(sources)) return undefined;
  const caller: { principal?: Principal } = {};
  let response: Response;
  try {
    response = await handleForm(request, env, requestId, url, sources, caller);
  } catch (error) {
    response = tcErrorResponse(error, requestId);
  }
  return { principal: caller.principal, response };
}
