import type { OperationOutput } from "@edge-cmq/client";
import type { ComponentChildren } from "preact";
import { createContext } from "preact";
import { useContext, useId } from "preact/hooks";
import { policyAllows, policyWithin } from "../../src/auth/policy";
import type { Action, Policy } from "../../src/schema/account";

export type WhoAmI = OperationOutput<"whoami">;

/**
 * What the signed-in credentials may do, read from `whoami` and judged by the service's own policy
 * rules, so that the console offers only what the service would accept. The service still decides.
 */
export class Rights {
  constructor(readonly identity: WhoAmI) {}

  get isRoot(): boolean {
    return this.identity.kind === "root";
  }

  /** Whether `action` on `resource` (`queue:orders`, `topic:news`, `*`) passes the key's policy and the token's scope. */
  may(action: Action, resource: string): boolean {
    const { policy, token } = this.identity;
    if (policy && !policyAllows(policy, action, resource)) return false;
    return !token || policyAllows({ statements: [{ actions: token.actions, resources: token.resources }] }, action, resource);
  }

  /** Whether `action` is allowed on at least one resource of a kind (some queue, some topic). */
  mayOnSome(action: Action, kind: "queue" | "topic"): boolean {
    const grants = (statements: Array<{ actions: string[]; resources: string[] }>) =>
      statements.some(
        (statement) =>
          (statement.actions.includes("*") || statement.actions.includes(action)) &&
          statement.resources.some((resource) => resource === "*" || resource.toLowerCase().startsWith(`${kind}:`)),
      );
    const { policy, token } = this.identity;
    if (policy && !grants(policy.statements)) return false;
    return !token || grants([token]);
  }

  /** Throws the refusal the service would answer, before a request it would refuse is sent. */
  require(action: Action, resource: string): void {
    const reason = refusal(this, action, resource);
    if (reason) throw new Error(reason);
  }

  /** Root, or a key (or its token) allowed `manage` on `*`: what listing and reading the account's keys takes. */
  get mayReadKeys(): boolean {
    return this.may("manage", "*");
  }

  /**
   * Why changing a key with `policy` (creating, disabling, rotating, deleting it) is refused, or
   * null: on top of the right to change keys at all, a key grants and touches only rights it holds.
   */
  keyChangeRefusal(policy: Policy): string | null {
    const refused = this.credentialChangeRefusal;
    if (refused) return refused;
    if (this.identity.policy && !policyWithin(policy, this.identity.policy)) return "This policy has rights your key does not hold: only root or a key holding them may grant or change it.";
    return null;
  }

  /** Why credential changes are refused, or null when they are allowed. */
  get credentialChangeRefusal(): string | null {
    if (!this.may("manage", "*")) return "Only root or a key allowed manage on * may change keys and the account.";
    if (this.identity.kind === "token") return "A browser token cannot create, change, rotate or delete keys, nor change the account.";
    return null;
  }
}

const RightsContext = createContext<Rights | null>(null);
export const RightsProvider = RightsContext.Provider;

export function useRights(): Rights {
  const rights = useContext(RightsContext);
  if (!rights) throw new Error("useRights outside RightsProvider");
  return rights;
}

/** Why an action on a resource is refused, in words, or null when allowed. */
export function refusal(rights: Rights, action: Action, resource: string): string | null {
  return rights.may(action, resource) ? null : `Your credentials do not allow ${action} on ${resource}.`;
}

/**
 * Controls the credentials may not use: disabled together (a disabled fieldset), with the reason
 * shown and tied to them, rather than offered and refused by the service afterwards.
 */
export function Allowed(props: { refusal: string | null; children: ComponentChildren }) {
  const id = useId();
  if (!props.refusal) return <>{props.children}</>;
  return (
    <fieldset class="refused" disabled aria-describedby={id}>
      <p id={id} class="hint" data-refused>
        {props.refusal}
      </p>
      {props.children}
    </fieldset>
  );
}
