// The one way an error is shown: what happened and what to do (the server's
// hint), announced to screen readers.
import { ApiError } from '../api/client';
import { useI18n } from '../i18n/i18n';

export function ErrorBox({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  const message = e ? e.message : error instanceof Error ? error.message : String(error);
  const hint = e?.hint ?? '';
  const title =
    e?.kind === 'network' ? t('error.network') : e?.kind === 'validation' ? t('error.validation') : e?.status === 403 ? t('error.forbidden') : t('error.title');
  return (
    <div role="alert" className="error">
      <strong>{title}</strong> {message}
      {hint && <div className="hint">{hint}</div>}
    </div>
  );
}
