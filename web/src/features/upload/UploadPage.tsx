// Upload: drag-and-drop a CSV of flows; real progress (bytes sent by the
// browser, then rows stored from batch_progress on the WebSocket); the result
// from the API: counts by class, accepted and rejected rows with reasons and
// examples, and the batch's predictions (/upload?batch=ID).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type DragEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { uploadCsv, api } from '../../api/endpoints';
import type { UploadBatch } from '../../api/schemas';
import { useSession } from '../../auth/session';
import { Card } from '../../components/Card';
import { CountTable, DataTable } from '../../components/DataTable';
import { ErrorBox } from '../../components/ErrorBox';
import { useI18n } from '../../i18n/i18n';
import { BatchProgress, className, isAttack } from '../../realtime/messages';
import { useRealtime } from '../../realtime/RealtimeProvider';

interface Sending {
  name: string;
  sent: number;
  total: number;
}

export default function UploadPage() {
  const { t, formatNumber, formatBytes, formatDate } = useI18n();
  const { can } = useSession();
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const batchId = params.get('batch');
  const [sending, setSending] = useState<Sending | null>(null);
  const [rows, setRows] = useState<{ id: string; stored: number; read: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const batch = useQuery({
    queryKey: ['batch', batchId],
    queryFn: () => api.batch(batchId ?? ''),
    enabled: batchId !== null,
    refetchInterval: (q) => (q.state.data?.status === 'processing' ? 1000 : false),
  });
  const batches = useQuery({ queryKey: ['batches'], queryFn: () => api.batches(20) });

  useRealtime(['batch_progress'], (m) => {
    const p = BatchProgress.safeParse(m.data);
    if (!p.success || p.data.batch_id !== batchId) return;
    setRows({ id: p.data.batch_id, stored: p.data.rows_stored, read: p.data.rows_read });
    if (p.data.finished) void qc.invalidateQueries({ queryKey: ['batch', batchId] });
  });

  const start = async (file: File) => {
    setError(null);
    setRows(null);
    if (!file.name.toLowerCase().endsWith('.csv')) {
      setError(new Error(t('upload.not_csv', { name: file.name })));
      return;
    }
    setSending({ name: file.name, sent: 0, total: file.size });
    const { promise } = uploadCsv(file, (sent, total) => setSending({ name: file.name, sent, total }));
    try {
      const accepted = await promise;
      setParams({ batch: accepted.batch_id });
      void qc.invalidateQueries({ queryKey: ['batches'] });
    } catch (e) {
      setError(e);
    } finally {
      setSending(null);
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const f = e.dataTransfer.files[0];
    if (f) void start(f);
  };

  const b = batch.data;
  const processing = b?.status === 'processing';
  return (
    <div className="page">
      <h1>{t('upload.title')}</h1>
      {can('operator') ? (
        <div
          className={`dropzone card${dragging ? ' dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <p>{t('upload.drop')}</p>
          <label className="button primary" htmlFor="csv-file">
            {t('upload.choose')}
          </label>
          <input
            id="csv-file"
            ref={input}
            className="file-input"
            type="file"
            accept=".csv,text/csv"
            disabled={sending !== null}
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void start(f);
              e.target.value = '';
            }}
          />
          <p className="muted small">{t('upload.formats')}</p>
        </div>
      ) : (
        <p className="muted">{t('upload.viewer')}</p>
      )}
      <ErrorBox error={error} />
      {sending && (
        <Card title={t('upload.sending', { name: sending.name })} aria-live="polite">
          <progress max={sending.total || 1} value={sending.sent} aria-label={t('upload.bytes_progress')} />
          <p>{t('upload.bytes', { sent: formatBytes(sending.sent), total: formatBytes(sending.total) })}</p>
        </Card>
      )}
      {batchId && (
        <Card
          title={
            <>
              {t('upload.result')} <span className="mono small">{batchId}</span>
            </>
          }
          error={batch.error}
          aria-live="polite"
          aria-busy={processing}
        >
          {processing && (
            <>
              <progress aria-label={t('upload.rows_progress')} />
              <p role="status">{t('upload.processing', { n: formatNumber(rows?.stored ?? b.row_count), read: formatNumber(rows?.read ?? 0) })}</p>
            </>
          )}
          {b && !processing && <BatchResult batch={b} />}
          {b && b.predictions.length > 0 && (
            <>
              <h3>{t('upload.predictions', { n: formatNumber(b.predictions.length), total: formatNumber(b.row_count) })}</h3>
              <DataTable
                compact
                columns={[t('common.id'), t('common.time'), t('common.source_ip'), t('common.dest_ip'), t('common.class'), { label: t('common.score'), numeric: true }]}
              >
                {b.predictions.map((p) => (
                  <tr key={p.traffic_data.id} className={isAttack(p) ? 'attack' : undefined}>
                    <td className="num">{p.traffic_data.id}</td>
                    <td>{formatDate(p.traffic_data.created_at)}</td>
                    <td className="mono">{p.traffic_data.src_ip ?? '—'}</td>
                    <td className="mono">{p.traffic_data.dst_ip ?? '—'}</td>
                    <td>{className(p)}</td>
                    <td className="num">{p.threat_prediction ? formatNumber(p.threat_prediction.prediction_score, { maximumFractionDigits: 3 }) : '—'}</td>
                  </tr>
                ))}
              </DataTable>
            </>
          )}
        </Card>
      )}
      <Card title={t('upload.recent')} error={batches.error}>
        <DataTable
          compact
          columns={[
            t('upload.file'),
            t('common.time'),
            t('common.status'),
            { label: t('upload.accepted'), numeric: true },
            { label: t('upload.rejected'), numeric: true },
          ]}
        >
          {(batches.data?.batches ?? []).map((x) => (
            <tr key={x.batch_id}>
              <td>
                <Link to={`/upload?batch=${encodeURIComponent(x.batch_id)}`}>{x.filename}</Link>
              </td>
              <td>{formatDate(x.uploaded_at)}</td>
              <td>{t(`batch.${x.status}`)}</td>
              <td className="num">{formatNumber(x.accepted_rows)}</td>
              <td className="num">{formatNumber(x.rejected_rows)}</td>
            </tr>
          ))}
        </DataTable>
      </Card>
    </div>
  );
}

function BatchResult({ batch }: { batch: UploadBatch }) {
  const { t, formatNumber } = useI18n();
  const s = batch.summary ?? {};
  const byClass = Object.entries(s.by_class ?? {})
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count);
  const reasons = Object.entries(s.rejected_by_reason ?? {});
  return (
    <div className="result">
      {batch.status === 'failed' && <ErrorBox error={new Error(batch.error ?? t('batch.failed'))} />}
      <dl className="kv">
        <dt>{t('upload.total_rows')}</dt>
        <dd data-testid="total-rows">{formatNumber(batch.total_rows)}</dd>
        <dt>{t('upload.accepted')}</dt>
        <dd data-testid="accepted-rows">{formatNumber(batch.accepted_rows)}</dd>
        <dt>{t('upload.rejected')}</dt>
        <dd data-testid="rejected-rows">{formatNumber(batch.rejected_rows)}</dd>
        {s.attacks !== undefined && (
          <>
            <dt>{t('dash.attacks')}</dt>
            <dd>{formatNumber(s.attacks)}</dd>
          </>
        )}
      </dl>
      <h3>{t('upload.by_class')}</h3>
      <CountTable label={t('common.class')} countLabel={t('common.count')} rows={byClass} />
      {reasons.length > 0 && (
        <>
          <h3>{t('upload.rejections')}</h3>
          <ul className="reasons">
            {reasons.map(([reason, g]) => (
              <li key={reason}>
                <strong>{reason}</strong> — {t('upload.rows_n', { n: formatNumber(g.count) })}
                <ul>
                  {g.examples.map((ex, i) => (
                    <li key={i} className="mono small">
                      {ex.message}
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
