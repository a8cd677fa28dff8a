/**
 * Warrants: paste a token, see its chain (POST /v1/warrants/inspect): what each level grants, what
 * it narrowed from its parent, when it starts and expires, whether it is revoked. The token goes in
 * a POST body, never a URL, and is not echoed back into the page.
 */
import { html } from 'hono/html';
import type { ConsoleApi } from '../api.ts';
import type { WarrantInspection, WarrantLevel } from '../contract.ts';
import { since, strings, text, time } from '../format.ts';
import { problem, type Markup } from '../layout.ts';

export function warrantForm(csrf: string): Markup {
  return html`<form method="post" action="/console/warrants" class="stack">
<input type="hidden" name="csrf" value="${csrf}">
<label for="token">Warrant token</label>
<textarea id="token" name="token" rows="5" cols="80" required spellcheck="false" autocomplete="off"></textarea>
<button type="submit">Inspect</button>
</form>`;
}

export async function inspectView(api: ConsoleApi, token: string, now: number): Promise<Markup> {
  const r = await api.post<WarrantInspection>('/v1/warrants/inspect', { token });
  if (!r.ok) return problem(r.error);
  const w = r.body;
  return html`<p class="verdict ${w.valid ? 'verdict-ok' : 'verdict-bad'}" role="status">${w.valid ? 'The chain verifies.' : 'The chain does not verify.'}</p>
${w.error === null ? '' : problem({ code: text(w.error.code), message: text(w.error.message) })}
${!w.valid && w.chain.length > 0 ? html`<p class="note" id="unverified">The links below are what the token claims, read without trusting it: they grant nothing.</p>` : ''}
<ol class="chain">${w.chain.map((level) => levelView(level, now))}</ol>`;
}

function levelView(l: WarrantLevel, now: number): Markup {
  const expired = since(l.expires, now) !== null && Date.parse(l.expires) <= now;
  const narrowed = strings(l.narrowed);
  return html`<li class="level"><h2>Level ${text(l.level)}${l.revoked ? html` <span class="badge badge-deny">revoked</span>` : ''}${expired ? html` <span class="badge badge-deny">expired</span>` : ''}</h2>
<dl class="facts"><dt>Link id</dt><dd><code>${text(l.id)}</code></dd><dt>Issuer</dt><dd><code>${text(l.issuer)}</code></dd><dt>Holder</dt><dd><code>${text(l.holder)}</code></dd>
<dt>Valid</dt><dd>from ${time(l.notBefore)} until ${time(l.expires)}</dd><dt>Depth limit</dt><dd>delegated at most to depth ${text(l.maxDepth)}</dd></dl>
<h3>Grants${l.inherits ? ' (its parent\'s: this level states none)' : ''}</h3>${l.grants.length === 0 ? html`<p>None.</p>` : html`<ul>${l.grants.map((g) => html`<li><code>${grantLine(g)}</code></li>`)}</ul>`}
<h3>Narrowed from its parent</h3>${narrowed.length === 0 ? html`<p>${l.level === 0 ? 'The root: nothing to narrow.' : 'Nothing.'}</p>` : html`<ul>${narrowed.map((n) => html`<li>${n}</li>`)}</ul>`}
</li>`;
}

/** A grant on one line: `mail.*: read, send on mail:thread/*`, its `where` as compact JSON. */
function grantLine(g: unknown): string {
  if (typeof g !== 'object' || g === null) return text(g);
  const { tool, ops, resources, where, ...rest } = g as Record<string, unknown>;
  const on = strings(resources);
  const extra = { ...(where === undefined ? {} : { where }), ...rest };
  return `${text(tool)}: ${strings(ops).join(', ')}${on.length === 0 ? '' : ` on ${on.join(', ')}`}${Object.keys(extra).length === 0 ? '' : ` ${JSON.stringify(extra)}`}`.slice(0, 2000);
}
