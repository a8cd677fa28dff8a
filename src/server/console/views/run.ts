/**
 * One run: what ran (code and its hash), under what (policy and warrant summary), every decision
 * in order with its reason, the run's label rising call by call, usage against limits, and what it
 * gave back. Everything the guest wrote is text in <pre> or a cell, never markup.
 */
import { html } from 'hono/html';
import type { ConsoleApi } from '../api.ts';
import { usageChart, type Gauge } from '../charts.ts';
import type { Decision, RunDetail } from '../contract.ts';
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
<dt>Code hash (SHA-256)</dt><dd><code class="hash">${text(run.codeHash)}</code></dd>
</dl></section>
${run.error === null ? '' : html`<section aria-labelledby="err-h"><h2 id="err-h">Error</h2><p><strong>${text(run.error.code)}</strong></p><pre class="guest">${text(run.error.message)}</pre></section>`}
<section aria-labelledby="dec-h"><h2 id="dec-h">Decisions, in order</h2>
${run.decisions.length === 0 ? html`<p>No door was asked.</p>` : decisions(run.decisions)}
</section>
<section aria-labelledby="label-h"><h2 id="label-h">Label, call by call</h2>${labelSteps(run)}</section>
<section aria-labelledby="use-h"><h2 id="use-h">Usage against limits</h2>${usageChart(gauges(run))}</section>
<section aria-labelledby="out-h"><h2 id="out-h">Output</h2>
${run.output === null || run.output === undefined ? html`<p>No output.</p>` : html`<pre class="guest" id="output">${text(run.output)}</pre>`}
</section>
<section aria-labelledby="auth-h"><h2 id="auth-h">Policy and warrant</h2>
${policySummary(run.policy)}
${run.warrant === null ? html`<p>No warrant: the policy alone decided.</p>` : html`<dl class="facts">
<dt>Warrant chain hash</dt><dd><code class="hash">${text(run.warrant.chainHash)}</code></dd>
<dt>Depth</dt><dd>${text(run.warrant.depth)}</dd><dt>Holder</dt><dd>${text(run.warrant.holder)}</dd><dt>Expires</dt><dd>${time(run.warrant.expires)}</dd></dl>`}
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

function gauges(run: RunDetail): Gauge[] {
  const u = run.usage;
  const l = run.limits;
  const memoryMiB = typeof u['memoryMiB'] === 'number' ? u['memoryMiB'] : typeof u['memoryBytes'] === 'number' ? u['memoryBytes'] / (1 << 20) : undefined;
  return [
    { name: 'CPU', used: u['cpuMs'], limit: l['cpuMs'], unit: 'ms' },
    { name: 'Wall time', used: u['wallMs'], limit: l['wallMs'], unit: 'ms' },
    { name: 'Memory', used: memoryMiB, limit: l['memoryMiB'], unit: 'MiB' },
    { name: 'Output', used: u['outputBytes'], limit: l['outputBytes'], unit: 'bytes' },
  ];
}

/** The doors the policy granted, each as text (the API's summary: tools, network, files, limits). */
function policySummary(policy: Readonly<Record<string, unknown>> | null): Markup {
  if (policy === null) return html`<p>No policy summary recorded.</p>`;
  const entries = Object.entries(policy);
  return html`<dl class="facts">${entries.map(([k, v]) => html`<dt>${k}</dt><dd>${isEmpty(v) ? 'none granted' : html`<pre class="inline">${text(v, 4000)}</pre>`}</dd>`)}</dl>`;
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v).length === 0);
}
