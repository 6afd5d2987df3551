// Enforcement mode (enforce / dry run) and the circuit breaker's state.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/endpoints';
import { useSession } from '../../auth/session';
import { Card } from '../../components/Card';
import { useI18n } from '../../i18n/i18n';

export function ModeControl() {
  const { t, formatNumber } = useI18n();
  const { can } = useSession();
  const qc = useQueryClient();
  const mode = useQuery({ queryKey: ['mode'], queryFn: () => api.mode(), refetchInterval: 10_000 });
  const set = useMutation({
    mutationFn: (m: 'enforce' | 'dry_run') => api.setMode(m),
    onSuccess: (data) => qc.setQueryData(['mode'], data),
  });
  const m = mode.data;
  return (
    <Card title={t('mode.title')} error={mode.error ?? set.error}>
      {m && (
        <div className="row wrap">
          <fieldset className="radios" disabled={!can('operator') || set.isPending}>
            <legend>{t('mode.label')}</legend>
            {(['enforce', 'dry_run'] as const).map((v) => (
              <label key={v} className="inline">
                <input type="radio" name="healing-mode" value={v} checked={m.mode === v} onChange={() => set.mutate(v)} /> {t(`mode.${v}`)}
              </label>
            ))}
          </fieldset>
          <dl className="kv">
            <dt>{t('mode.backend')}</dt>
            <dd>{m.backend}</dd>
            <dt>{t('mode.breaker')}</dt>
            <dd className={m.circuit_breaker.state === 'open' ? 'danger-text' : undefined}>{t(`breaker.${m.circuit_breaker.state}`)}</dd>
            <dt>{t('mode.blocks_minute')}</dt>
            <dd>
              {formatNumber(m.circuit_breaker.blocks_last_minute)} / {formatNumber(m.circuit_breaker.max_blocks_per_minute)}
            </dd>
            <dt>{t('mode.trips')}</dt>
            <dd>{formatNumber(m.circuit_breaker.trips)}</dd>
          </dl>
        </div>
      )}
    </Card>
  );
}
