import { useId, type FormEvent, type ReactNode } from 'react';
import type { AuditQuery } from '../audit/types.js';

/** What the reader filters the log by; times are RFC 3339 in UTC, as the API takes them. */
export type AuditFilterValues = Pick<AuditQuery, 'actor' | 'action' | 'target' | 'since' | 'until'>;

export const pageSizes = [10, 25, 50, 100] as const;

export interface AuditFiltersProps {
  filters: AuditFilterValues;
  pageSize: number;
  onApply: (filters: AuditFilterValues, pageSize: number) => void;
  onClear: () => void;
}

/** A `datetime-local` value (the reader's own clock) as an RFC 3339 UTC time, if it is one. */
export function utcOf(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** An RFC 3339 time as a `datetime-local` value on the reader's clock (minutes). */
export function localInputOf(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (value: number) => String(value).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** Reads the form into filters, leaving out the fields left empty. */
export function filtersOf(form: FormData): { filters: AuditFilterValues; pageSize: number } {
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === 'string' && value.trim() ? value.trim() : undefined;
  };
  const filters: AuditFilterValues = {};
  for (const name of ['actor', 'action', 'target'] as const) {
    const value = text(name);
    if (value) filters[name] = value;
  }
  for (const name of ['since', 'until'] as const) {
    const value = utcOf(text(name) ?? '');
    if (value) filters[name] = value;
  }
  const size = Number(text('pageSize'));
  return { filters, pageSize: pageSizes.find((allowed) => allowed === size) ?? pageSizes[1] };
}

/** Filters of the audit log, applied by the control plane (`GET /v1/audit`). */
export function AuditFilters({ filters, pageSize, onApply, onClear }: AuditFiltersProps) {
  const id = useId();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const read = filtersOf(new FormData(event.currentTarget));
    onApply(read.filters, read.pageSize);
  };
  // The key makes a cleared or changed filter show in the fields, which are uncontrolled.
  return (
    <form
      key={JSON.stringify([filters, pageSize])}
      className="filters"
      aria-label="Filter audit records"
      onSubmit={submit}
    >
      <Field id={`${id}-actor`} label="Actor id (user, agent, runner or system)">
        <input id={`${id}-actor`} name="actor" type="text" defaultValue={filters.actor ?? ''} />
      </Field>
      <Field id={`${id}-action`} label="Action (a name, or a prefix such as environment.*)">
        <input id={`${id}-action`} name="action" type="text" defaultValue={filters.action ?? ''} />
      </Field>
      <Field id={`${id}-target`} label="Target id (environment, runner, token…)">
        <input id={`${id}-target`} name="target" type="text" defaultValue={filters.target ?? ''} />
      </Field>
      <Field id={`${id}-since`} label="Since (your local time, inclusive)">
        <input
          id={`${id}-since`}
          name="since"
          type="datetime-local"
          defaultValue={localInputOf(filters.since)}
        />
      </Field>
      <Field id={`${id}-until`} label="Until (your local time, exclusive)">
        <input
          id={`${id}-until`}
          name="until"
          type="datetime-local"
          defaultValue={localInputOf(filters.until)}
        />
      </Field>
      <Field id={`${id}-size`} label="Records per page">
        <select id={`${id}-size`} name="pageSize" defaultValue={String(pageSize)}>
          {pageSizes.map((size) => (
            <option key={size} value={size}>
              {size}
            </option>
          ))}
        </select>
      </Field>
      <div className="actions">
        <button type="submit">Apply filters</button>{' '}
        <button type="button" onClick={onClear}>
          Clear filters
        </button>
      </div>
    </form>
  );
}

function Field({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
    </div>
  );
}
