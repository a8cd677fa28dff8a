// `check` on the isolate tier: a granted route and a very large limit answer "yes" with evidence,
// each beside a control answering "no". An isolate has no environment, files or processes, so the
// container-only grants (env, files) must leave every answer "no" there.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { runCheck } from '../../src/check/check.ts';
import type { PolicyDocument } from '../../src/policy/schema.ts';
import { checkAirlock, startUpstream } from './helpers.ts';

const fx = checkAirlock();
after(() => fx.close());
// wallMs far past cpuMs: the loop's verdict is about CPU time, which a busy machine does not stretch.
const FAST = { cpuMs: 500, wallMs: 30_000 } as const;
const check = (policy: PolicyDocument, questions?: Parameters<typeof runCheck>[1]['questions']) =>
  runCheck(fx.airlock, { tier: 'isolate', policy, home: fx.home, ...(questions === undefined ? {} : { questions }) });

test('network: a route to a host upstream answers yes, and the upstream saw the request; the control reaches nothing', async () => {
  const up = await startUpstream();
  try {
    const control = (await check({ version: 1, limits: FAST }, ['network'])).answers.network;
    assert.equal(control?.answer, 'no');
    assert.match(control.observed, /^no — no fetch, sockets or DNS in the isolate; the host's bait saw 0 connections/);
    assert.deepEqual(up.requests, [], 'nothing reached the upstream');
    const report = await check({ version: 1, network: { routes: [{ host: '127.0.0.1', scheme: 'http', port: up.port }] }, limits: FAST }, ['network']);
    const broken = report.answers.network;
    assert.equal(broken?.answer, 'yes');
    assert.equal(broken.policy, `yes — only any method http://127.0.0.1:${up.port}/*`);
    assert.match(broken.observed, new RegExp(`^yes — fetch http://127\\.0\\.0\\.1:${up.port}/ → 200`));
    assert.deepEqual(up.requests, ['GET /']);
    assert.equal(report.consistent, true);
  } finally {
    await up.close();
  }
});

test('resources: a memory limit over the budget answers yes from both sides; the control answers no', async () => {
  const broken = (await check({ version: 1, limits: { memoryMiB: 2048 } }, ['resources'])).answers.resources;
  assert.equal(broken?.answer, 'yes');
  assert.match(broken.policy, /^yes — memoryMiB 2048 is over the budget of 512/);
  assert.match(broken.observed, /^yes — memory: reached its own bound of 512 MiB without being stopped/);
  const control = (await check({ version: 1, limits: FAST }, ['resources'])).answers.resources;
  assert.equal(control?.answer, 'no');
  assert.match(control.observed, /loop CPU_TIMEOUT .* memory MEMORY_LIMIT .* output OUTPUT_LIMIT .*\(fork, disk: not applicable\)/);
});

test('container-only grants (a credential env var, a host path) reach nothing in an isolate: every answer is no, consistently', async () => {
  const report = await check({ version: 1, env: { GITHUB_TOKEN: `ghp_${'x9'.repeat(20)}` }, files: [{ path: '/usr/share' }], limits: FAST });
  for (const [q, a] of Object.entries(report.answers)) assert.equal(a.answer, 'no', `${q}: ${a.observed}`);
  assert.match(report.answers.secrets?.policy ?? '', /the policy's env and files apply to the container tier only/);
  assert.match(report.answers.secrets?.observed ?? '', /its globals are console, tools;/);
  assert.match(report.answers.files?.observed ?? '', /^no — no file API: require, process, Deno, Bun, Buffer are undefined/);
  assert.match(report.answers.tenants?.observed ?? '', /tenant B planted a mark on globalThis and Object\.prototype; the probed run's fresh isolate saw none; worker uids: A \d+, B \d+/);
  assert.equal(report.consistent, true);
});

test("tenants: the two tenants' workers run as different host uids", async () => {
  const t = (await check({ version: 1, limits: FAST }, ['tenants'])).answers.tenants;
  const m = /worker uids: A (\d+), B (\d+)/.exec(t?.observed ?? '');
  assert.ok(m !== null, t?.observed);
  assert.notEqual(m[1], m[2]);
  assert.notEqual(m[1], '0');
});

test('tenants: a tenant the host put in a cordon answers yes from both sides, naming what a V8 escape reaches; a tenant in no cordon answers no (control)', async () => {
  const cordoned = checkAirlock({ isolate: { workersPerTenant: 1, cordons: { shared: ['acme', 'globex'] } } });
  try {
    const report = await runCheck(cordoned.airlock, { tier: 'isolate', policy: { version: 1, limits: FAST }, home: cordoned.home, tenant: 'acme', questions: ['tenants'] });
    const t = report.answers.tenants;
    assert.equal(t?.answer, 'yes');
    assert.match(t.policy, /^yes — the host put it in trust cordon shared with 1 other tenant\(s\): their runs share its worker processes/);
    assert.match(t.policy, /A V8 escape reaches that worker's memory: the runs of its cordon-mates that worker holds \(in flight now, or handed to it later, until the worker is retired\)/);
    assert.match(t.policy, /never host secrets .* the audit log or its key, other worker processes \(other tenants, other cordons\)/);
    assert.match(t.observed, /^yes — its runs ran in cordon shared's worker process\(es\), which run the runs of its 1 other tenant\(s\): pid \d+ uid \d+ \(isolate-cordon-shared-\d+-\d+\); B, outside the cordon: pid \d+ uid \d+ \(isolate-acme-nbr-\d+-\d+\)/);
    assert.equal(report.consistent, true);
  } finally {
    await cordoned.close();
  }
  const own = (await check({ version: 1, limits: FAST }, ['tenants'])).answers.tenants;
  assert.equal(own?.answer, 'no');
  assert.match(own.policy, /a V8 escape reaches only its own worker process: its own runs there/);
  assert.match(own.observed, /A's workers: pid \d+ uid \d+ \(isolate-check-\d+-\d+\)/);
});
