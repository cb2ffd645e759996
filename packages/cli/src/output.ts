// What the tool prints: aligned tables and key-value lists for people, JSON for scripts.

/** A time for people: ISO 8601 in UTC, or "-" when there is none. */
export const time = (unixMs: number | null | undefined): string => (unixMs === null || unixMs === undefined ? "-" : new Date(unixMs).toISOString());

/** One column of a table: its header, and its cell of a row. */
export type Column<TRow> = readonly [header: string, value: (row: TRow) => unknown];

/** Rows as an aligned table under a header; `columns` is `[header, (row) => value][]`. */
export function table<TRow>(rows: readonly TRow[], columns: readonly Column<TRow>[]): string {
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, value]) => cellText(value(row))))];
  const widths = columns.map((_, column) => Math.max(...cells.map((line) => line[column]!.length)));
  return `${cells.map((line) => line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd()).join("\n")}\n`;
}

/** One object as `key  value` lines, nested objects flattened with dots (`counts.active`). */
export function keyValues(object: object): string {
  const entries: [name: string, value: string][] = [];
  const walk = (value: object, prefix: string) => {
    for (const [key, inner] of Object.entries(value)) {
      const name = prefix ? `${prefix}.${key}` : key;
      if (inner && typeof inner === "object" && !Array.isArray(inner)) walk(inner, name);
      else entries.push([name, /At$/.test(key) && typeof inner === "number" ? time(inner) : cellText(inner)]);
    }
  };
  walk(object, "");
  const width = Math.max(...entries.map(([name]) => name.length));
  return `${entries.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join("\n")}\n`;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (Array.isArray(value)) return value.length ? value.map(cellText).join(",") : "-";
  if (typeof value === "object") return JSON.stringify(value);
  // One line per row: a body's newlines and tabs are shown escaped.
  return String(value).replace(/\n/g, "\\n").replace(/\t/g, "\\t");
}
