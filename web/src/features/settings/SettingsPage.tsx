// Settings: data sources (live status from the health check, enable/disable),
// the whitelist (IPv4, IPv6, CIDR, expiry, description), API keys (admins)
// and the enforcement mode.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../../api/endpoints';
import type { Role } from '../../api/schemas';
import { useSession } from '../../auth/session';
import { Card } from '../../components/Card';
import { ConfirmButton } from '../../components/ConfirmButton';
import { DataTable } from '../../components/DataTable';
import { ErrorBox } from '../../components/ErrorBox';
import { Field, Form, Select, Switch } from '../../components/Form';
import { useI18n } from '../../i18n/i18n';
import { ModeControl } from '../actions/ModeControl';

export default function SettingsPage() {
  const { t } = useI18n();
  const { can } = useSession();
  return (
    <div className="page">
      <h1>{t('settings.title')}</h1>
      <Sources />
      <WhitelistSection />
      <ModeControl />
      {can('admin') && <Keys />}
    </div>
  );
}

function Sources() {
  const { t, formatDate } = useI18n();
  const { can } = useSession();
  const qc = useQueryClient();
  const sources = useQuery({ queryKey: ['sources'], queryFn: () => api.sources(), refetchInterval: 5000 });
  const health = useQuery({ queryKey: ['health'], queryFn: () => api.health(), refetchInterval: 5000, retry: false });
  const toggle = useMutation({
    mutationFn: (v: { name: string; on: boolean }) => api.setSource(v.name, v.on),
    onSettled: () => qc.invalidateQueries({ queryKey: ['sources'] }),
  });
  const checks = health.data?.checks ?? {};
  return (
    <Card title={t('sources.title')} error={sources.error ?? toggle.error}>
      <p className="muted small">
        {t('sources.health')}{' '}
        {Object.entries(checks).map(([name, c]) => (
          <span key={name} className={`badge check-${c.status}`}>
            {name}: {t(`check.${c.status}`)}
          </span>
        ))}
      </p>
      <DataTable
        testId="sources"
        columns={[t('sources.name'), t('sources.description'), t('sources.config'), t('sources.updated'), t('sources.enabled')]}
      >
        {(sources.data ?? []).map((s) => (
          <tr key={s.id}>
            <td className="mono">{s.source_name}</td>
            <td>{s.description ?? ''}</td>
            <td className="mono small">{s.config_params ? JSON.stringify(s.config_params) : '—'}</td>
            <td>{formatDate(s.updated_at)}</td>
            <td>
              <Switch
                checked={s.is_enabled}
                disabled={!can('operator') || toggle.isPending}
                onChange={(on) => toggle.mutate({ name: s.source_name, on })}
                label={t('sources.toggle', { name: s.source_name })}
              />
            </td>
          </tr>
        ))}
      </DataTable>
    </Card>
  );
}

function WhitelistSection() {
  const { t, formatDate } = useI18n();
  const { can } = useSession();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['whitelist'], queryFn: () => api.whitelist() });
  const [ip, setIp] = useState('');
  const [description, setDescription] = useState('');
  const [expires, setExpires] = useState('');
  const refresh = () => qc.invalidateQueries({ queryKey: ['whitelist'] });
  const add = useMutation({
    mutationFn: () =>
      api.addWhitelist({
        ip_address: ip.trim(),
        description: description || undefined,
        // datetime-local is the user's local time; the API wants an instant.
        expires_at: expires ? new Date(expires).toISOString() : undefined,
      }),
    onSuccess: () => {
      setIp('');
      setDescription('');
      setExpires('');
    },
    onSettled: refresh,
  });
  const patch = useMutation({ mutationFn: (v: { id: number; on: boolean }) => api.patchWhitelist(v.id, { is_active: v.on }), onSettled: refresh });
  const remove = useMutation({ mutationFn: (id: number) => api.deleteWhitelist(id), onSettled: refresh });
  return (
    <Card title={t('wl.title')}>
      <p className="muted small">{t('wl.intro')}</p>
      {can('operator') && (
        <Form className="row wrap" onSubmit={() => add.mutate()}>
          <Field label={t('wl.address')}>
            <input value={ip} onChange={(e) => setIp(e.target.value)} placeholder="192.0.2.7, 198.51.100.0/24, 2001:db8::/32" required />
          </Field>
          <Field label={t('wl.description')}>
            <input value={description} onChange={(e) => setDescription(e.target.value)} />
          </Field>
          <Field label={t('wl.expires')}>
            <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          </Field>
          <button type="submit" className="primary" disabled={add.isPending || ip.trim() === ''}>
            {t('wl.add')}
          </button>
        </Form>
      )}
      <ErrorBox error={list.error ?? add.error ?? patch.error ?? remove.error} />
      <DataTable
        testId="whitelist"
        actions
        columns={[t('wl.address'), t('wl.description'), t('wl.expires'), t('wl.active')]}
        empty={list.data?.length === 0 ? t('wl.empty') : undefined}
      >
        {(list.data ?? []).map((w) => (
          <tr key={w.id}>
            <td className="mono">{w.ip_address}</td>
            <td>{w.description ?? ''}</td>
            <td>{w.expires_at ? formatDate(w.expires_at) : t('wl.never')}</td>
            <td>
              <Switch checked={w.is_active} disabled={!can('operator')} onChange={(on) => patch.mutate({ id: w.id, on })} label={t('wl.toggle', { ip: w.ip_address })} />
            </td>
            <td>{can('operator') && <ConfirmButton label={t('common.delete')} question={t('wl.delete_q', { ip: w.ip_address })} onConfirm={() => remove.mutate(w.id)} />}</td>
          </tr>
        ))}
      </DataTable>
    </Card>
  );
}

const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

function Keys() {
  const { t, formatDate } = useI18n();
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: ['keys'], queryFn: () => api.keys() });
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const refresh = () => qc.invalidateQueries({ queryKey: ['keys'] });
  const create = useMutation({ mutationFn: () => api.createKey(name.trim(), role), onSuccess: () => setName(''), onSettled: refresh });
  const revoke = useMutation({ mutationFn: (id: number) => api.revokeKey(id), onSettled: refresh });
  return (
    <Card title={t('keys.title')}>
      <Form className="row wrap" onSubmit={() => create.mutate()}>
        <Field label={t('keys.name')}>
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        </Field>
        <Field label={t('keys.role')}>
          <Select value={role} options={ROLES} optionLabel={(r) => t(`role.${r}`)} onChange={setRole} />
        </Field>
        <button type="submit" className="primary" disabled={create.isPending || name.trim() === ''}>
          {t('keys.create')}
        </button>
      </Form>
      {create.data && (
        <div role="status" className="notice">
          {t('keys.created')} <code data-testid="new-key">{create.data.key}</code>
        </div>
      )}
      <ErrorBox error={keys.error ?? create.error ?? revoke.error} />
      <DataTable
        compact
        actions
        columns={[t('keys.name'), t('keys.prefix'), t('keys.role'), t('keys.last_used'), t('common.status')]}
      >
        {(keys.data?.keys ?? []).map((k) => (
          <tr key={k.id}>
            <td>{k.name}</td>
            <td className="mono">{k.prefix}</td>
            <td>{t(`role.${k.role}`)}</td>
            <td>{formatDate(k.last_used_at)}</td>
            <td>{k.active ? t('keys.active') : t('keys.revoked')}</td>
            <td>{k.active && <ConfirmButton label={t('keys.revoke')} question={t('keys.revoke_q', { name: k.name })} onConfirm={() => revoke.mutate(k.id)} />}</td>
          </tr>
        ))}
      </DataTable>
    </Card>
  );
}
