// Actions: decisions in force with the time left, history, revoke, a manual
// block, dry-run and the circuit breaker, and the policy rules. Refreshed
// live by `action` messages on the WebSocket.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../api/endpoints';
import type { Decision } from '../../api/schemas';
import { useSession } from '../../auth/session';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorBox } from '../../components/ErrorBox';
import { useI18n, parseApiTime } from '../../i18n/i18n';
import { useRealtime } from '../../realtime/RealtimeProvider';
import { ModeControl } from './ModeControl';
import { PolicyEditor } from './PolicyEditor';

function useNow(periodMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(id);
  }, [periodMs]);
  return now;
}

export default function ActionsPage() {
  const { t, formatNumber, formatDate, formatDuration } = useI18n();
  const { can } = useSession();
  const qc = useQueryClient();
  const now = useNow(1000);
  const active = useQuery({ queryKey: ['actions', 'active'], queryFn: () => api.activeActions(), refetchInterval: 15_000 });
  const history = useQuery({ queryKey: ['actions', 'history'], queryFn: () => api.actions({ limit: 100 }) });
  useRealtime(['action'], () => {
    void qc.invalidateQueries({ queryKey: ['actions'] });
  });
  const revoke = useMutation({
    mutationFn: (id: number) => api.revokeAction(id, 'revoked in the console'),
    onSettled: () => qc.invalidateQueries({ queryKey: ['actions'] }),
  });

  const timeLeft = (d: Decision) => (d.expires_at ? Math.max(0, (parseApiTime(d.expires_at) - now) / 1000) : null);

  return (
    <div className="page">
      <h1>{t('act.title')}</h1>
      <ModeControl />
      <section className="card">
        <h2>{t('act.active', { n: formatNumber(active.data?.length ?? 0) })}</h2>
        <ErrorBox error={active.error ?? revoke.error} />
        <div className="table-wrap" tabIndex={0}>
          <table className="table" data-testid="active-actions">
            <thead>
              <tr>
                <th scope="col">{t('act.target')}</th>
                <th scope="col">{t('common.action')}</th>
                <th scope="col">{t('act.why')}</th>
                <th scope="col">{t('act.mode')}</th>
                <th scope="col">{t('act.time_left')}</th>
                <th scope="col">
                  <span className="sr-only">{t('common.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(active.data ?? []).map((d) => {
                const left = timeLeft(d);
                return (
                  <tr key={d.id}>
                    <td className="mono">{d.target || '—'}</td>
                    <td>{t(`action.${d.action_type}`)}</td>
                    <td className="small">{d.action_description}</td>
                    <td>{t(`decision_mode.${d.mode}`)}</td>
                    <td>{left === null ? t('act.no_expiry') : formatDuration(left)}</td>
                    <td>
                      {can('operator') && (
                        <ConfirmButton
                          label={t('act.revoke')}
                          question={t('act.revoke_q', { target: d.target })}
                          disabled={revoke.isPending}
                          onConfirm={() => revoke.mutate(d.id)}
                        />
                      )}
                    </td>
                  </tr>
                );
              })}
              {active.data?.length === 0 && (
                <tr>
                  <td colSpan={6} className="muted">
                    {t('act.none_active')}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </section>
      {can('operator') && <ManualBlock />}
      <section className="card">
        <h2>{t('act.history')}</h2>
        <ErrorBox error={history.error} />
        <div className="table-wrap" tabIndex={0}>
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">{t('common.time')}</th>
                <th scope="col">{t('act.target')}</th>
                <th scope="col">{t('common.action')}</th>
                <th scope="col">{t('common.status')}</th>
                <th scope="col">{t('act.origin')}</th>
                <th scope="col">{t('act.rule')}</th>
                <th scope="col">{t('common.class')}</th>
              </tr>
            </thead>
            <tbody>
              {(history.data ?? []).map((d) => (
                <tr key={d.id}>
                  <td>{formatDate(d.created_at)}</td>
                  <td className="mono">{d.target || '—'}</td>
                  <td>{t(`action.${d.action_type}`)}</td>
                  <td>{t(`status.${d.status}`)}</td>
                  <td>{t(`origin.${d.origin}`)}</td>
                  <td>{d.rule ?? '—'}</td>
                  <td>{d.attack_class ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <PolicyEditor />
    </div>
  );
}

function ManualBlock() {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [target, setTarget] = useState('');
  const [action, setAction] = useState('block_ip');
  const [minutes, setMinutes] = useState(60);
  const [reason, setReason] = useState('');
  const create = useMutation({
    mutationFn: () => api.createAction({ target: target.trim(), action_type: action, duration_seconds: Math.round(minutes * 60), reason: reason || undefined }),
    onSuccess: () => {
      setTarget('');
      setReason('');
    },
    onSettled: () => qc.invalidateQueries({ queryKey: ['actions'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <section className="card">
      <h2>{t('act.manual')}</h2>
      <form className="row wrap" onSubmit={submit}>
        <label>
          {t('act.target')}
          <input value={target} onChange={(e) => setTarget(e.target.value)} placeholder="203.0.113.7" required />
        </label>
        <label>
          {t('common.action')}
          <select value={action} onChange={(e) => setAction(e.target.value)}>
            {['block_ip', 'rate_limit', 'isolate_host', 'alert_admin'].map((a) => (
              <option key={a} value={a}>
                {t(`action.${a}` as 'action.block_ip')}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('act.minutes')}
          <input type="number" min={1} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} />
        </label>
        <label>
          {t('act.reason')}
          <input value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={create.isPending || target.trim() === ''}>
          {t('act.apply')}
        </button>
      </form>
      <ErrorBox error={create.error} />
    </section>
  );
}
