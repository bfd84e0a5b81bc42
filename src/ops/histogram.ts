/**
 * Durations as log-scale histograms, so percentiles of many days merge without keeping every
 * value (the statistics of closed days, `stats-summary.ts`). Bucket 0 holds [0, 1 s); bucket
 * b ≥ 1 holds [1 s · 1.15^(b−1), 1 s · 1.15^b), up to bucket 80 (≈ 10 days and more). A
 * percentile is the nearest-rank value, placed inside its bucket as if the bucket's values
 * were spread evenly: within 7.5 % of the exact value (0.5 s below 1 s).
 */

/** Bucket → count. */
export type Histogram = Record<string, number>;

const RATIO = 1.15;
const TOP = 80;

/** The bucket of a duration in ms. The SQL twin is {@link BUCKET_SQL}. */
export function bucketOf(ms: number): number {
  if (ms < 1000) return 0;
  return Math.min(TOP, 1 + Math.floor(Math.log(ms / 1000) / Math.log(RATIO)));
}

/** {@link bucketOf} in SQL over the column or expression `ms`. */
export const BUCKET_SQL = (ms: string) =>
  `case when ${ms} < 1000 then 0 else least(${String(TOP)}, 1 + floor(ln(${ms} / 1000.0) / ln(${String(RATIO)}))::int) end`;

function bounds(b: number): [number, number] {
  if (b <= 0) return [0, 1000];
  return [1000 * RATIO ** (b - 1), 1000 * RATIO ** b];
}

/** Adds `from` into `into`. */
export function mergeInto(into: Histogram, from: Histogram): void {
  for (const [b, n] of Object.entries(from)) into[b] = (into[b] ?? 0) + n;
}

/** The `p`-quantile (0…1, nearest rank) in ms, placed inside its bucket; null for an empty histogram. */
export function quantile(h: Histogram, p: number): number | null {
  const buckets = Object.entries(h)
    .map(([b, n]) => [Number(b), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [b, n] of buckets) {
    if (seen + n >= rank) {
      const [lo, hi] = bounds(b);
      // The k-th of the bucket's n values, each at the middle of its share of the bucket.
      return lo + ((rank - seen - 0.5) / n) * (hi - lo);
    }
    seen += n;
  }
  return bounds(buckets[buckets.length - 1][0])[1];
}
