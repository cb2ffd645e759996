import type { Action, Policy } from "../schema/account";

/** A resource as policies name it: `queue:<name>` or `topic:<name>`; account-wide operations use `*`. */
export type ResourceName = `queue:${string}` | `topic:${string}` | "*";

/**
 * Whether a resource pattern covers a resource. `*` alone covers everything, including
 * account-wide operations; inside a pattern `*` matches any run of characters. Names compare
 * without regard to case, as queue and topic names do.
 */
export function patternCovers(pattern: string, resource: string): boolean {
  if (pattern === "*") return true;
  if (resource === "*") return false;
  const escaped = pattern
    .toLowerCase()
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${escaped}$`).test(resource.toLowerCase());
}

export function policyAllows(policy: Policy, action: Action, resource: string): boolean {
  return policy.statements.some(
    (statement) =>
      (statement.actions.includes("*") || statement.actions.includes(action)) &&
      statement.resources.some((pattern) => patternCovers(pattern, resource)),
  );
}

/**
 * Whether every right a request asks for (`actions` on `resources`) is within the policy: each
 * requested pattern must be covered by one of the policy's patterns for that action. A requested
 * pattern is covered when the policy pattern is `*`, or matches it read as a literal name.
 */
export function policyCovers(policy: Policy, actions: readonly Action[], resources: readonly string[]): boolean {
  return actions.every((action) => resources.every((resource) => policyAllows(policy, action, resource)));
}
