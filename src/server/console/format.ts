/**
 * Turning API data into text for the page. Values are always made strings here before a template
 * sees them: hono/html escapes strings, but it passes through any object that claims to be markup
 * (`isEscaped`), and JSON from a guest can claim anything. So a view never interpolates an API
 * value that is not a string or number it made.
 */

/** Any value as display text: strings as they are, everything else as JSON (bounded). */
export function text(value: unknown, max = 20_000): string {
  // JSON.stringify answers undefined for a function or symbol, which API JSON never holds.
  const s = typeof value === 'string' ? value : value === undefined ? '' : ((JSON.stringify(value, null, 2) as string | undefined) ?? '');
  return s.length > max ? `${s.slice(0, max)}… (${s.length - max} more characters)` : s;
}

/** A list of strings from an API field that should be one (anything else is empty). */
export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A duration for people: 850 ms, 12.3 s, 4 min 10 s, 3 h 2 min. */
export function duration(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  if (min < 60) return s === 0 ? `${min} min` : `${min} min ${s} s`;
  return min % 60 === 0 ? `${Math.floor(min / 60)} h` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** An ISO time as shown: UTC, to the second. */
export function time(iso: unknown): string {
  if (typeof iso !== 'string') return '—';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso.slice(0, 40) : new Date(t).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

/** Milliseconds since an ISO time, or null when it isn't one. */
export function since(iso: unknown, now: number): number | null {
  if (typeof iso !== 'string') return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, now - t);
}

/** A query string of the non-empty fields, for links that keep the current filters. */
export function query(fields: Readonly<Record<string, string | undefined>>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== '') p.set(k, v);
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

/** An id safe to put in a console path (API ids are run_…, sbx_…); anything else is refused. */
export function pathId(id: string): string | null {
  return /^[A-Za-z0-9_-]{1,100}$/.test(id) ? id : null;
}
