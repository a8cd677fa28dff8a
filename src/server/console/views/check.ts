/**
 * Check: the five answers (secrets, network, files, tenants, resources) for a stored policy, or
 * for no policy at all (deny-all), each with the policy's answer and what the live probe observed.
 * A re-run is a POST (it runs probes for seconds); its report stays in the session until the next.
 */
import { html } from 'hono/html';
import type { ConsoleApi } from '../api.ts';
import type { CheckReport, StoredPolicy } from '../contract.ts';
import { text } from '../format.ts';
import { problem, type Markup } from '../layout.ts';

/** The choice that checks the default policy: nothing granted. */
export const DENY_ALL = '';
const QUESTIONS = ['secrets', 'network', 'files', 'tenants', 'resources'] as const;
const ASK: Readonly<Record<(typeof QUESTIONS)[number], string>> = {
  secrets: 'Can the code read a secret?',
  network: 'Can it reach the network?',
  files: "Can it read the host's files?",
  tenants: "Can it touch another tenant's sandboxes?",
  resources: "Can it exhaust the host's resources?",
};

/** Runs the check for a stored policy name (or deny-all) through the API. */
export async function runCheck(api: ConsoleApi, policy: string): Promise<CheckReport | { error: { code: string; message: string } }> {
  const r = policy === DENY_ALL ? await api.post<CheckReport>('/v1/check', {}) : await api.post<CheckReport>(`/v1/policies/${encodeURIComponent(policy)}/check`, {});
  return r.ok ? r.body : { error: r.error };
}

export async function checkView(api: ConsoleApi, csrf: string, chosen: string, reports: ReadonlyMap<string, unknown>): Promise<Markup> {
  const stored = await api.get<{ policies: StoredPolicy[] }>('/v1/policies');
  const names = stored.ok ? stored.body.policies.map((p) => text(p.name)) : [];
  const last = reports.get(chosen) as CheckReport | { error: { code: string; message: string } } | undefined;
  return html`<form method="post" action="/console/check" class="filters">
<input type="hidden" name="csrf" value="${csrf}">
<label>Policy <select name="policy">
<option value="${DENY_ALL}"${chosen === DENY_ALL ? html` selected` : ''}>no policy (deny all)</option>
${names.map((n) => html`<option value="${n}"${n === chosen ? html` selected` : ''}>${n}</option>`)}
</select></label>
<button type="submit">Run the check</button>
</form>
${stored.ok ? '' : html`<p class="note">Stored policies could not be listed (${text(stored.error.code)}): the default policy can still be checked.</p>`}
${last === undefined ? html`<p>No report yet for this policy in this session: run the check (it takes a few seconds: the probes run in real sandboxes).</p>` : report(chosen, last)}`;
}

function report(policy: string, r: CheckReport | { error: { code: string; message: string } }): Markup {
  if ('error' in r) return problem({ code: text(r.error.code), message: text(r.error.message) });
  const yes = QUESTIONS.filter((q) => r.answers[q]?.answer === 'yes');
  return html`<p class="verdict ${yes.length === 0 && r.consistent ? 'verdict-ok' : 'verdict-bad'}" role="status">${policy === DENY_ALL ? 'No policy' : `Policy ${policy}`} on the ${text(r.tier)} tier: ${yes.length === 0 ? 'all five answers are no' : `yes to ${yes.join(', ')}`}${r.consistent ? '' : '; the policy and the probes disagree (the worse answer is shown)'}.</p>
<table class="check"><caption class="sr-only">The five answers with their evidence</caption>
<thead><tr><th scope="col">Question</th><th scope="col">Answer</th><th scope="col">From the policy</th><th scope="col">Observed by the probe</th></tr></thead>
<tbody>${QUESTIONS.map((q) => {
  const a = r.answers[q];
  return html`<tr><th scope="row">${ASK[q]}</th><td>${a === undefined ? 'not asked' : html`<span class="badge badge-${a.answer === 'no' ? 'allow' : 'deny'}">${a.answer === 'no' ? 'no' : 'yes'}</span>`}</td><td>${text(a?.policy ?? '')}</td><td>${text(a?.observed ?? '')}</td></tr>`;
})}</tbody></table>`;
}
