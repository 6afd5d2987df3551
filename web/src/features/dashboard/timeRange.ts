// Dashboard time ranges: a range is cut into equal buckets, and each bucket's
// counts come from GET /predictions/stats?since&until (the API's own totals).
export type RangeId = '1h' | '24h' | '7d' | '30d';
export const RANGES: Record<RangeId, { ms: number; buckets: number }> = {
  '1h': { ms: 3_600_000, buckets: 12 },
  '24h': { ms: 86_400_000, buckets: 12 },
  '7d': { ms: 7 * 86_400_000, buckets: 14 },
  '30d': { ms: 30 * 86_400_000, buckets: 15 },
};

export interface Bucket {
  since: string;
  until: string;
  start: number;
}

// Buckets ending at `now` rounded up to a bucket boundary, so that the same
// range asked twice within a bucket hits the same cache entries.
export function bucketsFor(range: RangeId, now: number): Bucket[] {
  const { ms, buckets } = RANGES[range];
  const step = ms / buckets;
  const end = Math.ceil(now / step) * step;
  const out: Bucket[] = [];
  for (let i = buckets; i > 0; i -= 1) {
    const start = end - i * step;
    out.push({ since: new Date(start).toISOString(), until: new Date(start + step).toISOString(), start });
  }
  return out;
}

export function sinceFor(range: RangeId, now: number): string {
  return new Date(now - RANGES[range].ms).toISOString();
}
