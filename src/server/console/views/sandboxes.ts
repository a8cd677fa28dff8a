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
<thead><tr><th scope="col">Sandbox</th><th scope="col">Tier</th><th scope="col">Created (UTC)</th><th scope="col">Age</th><th scope="col">Idle</th><th scope="col">Runs</th><th scope="col">Denials</th><th scope="col">Action</th></tr></thead>
<tbody>${rows.map((r) => html`<tr data-sandbox="${text(r.box.id)}">
<td><code>${text(r.box.id)}</code></td><td>${text(r.box.tier)}</td><td>${time(r.box.createdAt)}</td>
<td>${duration(since(r.box.createdAt, now))}</td><td>${duration(since(r.lastAt ?? r.box.createdAt, now))}</td><td>${r.runs}</td><td>${r.denials}</td>
<td><form method="post" action="/console/sandboxes/${encodeURIComponent(text(r.box.id))}/destroy"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="danger" aria-label="Destroy sandbox ${text(r.box.id)}">Destroy</button></form></td>
</tr>`)}</tbody></table>`}
<p class="note">The API does not report a sandbox's limits yet; its policy hash is in its <code>sandbox.created</code> record.</p>`;
}
