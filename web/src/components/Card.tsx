// A page section: the card with its heading (beside the section's own
// controls when it has any) and, right under it, the error of whatever the
// section loads or changes (ErrorBox renders nothing without one). Extra
// section attributes (aria-live, aria-label, …) pass through. Stateless.
import type { ComponentPropsWithoutRef, ReactNode } from 'react';
import { ErrorBox } from './ErrorBox';

export function Card({
  title,
  error,
  tools,
  children,
  ...section
}: { title: ReactNode; error?: unknown; tools?: ReactNode; children?: ReactNode } & Omit<ComponentPropsWithoutRef<'section'>, 'title' | 'className'>) {
  return (
    <section className="card" {...section}>
      {tools === undefined ? (
        <h2>{title}</h2>
      ) : (
        <div className="page-head">
          <h2>{title}</h2>
          {tools}
        </div>
      )}
      {error !== undefined && <ErrorBox error={error} />}
      {children}
    </section>
  );
}
