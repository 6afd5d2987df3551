// Form pieces the console repeats: a form whose submit does not reload the
// page, a labelled control (the label wraps it, so it needs no id), and a
// select over a fixed list of values and an on/off switch. Stateless; no
// errors of their own.
import type { ComponentPropsWithoutRef, ReactNode } from 'react';
import { useI18n } from '../i18n/i18n';

export function Form({ onSubmit, ...form }: { onSubmit: () => void } & Omit<ComponentPropsWithoutRef<'form'>, 'onSubmit'>) {
  return (
    <form
      {...form}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    />
  );
}

export function Field({ label, children }: { label: ReactNode; children: ReactNode }) {
  return (
    <label>
      {label}
      {children}
    </label>
  );
}

export function Select<T extends string>({
  value,
  options,
  optionLabel,
  onChange,
  children,
}: {
  value: T;
  options: readonly T[];
  optionLabel: (v: T) => ReactNode;
  onChange: (v: T) => void;
  // Options placed before the list (e.g. "all").
  children?: ReactNode;
}) {
  return (
    <select value={value} onChange={(e) => onChange(e.target.value as T)}>
      {children}
      {options.map((o) => (
        <option key={o} value={o}>
          {optionLabel(o)}
        </option>
      ))}
    </select>
  );
}

// An on/off switch with its state written next to it.
export function Switch({ checked, disabled, onChange, label }: { checked: boolean; disabled?: boolean; onChange: (on: boolean) => void; label: string }) {
  const { t } = useI18n();
  return (
    <label className="switch">
      <input type="checkbox" role="switch" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} aria-label={label} />
      <span>{checked ? t('common.on') : t('common.off')}</span>
    </label>
  );
}
