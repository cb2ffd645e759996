// Result rows, the printed table and the SVG chart.

/**
 * A result row: `ratio` is value / floor; a target is met when the ratio is `>=` (or `<=`) it.
 * Rows without a target are reported for information (`target` and `met` null).
 */
export function makeRow({ scenario, metric, value, unit, floor = null, floorMetric = null, ratio, target = null, op = ">=", note, detail }) {
  const computedRatio =
    ratio !== undefined ? ratio : typeof value === "number" && typeof floor === "number" && floor !== 0 ? value / floor : null;
  const met =
    target === null || computedRatio === null || value === null
      ? target === null
        ? null
        : false
      : op === ">="
        ? computedRatio >= target
        : computedRatio <= target;
  const row = {
    scenario,
    metric,
    value: roundValue(value),
    unit,
    floor: roundValue(floor),
    ratio: roundValue(computedRatio),
    target,
    met,
    targetOp: target === null ? null : op,
    floorMetric,
  };
  if (note) row.note = note;
  if (detail) row.detail = detail;
  return row;
}

function roundValue(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return value ?? null;
  if (Math.abs(value) >= 100) return Math.round(value * 10) / 10;
  return Math.round(value * 1000) / 1000;
}

export function formatNumber(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "number") return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatTarget(row) {
  if (row.target === null) return "—";
  return `${row.targetOp === ">=" ? "≥" : "≤"} ${row.target}`;
}

function formatMet(row) {
  if (row.met === null) return row.value === null ? "n/a" : "—";
  return row.met ? "yes" : "NO";
}

/** The table as aligned text columns (also valid Markdown when `markdown` is set). */
export function formatTable(rows, { markdown = false } = {}) {
  const header = ["scenario", "metric", "value", "unit", "floor", "ratio", "target", "met"];
  const body = rows.map((row) => [
    row.scenario,
    row.metric,
    row.value === null ? "unavailable" : formatNumber(row.value),
    row.unit,
    formatNumber(row.floor),
    formatNumber(row.ratio),
    formatTarget(row),
    formatMet(row),
  ]);
  const numeric = new Set([2, 4, 5]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column].length)));
  const line = (cells) =>
    cells.map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])));
  if (markdown) {
    const rule = widths.map((width, column) => (numeric.has(column) ? "-".repeat(width - 1) + ":" : "-".repeat(width)));
    return [header, rule, ...body].map((cells, index) => `| ${(index === 1 ? cells : line(cells)).join(" | ")} |`).join("\n");
  }
  const rule = widths.map((width) => "─".repeat(width)).join("─┼─");
  return [line(header).join(" │ "), rule, ...body.map((cells) => line(cells).join(" │ "))].join("\n");
}

const escapeXml = (text) =>
  String(text).replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]);

/**
 * A horizontal bar per row with a target: the bar is the ratio divided by the target (inverted for
 * "at most" targets), so 1.0 is exactly on target and longer is better; green met, red not.
 */
export function renderSvg(rows, { title, subtitle }) {
  const charted = rows.filter((row) => row.target !== null);
  const score = (row) => {
    if (row.value === null || row.ratio === null || row.ratio === 0) return null;
    return row.targetOp === ">=" ? row.ratio / row.target : row.target / row.ratio;
  };
  const scores = charted.map(score).filter((value) => value !== null);
  const maxScale = Math.min(4, Math.max(2, Math.ceil(Math.max(0, ...scores) * 2) / 2));
  // Text widths estimated at 7.2 px a character of the 13 px font.
  const label = (row) => `${row.scenario} · ${row.metric}`;
  const verdict = (row) => `${row.met ? "met" : "not met"}: ratio ${formatNumber(row.ratio)} (target ${formatTarget(row)})`;
  const labelWidth = Math.max(200, Math.ceil(Math.max(0, ...charted.map((row) => label(row).length)) * 7.2) + 24);
  const barWidth = 420;
  const rightWidth = Math.max(220, Math.ceil(Math.max(0, ...charted.map((row) => verdict(row).length)) * 7.2) + 24);
  const rowHeight = 34;
  const top = 78;
  const width = labelWidth + barWidth + rightWidth + 20;
  const height = top + charted.length * rowHeight + 50;
  const x = (value) => labelWidth + (Math.min(value, maxScale) / maxScale) * barWidth;
  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="28" font-size="17" font-weight="600">${escapeXml(title)}</text>`,
    `<text x="16" y="50" fill="#555">${escapeXml(subtitle)}</text>`,
  );
  // Grid: every 0.5 of the target.
  for (let tick = 0; tick <= maxScale + 1e-9; tick += 0.5) {
    const tx = x(tick);
    const strong = Math.abs(tick - 1) < 1e-9;
    parts.push(
      `<line x1="${tx}" y1="${top - 8}" x2="${tx}" y2="${top + charted.length * rowHeight}" stroke="${strong ? "#222" : "#ddd"}" stroke-width="${strong ? 2 : 1}"${strong ? "" : ' stroke-dasharray="3,3"'}/>`,
      `<text x="${tx}" y="${top + charted.length * rowHeight + 16}" text-anchor="middle" fill="${strong ? "#222" : "#777"}">${strong ? "target" : `${tick}×`}</text>`,
    );
  }
  charted.forEach((row, index) => {
    const y = top + index * rowHeight;
    const s = score(row);
    parts.push(`<text x="${labelWidth - 10}" y="${y + 20}" text-anchor="end">${escapeXml(label(row))}</text>`);
    if (s === null) {
      parts.push(
        `<rect x="${labelWidth}" y="${y + 6}" width="${barWidth}" height="20" fill="#f2f2f2" stroke="#bbb" stroke-dasharray="4,3"/>`,
        `<text x="${labelWidth + 8}" y="${y + 20}" fill="#777">unavailable${row.note ? `: ${escapeXml(row.note.slice(0, 60))}` : ""}</text>`,
      );
      return;
    }
    const color = row.met ? "#2e7d32" : "#c62828";
    parts.push(`<rect x="${labelWidth}" y="${y + 6}" width="${Math.max(1, x(s) - labelWidth)}" height="20" rx="2" fill="${color}" fill-opacity="0.85"/>`);
    if (s > maxScale) parts.push(`<text x="${x(maxScale) - 4}" y="${y + 20}" text-anchor="end" fill="#fff" font-weight="600">»</text>`);
    parts.push(`<text x="${labelWidth + barWidth + 12}" y="${y + 20}" fill="${color}">${escapeXml(verdict(row))}</text>`);
  });
  parts.push(
    `<text x="16" y="${height - 10}" fill="#777" font-size="11">${escapeXml(
      "Bar = ratio ÷ target for “at least” targets, target ÷ ratio for “at most” targets: longer is better, the black line is the target.",
    )}</text>`,
    `</svg>`,
  );
  return `${parts.join("\n")}\n`;
}
