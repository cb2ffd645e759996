import { TokenSource, type Credentials } from "./auth";
import { bindingArguments, bindingCalls, type BindingCall } from "./binding-calls";
import { EdgeCmqError } from "./errors";
import type { Transport } from "./http-transport";

/**
 * A service binding to the `QueueService` entrypoint (`env.CMQ`): its methods act as root, and
 * `withCredentials` gives a stub acting as a key or a token.
 */
export interface QueueServiceBinding {
  withCredentials(secretOrToken: string): Promise<unknown>;
}

type Methods = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** A failure over RPC: an Error named ServiceError with `code` (src/api/rpc/entrypoint.ts); anything else lost the call. */
function errorOf(error: unknown): EdgeCmqError {
  const failure = error as { name?: unknown; code?: unknown; message?: unknown };
  if (failure?.name === "ServiceError" && typeof failure.code === "string") {
    const message = String(failure.message ?? "").replace(/^\[\w+\] /, "");
    return new EdgeCmqError({ code: failure.code, message, cause: error });
  }
  return new EdgeCmqError({ code: "NetworkError", message: String(failure?.message ?? error), cause: error });
}

/**
 * Operations over a service binding. Credentials given with it (a secret key, a token, `getToken`)
 * scope the calls to that key or token; none, and the calls act as root, as the binding does. A
 * call cannot be cancelled over RPC: on abort or timeout the client stops waiting, the call runs on.
 */
export function bindingTransport(binding: QueueServiceBinding, credentials: Credentials, now: () => number): Transport {
  const tokens = credentials.getToken ? new TokenSource(credentials.getToken, credentials.refreshBeforeMs ?? 60_000, now) : undefined;
  let scoped: { secret: string; stub: Promise<Methods> } | undefined;

  async function target(): Promise<{ stub: Methods; secret?: string }> {
    const secret = tokens ? await tokens.token() : (credentials.token ?? credentials.secretKey);
    if (!secret) return { stub: binding as unknown as Methods };
    if (scoped?.secret !== secret) {
      const stub = binding.withCredentials(secret) as Promise<Methods>;
      scoped = { secret, stub };
      // A refused secret is not kept for the next call.
      stub.catch(() => scoped?.stub === stub && (scoped = undefined));
    }
    return { stub: await scoped.stub, secret };
  }

  async function invoke(name: keyof typeof bindingCalls, input: Record<string, unknown>, isRetryOfRefusedToken: boolean): Promise<unknown> {
    const call: BindingCall = bindingCalls[name];
    let secret: string | undefined;
    try {
      const { stub, secret: used } = await target();
      secret = used;
      return await stub[call[0]]!(...bindingArguments(call, input));
    } catch (error) {
      const failure = errorOf(error);
      // A token can be refused before its expiry (its key rotated or disabled): fetch another once.
      if (failure.code !== "Unauthenticated" || !tokens || !secret || isRetryOfRefusedToken) throw failure;
      tokens.refused(secret);
      return invoke(name, input, true);
    }
  }

  return (name, input) => invoke(name, input, false);
}
