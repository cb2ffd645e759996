/** How wrangler names bindings: a JavaScript identifier. */
const BindingName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The service binding (another Worker) configured on this Worker under `name`, or null. Only
 * service bindings qualify: they are what has a `fetch` method, so a name can never reach this
 * Worker's Durable Object namespaces, variables or secrets.
 */
export function serviceBinding(env: Env, name: string): Fetcher | null {
  if (!BindingName.test(name) || !Object.hasOwn(env, name)) return null;
  const binding = (env as unknown as Record<string, unknown>)[name] as { fetch?: unknown } | null | undefined;
  return binding && typeof binding === "object" && typeof binding.fetch === "function" ? (binding as Fetcher) : null;
}
