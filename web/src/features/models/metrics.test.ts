import { describe, expect, it } from 'vitest';
import { heatLevel, perClassMetrics } from './metrics';

describe('perClassMetrics', () => {
  it('computes precision, recall and F1 from a confusion matrix (rows = truth)', () => {
    // BENIGN: 8 right, 2 called DDoS; DDoS: 5 right, 1 called BENIGN.
    const m = perClassMetrics(['BENIGN', 'DDoS'], [[8, 2], [1, 5]]);
    expect(m[0]).toMatchObject({ name: 'BENIGN', support: 10, precision: 8 / 9, recall: 0.8 });
    expect(m[1]!.f1).toBeCloseTo((2 * (5 / 7) * (5 / 6)) / (5 / 7 + 5 / 6));
  });

  it('scores a class with no rows and no predictions as 0, not NaN', () => {
    const m = perClassMetrics(['A', 'B'], [[3, 0], [0, 0]]);
    expect(m[1]).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });
});

describe('heatLevel', () => {
  it('shades by share of the row', () => {
    expect([0, 5, 20, 50, 90].map((v) => heatLevel(v, 100))).toEqual([0, 1, 2, 3, 4]);
    expect(heatLevel(3, 0)).toBe(0);
  });
});
