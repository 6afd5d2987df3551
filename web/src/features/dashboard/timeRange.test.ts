import { describe, expect, it } from 'vitest';
import { RANGES, windowFor, type RangeId } from './timeRange';

describe('windowFor', () => {
  it('ends on the bucket boundary at or after now and spans the whole range', () => {
    const now = Date.UTC(2026, 0, 1, 12, 34, 56, 789);
    const w = windowFor('1h', now);
    expect(w.until).toBe('2026-01-01T12:35:00.000Z');
    expect(w.since).toBe('2026-01-01T11:35:00.000Z');
    expect(w.buckets).toBe(60);
    expect(w.stepMs).toBe(60_000);
  });

  it('gives the same window within one bucket, a new one after it', () => {
    const base = Date.UTC(2026, 0, 1, 0, 0, 1);
    expect(windowFor('24h', base)).toEqual(windowFor('24h', base + 14 * 60_000));
    expect(windowFor('24h', base + 15 * 60_000).until).not.toBe(windowFor('24h', base).until);
  });

  it('keeps every bucket a whole number of seconds (the server refuses shorter than 1 s)', () => {
    for (const r of Object.keys(RANGES) as RangeId[]) {
      const w = windowFor(r, Date.now());
      expect(w.stepMs % 1000).toBe(0);
      expect(w.buckets).toBeLessThanOrEqual(500);
      expect(Date.parse(w.until) - Date.parse(w.since)).toBe(RANGES[r].ms);
    }
  });
});
