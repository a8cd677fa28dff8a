/**
 * Charts as server-rendered SVG (no script, no inline style: colours come from classes in the one
 * stylesheet). Each chart carries a title and a description in words, and its numbers are also on
 * the page as text, so nobody needs to see the picture.
 */
import { html } from 'hono/html';
import type { RunStatus, RunSummary } from './contract.ts';
import type { Markup } from './layout.ts';

const STATUSES: readonly RunStatus[] = ['ok', 'error', 'running'];
const MINUTE = 60_000;

export interface MinuteBucket {
  readonly start: number;
  readonly counts: Readonly<Record<RunStatus, number>>;
}

/** Runs per minute by status over the `minutes` minutes that end with the minute of `end`. */
export function perMinute(runs: readonly RunSummary[], end: number, minutes: number): MinuteBucket[] {
  const last = Math.floor(end / MINUTE) * MINUTE;
  const first = last - (minutes - 1) * MINUTE;
  const buckets = Array.from({ length: minutes }, (_, i) => ({ start: first + i * MINUTE, counts: { ok: 0, error: 0, running: 0 } }));
  for (const run of runs) {
    const t = Date.parse(run.startedAt);
    if (Number.isNaN(t) || t < first || t >= last + MINUTE) continue;
    const bucket = buckets[Math.floor((t - first) / MINUTE)];
    if (bucket !== undefined && STATUSES.includes(run.status)) bucket.counts[run.status] += 1;
  }
  return buckets;
}

/** A stacked bar per minute: ok, error, running. */
export function runsChart(buckets: readonly MinuteBucket[]): Markup {
  const width = 640;
  const height = 160;
  const pad = { left: 32, bottom: 22, top: 8 };
  const max = Math.max(1, ...buckets.map((b) => b.counts.ok + b.counts.error + b.counts.running));
  const slot = (width - pad.left) / Math.max(1, buckets.length);
  const scale = (height - pad.bottom - pad.top) / max;
  const total = (s: RunStatus): number => buckets.reduce((n, b) => n + b.counts[s], 0);
  const firstBucket = buckets[0];
  const lastBucket = buckets[buckets.length - 1];
  const label = (t: number | undefined): string => (t === undefined ? '' : new Date(t).toISOString().slice(11, 16));
  const bars = buckets.map((b, i) => {
    let y = height - pad.bottom;
    return STATUSES.map((s) => {
      const h = b.counts[s] * scale;
      y -= h;
      return h === 0 ? '' : html`<rect class="bar-${s}" x="${(pad.left + i * slot + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, slot - 2).toFixed(1)}" height="${h.toFixed(1)}"><title>${label(b.start)}: ${b.counts[s]} ${s}</title></rect>`;
    });
  });
  return html`<figure class="chart">
<svg role="img" aria-labelledby="rpm-title rpm-desc" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">
<title id="rpm-title">Runs per minute by status</title>
<desc id="rpm-desc">${buckets.length} minutes from ${label(firstBucket?.start)} to ${label(lastBucket?.start)} UTC: ${total('ok')} ok, ${total('error')} error, ${total('running')} running; at most ${max} in a minute.</desc>
<line class="axis" x1="${pad.left}" y1="${height - pad.bottom}" x2="${width}" y2="${height - pad.bottom}"></line>
<text class="tick" x="${pad.left - 4}" y="${pad.top + 8}" text-anchor="end">${max}</text>
<text class="tick" x="${pad.left - 4}" y="${height - pad.bottom}" text-anchor="end">0</text>
<text class="tick" x="${pad.left}" y="${height - 6}">${label(firstBucket?.start)}</text>
<text class="tick" x="${width}" y="${height - 6}" text-anchor="end">${label(lastBucket?.start)} UTC</text>
${bars}
</svg>
<figcaption>Runs started per minute (UTC): <span class="key key-ok">ok ${total('ok')}</span> <span class="key key-error">error ${total('error')}</span> <span class="key key-running">running ${total('running')}</span></figcaption>
</figure>`;
}

export interface Gauge {
  readonly name: string;
  readonly used: number | undefined;
  readonly limit: number | undefined;
  readonly unit: string;
}

/** One horizontal bar per resource: what the run used against its limit. */
export function usageChart(gauges: readonly Gauge[]): Markup {
  const shown = gauges.filter((g): g is Gauge & { used: number } => typeof g.used === 'number');
  const rowH = 34;
  const width = 640;
  const barX = 150;
  const barW = width - barX - 10;
  const height = Math.max(1, shown.length) * rowH + 4;
  const words = shown.map((g) => `${g.name} ${fmt(g.used)} ${g.unit}${typeof g.limit === 'number' ? ` of ${fmt(g.limit)} ${g.unit}` : ' (no limit given)'}`).join('; ');
  return html`<figure class="chart">
<svg role="img" aria-labelledby="use-title use-desc" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">
<title id="use-title">Usage against limits</title>
<desc id="use-desc">${words === '' ? 'No usage recorded.' : words}</desc>
${shown.map((g, i) => {
  const y = i * rowH + 4;
  const frac = typeof g.limit === 'number' && g.limit > 0 ? Math.min(1, g.used / g.limit) : 0;
  const cls = frac >= 0.9 ? 'use-high' : 'use';
  return html`<text class="tick" x="0" y="${y + 17}">${g.name}</text>
<rect class="track" x="${barX}" y="${y + 4}" width="${barW}" height="18"></rect>
<rect class="${cls}" x="${barX}" y="${y + 4}" width="${(barW * frac).toFixed(1)}" height="18"></rect>
<text class="tick" x="${barX + 6}" y="${y + 17}">${fmt(g.used)} ${g.unit}${typeof g.limit === 'number' ? ` / ${fmt(g.limit)} ${g.unit} (${Math.round(frac * 100)}%)` : ''}</text>`;
})}
</svg>
</figure>`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
