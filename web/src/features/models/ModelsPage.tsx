// Models: versions by type with the active one marked, model-card metrics
// (per-class F1 and a confusion-matrix heatmap when the card has them),
// upload (bundle, XGBoost JSON, ONNX), activate, roll back, delete.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../../api/endpoints';
import type { MLModel, ModelType } from '../../api/schemas';
import { useSession } from '../../auth/session';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorBox } from '../../components/ErrorBox';
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
        <section className="card" key={type}>
          <div className="page-head">
            <h2>{t(`model.${type}`)}</h2>
            {can('operator') && (
              <button type="button" onClick={() => rollback.mutate(type)} disabled={rollback.isPending}>
                {t('models.rollback')}
              </button>
            )}
          </div>
          <div className="table-wrap" tabIndex={0}>
            <table className="table compact" data-testid={`models-${type}`}>
              <thead>
                <tr>
                  <th scope="col">{t('models.version')}</th>
                  <th scope="col">{t('models.format')}</th>
                  <th scope="col">{t('models.file')}</th>
                  <th scope="col">{t('common.status')}</th>
                  <th scope="col">
                    <span className="sr-only">{t('common.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
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
              </tbody>
            </table>
          </div>
        </section>
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
  // The card's own per-class numbers; computed from its confusion matrix only
  // for cards written without them.
  const metrics = v
    ? v.per_class?.map((m) => ({ name: m.label, support: m.support, precision: m.precision, recall: m.recall, f1: m.f1 })) ??
      perClassMetrics(v.classes, v.confusion)
    : [];
  return (
    <section className="card" aria-label={t('models.card_of', { version: `${t(`model.${model.model_type}`)} ${model.version}` })}>
      <h2>{t('models.card_of', { version: `${t(`model.${model.model_type}`)} ${model.version}` })}</h2>
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
          <div className="table-wrap" tabIndex={0}>
            <table className="table compact">
              <thead>
                <tr>
                  <th scope="col">{t('common.class')}</th>
                  <th scope="col" className="num">{t('models.precision')}</th>
                  <th scope="col" className="num">{t('models.recall')}</th>
                  <th scope="col" className="num">F1</th>
                  <th scope="col" className="num">{t('models.support')}</th>
                </tr>
              </thead>
              <tbody>
                {metrics.map((m) => (
                  <tr key={m.name}>
                    <td>{m.name}</td>
                    <td className="num">{formatNumber(m.precision, { maximumFractionDigits: 3 })}</td>
                    <td className="num">{formatNumber(m.recall, { maximumFractionDigits: 3 })}</td>
                    <td className="num">{formatNumber(m.f1, { maximumFractionDigits: 3 })}</td>
                    <td className="num">{formatNumber(m.support)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h3>{t('models.confusion')}</h3>
          <p className="muted small">{t('models.confusion_note')}</p>
          <div className="table-wrap" tabIndex={0}>
            <table className="table heatmap">
              <thead>
                <tr>
                  <th scope="col">{t('models.true_pred')}</th>
                  {v.classes.map((c) => (
                    <th scope="col" key={c} title={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
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
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
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
  const submit = (e: FormEvent) => {
    e.preventDefault();
    upload.mutate();
  };
  return (
    <section className="card">
      <h2>{t('models.upload')}</h2>
      <p className="muted small">{t('models.upload_formats')}</p>
      <form onSubmit={submit} className="stack">
        <label>
          {t('models.type')}
          <select value={type} onChange={(e) => setType(e.target.value as ModelType)}>
            {TYPES.map((ty) => (
              <option key={ty} value={ty}>
                {t(`model.${ty}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('models.file')}
          <input type="file" accept=".json,.gz,.onnx" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required />
        </label>
        <label>
          {t('models.description')}
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label>
          {t('models.profile')}
          <textarea rows={4} className="mono" value={profile} onChange={(e) => setProfile(e.target.value)} placeholder='{"expected_features": [...], "class_labels": [...]}' />
        </label>
        <button type="submit" className="primary" disabled={!file || upload.isPending}>
          {upload.isPending ? t('models.uploading') : t('models.upload_button')}
        </button>
      </form>
      {upload.isSuccess && (
        <p role="status" className="ok-text">
          {t('models.uploaded', { version: upload.data.version })}
        </p>
      )}
      <ErrorBox error={upload.error} />
    </section>
  );
}
