import { describe, expect, it } from 'vitest';
import { FeedBuffer, toRow } from './feedBuffer';

function prediction(id: number, timestamp: string, cls: string) {
  return toRow({
    timestamp,
    traffic_data_id: id,
    source: 'test_stream',
    src_ip: `10.0.0.${id}`,
    dst_ip: '192.0.2.1',
    threat_prediction: { prediction_score: 0.5, is_attack: cls !== 'BENIGN' },
    attack_prediction: { attack_type_name: cls, confidence: 0.9 },
  });
}

describe('FeedBuffer', () => {
  it('holds events until a flush, then shows them newest first', () => {
    const b = new FeedBuffer(100);
    b.push(prediction(1, '2026-01-01T00:00:00.100Z', 'BENIGN'));
    b.push(prediction(2, '2026-01-01T00:00:00.200Z', 'DDoS'));
    expect(b.pendingCount).toBe(2);
    const rows = b.flush();
    expect(rows?.map((r) => r.id)).toEqual([2, 1]);
    expect(b.flush()).toBeNull(); // nothing new: no render
  });

  it('coalesces 1,000 events into one visible update and keeps only the newest', () => {
    const b = new FeedBuffer(500);
    for (let i = 0; i < 1000; i += 1) b.push(prediction(i, '2026-01-01T00:00:00Z', 'DDoS'));
    const rows = b.flush();
    expect(rows).toHaveLength(500);
    expect(rows?.[0]?.id).toBe(999);
    expect(b.total).toBe(1000);
  });

  it('counts BENIGN classifier rows as normal, not attacks', () => {
    const b = new FeedBuffer();
    b.push(prediction(1, '2026-01-01T00:00:00Z', 'BENIGN'));
    expect(b.flush()?.[0]?.attack).toBe(false);
  });

  it('buckets throughput by the UTC instant of the server timestamp', () => {
    const b = new FeedBuffer(100, 3);
    b.push(prediction(1, '2026-01-01T00:00:01.900Z', 'DDoS'));
    b.push(prediction(2, '2026-01-01T00:00:02.100Z', 'BENIGN'));
    b.push(prediction(3, '2026-01-01T00:00:02.900Z', 'DDoS'));
    const pts = b.throughput(Date.UTC(2026, 0, 1, 0, 0, 2, 500));
    expect(pts.map((p) => [p.second, p.flows, p.attacks])).toEqual([
      [Date.UTC(2026, 0, 1, 0, 0, 0), 0, 0],
      [Date.UTC(2026, 0, 1, 0, 0, 1), 1, 1],
      [Date.UTC(2026, 0, 1, 0, 0, 2), 2, 1],
    ]);
  });
});
