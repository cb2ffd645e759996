/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";

/**
 * src/api/ holds only translation: an adapter reaches the service through the operation catalog,
 * never a Durable Object, and states no default of its own (defaults live in the catalog's schemas).
 */
const sources = import.meta.glob("../../src/api/**/*.ts", { query: "?raw", import: "default", eager: true }) as Record<string, string>;

const ObjectImport = /\bfrom\s+["'][^"']*\/objects(\/|["'])/;
const NumericDefaults = [
  /(\?\?|\|\|)\s*-?\d/, // value ?? 16, value || 30
  /\boptional\([^()]*(\([^()]*\)[^()]*)*,\s*-?\d/, // v.optional(schema, 16)
  /[(,]\s*\w+\s*(:\s*[\w<>[\]| ]+)?\s*=\s*-?\d/, // (max = 1) as a parameter default
];

function violations(source: string): string[] {
  const found: string[] = [];
  source.split("\n").forEach((line, index) => {
    if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
    if (ObjectImport.test(line)) found.push(`${index + 1}: imports an object: ${line.trim()}`);
    for (const pattern of NumericDefaults) {
      if (pattern.test(line)) found.push(`${index + 1}: numeric default: ${line.trim()}`);
    }
  });
  return found;
}

describe("protocol adapters", () => {
  it("are found", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(5);
    expect(Object.keys(sources).some((path) => path.endsWith("/rest/routes.ts"))).toBe(true);
  });

  it.each(Object.entries(sources).map(([path, source]) => [path.replace("../../", ""), source]))(
    "%s imports no Durable Object and declares no numeric default",
    (_path, source) => {
      expect(violations(source)).toEqual([]);
    },
  );

  it.each([
    ['import { QueueObject } from "../objects/queue-object";'],
    ['import type { ReceiveRequest } from "../../objects/queue-object";'],
    ["const max = body.max ?? 1;"],
    ["const wait = input.waitSeconds || 20;"],
    ["limit: v.optional(v.number(), 100),"],
    ["receive(name: string, max = 1) {"],
  ])("the check catches %s", (line) => {
    expect(violations(line)).not.toEqual([]);
  });
});
