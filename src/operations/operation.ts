import * as v from "valibot";
import type { Principal } from "../auth/authenticate";
import { ErrorCode, ServiceError } from "../errors";
import type { Action } from "../schema/account";
import { parse, type WireLocator } from "../schema/parse";
import { AccountOperations } from "../service/accounts";
import { QueueOperations, scopeOf, type Scope } from "../service/queues";
import { TopicOperations } from "../service/topics";

/**
 * What an operation needs from its caller. The service layer enforces it, in one place for every
 * interface; the catalog states it so that documents, clients and tests can see it.
 * - `resource`: `action` on the resource the input names (a key's or token's policy decides);
 * - `accountAdmin`: root, or a key of the named account with `manage` on `*`;
 * - `root`: the root credentials only; `authenticated`: any valid credential;
 * - `public`: none needed (credentials that are sent are still checked).
 */
export type Access =
  | { kind: "resource"; action: Action; resource: (input: any) => string }
  | { kind: "accountAdmin" }
  | { kind: "root" }
  | { kind: "authenticated" }
  | { kind: "public" };

/** What an operation runs with: the caller and the services acting for it. */
export class OperationContext {
  private scopeOfCaller?: Scope;
  private queueOperations?: QueueOperations;
  private topicOperations?: TopicOperations;
  private accountOperations?: AccountOperations;

  constructor(
    readonly env: Env,
    /** The caller; null for a public operation called without credentials. */
    private readonly caller: Principal | null,
    /** Ends when the caller went away (an aborted HTTP request); long polls stop waiting for it. */
    readonly signal?: AbortSignal,
  ) {}

  get principal(): Principal {
    if (!this.caller) throw new ServiceError(ErrorCode.Unauthenticated, "missing credentials");
    return this.caller;
  }

  get scope(): Scope {
    return (this.scopeOfCaller ??= scopeOf(this.env, this.principal));
  }

  get queues(): QueueOperations {
    return (this.queueOperations ??= new QueueOperations(this.env, this.scope));
  }

  get topics(): TopicOperations {
    return (this.topicOperations ??= new TopicOperations(this.env, this.scope));
  }

  get accounts(): AccountOperations {
    return (this.accountOperations ??= new AccountOperations(this.env, this.principal));
  }
}

/**
 * One operation of the service, whatever the protocol: its input with every default applied, its
 * output, the rights it needs and the service call. Adapters translate their wire format to `input`
 * and `output` back, and nothing else.
 */
export interface Operation<TInput extends v.GenericSchema = v.GenericSchema, TOutput = unknown> {
  /** Which resource family it belongs to, for documents (`queues`, `messages`, `topics`, ...). */
  group: string;
  summary: string;
  input: TInput;
  /** The answer's schema; `null` when it answers nothing. */
  output: v.GenericSchema | null;
  access: Access;
  /** Error codes particular to this operation, besides those every operation may answer. */
  errors: readonly string[];
  run(context: OperationContext, input: v.InferOutput<TInput>): Promise<TOutput>;
}

/** Declares an operation, keeping its input type tied to the schema. */
export function operation<TInput extends v.GenericSchema, TOutput>(
  definition: Operation<TInput, TOutput>,
): Operation<TInput, TOutput> {
  return definition;
}

/** Validates raw input against an operation's schema (defaults applied) and runs it. */
export async function runOperation<TInput extends v.GenericSchema, TOutput>(
  definition: Operation<TInput, TOutput>,
  context: OperationContext,
  rawInput: unknown,
  locate: WireLocator = (keys) => keys,
): Promise<TOutput> {
  return definition.run(context, parse(definition.input, rawInput, locate));
}
