// Per-class precision, recall and F1 from a model card's confusion matrix
// (rows: true class, columns: predicted class), as the server computes them
// (src/ml/metrics.cpp).
export interface ClassMetrics {
  name: string;
  support: number;
  precision: number;
  recall: number;
  f1: number;
}

export function perClassMetrics(classes: string[], confusion: number[][]): ClassMetrics[] {
  return classes.map((name, i) => {
    const row = confusion[i] ?? [];
    const tp = row[i] ?? 0;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, r) => a + (r[i] ?? 0), 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { name, support, precision, recall, f1 };
  });
}

// 0..4: how full a confusion cell is relative to its row (heatmap shade).
export function heatLevel(value: number, rowTotal: number): number {
  if (value <= 0 || rowTotal <= 0) return 0;
  const share = value / rowTotal;
  if (share >= 0.75) return 4;
  if (share >= 0.4) return 3;
  if (share >= 0.1) return 2;
  return 1;
}
