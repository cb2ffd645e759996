// Percentiles by nearest rank over samples kept whole (the probes take hundreds, not millions).

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value) => (value === null ? null : Math.round(value * 1000) / 1000);
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    min: round(sorted[0] ?? null),
    max: round(sorted[sorted.length - 1] ?? null),
    mean: round(sorted.length ? sorted.reduce((sum, value) => sum + value, 0) / sorted.length : null),
  };
}

export function median(values) {
  const sorted = values.filter((value) => typeof value === "number").sort((a, b) => a - b);
  return percentile(sorted, 50);
}
