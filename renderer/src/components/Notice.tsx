import type { ReactNode } from 'react';
import type { Unavailable } from '../../../core/api/contract.js';
import type { ApiCallError } from '../api/client.js';

/** An honest empty state: what is missing and why, never a blank panel or made-up numbers. */
export function EmptyState({ title, children, testId }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="empty" data-testid={testId ?? 'empty-state'}>
      <div className="empty-title">{title}</div>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

export function UnavailableNotice({ what, unavailable }: { what: string; unavailable: Unavailable }) {
  return (
    <EmptyState title={`No ${what}`} testId={`unavailable-${unavailable.why}`}>
      {unavailable.message}
    </EmptyState>
  );
}

export function ErrorNotice({ error }: { error: ApiCallError }) {
  return (
    <div className="error" role="alert" data-testid="error">
      <code>{error.code}</code> {error.message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" aria-busy="true">
      Loading {what}…
    </div>
  );
}

export function StatusBadge({ status }: { status: string | null }) {
  return <span className={`badge badge-${status ?? 'unknown'}`}>{status ?? 'unreadable'}</span>;
}
