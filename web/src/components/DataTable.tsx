// The console's one table scaffold: the keyboard-scrollable wrapper, the
// header row (scope="col", "num" on numeric columns), an optional trailing
// actions column whose header is read only by screen readers, an optional
// screen-reader caption and an optional "nothing here" row spanning every
// column. The caller renders the body rows (children), so what a cell shows
// and does stays on the page that owns it. Stateless; no errors of its own.
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/i18n';

export interface ColumnSpec {
  label: ReactNode;
  // Right-aligned, tabular figures (className="num" on the header; the page
  // puts it on its cells).
  numeric?: boolean;
  // A tooltip for headers that may be cut short (the heatmap's class names).
  title?: string;
}

// A plain label is a text column.
export type Column = string | ColumnSpec;

export function DataTable({
  columns,
  actions = false,
  compact = false,
  variant,
  testId,
  caption,
  empty,
  wrap = true,
  children,
}: {
  columns: readonly Column[];
  // Adds the trailing column for per-row buttons.
  actions?: boolean;
  compact?: boolean;
  // A further table class (e.g. "heatmap").
  variant?: string;
  testId?: string;
  // Named for screen readers only.
  caption?: string;
  // Shown in a muted row across the table when given (pass it only when
  // there are no rows).
  empty?: ReactNode;
  // The scroll wrapper (tabIndex 0, so the keyboard can scroll it); off for
  // the narrow two-column tables that never overflow.
  wrap?: boolean;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const className = ['table', compact && 'compact', variant].filter(Boolean).join(' ');
  const table = (
    <table className={className} data-testid={testId}>
      {caption !== undefined && <caption className="sr-only">{caption}</caption>}
      <thead>
        <tr>
          {columns.map((col, i) => {
            const c = typeof col === 'string' ? { label: col } : col;
            return (
              <th scope="col" key={i} className={c.numeric ? 'num' : undefined} title={c.title}>
                {c.label}
              </th>
            );
          })}
          {actions && (
            <th scope="col">
              <span className="sr-only">{t('common.actions')}</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {children}
        {empty !== undefined && empty !== null && empty !== false && (
          <tr>
            <td colSpan={columns.length + (actions ? 1 : 0)} className="muted">
              {empty}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
  if (!wrap) return table;
  return (
    <div className="table-wrap" tabIndex={0}>
      {table}
    </div>
  );
}

// The name/count table the dashboard and the upload result share: one text
// column, one numeric, rows in the order given.
export function CountTable({
  label,
  countLabel,
  rows,
  caption,
  empty,
}: {
  label: ReactNode;
  countLabel: ReactNode;
  rows: readonly { name: string; count: number }[];
  caption?: string;
  empty?: ReactNode;
}) {
  const { formatNumber } = useI18n();
  return (
    <DataTable compact wrap={false} caption={caption} columns={[{ label }, { label: countLabel, numeric: true }]} empty={rows.length === 0 ? empty : undefined}>
      {rows.map((r) => (
        <tr key={r.name}>
          <td>{r.name}</td>
          <td className="num">{formatNumber(r.count)}</td>
        </tr>
      ))}
    </DataTable>
  );
}
