// Models: versions by type with the active one marked, model-card metrics
// (per-class F1 and a confusion-matrix heatmap when the card has them),
// upload (bundle, XGBoost JSON, ONNX), activate, roll back, delete.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../../api/endpoints';
import type { MLModel, ModelType } from '../../api/schemas';
import { useSession } from '../../auth/session';
import { Card } from '../../components/Card';
import { ConfirmButton } from '../../components/ConfirmButton';
import { DataTable } from '../../components/DataTable';
import { ErrorBox } from '../../components/ErrorBox';
import { Field, Form, Select } from '../../components/Form';
import { StatCard } from '../../components/StatCard';
import { useI18n } from '../../i18n/i18n';
import { heatLevel, perClassMetrics } from './metrics';

const TYPES: ModelType[] = ['threat_detector', 'attack_classifier'];

export default function ModelsPage() {
  const { t, formatNumber, formatBytes } = useI18n();
  const { can } = useSession();
  const qc = useQueryClient();
  const models = useQuery({ queryKey: ['models'], queryFn: () => api.models() });
  const storage = useQuery({ queryKey: ['storage'], queryFn: () => api.storage() });
  const [selected, setSelected] = useState<number | null>(null);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['models'] });
    void qc.invalidateQueries({ queryKey: ['storage'] });
  };
  const activate = useMutation({ mutationFn: (id: number) => api.activateModel(id), onSettled: refresh });
  const rollback = useMutation({ mutationFn: (ty: ModelType) => api.rollbackModel(ty), onSettled: refresh });
  const remove = useMutation({ mutationFn: (id: number) => api.deleteModel(id), onSettled: refresh });
  const all = models.data?.models ?? [];
  const shown = all.find((m) => m.id === selected) ?? null;

  return (
    <div className="page">
      <h1>{t('models.title')}</h1>
      <div className="grid stats">
        <StatCard label={t('models.count')} value={storage.data ? formatNumber(storage.data.total_models) : '…'} />
        <StatCard label={t('models.size')} value={storage.data ? formatBytes(storage.data.total_size_bytes) : '…'} />
      </div>
      <ErrorBox error={models.error ?? activate.error ?? rollback.error ?? remove.error} />
      {TYPES.map((type) => (
        <Card
          key={type}
          title={t(`model.${type}`)}
          tools={
            can('operator') && (
              <button type="button" onClick={() => rollback.mutate(type)} disabled={rollback.isPending}>
                {t('models.rollback')}
              </button>
            )
          }
        >
          <DataTable
            compact
            actions
            testId={`models-${type}`}
            columns={[t('models.version'), t('models.format'), t('models.file'), t('common.status')]}
          >
            {all
              .filter((m) => m.model_type === type)
              .map((m) => (
                <tr key={m.id} className={m.is_active ? 'active' : undefined}>
                  <td className="mono">{m.version}</td>
                  <td>{m.file_format}</td>
                  <td className="small">{m.original_filename}</td>
                  <td>{m.is_active ? <span className="badge ok">{t('models.active')}</span> : t('models.inactive')}</td>
                  <td className="row">
                    <button type="button" onClick={() => setSelected(m.id === selected ? null : m.id)} aria-expanded={m.id === selected}>
                      {t('models.card')}
                    </button>
                    {can('operator') && !m.is_active && (
                      <>
                        <button type="button" onClick={() => activate.mutate(m.id)} disabled={activate.isPending}>
                          {t('models.activate', { version: m.version })}
                        </button>
                        <ConfirmButton label={t('common.delete')} question={t('models.delete_q', { version: m.version })} onConfirm={() => remove.mutate(m.id)} />
                      </>
                    )}
                  </td>
                </tr>
              ))}
          </DataTable>
        </Card>
      ))}
      {shown && <ModelCard model={shown} />}
      {can('operator') && <UploadModel onDone={refresh} />}
    </div>
  );
}

function ModelCard({ model }: { model: MLModel }) {
  const { t, formatNumber, formatDate } = useI18n();
  const meta = model.model_metadata;
  const card = meta?.card;
  const v = card?.validation;
  const title = t('models.card_of', { version: `${t(`model.${model.model_type}`)} ${model.version}` });
  // The card's own per-class numbers; computed from its confusion matrix only
  // for cards written without them.
  const metrics = v
    ? v.per_class?.map((m) => ({ name: m.label, support: m.support, precision: m.precision, recall: m.recall, f1: m.f1 })) ??
      perClassMetrics(v.classes, v.confusion)
    : [];
  return (
    <Card title={title} aria-label={title}>
      <dl className="kv">
        <dt>{t('models.created')}</dt>
        <dd>{formatDate(model.created_at)}</dd>
        <dt>{t('models.features')}</dt>
        <dd>{formatNumber(model.expected_features?.length ?? 0)}</dd>
        <dt>{t('models.classes')}</dt>
        <dd>{(model.class_labels ?? []).join(', ') || '—'}</dd>
        {meta?.trees !== undefined && (
          <>
            <dt>{t('models.trees')}</dt>
            <dd>{formatNumber(meta.trees)}</dd>
          </>
        )}
        {card?.train_rows !== undefined && (
          <>
            <dt>{t('models.train_rows')}</dt>
            <dd>{formatNumber(card.train_rows)}</dd>
          </>
        )}
        {card?.validation_protocol && (
          <>
            <dt>{t('models.protocol')}</dt>
            <dd>{card.validation_protocol}</dd>
          </>
        )}
      </dl>
      {!v && <p className="muted">{t('models.no_metrics')}</p>}
      {v && (
        <>
          <h3>{t('models.per_class')}</h3>
          <DataTable
            compact
            columns={[
              t('common.class'),
              { label: t('models.precision'), numeric: true },
              { label: t('models.recall'), numeric: true },
              { label: 'F1', numeric: true },
              { label: t('models.support'), numeric: true },
            ]}
          >
            {metrics.map((m) => (
              <tr key={m.name}>
                <td>{m.name}</td>
                <td className="num">{formatNumber(m.precision, { maximumFractionDigits: 3 })}</td>
                <td className="num">{formatNumber(m.recall, { maximumFractionDigits: 3 })}</td>
                <td className="num">{formatNumber(m.f1, { maximumFractionDigits: 3 })}</td>
                <td className="num">{formatNumber(m.support)}</td>
              </tr>
            ))}
          </DataTable>
          <h3>{t('models.confusion')}</h3>
          <p className="muted small">{t('models.confusion_note')}</p>
          <DataTable variant="heatmap" columns={[t('models.true_pred'), ...v.classes.map((c) => ({ label: c, title: c }))]}>
            {v.confusion.map((row, i) => {
              const total = row.reduce((a, b) => a + b, 0);
              return (
                <tr key={i}>
                  <th scope="row">{v.classes[i]}</th>
                  {row.map((n, j) => (
                    <td key={j} className={`num heat-${heatLevel(n, total)}`}>
                      {formatNumber(n)}
                    </td>
                  ))}
                </tr>
              );
            })}
          </DataTable>
        </>
      )}
    </Card>
  );
}

function UploadModel({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [type, setType] = useState<ModelType>('attack_classifier');
  const [description, setDescription] = useState('');
  const [profile, setProfile] = useState('');
  const upload = useMutation({
    mutationFn: () => {
      if (!file) throw new Error(t('models.pick_file'));
      return api.uploadModel({ file, model_type: type, description, profile_config: profile.trim() || undefined });
    },
    onSuccess: () => {
      setFile(null);
      setDescription('');
      setProfile('');
      onDone();
    },
  });
  return (
    <Card title={t('models.upload')}>
      <p className="muted small">{t('models.upload_formats')}</p>
      <Form onSubmit={() => upload.mutate()} className="stack">
        <Field label={t('models.type')}>
          <Select value={type} options={TYPES} optionLabel={(ty) => t(`model.${ty}`)} onChange={setType} />
        </Field>
        <Field label={t('models.file')}>
          <input type="file" accept=".json,.gz,.onnx" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required />
        </Field>
        <Field label={t('models.description')}>
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <Field label={t('models.profile')}>
          <textarea rows={4} className="mono" value={profile} onChange={(e) => setProfile(e.target.value)} placeholder='{"expected_features": [...], "class_labels": [...]}' />
        </Field>
        <button type="submit" className="primary" disabled={!file || upload.isPending}>
          {upload.isPending ? t('models.uploading') : t('models.upload_button')}
        </button>
      </Form>
      {upload.isSuccess && (
        <p role="status" className="ok-text">
          {t('models.uploaded', { version: upload.data.version })}
        </p>
      )}
      <ErrorBox error={upload.error} />
    </Card>
  );
}
