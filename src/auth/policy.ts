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
  return globMatches(pattern.toLowerCase(), resource.toLowerCase());
}

/**
 * `*` matches any run of characters, everything else itself. Greedy with one backtrack point, so
 * time is at most pattern length times text length: a regular expression built from a pattern like
 * `*a*a*a*…b` backtracks exponentially, and policies are written by callers.
 */
function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resumeAt = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resumeAt = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resumeAt;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/** Whether the policy allows `action` on `resource`; asking for the action `*` needs a statement granting `*`. */
export function policyAllows(policy: Policy, action: Action | "*", resource: string): boolean {
  return policy.statements.some(
    (statement) =>
      (statement.actions.includes("*") || statement.actions.includes(action)) &&
      statement.resources.some((pattern) => patternCovers(pattern, resource)),
  );
}

/**
 * Whether every right a request asks for (`actions` on `resources`) is within the policy: each
 * requested pattern must be covered by one of the policy's patterns for that action. A requested
 * pattern is read as a literal name in which `*` can only be matched by a `*` of the policy's
 * pattern, which proves containment (`queue:orders-*` covers `queue:orders-eu-*`; only `*` covers
 * `*`; a requested `*` action needs a policy's `*`). Containment that this cannot prove, such as a
 * pattern covered only by the union of two, is refused: conservative, never wider.
 */
export function policyCovers(policy: Policy, actions: readonly (Action | "*")[], resources: readonly string[]): boolean {
  return actions.every((action) => resources.every((resource) => policyAllows(policy, action, resource)));
}

/** Whether every statement of `inner` is within `outer`: what a key may grant to another key or to itself. */
export function policyWithin(inner: Policy, outer: Policy): boolean {
  return inner.statements.every((statement) => policyCovers(outer, statement.actions, statement.resources));
}
