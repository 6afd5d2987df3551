// Dashboard time ranges: a range is cut into equal buckets, counted by the
// server in one GET /predictions/timeline?since&until&buckets.
export type RangeId = '1h' | '24h' | '7d' | '30d';
export const RANGES: Record<RangeId, { ms: number; buckets: number }> = {
  '1h': { ms: 3_600_000, buckets: 60 }, // 1 min
  '24h': { ms: 86_400_000, buckets: 96 }, // 15 min
  '7d': { ms: 7 * 86_400_000, buckets: 84 }, // 2 h
  '30d': { ms: 30 * 86_400_000, buckets: 60 }, // 12 h
};

export interface Window {
  since: string;
  until: string;
  buckets: number;
  stepMs: number;
}

// The range ending at `now` rounded up to a bucket boundary, so that the same
// range asked twice within a bucket is the same request (and cache entry).
export function windowFor(range: RangeId, now: number): Window {
  const { ms, buckets } = RANGES[range];
  const stepMs = ms / buckets;
  const end = Math.ceil(now / stepMs) * stepMs;
  return { since: new Date(end - ms).toISOString(), until: new Date(end).toISOString(), buckets, stepMs };
}
