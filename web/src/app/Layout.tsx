// The frame of every page: navigation, language, connection state, who is
// logged in. The language switch changes only the language (the route stays).
import { NavLink, Outlet } from 'react-router';
import { useSession } from '../auth/session';
import { LANGS, useI18n, type Lang } from '../i18n/i18n';
import type { MessageKey } from '../i18n/en';
import { useRealtimeState } from '../realtime/RealtimeProvider';

const NAV: { to: string; label: MessageKey }[] = [
  { to: '/dashboard', label: 'nav.dashboard' },
  { to: '/upload', label: 'nav.upload' },
  { to: '/realtime', label: 'nav.realtime' },
  { to: '/actions', label: 'nav.actions' },
  { to: '/models', label: 'nav.models' },
  { to: '/settings', label: 'nav.settings' },
];

export function LanguageSelect() {
  const { t, lang, setLang } = useI18n();
  return (
    <label className="lang">
      <span>{t('lang.label')}</span>
      <select value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
        {LANGS.map((l) => (
          <option key={l} value={l}>
            {t(l === 'en' ? 'lang.en' : 'lang.vi')}
          </option>
        ))}
      </select>
    </label>
  );
}

export function ConnectionBadge() {
  const { t } = useI18n();
  const { state, detail } = useRealtimeState();
  return (
    <span className={`badge conn-${state}`} role="status" title={detail || undefined}>
      {t(`conn.${state}` as MessageKey)}
    </span>
  );
}

export function Layout() {
  const { t } = useI18n();
  const { me, logout } = useSession();
  return (
    <div className="shell">
      <a className="skip" href="#main">
        {t('nav.skip')}
      </a>
      <header className="topbar">
        <span className="brand">threatd</span>
        <nav aria-label={t('nav.label')} className="nav">
          {NAV.map((n) => (
            <NavLink key={n.to} to={n.to}>
              {t(n.label)}
            </NavLink>
          ))}
        </nav>
        <div className="topbar-right">
          <ConnectionBadge />
          <LanguageSelect />
          {me && (
            <span className="who">
              {me.name} · <span className={`role role-${me.role}`}>{t(`role.${me.role}`)}</span>
            </span>
          )}
          <button type="button" onClick={logout}>
            {t('nav.logout')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
