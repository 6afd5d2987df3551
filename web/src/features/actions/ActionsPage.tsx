// Actions: decisions in force with the time left, history, revoke, a manual
// block, dry-run and the circuit breaker, and the policy rules. Refreshed
// live by `action` messages on the WebSocket.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '../../api/endpoints';
import type { Decision } from '../../api/schemas';
import { useSession } from '../../auth/session';
import { Card } from '../../components/Card';
import { ConfirmButton } from '../../components/ConfirmButton';
import { DataTable } from '../../components/DataTable';
import { ErrorBox } from '../../components/ErrorBox';
import { Field, Form, Select } from '../../components/Form';
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
      <Card title={t('act.active', { n: formatNumber(active.data?.length ?? 0) })} error={active.error ?? revoke.error}>
        <DataTable
          testId="active-actions"
          actions
          columns={[t('act.target'), t('common.action'), t('act.why'), t('act.mode'), t('act.time_left')]}
          empty={active.data?.length === 0 ? t('act.none_active') : undefined}
        >
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
        </DataTable>
      </Card>
      {can('operator') && <ManualBlock />}
      <Card title={t('act.history')} error={history.error}>
        <DataTable
          compact
          columns={[t('common.time'), t('act.target'), t('common.action'), t('common.status'), t('act.origin'), t('act.rule'), t('common.class')]}
        >
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
        </DataTable>
      </Card>
      <PolicyEditor />
    </div>
  );
}

const ACTIONS = ['block_ip', 'rate_limit', 'isolate_host', 'alert_admin'] as const;

function ManualBlock() {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [target, setTarget] = useState('');
  const [action, setAction] = useState<(typeof ACTIONS)[number]>('block_ip');
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
  return (
    <Card title={t('act.manual')}>
      <Form className="row wrap" onSubmit={() => create.mutate()}>
        <Field label={t('act.target')}>
          <input value={target} onChange={(e) => setTarget(e.target.value)} placeholder="203.0.113.7" required />
        </Field>
        <Field label={t('common.action')}>
          <Select value={action} options={ACTIONS} optionLabel={(a) => t(`action.${a}`)} onChange={setAction} />
        </Field>
        <Field label={t('act.minutes')}>
          <input type="number" min={1} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} />
        </Field>
        <Field label={t('act.reason')}>
          <input value={reason} onChange={(e) => setReason(e.target.value)} />
        </Field>
        <button type="submit" className="primary" disabled={create.isPending || target.trim() === ''}>
          {t('act.apply')}
        </button>
      </Form>
      <ErrorBox error={create.error} />
    </Card>
  );
}
