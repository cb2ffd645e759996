import { RpcTarget, WorkerEntrypoint } from "cloudflare:workers";
import { RootPrincipal, authenticate, requireConfigured, type Principal } from "../../auth/authenticate";
import { ServiceError } from "../../errors";
import { OperationContext, catalog, runOperation } from "../../operations";
import { locateArgument, rpcMethods, type RpcClientMethods, type RpcMethod } from "./methods";

/**
 * Errors over RPC: workerd carries an error's name, message and own properties to the caller, not
 * its class. A failure is an Error named "ServiceError" with `code`, `fault` and `retryable`
 * fields, and the code also leads its message (`[QueueNotFound] ...`) for logs.
 */
function toRpcError(error: unknown): unknown {
  if (!(error instanceof ServiceError)) return error;
  const rpcError = new Error(`[${error.code}] ${error.message}`) as Error & { code: string; fault: string; retryable: boolean };
  rpcError.name = "ServiceError";
  rpcError.code = error.code;
  rpcError.fault = error.fault;
  rpcError.retryable = error.retryable;
  return rpcError;
}

async function rpcErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toRpcError(error);
  }
}

/** The operations over RPC, for one principal: the catalog's operations, validation, rights and codes. */
export class QueueClient extends RpcTarget {
  constructor(
    private readonly env: Env,
    private readonly principal: Principal,
  ) {
    super();
  }

  /** Runs one method of the table. */
  invoke(name: string, args: unknown[]): Promise<unknown> {
    const spec = (rpcMethods as Record<string, RpcMethod>)[name]!;
    return rpcErrors(async () => {
      requireConfigured(this.env);
      const context = new OperationContext(this.env, this.principal);
      const output = await runOperation(catalog[spec.operation] as never, context, spec.toInput(...args), (keys) => locateArgument(spec, keys));
      return spec.toResult ? spec.toResult(output as never) : output;
    });
  }
}
export interface QueueClient extends RpcClientMethods {}

// Each method of the table is a method of the client's prototype, where workerd's RPC finds it.
for (const name of Object.keys(rpcMethods)) {
  Object.defineProperty(QueueClient.prototype, name, {
    value(this: QueueClient, ...args: unknown[]) {
      return this.invoke(name, args);
    },
    writable: true,
    configurable: true,
  });
}

/**
 * The service-binding entrypoint other Workers bind to (`"entrypoint": "QueueService"`). Its
 * methods act with the root credentials' rights in the default account, as whoever configures the
 * binding controls this deployment; `withCredentials` gives a client limited to a key or a token.
 */
export class QueueService extends WorkerEntrypoint<Env> {
  /** A client acting as the key with this secret, or the token (`cmqt.` ...), in its own account. */
  async withCredentials(secretOrToken: string): Promise<QueueClient> {
    return rpcErrors(async () => {
      const request = new Request("https://rpc.internal/", { headers: { authorization: `Bearer ${secretOrToken}` } });
      return new QueueClient(this.env, await authenticate(request, "", this.env));
    });
  }

  /** The root client; every other method of this entrypoint is this client's. */
  root(): QueueClient {
    return new QueueClient(this.env, RootPrincipal());
  }
}
export interface QueueService extends RpcClientMethods {}

for (const name of Object.keys(rpcMethods)) {
  Object.defineProperty(QueueService.prototype, name, {
    value(this: QueueService, ...args: unknown[]) {
      return this.root().invoke(name, args);
    },
    writable: true,
    configurable: true,
  });
}
