// Dashboard: totals, attack rate, flows and attacks over a chosen range,
// attack classes, top attacking sources, actions taken and the models in use.
// Every number comes from the API (one request per panel: the series from
// /predictions/timeline, the sources from /predictions/top-sources); totals
// update live from stats_update.
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../../api/endpoints';
import { ErrorBox } from '../../components/ErrorBox';
import { StatCard } from '../../components/StatCard';
import { useI18n } from '../../i18n/i18n';
import { StatsUpdate, type StatsUpdate as StatsUpdateT } from '../../realtime/messages';
import { useRealtime } from '../../realtime/RealtimeProvider';
import { RANGES, windowFor, type RangeId } from './timeRange';

export default function DashboardPage() {
  const { t, formatNumber, formatPercent, formatDate } = useI18n();
  const [range, setRange] = useState<RangeId>('24h');
  const [live, setLive] = useState<StatsUpdateT | null>(null);
  // The range's end, fixed when the range is chosen (and on refresh).
  const [now, setNow] = useState(() => Date.now());
  const win = useMemo(() => windowFor(range, now), [range, now]);
  const since = win.since;

  const stats = useQuery({ queryKey: ['stats'], queryFn: () => api.stats(), refetchInterval: 30_000 });
  useRealtime(['stats_update'], (m) => {
    const s = StatsUpdate.safeParse(m.data);
    if (s.success) setLive(s.data);
  });
  const timeline = useQuery({
    queryKey: ['timeline', win.since, win.until, win.buckets],
    queryFn: () => api.timeline({ since: win.since, until: win.until, buckets: win.buckets }),
  });
  const dist = useQuery({ queryKey: ['attack-dist', since], queryFn: () => api.attackDistribution({ since }) });
  const actions = useQuery({ queryKey: ['action-dist', since], queryFn: () => api.actionDistribution({ since }) });
  const attackers = useQuery({ queryKey: ['top-sources', since, win.until], queryFn: () => api.topSources({ since, until: win.until, limit: 10 }) });
  const models = useQuery({ queryKey: ['storage'], queryFn: () => api.storage() });

  const totals = live ?? stats.data;
  const chartData = (timeline.data?.buckets ?? []).map((b) => ({ time: Date.parse(b.start), flows: b.total, attacks: b.attacks }));
  const step = win.stepMs;
  const tickFormat = (ms: number) =>
    new Intl.DateTimeFormat(undefined, step >= 86_400_000 ? { month: 'short', day: 'numeric' } : { hour: '2-digit', minute: '2-digit' }).format(ms);
  const distData = Object.entries(dist.data?.distribution ?? {})
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count);
  const actionData = Object.entries(actions.data?.distribution ?? {}).map(([name, count]) => ({ name, count }));
  const sources = attackers.data?.sources ?? [];

  return (
    <div className="page">
      <div className="page-head">
        <h1>{t('dash.title')}</h1>
        <div className="row">
          <label>
            {t('dash.range')}{' '}
            <select
              value={range}
              onChange={(e) => {
                setRange(e.target.value as RangeId);
                setNow(Date.now());
              }}
            >
              {(Object.keys(RANGES) as RangeId[]).map((r) => (
                <option key={r} value={r}>
                  {t(`range.${r}`)}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => setNow(Date.now())}>
            {t('common.refresh')}
          </button>
        </div>
      </div>
      <ErrorBox error={stats.error} />
      <div className="grid stats">
        <StatCard label={t('dash.total')} value={totals ? formatNumber(totals.total_predictions) : '…'} sub={live ? t('dash.live') : undefined} />
        <StatCard label={t('dash.attacks')} value={totals ? formatNumber(totals.total_attacks) : '…'} />
        <StatCard label={t('dash.normal')} value={totals ? formatNumber(totals.total_normal) : '…'} />
        <StatCard label={t('dash.rate')} value={totals ? formatPercent(totals.attack_rate) : '…'} />
        <StatCard
          label={t('dash.throughput')}
          value={live?.flows_per_second !== undefined ? t('unit.per_second', { n: formatNumber(live.flows_per_second, { maximumFractionDigits: 1 }) }) : '—'}
        />
      </div>

      <section className="card">
        <h2>{t('dash.over_time', { range: t(`range.${range}`) })}</h2>
        <ErrorBox error={timeline.error} />
        <div className="chart" role="img" aria-label={t('dash.over_time', { range: t(`range.${range}`) })}>
          <ResponsiveContainer width="100%" height={260}>
            <LineChart data={chartData} margin={{ left: 8, right: 16, top: 8, bottom: 8 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis dataKey="time" type="number" scale="time" domain={['dataMin', 'dataMax']} tickFormatter={tickFormat} stroke="var(--muted)" />
              <YAxis allowDecimals={false} stroke="var(--muted)" tickFormatter={(v: number) => formatNumber(v)} />
              <Tooltip labelFormatter={(v) => formatDate(new Date(Number(v)).toISOString())} formatter={(v) => formatNumber(Number(v))} />
              <Legend />
              <Line type="monotone" dataKey="flows" name={t('dash.flows')} stroke="var(--accent)" dot={false} isAnimationActive={false} />
              <Line type="monotone" dataKey="attacks" name={t('dash.attacks')} stroke="var(--danger)" dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      </section>

      <div className="grid two">
        <section className="card">
          <h2>{t('dash.distribution')}</h2>
          <ErrorBox error={dist.error} />
          {distData.length === 0 ? (
            <p className="muted">{t('dash.no_attacks')}</p>
          ) : (
            <div className="chart" role="img" aria-label={t('dash.distribution')}>
              <ResponsiveContainer width="100%" height={Math.max(160, distData.length * 28)}>
                <BarChart data={distData} layout="vertical" margin={{ left: 16, right: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
                  <XAxis type="number" allowDecimals={false} stroke="var(--muted)" />
                  <YAxis type="category" dataKey="name" width={170} stroke="var(--muted)" />
                  <Tooltip formatter={(v) => formatNumber(Number(v))} />
                  <Bar dataKey="count" name={t('dash.attacks')} fill="var(--danger)" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </div>
          )}
          <table className="table compact">
            <caption className="sr-only">{t('dash.distribution')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('common.class')}</th>
                <th scope="col" className="num">{t('common.count')}</th>
              </tr>
            </thead>
            <tbody>
              {distData.map((d) => (
                <tr key={d.name}>
                  <td>{d.name}</td>
                  <td className="num">{formatNumber(d.count)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="card">
          <h2>{t('dash.top_sources')}</h2>
          <ErrorBox error={attackers.error} />
          <table className="table compact">
            <caption className="sr-only">{t('dash.top_sources')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('common.source_ip')}</th>
                <th scope="col" className="num">{t('dash.attacks')}</th>
                <th scope="col">{t('dash.top_type')}</th>
                <th scope="col">{t('dash.last_seen')}</th>
              </tr>
            </thead>
            <tbody>
              {sources.map((s) => (
                <tr key={s.src_ip}>
                  <td className="mono">{s.src_ip}</td>
                  <td className="num">{formatNumber(s.attacks)}</td>
                  <td>{s.top_attack_type ?? '—'}</td>
                  <td>{formatDate(s.last_seen)}</td>
                </tr>
              ))}
              {sources.length === 0 && (
                <tr>
                  <td colSpan={4} className="muted">
                    {t('dash.no_attacks')}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
        <section className="card">
          <h2>{t('dash.actions_taken')}</h2>
          <ErrorBox error={actions.error} />
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">{t('common.action')}</th>
                <th scope="col" className="num">{t('common.count')}</th>
              </tr>
            </thead>
            <tbody>
              {actionData.map((a) => (
                <tr key={a.name}>
                  <td>{a.name}</td>
                  <td className="num">{formatNumber(a.count)}</td>
                </tr>
              ))}
              {actionData.length === 0 && (
                <tr>
                  <td colSpan={2} className="muted">
                    {t('dash.no_actions')}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
        <section className="card">
          <h2>{t('dash.models')}</h2>
          <ErrorBox error={models.error} />
          <ul className="plain">
            {(models.data?.active_models ?? []).map((m) => (
              <li key={m.id}>
                <strong>{t(`model.${m.model_type}`)}</strong> <span className="mono">{m.version}</span>
              </li>
            ))}
            {models.data && models.data.active_models.length === 0 && <li className="muted">{t('dash.no_models')}</li>}
          </ul>
        </section>
      </div>
    </div>
  );
}
