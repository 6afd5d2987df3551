// The self-healing policy: a table of its rules, and (operators) an editor of
// the whole policy as JSON, validated by the server on save (PUT /policy
// answers what is wrong and where).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../../api/endpoints';
import { useSession } from '../../auth/session';
import { Card } from '../../components/Card';
import { DataTable } from '../../components/DataTable';
import { ErrorBox } from '../../components/ErrorBox';
import { Form } from '../../components/Form';
import { useI18n } from '../../i18n/i18n';

function text(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(', ');
  if (v === undefined || v === null) return '—';
  return String(v);
}

export function PolicyEditor() {
  const { t } = useI18n();
  const { can } = useSession();
  const qc = useQueryClient();
  const policy = useQuery({ queryKey: ['policy'], queryFn: () => api.policy() });
  const [draft, setDraft] = useState<string | null>(null);
  const [parseError, setParseError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (p: unknown) => api.putPolicy(p),
    onSuccess: (data) => {
      qc.setQueryData(['policy'], data);
      setDraft(null);
    },
  });
  const rules = policy.data?.rules ?? [];
  return (
    <Card title={t('policy.title')} error={policy.error}>
      <DataTable
        compact
        columns={[t('policy.name'), t('policy.classes'), t('common.action'), t('policy.min_conf'), t('policy.min_det'), t('policy.window'), t('policy.durations')]}
      >
        {rules.map((r, i) => (
          <tr key={i}>
            <td>{text(r.name)}</td>
            <td>{text(r.classes)}</td>
            <td>{text(r.action)}</td>
            <td className="num">{text(r.min_confidence)}</td>
            <td className="num">{text(r.min_detections)}</td>
            <td>{text(r.window)}</td>
            <td>{text(r.durations)}</td>
          </tr>
        ))}
      </DataTable>
      {can('operator') && policy.data && (
        <div>
          {draft === null ? (
            <button type="button" onClick={() => setDraft(JSON.stringify(policy.data, null, 2))}>
              {t('policy.edit')}
            </button>
          ) : (
            <Form
              onSubmit={() => {
                try {
                  const parsed: unknown = JSON.parse(draft);
                  setParseError(null);
                  save.mutate(parsed);
                } catch (err) {
                  setParseError(t('policy.bad_json', { error: err instanceof Error ? err.message : String(err) }));
                }
              }}
            >
              <label htmlFor="policy-json">{t('policy.json')}</label>
              <textarea id="policy-json" rows={16} className="mono" value={draft} onChange={(e) => setDraft(e.target.value)} spellCheck={false} />
              <div className="row">
                <button type="submit" className="primary" disabled={save.isPending}>
                  {t('common.save')}
                </button>
                <button type="button" onClick={() => setDraft(null)}>
                  {t('common.cancel')}
                </button>
              </div>
              <ErrorBox error={parseError ? new Error(parseError) : save.error} />
            </Form>
          )}
        </div>
      )}
    </Card>
  );
}
