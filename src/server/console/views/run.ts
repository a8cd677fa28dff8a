/**
 * One run: what ran (code and its hash), under what (policy and warrant summary), every decision
 * in order with its reason, the run's label rising call by call, usage against limits, and what it
 * gave back. Everything the guest wrote is text in <pre> or a cell, never markup.
 */
import { html } from 'hono/html';
import type { ConsoleApi } from '../api.ts';
import { usageChart, type Gauge } from '../charts.ts';
import type { Decision, PolicySummary, RunDetail } from '../contract.ts';
import { duration, strings, text, time } from '../format.ts';
import { problem, type Markup } from '../layout.ts';

export async function runView(api: ConsoleApi, id: string): Promise<{ title: string; body: Markup }> {
  const r = await api.get<RunDetail>(`/v1/runs/${encodeURIComponent(id)}`);
  if (!r.ok) return { title: `Run ${id}`, body: html`${problem(r.error)}<p><a href="/console/runs">All runs</a></p>` };
  const run = r.body;
  const denied = run.decisions.filter((d) => d.verdict === 'deny');
  return {
    title: `Run ${text(run.id)}`,
    body: html`<p><a href="/console/runs">All runs</a></p>
<section aria-labelledby="sum-h"><h2 id="sum-h">Summary</h2>
<dl class="facts">
<dt>Status</dt><dd><span class="badge badge-${text(run.status)}">${text(run.status)}</span>${run.error === null ? '' : html` <code>${text(run.error.code)}</code>`}</dd>
<dt>Tier</dt><dd>${text(run.tier)}</dd>
<dt>Started</dt><dd>${time(run.startedAt)}</dd>
<dt>Ended</dt><dd>${time(run.endedAt)} (${duration(run.durationMs)})</dd>
<dt>Denials</dt><dd>${denied.length === 0 ? 'none' : denied.map((d) => `${text(d.code)} at ${text(d.target)}`).join('; ')}</dd>
<dt>Language</dt><dd>${text(run.language)}${run.tierReason === null ? '' : html` (${text(run.tierReason)})`}</dd>
<dt>Code hash (SHA-256)</dt><dd><code class="hash">${text(run.codeHash)}</code></dd>
${run.parent === null ? '' : html`<dt>Sub-run of</dt><dd><a href="/console/runs/${encodeURIComponent(text(run.parent))}">${text(run.parent)}</a></dd>`}
</dl></section>
${run.error === null ? '' : html`<section aria-labelledby="err-h"><h2 id="err-h">Error</h2><p><strong>${text(run.error.code)}</strong></p><pre class="guest">${text(run.error.message)}</pre></section>`}
<section aria-labelledby="dec-h"><h2 id="dec-h">Decisions, in order</h2>
${run.decisions.length === 0 ? html`<p>No door was asked.</p>` : decisions(run.decisions)}
${run.decisionsTruncated ? html`<p class="note">The run made more decisions than are listed here (the first ones are); the audit log has them all.</p>` : ''}
</section>
<section aria-labelledby="label-h"><h2 id="label-h">Label, call by call</h2>${labelSteps(run)}</section>
<section aria-labelledby="use-h"><h2 id="use-h">Usage against limits</h2>${usageChart(gauges(run))}</section>
<section aria-labelledby="out-h"><h2 id="out-h">Output</h2>
${output(run.output)}
</section>
<section aria-labelledby="auth-h"><h2 id="auth-h">Policy and warrant</h2>
${policySummary(run.policy)}
${run.warrant === null ? html`<p>No warrant: the policy alone decided.</p>` : html`<dl class="facts">
<dt>Warrant chain hash</dt><dd><code class="hash">${text(run.warrant.chainHash)}</code></dd>
<dt>Leaf id</dt><dd><code>${text(run.warrant.id)}</code></dd>
<dt>Depth</dt><dd>${text(run.warrant.depth ?? '—')}</dd><dt>Holder</dt><dd><code>${text(run.warrant.holder ?? '—')}</code></dd><dt>Expires</dt><dd>${time(run.warrant.expires)}</dd></dl>
<p><a href="/console/warrants">Inspect a warrant's chain</a></p>`}
</section>
<section aria-labelledby="code-h"><h2 id="code-h">Code</h2>
${run.code === null ? html`<p>The code was not recorded.</p>` : html`<pre class="guest code">${text(run.code)}</pre>`}
</section>`,
  };
}

function decisions(list: readonly Decision[]): Markup {
  return html`<table class="decisions"><caption class="sr-only">Every door decision of the run, in order</caption>
<thead><tr><th scope="col">#</th><th scope="col">Time (UTC)</th><th scope="col">Door</th><th scope="col">Target</th><th scope="col">Verdict</th><th scope="col">Code</th><th scope="col">Reason</th></tr></thead>
<tbody>${list.map((d) => html`<tr class="verdict-${d.verdict === 'deny' ? 'deny' : 'allow'}">
<td>${text(d.seq)}</td><td>${time(d.at)}</td><td>${text(d.door)}</td><td><code>${text(d.target, 500)}</code></td>
<td><span class="badge badge-${d.verdict === 'deny' ? 'deny' : 'allow'}">${d.verdict === 'deny' ? 'denied' : 'allowed'}</span></td>
<td>${d.code === null ? '' : html`<code>${text(d.code)}</code>`}</td><td>${text(d.reason ?? '', 2000)}</td></tr>`)}</tbody></table>`;
}

/** Each decision that carried a label, with the atoms it added to the one before; then the final label. */
function labelSteps(run: RunDetail): Markup {
  const seen = new Set<string>();
  const steps = run.decisions
    .filter((d) => Array.isArray(d.label))
    .map((d) => {
      const atoms = strings(d.label);
      const added = atoms.filter((a) => !seen.has(a));
      for (const a of atoms) seen.add(a);
      return html`<li><span class="step">#${text(d.seq)} ${text(d.door)} <code>${text(d.target, 200)}</code></span>: ${added.length === 0 ? 'no change' : html`rose by ${added.map((a) => html`<code class="atom">+ ${a}</code> `)}`}</li>`;
    });
  const final = strings(run.label);
  return html`${steps.length === 0 ? html`<p>No call carried a label.</p>` : html`<ol class="label-steps">${steps}</ol>`}
<p>Final label: ${final.length === 0 ? 'nothing read (public)' : final.map((a) => html`<code class="atom">${a}</code> `)}</p>`;
}

/** What the run printed and returned, each part as text (result is JSON text from the API). */
function output(o: RunDetail['output']): Markup {
  if (o === null) return html`<p>No output was recorded.</p>`;
  const result = resultText(o.result);
  const parts: [string, string, string | null][] = [
    [result.label, 'output', result.text],
    ['Standard output', 'stdout', o.stdout],
    ['Standard error', 'stderr', o.stderr],
  ];
  const shown = parts.filter(([, , v]) => v !== null && v !== '');
  if (shown.length === 0) return html`<p>No output.</p>`;
  return html`${shown.map(([label, id, v]) => html`<h3>${label}</h3><pre class="guest" id="${id}">${text(v)}</pre>`)}`;
}

/** A result (JSON text): a string shown as itself, anything else as indented JSON. */
function resultText(json: string | null): { label: string; text: string | null } {
  if (json === null) return { label: 'Result', text: null };
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === 'string' ? { label: 'Result (a string)', text: value } : { label: 'Result (JSON)', text: text(value) };
  } catch {
    return { label: 'Result', text: json };
  }
}

function gauges(run: RunDetail): Gauge[] {
  const u = run.usage;
  const l = run.limits ?? {};
  return [
    { name: 'CPU', used: u?.cpuMs, limit: l['cpuMs'], unit: 'ms' },
    { name: 'Wall time', used: u?.wallMs, limit: l['wallMs'], unit: 'ms' },
    { name: 'Memory', used: u?.memoryMiB, limit: l['memoryMiB'], unit: 'MiB' },
  ];
}

/** The doors the policy granted, each as text: tools, network routes, files, env and secret names, limits. */
function policySummary(p: PolicySummary | null): Markup {
  if (p === null) return html`<p>No policy summary was recorded for this run.</p>`;
  const none = html`<span class="note">none granted</span>`;
  const list = (items: readonly string[]): Markup => (items.length === 0 ? none : html`<ul class="plain">${items.map((i) => html`<li><code>${i}</code></li>`)}</ul>`);
  const route = (r: PolicySummary['routes'][number]): string =>
    `${text(r.methods?.join(',') ?? 'any method')} ${text(r.scheme)}://${text(r.host)}${r.port === null ? '' : `:${text(r.port)}`}${r.paths === null ? '' : ` ${r.paths.map((x) => text(x)).join(' ')}`}${r.forwardTo === null ? '' : ` → ${text(r.forwardTo)}`}${r.secret === null ? '' : ` (secret ${text(r.secret)})`}`;
  return html`<dl class="facts">
<dt>Policy hash</dt><dd><code class="hash">${text(p.hash)}</code></dd>
<dt>Tools</dt><dd>${list(p.tools.map((t) => `${text(t.name)} (${text(t.operation)})`))}</dd>
<dt>Network routes</dt><dd>${list(p.routes.map(route))}</dd>
<dt>Files</dt><dd>${list(p.files.map((f) => `${text(f.path)} at ${text(f.at)}`))}</dd>
<dt>Environment</dt><dd>${list(strings(p.env))}</dd>
<dt>Secrets (names)</dt><dd>${list(strings(p.secrets))}</dd>
<dt>Limits</dt><dd><ul class="inline-list">${Object.entries(p.limits).map(([k, v]) => html`<li><code>${k} ${text(v)}</code></li>`)}</ul></dd>
</dl>`;
}
