/**
 * Live sandboxes: each with its age, how long it has been idle (since its last audit record), what
 * it has run, and a destroy button (a POST with the session's CSRF token; the destroy goes through
 * DELETE /v1/sandboxes/{id} and is recorded as sandbox.destroyed).
 */
import { html } from 'hono/html';
import type { ConsoleApi } from '../api.ts';
import type { AuditRecordJson, SandboxInfo } from '../contract.ts';
import { duration, since, text, time } from '../format.ts';
import { problem, type Markup } from '../layout.ts';

interface Row {
  readonly box: SandboxInfo;
  readonly lastAt: string | null;
  readonly runs: number;
  readonly denials: number;
}

export async function sandboxesView(api: ConsoleApi, csrf: string, now: number, notice: Markup | null): Promise<Markup> {
  const list = await api.get<{ sandboxes: SandboxInfo[] }>('/v1/sandboxes');
  if (!list.ok) return problem(list.error);
  const rows = await Promise.all(list.body.sandboxes.map(async (box): Promise<Row> => {
    const audit = await api.get<{ records: AuditRecordJson[] }>(`/v1/audit/${encodeURIComponent(box.id)}`);
    const records = audit.ok ? audit.body.records : [];
    const last = records[records.length - 1];
    return {
      box,
      lastAt: typeof last?.at === 'string' ? last.at : null,
      runs: new Set(records.map((r) => r.event['run']).filter((v) => typeof v === 'string')).size,
      denials: records.filter((r) => r.event['kind'] === 'decision' && r.event['allow'] === false).length,
    };
  }));
  return html`${notice ?? ''}
<p>Sandboxes made through this server's API, live now. Idle is the time since the sandbox's last audit record.</p>
${rows.length === 0 ? html`<p>No live sandboxes.</p>` : html`<table class="sandboxes"><caption class="sr-only">Live sandboxes</caption>
<thead><tr><th scope="col">Sandbox</th><th scope="col">Created (UTC)</th><th scope="col">Age</th><th scope="col">Idle</th><th scope="col">Limits</th><th scope="col">Runs</th><th scope="col">Denials</th><th scope="col">Action</th></tr></thead>
<tbody>${rows.map((r) => html`<tr data-sandbox="${text(r.box.id)}">
<td><code>${text(r.box.id)}</code><br><span class="note">${text(r.box.tier)}</span></td><td>${time(r.box.createdAt)}</td>
<td>${duration(since(r.box.createdAt, now))}${limit(r.box.limits, 'lifetimeMs', (v) => ` of ${duration(v)}`)}</td>
<td>${duration(since(r.lastAt ?? r.box.createdAt, now))}${limit(r.box.limits, 'idleMs', (v) => ` of ${duration(v)}`)}</td>
<td>${limitsCell(r.box.limits)}</td><td>${r.runs}</td><td>${r.denials}</td>
<td><form method="post" action="/console/sandboxes/${encodeURIComponent(text(r.box.id))}/destroy"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="danger" aria-label="Destroy sandbox ${text(r.box.id)}">Destroy</button></form></td>
</tr>`)}</tbody></table>`}
<p class="note">Age counts toward the lifetime limit, idle time toward the idle limit: past either, the sandbox is destroyed.</p>`;
}

function limit(limits: Readonly<Record<string, number>> | undefined, name: string, show: (v: number) => string): string {
  const v = limits?.[name];
  return typeof v === 'number' ? show(v) : '';
}

/** The limits a person asks about first: memory, CPU, processes, workspace, time per command. */
function limitsCell(limits: Readonly<Record<string, number>> | undefined): Markup {
  const parts = [
    limit(limits, 'memoryMiB', (v) => `memory ${v} MiB`),
    limit(limits, 'cpuMs', (v) => `CPU ${duration(v)}`),
    limit(limits, 'wallMs', (v) => `${duration(v)} per command`),
    limit(limits, 'pids', (v) => `${v} processes`),
    limit(limits, 'workspaceMiB', (v) => `workspace ${v} MiB`),
  ].filter((p) => p !== '');
  return parts.length === 0 ? html`<span class="note">not reported</span>` : html`<ul class="plain">${parts.map((p) => html`<li>${p}</li>`)}</ul>`;
}
