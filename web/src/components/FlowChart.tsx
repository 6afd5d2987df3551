// The flows-and-attacks line chart the dashboard and the realtime page share:
// two series over a time axis (epoch ms), with an accessible name for the
// chart as a whole (role="img"; the numbers are also in the pages' tables and
// stat cards). Stateless; recharts measures the container.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useI18n } from '../i18n/i18n';

export function FlowChart<K extends string>({
  label,
  data,
  timeKey,
  height,
  curve,
  formatTick,
  formatTooltipTime,
  formatCount,
}: {
  label: string;
  // Rows with the time (epoch ms) under timeKey and `flows` and `attacks`.
  data: readonly ({ [k in K]: number } & { flows: number; attacks: number })[];
  timeKey: K;
  height: number;
  curve: 'monotone' | 'linear';
  formatTick: (ms: number) => string;
  formatTooltipTime: (ms: number) => string;
  // Counts on the y axis and in the tooltip; recharts' default when absent.
  formatCount?: (n: number) => string;
}) {
  const { t } = useI18n();
  return (
    <div className="chart" role="img" aria-label={label}>
      <ResponsiveContainer width="100%" height={height}>
        <LineChart data={data as object[]} margin={{ left: 8, right: 16, top: 8, bottom: 8 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
          <XAxis dataKey={timeKey} type="number" scale="time" domain={['dataMin', 'dataMax']} tickFormatter={(v: number) => formatTick(v)} stroke="var(--muted)" />
          <YAxis allowDecimals={false} stroke="var(--muted)" tickFormatter={formatCount && ((v: number) => formatCount(v))} />
          <Tooltip labelFormatter={(v) => formatTooltipTime(Number(v))} formatter={formatCount && ((v) => formatCount(Number(v)))} />
          <Legend />
          <Line type={curve} dataKey="flows" name={t('dash.flows')} stroke="var(--accent)" dot={false} isAnimationActive={false} />
          <Line type={curve} dataKey="attacks" name={t('dash.attacks')} stroke="var(--danger)" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
