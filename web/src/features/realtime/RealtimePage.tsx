// Realtime: the live feed of predictions (virtualised, coalesced to one render
// per 100 ms, pause/resume, filter by class or source), the throughput of the
// last minute in local time, the connection state, and the test stream.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../../api/endpoints';
import { ConnectionBadge } from '../../app/Layout';
import { useSession } from '../../auth/session';
import { Card } from '../../components/Card';
import { ErrorBox } from '../../components/ErrorBox';
import { FlowChart } from '../../components/FlowChart';
import { Field, Form, Select } from '../../components/Form';
import { StatCard } from '../../components/StatCard';
import { useI18n } from '../../i18n/i18n';
import { PredictionData } from '../../realtime/messages';
import { useRealtime } from '../../realtime/RealtimeProvider';
import { FeedBuffer, toRow, type FeedRow, type ThroughputPoint } from './feedBuffer';

const FLUSH_MS = 100;
const ROW_HEIGHT = 32;

export default function RealtimePage() {
  const { t, formatNumber, formatTime } = useI18n();
  const { can } = useSession();
  const buffer = useRef(new FeedBuffer());
  const [rows, setRows] = useState<FeedRow[]>([]);
  const [points, setPoints] = useState<ThroughputPoint[]>(() => buffer.current.throughput(Date.now()));
  const [paused, setPaused] = useState(false);
  const [waiting, setWaiting] = useState(0);
  const [classFilter, setClassFilter] = useState('');
  const [sourceFilter, setSourceFilter] = useState('');
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  useRealtime(['prediction'], (m) => {
    const p = PredictionData.safeParse(m.data);
    if (p.success) buffer.current.push(toRow(p.data));
  });

  useEffect(() => {
    const id = setInterval(() => {
      setPoints(buffer.current.throughput(Date.now()));
      if (pausedRef.current) {
        setWaiting(buffer.current.pendingCount);
        return;
      }
      const next = buffer.current.flush();
      if (next) setRows(next.slice());
      setWaiting(0);
    }, FLUSH_MS);
    return () => clearInterval(id);
  }, []);

  const classes = useMemo(() => [...new Set(rows.map((r) => r.cls))].sort(), [rows]);
  const visible = useMemo(() => {
    const src = sourceFilter.trim();
    return rows.filter((r) => (!classFilter || r.cls === classFilter) && (!src || r.src_ip.includes(src) || r.dst_ip.includes(src)));
  }, [rows, classFilter, sourceFilter]);

  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: visible.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 10 });
  const lastSecond = points[points.length - 2];
  const attacksShown = rows.reduce((n, r) => n + (r.attack ? 1 : 0), 0);

  return (
    <div className="page">
      <div className="page-head">
        <h1>{t('rt.title')}</h1>
        <ConnectionBadge />
      </div>
      <div className="grid stats">
        <StatCard label={t('rt.received')} value={formatNumber(buffer.current.total)} />
        <StatCard label={t('rt.attacks_shown')} value={formatNumber(attacksShown)} sub={t('rt.of_shown', { n: formatNumber(rows.length) })} />
        <StatCard label={t('rt.last_second')} value={t('unit.per_second', { n: formatNumber(lastSecond?.flows ?? 0) })} />
      </div>
      {can('operator') && <StreamControl />}
      <Card title={t('rt.throughput')}>
        <FlowChart label={t('rt.throughput')} data={points} timeKey="second" height={200} curve="linear" formatTick={formatTime} formatTooltipTime={formatTime} />
      </Card>
      <Card
        title={t('rt.feed')}
        tools={
          <div className="row">
            <label>
              {t('rt.filter_class')}{' '}
              <Select value={classFilter} options={classes} optionLabel={(c) => c} onChange={setClassFilter}>
                <option value="">{t('rt.all_classes')}</option>
              </Select>
            </label>
            <label>
              {t('rt.filter_source')}{' '}
              <input type="search" value={sourceFilter} onChange={(e) => setSourceFilter(e.target.value)} placeholder="10.0.0." />
            </label>
            <button type="button" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
              {paused ? t('rt.resume') : t('rt.pause')}
            </button>
            <button
              type="button"
              onClick={() => {
                buffer.current.clear();
                setRows([]);
              }}
            >
              {t('rt.clear')}
            </button>
          </div>
        }
      >
        {paused && waiting > 0 && <p role="status">{t('rt.waiting', { n: formatNumber(waiting) })}</p>}
        <div className="feed-head" aria-hidden="true">
          <span>{t('common.time')}</span>
          <span>{t('common.source_ip')}</span>
          <span>{t('common.dest_ip')}</span>
          <span>{t('common.class')}</span>
          <span>{t('common.source')}</span>
        </div>
        <div ref={scroller} className="feed" role="log" aria-label={t('rt.feed')} tabIndex={0} data-testid="feed">
          {visible.length === 0 && <p className="muted pad">{t('rt.empty')}</p>}
          <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
            {virtual.getVirtualItems().map((v) => {
              const r = visible[v.index];
              if (!r) return null;
              return (
                <div
                  key={v.key}
                  className={`feed-row${r.attack ? ' attack' : ''}`}
                  data-testid="feed-row"
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
                >
                  <span>{formatTime(r.time)}</span>
                  <span className="mono">{r.src_ip || '—'}</span>
                  <span className="mono">{r.dst_ip || '—'}</span>
                  <span>{r.cls}</span>
                  <span>{r.source}</span>
                </div>
              );
            })}
          </div>
        </div>
      </Card>
    </div>
  );
}

function StreamControl() {
  const { t, formatNumber } = useI18n();
  const qc = useQueryClient();
  const status = useQuery({ queryKey: ['stream'], queryFn: () => api.streamStatus(), refetchInterval: 1000 });
  const [rate, setRate] = useState(50);
  const [count, setCount] = useState(1000);
  const [mix, setMix] = useState(30);
  const start = useMutation({
    mutationFn: () => api.startStream({ count, rate, attack_mix: mix / 100 }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['stream'] }),
  });
  const stop = useMutation({ mutationFn: () => api.stopStream(), onSettled: () => qc.invalidateQueries({ queryKey: ['stream'] }) });
  const running = status.data?.running ?? false;
  return (
    <Card title={t('rt.stream')}>
      <Form className="row wrap" onSubmit={() => start.mutate()}>
        <Field label={t('rt.rate')}>
          <input type="number" min={1} max={10000} value={rate} onChange={(e) => setRate(Number(e.target.value))} />
        </Field>
        <Field label={t('rt.count')}>
          <input type="number" min={0} value={count} onChange={(e) => setCount(Number(e.target.value))} />
        </Field>
        <Field label={t('rt.mix')}>
          <input type="number" min={0} max={100} value={mix} onChange={(e) => setMix(Number(e.target.value))} />
        </Field>
        <button type="submit" className="primary" disabled={running || start.isPending}>
          {t('rt.start')}
        </button>
        <button type="button" disabled={!running || stop.isPending} onClick={() => stop.mutate()}>
          {t('rt.stop')}
        </button>
        <span role="status">
          {running && status.data?.count
            ? t('rt.running', { sent: formatNumber(status.data.sent), count: formatNumber(status.data.count) })
            : running
            ? t('rt.running_open', { sent: formatNumber(status.data?.sent ?? 0) })
            : t('rt.idle', { sent: formatNumber(status.data?.sent ?? 0) })}
        </span>
      </Form>
      <ErrorBox error={start.error ?? stop.error ?? status.error ?? (status.data?.last_error ? new Error(status.data.last_error) : null)} />
    </Card>
  );
}
