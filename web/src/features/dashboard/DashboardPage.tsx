// Dashboard: totals, attack rate, flows and attacks over a chosen range,
// attack classes, top attacking sources, actions taken and the models in use.
// Every number comes from the API (one request per panel: the series from
// /predictions/timeline, the sources from /predictions/top-sources); totals
// update live from stats_update.
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../../api/endpoints';
import { Card } from '../../components/Card';
import { CountTable, DataTable } from '../../components/DataTable';
import { ErrorBox } from '../../components/ErrorBox';
import { FlowChart } from '../../components/FlowChart';
import { Select } from '../../components/Form';
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
            <Select
              value={range}
              options={Object.keys(RANGES) as RangeId[]}
              optionLabel={(r) => t(`range.${r}`)}
              onChange={(r) => {
                setRange(r);
                setNow(Date.now());
              }}
            />
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

      <Card title={t('dash.over_time', { range: t(`range.${range}`) })} error={timeline.error}>
        <FlowChart
          label={t('dash.over_time', { range: t(`range.${range}`) })}
          data={chartData}
          timeKey="time"
          height={260}
          curve="monotone"
          formatTick={tickFormat}
          formatTooltipTime={(ms) => formatDate(new Date(ms).toISOString())}
          formatCount={(n) => formatNumber(n)}
        />
      </Card>

      <div className="grid two">
        <Card title={t('dash.distribution')} error={dist.error}>
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
          <CountTable label={t('common.class')} countLabel={t('common.count')} caption={t('dash.distribution')} rows={distData} />
        </Card>
        <Card title={t('dash.top_sources')} error={attackers.error}>
          <DataTable
            compact
            caption={t('dash.top_sources')}
            columns={[t('common.source_ip'), { label: t('dash.attacks'), numeric: true }, t('dash.top_type'), t('dash.last_seen')]}
            empty={sources.length === 0 ? t('dash.no_attacks') : undefined}
          >
            {sources.map((s) => (
              <tr key={s.src_ip}>
                <td className="mono">{s.src_ip}</td>
                <td className="num">{formatNumber(s.attacks)}</td>
                <td>{s.top_attack_type ?? '—'}</td>
                <td>{formatDate(s.last_seen)}</td>
              </tr>
            ))}
          </DataTable>
        </Card>
        <Card title={t('dash.actions_taken')} error={actions.error}>
          <CountTable label={t('common.action')} countLabel={t('common.count')} rows={actionData} empty={t('dash.no_actions')} />
        </Card>
        <Card title={t('dash.models')} error={models.error}>
          <ul className="plain">
            {(models.data?.active_models ?? []).map((m) => (
              <li key={m.id}>
                <strong>{t(`model.${m.model_type}`)}</strong> <span className="mono">{m.version}</span>
              </li>
            ))}
            {models.data && models.data.active_models.length === 0 && <li className="muted">{t('dash.no_models')}</li>}
          </ul>
        </Card>
      </div>
    </div>
  );
}
