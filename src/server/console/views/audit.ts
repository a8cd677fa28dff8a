/** Audit integrity: what `airlock audit verify` says of the whole log (GET /v1/audit/verify), and its head. */
import { html } from 'hono/html';
import type { ConsoleApi } from '../api.ts';
import type { AuditVerify } from '../contract.ts';
import { text, time } from '../format.ts';
import { problem, type Markup } from '../layout.ts';

export async function auditView(api: ConsoleApi): Promise<Markup> {
  const r = await api.get<AuditVerify>('/v1/audit/verify');
  if (!r.ok) return problem(r.error);
  const v = r.body;
  return html`<p class="verdict ${v.ok ? 'verdict-ok' : 'verdict-bad'}" role="status">${v.ok ? 'The chain holds' : 'The chain does NOT hold'}: ${text(v.records)} records checked.</p>
${v.problem === null ? '' : problem({ code: text(v.problem.code), message: text(v.problem.message) })}
<dl class="facts">
<dt>Chain head</dt><dd>${v.head === null ? 'empty log' : html`seq ${text(v.head.seq)}, <code class="hash">${text(v.head.hash)}</code>`}</dd>
<dt>Latest signed checkpoint</dt><dd>${v.checkpoint === null ? 'none: the chain alone was checked' : html`seq ${text(v.checkpoint.seq)} at ${time(v.checkpoint.at)}, signed by <code>${text(v.checkpoint.signedBy)}</code>`}</dd>
</dl>
<p class="note">This is the whole log's verdict (every tenant's records are in one chain); only counts and hashes are shown.</p>`;
}
