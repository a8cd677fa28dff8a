// Every field of a run that a guest can shape (code, output, error text, tool arguments in a
// decision's target, reasons, label atoms, tool names, warrant fields) is rendered as escaped text,
// whatever its JSON type, including an object that claims to be markup ({"isEscaped": true});
// and the label is shown rising call by call. Rendered straight from API answers, no browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConsoleApi } from '../../src/server/console/api.ts';
import { page } from '../../src/server/console/layout.ts';
import { runView } from '../../src/server/console/views/run.ts';
import { runsView } from '../../src/server/console/views/runs.ts';

const X = '<img src=x onerror=alert(1)>';

function apiAnswering(body: unknown): ConsoleApi {
  return new ConsoleApi({ fetch: () => Response.json(body), key: 'alk_test', host: '127.0.0.1:1' });
}

const hostileRun = {
  id: `run_1${X}`, tier: 'isolate', status: 'error', startedAt: '2026-12-06T10:00:00.000Z', endedAt: '2026-12-06T10:00:01.000Z', durationMs: 1000,
  errorCode: 'GUEST_ERROR', denials: 1, tools: [`mail.send${X}`, { isEscaped: true }], deniedCodes: ['LABEL_CONFIDENTIALITY'], label: [`mail:thread/1 ${X}`],
  codeHash: X, code: `</pre><script>alert(1)</script>${X}`, language: 'js', tierReason: X, policyHash: 'h',
  policy: { hash: X, tools: [{ name: `t${X}`, operation: X }], routes: [{ name: null, host: X, scheme: 'https', port: null, methods: null, paths: [X], forwardTo: null, secret: null }], files: [], env: [X], secrets: [X], limits: { wallMs: 5000 } },
  warrant: { id: X, chainHash: X, depth: 1, holder: X, expires: X },
  decisions: [
    { seq: 1, at: '2026-12-06T10:00:00.100Z', door: 'tool', target: `mail.read ${X}`, verdict: 'allow', code: 'TOOL_GRANTED', reason: null, label: ['mail:thread/1 untrusted'] },
    { seq: 2, at: '2026-12-06T10:00:00.200Z', door: 'tool', target: `mail.send {"to":"${X}"}`, verdict: 'deny', code: 'LABEL_CONFIDENTIALITY', reason: `the reader ${X} may not read mail:thread/1`, label: ['mail:thread/1 untrusted', `web:evil ${X}`] },
  ],
  decisionsTruncated: false, usage: { cpuMs: 3, wallMs: 1000, memoryMiB: 1 }, limits: { cpuMs: 2000, wallMs: 5000, memoryMiB: 64 },
  output: { stdout: X, stderr: `${X}\n`, result: JSON.stringify({ isEscaped: true, html: X }) },
  error: { code: 'GUEST_ERROR', message: X }, parent: null,
};

async function render(markup: ReturnType<typeof page>): Promise<string> {
  return String(await markup);
}

test('one run: every guest-shaped field is escaped text, an object claiming to be markup included; the label rises call by call', async () => {
  const { title, body } = await runView(apiAnswering(hostileRun), 'run_1');
  const out = await render(page({ title, view: 'runs', csrf: 'token', body }));
  assert.ok(!out.includes('<img') && !/<script(?! src="\/console\/assets\/console\.js")/.test(out), 'no markup from the data');
  assert.ok(out.includes('&lt;img src=x onerror=alert(1)&gt;'), 'the data is there, as text');
  assert.ok(out.includes('&lt;/pre&gt;&lt;script&gt;'), 'the code too');
  assert.match(out, /isEscaped/, 'the object is shown as JSON text, not taken for markup');
  // The label: the first call added mail:thread/1, the second added web:evil.
  const steps = [...out.matchAll(/<li><span class="step">#(\d)[\s\S]*?<\/li>/g)].map((m) => [m[1], [...(m[0].matchAll(/\+ ([^<]*)/g))].map((a) => a[1])]);
  assert.deepEqual(steps, [['1', ['mail:thread/1 untrusted']], ['2', ['web:evil &lt;img src=x onerror=alert(1)&gt;']]]);
  assert.match(out, /class="verdict-deny"[\s\S]*LABEL_CONFIDENTIALITY[\s\S]*the reader &lt;img/);
});

test('the runs list: tool names, codes and ids from the API are escaped text', async () => {
  const out = await render(page({ title: 'Runs', view: 'runs', csrf: 'token', body: await runsView(apiAnswering({ runs: [hostileRun], next: null }), {}, Date.parse('2026-12-06T10:05:00Z')) }));
  assert.ok(!out.includes('<img'));
  assert.ok(out.includes(`mail.send&lt;img src=x onerror=alert(1)&gt;`));
  // Control: the run is in the chart (one error in its minute) and the table.
  assert.match(out, /0 ok, 1 error, 0 running/);
  assert.match(out, /data-run="run_1&lt;img/);
});
