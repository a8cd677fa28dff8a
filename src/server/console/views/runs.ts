/**
 * The runs view: the tenant's runs, newest first, filtered by status, tier, tool and denial code
 * (GET /v1/runs does the filtering), a chart of runs per minute by status over the last half
 * hour, and live updates (the script follows /console/events and adds or updates rows).
 */
import { html } from 'hono/html';
import type { ApiAnswer, ConsoleApi } from '../api.ts';
import { perMinute, runsChart } from '../charts.ts';
import type { RunPage, RunSummary } from '../contract.ts';
import { duration, query, strings, text, time } from '../format.ts';
import { problem, type Markup } from '../layout.ts';

export interface RunFilters {
  readonly status?: string;
  readonly tier?: string;
  readonly tool?: string;
  readonly code?: string;
  readonly before?: string;
}

const CHART_MINUTES = 30;
const PAGE = 100;
/** The API's largest page: the chart reads the last half hour's runs in pages of this many. */
const CHART_RUNS = 200;
const CHART_PAGES = 10;

/** Only the values the API knows pass through to it; the rest are dropped (the form offers them). */
export function filtersFrom(q: Readonly<Record<string, string | undefined>>): RunFilters {
  const pick = (v: string | undefined, re: RegExp): string | undefined => (v !== undefined && re.test(v) ? v : undefined);
  return {
    ...optional('status', pick(q['status'], /^(ok|error|running)$/)),
    ...optional('tier', pick(q['tier'], /^(isolate|container)$/)),
    ...optional('tool', pick(q['tool'], /^[\w.:*-]{1,100}$/)),
    ...optional('code', pick(q['code'], /^[A-Z][A-Z0-9_]{1,60}$/)),
    ...optional('before', pick(q['before'], /^[\w.:-]{1,100}$/)),
  };
}

function optional<K extends string>(k: K, v: string | undefined): Partial<Record<K, string>> {
  return v === undefined ? {} : ({ [k]: v } as Record<K, string>);
}

export async function runsView(api: ConsoleApi, filters: RunFilters, now: number): Promise<Markup> {
  const { before, ...narrowing } = filters;
  const since = new Date(now - CHART_MINUTES * 60_000).toISOString();
  const [list, recent] = await Promise.all([api.get<RunPage>(`/v1/runs${query({ ...narrowing, before, limit: String(PAGE) })}`), recentRuns(api, narrowing, since)]);
  if (!list.ok) return html`${filterForm(filters)}${problem(list.error)}`;
  const runs = list.body.runs;
  return html`${filterForm(filters)}
${recent.ok ? runsChart(perMinute(recent.body.runs, now, CHART_MINUTES)) : problem(recent.error)}
${recent.ok && recent.body.next !== null ? html`<p class="note">The chart counts the newest ${CHART_RUNS * CHART_PAGES} runs of the half hour only.</p>` : ''}
<section aria-labelledby="runs-h">
<h2 id="runs-h">Runs</h2>
<p id="live-status" class="live" aria-live="polite">${runs.length === 0 ? 'No runs match.' : `${runs.length} runs shown, newest first.`}</p>
<table class="runs" id="runs" data-live="/console/events"
 data-status="${filters.status ?? ''}" data-tier="${filters.tier ?? ''}" data-tool="${filters.tool ?? ''}" data-code="${filters.code ?? ''}">
<caption class="sr-only">Runs, newest first</caption>
<thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Tier</th><th scope="col">Started (UTC)</th><th scope="col">Duration</th><th scope="col">Tools</th><th scope="col">Denials</th><th scope="col">Codes</th></tr></thead>
<tbody>${runs.map(row)}</tbody>
</table>
${list.body.next === null ? '' : html`<p><a href="/console/runs${query({ ...narrowing, before: list.body.next })}">Older runs</a></p>`}
</section>`;
}

/** The runs since `since`, a page at a time, at most CHART_PAGES pages (the chart says when it stopped). */
async function recentRuns(api: ConsoleApi, narrowing: Omit<RunFilters, 'before'>, since: string): Promise<ApiAnswer<RunPage>> {
  const runs: RunSummary[] = [];
  let next: string | null = null;
  for (let page = 0; page < CHART_PAGES; page += 1) {
    const r: ApiAnswer<RunPage> = await api.get<RunPage>(`/v1/runs${query({ ...narrowing, since, limit: String(CHART_RUNS), ...(next === null ? {} : { before: next }) })}`);
    if (!r.ok) return r;
    runs.push(...r.body.runs);
    next = r.body.next;
    if (next === null) break;
  }
  return { ok: true, status: 200, body: { runs, next } };
}

/** One row; the script builds the same cells for live rows (console.js, rowFor). */
export function row(run: RunSummary): Markup {
  const codes = [...new Set([...(typeof run.errorCode === 'string' ? [run.errorCode] : []), ...strings(run.deniedCodes)])];
  return html`<tr data-run="${text(run.id)}" class="status-${text(run.status)}">
<td><a href="/console/runs/${encodeURIComponent(text(run.id))}">${text(run.id)}</a></td>
<td><span class="badge badge-${text(run.status)}">${text(run.status)}</span></td>
<td>${text(run.tier)}</td>
<td>${time(run.startedAt)}</td>
<td>${duration(run.durationMs)}</td>
<td>${strings(run.tools).join(', ')}</td>
<td>${typeof run.denials === 'number' ? run.denials : 0}</td>
<td>${codes.join(', ')}</td>
</tr>`;
}

function filterForm(f: RunFilters): Markup {
  const options = (name: string, values: readonly string[], chosen: string | undefined): Markup =>
    html`${values.map((v) => html`<option value="${v}"${v === (chosen ?? '') ? html` selected` : ''}>${v === '' ? `any ${name}` : v}</option>`)}`;
  return html`<form method="get" action="/console/runs" class="filters" role="search" aria-label="Filter runs">
<label>Status <select name="status">${options('status', ['', 'ok', 'error', 'running'], f.status)}</select></label>
<label>Tier <select name="tier">${options('tier', ['', 'isolate', 'container'], f.tier)}</select></label>
<label>Tool <input name="tool" value="${f.tool ?? ''}" size="14" placeholder="mail.send"></label>
<label>Denial or error code <input name="code" value="${f.code ?? ''}" size="18" placeholder="TOOL_NOT_GRANTED"></label>
<button type="submit">Filter</button> <a href="/console/runs">Clear</a>
</form>`;
}
