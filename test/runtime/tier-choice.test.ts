// The tier is chosen by what the request needs when it names none, and a request that names a
// tier that can't serve it is refused before any sandbox is made, with the tier that would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/index.ts';
import { chooseTier } from '../../src/runtime/tier-choice.ts';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

const ROOT = join(import.meta.dirname, '..', '..');

test('chooseTier: the language and the policy decide, and each choice says why', () => {
  const cases: [string, Parameters<typeof chooseTier>[0], 'isolate' | 'container', RegExp][] = [
    ['python', { language: 'python' }, 'container', /python runs only on the container tier/],
    ['sh', { language: 'sh' }, 'container', /sh runs only/],
    ['js with files', { language: 'js', policy: { version: 1, files: [{ path: '/usr' }] } }, 'container', /policy\.files/],
    ['js with env', { policy: { version: 1, env: { A: 'b' } } }, 'container', /policy\.env/],
    ['js with a process limit', { policy: { version: 1, limits: { pids: 8 } } }, 'container', /limits\.pids/],
    ['js with tools and routes', { policy: { ...TEST_POLICY, network: { routes: [{ host: 'example.com' }] } } }, 'isolate', /isolate tier/],
    ['ts', { language: 'ts' }, 'isolate', /ts runs only on the isolate tier/],
    ['wasm', { language: 'wasm' }, 'isolate', /wasm runs only/],
    ['plain js', {}, 'isolate', /nothing that needs a container/],
    ['js named container', { tier: 'container' }, 'container', /named the container tier/],
  ];
  for (const [name, req, tier, why] of cases) {
    const choice = chooseTier(req);
    assert.equal(choice.tier, tier, name);
    assert.match(choice.reason, why, name);
  }
});

test('a named tier that cannot run the request is refused, naming the tier that would; grants only choose (control: a named tier runs a shared policy)', () => {
  const refused: [Parameters<typeof chooseTier>[0], string, RegExp][] = [
    [{ tier: 'isolate', language: 'python' }, 'UNSUPPORTED_LANGUAGE', /Ask for tier "container"/],
    [{ tier: 'container', language: 'ts' }, 'UNSUPPORTED_LANGUAGE', /Ask for tier "isolate"/],
    [{ tier: 'container', input: 1 }, 'INVALID_REQUEST', /input.*Ask for tier "isolate"/],
    [{ tier: 'container', resultSchema: {} }, 'INVALID_REQUEST', /resultSchema.*Ask for tier "isolate"/],
    [{ language: 'python', policy: TEST_POLICY }, 'UNSUPPORTED_LANGUAGE', /python runs only on the container tier, but policy\.tools/],
    [{ policy: { ...TEST_POLICY, files: [{ path: '/usr' }] } }, 'INVALID_REQUEST', /policy\.files.*but policy\.tools/],
  ];
  for (const [req, code, message] of refused) {
    assert.throws(() => chooseTier(req), (e: Error & { code?: string }) => e.code === code && message.test(e.message), JSON.stringify(req));
  }
  // A policy shared across tiers: the named tier runs it with the doors it lacks shut.
  assert.equal(chooseTier({ tier: 'container', policy: TEST_POLICY }).tier, 'container');
  assert.equal(chooseTier({ tier: 'isolate', policy: { version: 1, files: [{ path: '/usr' }], env: { A: 'b' } } }).tier, 'isolate');
});

test('run() without a tier: python runs in a container, js with a tool in an isolate; result and run.started say why', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit });
  const py = await airlock.run({ tenant: 'choice', language: 'python', code: 'print(6 * 7)' });
  assert.equal(py.status, 'ok', JSON.stringify(py));
  assert.equal(py.tier, 'container');
  assert.equal(py.stdout, '42\n');
  assert.match(py.tierReason, /python runs only on the container tier/);
  const js = await airlock.run({ tenant: 'choice', code: 'export default await tools.add({ a: 2, b: 3 })', policy: TEST_POLICY });
  assert.equal(js.status, 'ok', JSON.stringify(js));
  assert.equal(js.tier, 'isolate');
  assert.equal(js.result, 5);
  assert.match(js.tierReason, /policy\.tools/);
  const started = audit.events.find((e) => e.kind === 'run.started' && e.run === js.id);
  assert.ok(started?.kind === 'run.started');
  assert.equal(started.tierReason, js.tierReason, 'the audit records why, as the result does');
});

test('run() naming a tier that cannot serve it is refused before any sandbox is made (control: the same code with no tier runs)', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit });
  const refused = await airlock.run({ tenant: 'choice', tier: 'isolate', language: 'python', code: 'print(1)' });
  assert.equal(refused.status, 'invalid');
  assert.equal(refused.error?.code, 'UNSUPPORTED_LANGUAGE');
  assert.match(refused.error.message, /container/);
  assert.equal(audit.events.filter((e) => e.kind === 'sandbox.created').length, 0, 'no sandbox was made for it');
  const input = await airlock.run({ tenant: 'choice', tier: 'container', language: 'js', code: 'console.log(1)', input: 1 });
  assert.equal(input.error?.code, 'INVALID_REQUEST');
  assert.match(input.error.message, /Ask for tier "isolate"/);
  assert.equal(audit.events.filter((e) => e.kind === 'sandbox.created').length, 0, 'no sandbox was made for it');
  const control = await airlock.run({ tenant: 'choice', language: 'python', code: 'print(1)' });
  assert.equal(control.status, 'ok', JSON.stringify(control));
  assert.equal(audit.events.filter((e) => e.kind === 'sandbox.created').length, 1);
});

test('`npx airlock run main.py` runs with no --tier, as a user types it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-choice-'));
  writeFileSync(join(dir, 'main.py'), 'print(sum(range(10)))\n');
  const child = spawn('npx', ['airlock', 'run', '--json', join(dir, 'main.py')], {
    cwd: ROOT,
    env: { ...process.env, AIRLOCK_HOME: join(dir, 'home'), PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env['PATH'] ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `${out}\n${err}`);
  const json = JSON.parse(out) as { tier: string; stdout: string; tierReason: string };
  assert.equal(json.tier, 'container');
  assert.equal(json.stdout, '45\n');
  assert.match(json.tierReason, /python/);
});
