import { describe, expect, it } from "vitest";
import { objectKey, objectKeyPrefix } from "../../src/objects/keys";

describe("object keys", () => {
  it("names an object {account}/{region}/{name} in lower case", () => {
    const prefix = objectKeyPrefix("acme", "eu");

    const key = objectKey(prefix, "Orders-EU");

    expect(key).toBe("acme/eu/orders-eu");
  });

  it("gives names that differ only in case one object", () => {
    const prefix = objectKeyPrefix("default", "local");

    expect(objectKey(prefix, "Q")).toBe(objectKey(prefix, "q"));
  });
});
