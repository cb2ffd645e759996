import { describe, expect, it } from "vitest";
import { splitByBytes } from "../../src/objects/hand-over";

const size = (n: number) => n;

describe("splitByBytes", () => {
  it("keeps order and closes a batch before it would pass the byte bound", () => {
    const batches = splitByBytes([4, 4, 4, 1], size, 8, 10);

    expect(batches).toEqual([[4, 4], [4, 1]]);
  });

  it("closes a batch at the count bound", () => {
    expect(splitByBytes([1, 1, 1], size, 100, 2)).toEqual([[1, 1], [1]]);
  });

  it("sends an item larger than the bound alone instead of failing", () => {
    expect(splitByBytes([2, 20, 2], size, 8, 10)).toEqual([[2], [20], [2]]);
  });

  it("makes no batch of nothing", () => {
    expect(splitByBytes([], size)).toEqual([]);
  });
});
