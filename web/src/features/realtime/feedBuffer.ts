// FeedBuffer: collects realtime predictions as they arrive and hands them to
// React at most once per flush (the page flushes every 100 ms), so 1,000
// events/s cost ~10 renders/s. Keeps the newest `capacity` rows (newest first)
// and per-second counts by the server's timestamp (UTC, parsed as such) for
// the throughput graph.
import { parseApiTime } from '../../i18n/i18n';
import { className, isAttack, type PredictionData } from '../../realtime/messages';

export interface FeedRow {
  id: number;
  time: number; // ms since epoch (UTC instant)
  source: string;
  src_ip: string;
  dst_ip: string;
  cls: string;
  attack: boolean;
  score: number | null;
}

export interface ThroughputPoint {
  second: number; // ms, start of the second
  flows: number;
  attacks: number;
}

export function toRow(p: PredictionData): FeedRow {
  return {
    id: p.traffic_data_id,
    time: parseApiTime(p.timestamp),
    source: p.source,
    src_ip: p.src_ip ?? '',
    dst_ip: p.dst_ip ?? '',
    cls: className(p),
    attack: isAttack(p),
    score: p.threat_prediction?.prediction_score ?? null,
  };
}

export class FeedBuffer {
  private pending: FeedRow[] = [];
  private rows: FeedRow[] = [];
  private perSecond = new Map<number, ThroughputPoint>();
  private received = 0;

  constructor(
    private readonly capacity = 5000,
    private readonly windowSeconds = 60,
  ) {}

  push(row: FeedRow): void {
    this.pending.push(row);
    this.received += 1;
    const second = Math.floor(row.time / 1000) * 1000;
    const p = this.perSecond.get(second) ?? { second, flows: 0, attacks: 0 };
    p.flows += 1;
    if (row.attack) p.attacks += 1;
    this.perSecond.set(second, p);
  }

  get pendingCount(): number {
    return this.pending.length;
  }
  get total(): number {
    return this.received;
  }

  // Moves pending rows into the visible list; returns it (a new array) or
  // null when nothing changed.
  flush(): FeedRow[] | null {
    if (this.pending.length === 0) return null;
    const fresh = this.pending.reverse();
    this.pending = [];
    this.rows = fresh.concat(this.rows);
    if (this.rows.length > this.capacity) this.rows.length = this.capacity;
    return this.rows;
  }

  clear(): void {
    this.pending = [];
    this.rows = [];
  }

  // The last `windowSeconds` whole seconds up to `now`, zeros included.
  throughput(now: number): ThroughputPoint[] {
    const end = Math.floor(now / 1000) * 1000;
    const start = end - (this.windowSeconds - 1) * 1000;
    for (const k of this.perSecond.keys()) if (k < start) this.perSecond.delete(k);
    const out: ThroughputPoint[] = [];
    // Copies: the chart library may freeze what it is given, and the counts
    // of the current second keep changing.
    for (let s = start; s <= end; s += 1000) {
      const p = this.perSecond.get(s);
      out.push(p ? { ...p } : { second: s, flows: 0, attacks: 0 });
    }
    return out;
  }
}
