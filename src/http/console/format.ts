// Formatting helpers the console's templates get as `it.f`: plain functions of values, no HTML.

const NBSP = '\u00a0';

/** "2026-11-26 08:10:12" in UTC, or "—". */
function dateTime(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}`;
}

/** "08:10:12.345" in UTC: the time of a timeline entry. */
function time(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? '—' : d.toISOString().slice(11, 23);
}

/** Minor units with the currency: 49900, "NOK" → "499.00 NOK". */
function money(minor: number | null | undefined, currency = 'NOK'): string {
  if (minor === null || minor === undefined) return '—';
  const negative = minor < 0;
  const abs = Math.abs(Math.trunc(minor));
  const major = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  return `${negative ? '−' : ''}${major}.${(abs % 100).toString().padStart(2, '0')}${NBSP}${currency}`;
}

/** A value as indented JSON, for a <pre>. */
function json(value: unknown): string {
  if (typeof value === 'string') {
    try { return JSON.stringify(JSON.parse(value), null, 2); } catch { return value; }
  }
  return JSON.stringify(value, null, 2) ?? '';
}

/** A count with thin grouping: 1234567 → "1 234 567". */
function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '0' : String(n).replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
}

/** A query string from fields, leaving out the empty ones: "?psp=X&state=Y" or "". */
function query(fields: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const formats = { dateTime, time, money, json, count, query };
export type Formats = typeof formats;
