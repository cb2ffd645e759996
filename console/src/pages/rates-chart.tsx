import type { EdgeCmqClient } from "@edge-cmq/client";
import { Section, Status, useLoad } from "../ui";

const RefreshMs = 10_000;
const Series = [
  { key: "sent", label: "sent" },
  { key: "received", label: "received" },
  { key: "deleted", label: "deleted" },
] as const;
const Width = 600;
const Height = 140;

/** Messages per second, sent, received and deleted, over the queue's rate window (getQueueRates). */
export function RatesChart({ client, queue }: { client: EdgeCmqClient; queue: string }) {
  const rates = useLoad(() => client.getQueueRates({ queue }), [queue], RefreshMs);
  const data = rates.data;
  return (
    <Section title="Message rates">
      <Status error={rates.error} />
      {data && <Chart bucketSeconds={data.bucketSeconds} windowSeconds={data.windowSeconds} buckets={data.buckets} />}
    </Section>
  );
}

type Bucket = { startAt: number; sent: number; received: number; deleted: number };

function Chart({ bucketSeconds, windowSeconds, buckets }: { bucketSeconds: number; windowSeconds: number; buckets: Bucket[] }) {
  const perSecond = (count: number) => count / bucketSeconds;
  const peak = Math.max(0, ...buckets.flatMap((bucket) => Series.map((series) => perSecond(bucket[series.key]))));
  // A quiet queue draws flat lines at the bottom, not a full-height scale of nothing.
  const scale = Math.max(peak, 1);
  const x = (index: number) => (buckets.length <= 1 ? 0 : (index / (buckets.length - 1)) * Width);
  const y = (rate: number) => Height - (rate / scale) * Height;
  const latest = buckets.at(-2) ?? buckets.at(-1);
  const summary = Series.map((series) => `${series.label} ${latest ? perSecond(latest[series.key]).toFixed(1) : 0}/s`).join(", ");
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${Width} ${Height}`} role="img" aria-label={`Messages per second over the last ${windowSeconds / 60} minutes; last full ${bucketSeconds} s: ${summary}`} preserveAspectRatio="none">
        {Series.map((series) => (
          <polyline class={`series-${series.key}`} points={buckets.map((bucket, index) => `${x(index).toFixed(1)},${y(perSecond(bucket[series.key])).toFixed(1)}`).join(" ")} />
        ))}
      </svg>
      <figcaption>
        <span>
          Per second, {bucketSeconds} s buckets over {windowSeconds / 60} minutes; peak {peak.toFixed(1)}/s.
        </span>{" "}
        {Series.map((series) => (
          <span class={`legend legend-${series.key}`}>{series.label}</span>
        ))}
        <span class="visually-hidden">Last full bucket: {summary}.</span>
      </figcaption>
    </figure>
  );
}
