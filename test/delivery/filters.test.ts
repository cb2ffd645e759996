import { describe, expect, it } from "vitest";
import { matchesBindingKey, matchesTags } from "../../src/delivery/filters";

describe("binding keys against routing keys", () => {
  it.each([
    ["a.b.c", "a.b.c", true],
    ["a.b.c", "a.b", false],
    ["a.*.c", "a.b.c", true],
    ["a.*.c", "a.c", false],
    ["a.*.c", "a.b.x.c", false],
    ["*", "a", true],
    ["*", "a.b", false],
    ["*.*", "a.b", true],
    ["#", "", true],
    ["#", "a", true],
    ["#", "a.b.c.d", true],
    ["a.#", "a", true],
    ["a.#", "a.b.c", true],
    ["a.#", "b.a", false],
    ["#.c", "c", true],
    ["#.c", "a.b.c", true],
    ["#.c", "a.b.c.d", false],
    ["1.#.0", "1.0", true],
    ["1.#.0", "1.2.3.4.4.2.2.0", true],
    ["1.*.0", "1.x.0", true],
    ["1.*.0", "1.0", false],
    ["a.#.#.b", "a.b", true],
    ["a.#.*.b", "a.b", false],
    ["a.#.*.b", "a.x.b", true],
    ["*.#", "", false],
    ["*.#", "a", true],
    ["order.eu", "order.us", false],
  ])("binding key %j against routing key %j is %s", (bindingKey, routingKey, expected) => {
    expect(matchesBindingKey(bindingKey, routingKey)).toBe(expected);
  });
});

describe("filter tags against message tags", () => {
  it.each([
    [[], [], true],
    [[], ["a"], true],
    [["a"], [], false],
    [["a"], ["a"], true],
    [["a", "b"], ["b", "c"], true],
    [["a", "b"], ["c"], false],
    [["A"], ["a"], false],
  ])("filter %j against message tags %j is %s", (filterTags, messageTags, expected) => {
    expect(matchesTags(filterTags, messageTags)).toBe(expected);
  });
});
