import { describe, expect, it } from 'vitest';
import { en } from './en';
import { makeI18n, parseApiTime, translate } from './i18n';
import { vi as viDict } from './vi';

describe('i18n', () => {
  it('Vietnamese has every English key, each translated', () => {
    expect(Object.keys(viDict).sort()).toEqual(Object.keys(en).sort());
    for (const k of Object.keys(en) as (keyof typeof en)[]) expect(viDict[k].length).toBeGreaterThan(0);
  });

  it('keeps placeholders in both languages', () => {
    for (const k of Object.keys(en) as (keyof typeof en)[]) {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(viDict[k]), k).toEqual(names(en[k]));
    }
    expect(translate('vi', 'upload.rows_n', { n: 5 })).toBe('5 dòng');
  });

  it('reads API timestamps as UTC, with or without the Z', () => {
    expect(parseApiTime('2026-01-01T10:00:00Z')).toBe(Date.UTC(2026, 0, 1, 10));
    expect(parseApiTime('2026-01-01 10:00:00.000000')).toBe(Date.UTC(2026, 0, 1, 10)); // the original's format
    expect(parseApiTime('2026-01-01T17:00:00+07:00')).toBe(Date.UTC(2026, 0, 1, 10));
  });

  it('formats numbers and durations per language', () => {
    const en1 = makeI18n('en', () => {});
    const vi1 = makeI18n('vi', () => {});
    expect(en1.formatNumber(1234567)).toBe('1,234,567');
    expect(vi1.formatNumber(1234567)).toBe('1.234.567');
    expect(en1.formatDuration(3725)).toBe('1 h 2 min');
    expect(vi1.formatDuration(59)).toBe('59 giây');
    expect(en1.formatPercent(48.53)).toBe('48.53%');
  });
});
