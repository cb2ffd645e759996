/**
 * Which subscriptions a message reaches (CMQ filter tags and routing keys).
 * Tags: a subscription without filter tags takes every message; one with filter tags takes a
 * message that shares at least one tag, and never a message without tags.
 * Routing keys, as in a RabbitMQ topic exchange: words separated by dots; in a binding key `*`
 * matches exactly one word and `#` zero or more words.
 */
export function matchesTags(filterTags: readonly string[], messageTags: readonly string[]): boolean {
  if (filterTags.length === 0) return true;
  return messageTags.some((tag) => filterTags.includes(tag));
}

export function matchesBindingKey(bindingKey: string, routingKey: string): boolean {
  const pattern = bindingKey.split(".");
  const words = routingKey === "" ? [] : routingKey.split(".");
  // Positions of `words` reachable after each pattern word; `#` may consume any number of words.
  let reachable = new Set<number>([0]);
  for (const part of pattern) {
    const next = new Set<number>();
    for (const position of reachable) {
      if (part === "#") {
        for (let end = position; end <= words.length; end++) next.add(end);
      } else if (position < words.length && (part === "*" || part === words[position])) {
        next.add(position + 1);
      }
    }
    if (next.size === 0) return false;
    reachable = next;
  }
  return reachable.has(words.length);
}

export function matchesAnyBindingKey(bindingKeys: readonly string[], routingKey: string | null): boolean {
  return bindingKeys.some((key) => matchesBindingKey(key, routingKey ?? ""));
}
