// Translations: a typed dictionary per language (en.ts is the reference; vi.ts
// must have exactly its keys, checked by the compiler), the current language
// (remembered in localStorage, never in the URL, so switching keeps the
// route), and Intl formatters for numbers and dates in that language.
// Timestamps from the API are UTC ("...Z"); formatDate shows them in the
// browser's local time zone.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { en, type MessageKey } from './en';
import { vi } from './vi';

export type Lang = 'en' | 'vi';
export const LANGS: readonly Lang[] = ['en', 'vi'];
const DICTS: Record<Lang, Record<MessageKey, string>> = { en, vi };
const STORAGE_KEY = 'threatd.lang';

export type Vars = Record<string, string | number>;

export function translate(lang: Lang, key: MessageKey, vars?: Vars): string {
  const text = DICTS[lang][key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

export interface I18n {
  lang: Lang;
  setLang: (l: Lang) => void;
  t: (key: MessageKey, vars?: Vars) => string;
  formatNumber: (n: number, opts?: Intl.NumberFormatOptions) => string;
  formatPercent: (percent: number) => string;
  formatDate: (iso: string | null | undefined) => string;
  formatTime: (ms: number) => string;
  formatDuration: (seconds: number) => string;
  formatBytes: (n: number) => string;
}

const Ctx = createContext<I18n | null>(null);

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'vi') return saved;
  } catch {
    // storage unavailable
  }
  return typeof navigator !== 'undefined' && navigator.language.toLowerCase().startsWith('vi') ? 'vi' : 'en';
}

// Parses an API timestamp. The API always writes UTC with 'Z'; a timestamp
// without a zone is read as UTC too (never as local time).
export function parseApiTime(iso: string): number {
  const hasZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(iso);
  return Date.parse(hasZone ? iso : `${iso.replace(' ', 'T')}Z`);
}

export function makeI18n(lang: Lang, setLang: (l: Lang) => void): I18n {
  const locale = lang === 'vi' ? 'vi-VN' : 'en-GB';
  const num = new Intl.NumberFormat(locale);
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' });
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const t = (key: MessageKey, vars?: Vars) => translate(lang, key, vars);
  return {
    lang,
    setLang,
    t,
    formatNumber: (n, opts) => (opts ? new Intl.NumberFormat(locale, opts).format(n) : num.format(n)),
    formatPercent: (p) => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 }).format(p / 100),
    formatDate: (iso) => {
      if (!iso) return '—';
      const ms = parseApiTime(iso);
      return Number.isNaN(ms) ? iso : date.format(ms);
    },
    formatTime: (ms) => time.format(ms),
    formatDuration: (s) => {
      const sec = Math.max(0, Math.round(s));
      const d = Math.floor(sec / 86400);
      const h = Math.floor((sec % 86400) / 3600);
      const m = Math.floor((sec % 3600) / 60);
      const r = sec % 60;
      if (d > 0) return t('duration.dh', { d, h });
      if (h > 0) return t('duration.hm', { h, m });
      if (m > 0) return t('duration.ms', { m, s: r });
      return t('duration.s', { s: r });
    },
    formatBytes: (n) => {
      const units = ['B', 'kB', 'MB', 'GB'];
      let v = n;
      let i = 0;
      while (v >= 1000 && i < units.length - 1) {
        v /= 1000;
        i += 1;
      }
      return `${new Intl.NumberFormat(locale, { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
    },
  };
}

export function I18nProvider({ children, initial }: { children: ReactNode; initial?: Lang }) {
  const [lang, setLangState] = useState<Lang>(initial ?? initialLang);
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch {
      // storage unavailable: the choice lasts for this page only
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const value = useMemo(() => makeI18n(lang, setLang), [lang, setLang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
