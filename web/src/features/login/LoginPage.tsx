// Login: paste an API key (or arrive through the first-run URL, which the
// session reads before this page renders).
import { useState, type FormEvent } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { LanguageSelect } from '../../app/Layout';
import { useSession } from '../../auth/session';
import { ErrorBox } from '../../components/ErrorBox';
import { useI18n } from '../../i18n/i18n';

export function LoginPage() {
  const { t } = useI18n();
  const { status, login, error } = useSession();
  const [key, setKey] = useState('');
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/dashboard';

  if (status === 'ready') return <Navigate to={from === '/login' ? '/dashboard' : from} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const ok = await login(key, remember);
    setBusy(false);
    if (ok) void navigate(from, { replace: true });
  };

  return (
    <main id="main" className="login">
      <div className="card login-card">
        <h1>{t('login.title')}</h1>
        <p className="muted">{t('login.intro')}</p>
        <form onSubmit={submit}>
          <label htmlFor="api-key">{t('login.key')}</label>
          <input
            id="api-key"
            type="password"
            autoComplete="current-password"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="tdk_…"
            required
          />
          <label className="inline">
            <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} /> {t('login.remember')}
          </label>
          <button type="submit" className="primary" disabled={busy || key.trim() === ''}>
            {busy || status === 'checking' ? t('login.checking') : t('login.submit')}
          </button>
        </form>
        <ErrorBox error={error} />
        <p className="muted small">{t('login.help')}</p>
        <LanguageSelect />
      </div>
    </main>
  );
}
