// No tenant's worker can take the host down with it. A tool handler that pollutes the host's
// Object.prototype makes the host's check of that worker's frames throw: the worker is killed and
// its run ends WORKER_CRASHED saying why, while other tenants' runs in flight complete. Arguments
// that name a prototype never reach a handler at all.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/index.ts';
import { testAirlock, TEST_POLICY } from '../support/airlock.ts';

const FIXTURE = new URL('../fixtures/polluting-host.ts', import.meta.url).pathname;

function runHost(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("a handler that pollutes the host's prototype loses its own run; the host lives and other tenants' runs complete", async () => {
  const { code, stdout, stderr } = await runHost();
  assert.equal(code, 0, `the host died: ${stderr.slice(-2000)}`);
  const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    entered: number;
    polluter: { status: string; error: { code: string; message: string } | null };
    others: { status: string; result: unknown }[];
    ended: [string, string | null][];
  };
  assert.equal(out.entered, 2, 'control: both other runs were in flight when the pollution happened');
  assert.equal(out.polluter.status, 'killed');
  assert.equal(out.polluter.error?.code, 'WORKER_CRASHED');
  assert.match(out.polluter.error.message, /handling a frame failed/, 'the result says why the worker was killed');
  assert.deepEqual(out.others, [
    { status: 'ok', result: 'opened for tenant-b' },
    { status: 'ok', result: 'opened for tenant-c' },
  ]);
  assert.deepEqual(out.ended.map(([t, c]) => `${t}:${c}`).sort(), ['tenant-a:WORKER_CRASHED', 'tenant-b:null', 'tenant-c:null']);
});

test('tool arguments that name a prototype are refused with TOOL_ARGS_INVALID and never reach the handler; plain nested ones do', async () => {
  const seen: unknown[] = [];
  const merge = (target: Record<string, unknown>, source: Record<string, unknown>): void => {
    for (const k in source) {
      const v = source[k];
      if (v !== null && typeof v === 'object') merge((target[k] ??= {}) as Record<string, unknown>, v as Record<string, unknown>);
      else target[k] = v;
    }
  };
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({
    audit,
    tools: {
      merge: (args: unknown) => {
        seen.push(args);
        merge({}, args as Record<string, unknown>);
        return 'merged';
      },
    },
  });
  const policy = { ...TEST_POLICY, tools: { merge: { operation: 'compute' as const, args: { type: 'object' } } } };
  const attacks = ['{"__proto__":{"polluted":"yes"}}', '{"a":{"constructor":{"prototype":{"polluted":"yes"}}}}', '{"list":[{"x":1},{"prototype":{}}]}'];
  for (const json of attacks) {
    const r = await airlock.run({ code: `export default await tools.merge(JSON.parse(${JSON.stringify(json)}))`, policy });
    assert.equal(r.error?.code, 'TOOL_ARGS_INVALID', json);
    assert.match(r.error.message, /"(__proto__|a\.constructor|list\.1\.prototype)"/, `the message names the key: ${r.error.message}`);
  }
  assert.deepEqual(seen, [], 'the handler never saw those arguments');
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, "the host's prototype is untouched");
  const denied = audit.events.filter((e) => e.kind === 'decision' && e.reason === 'TOOL_ARGS_INVALID').length;
  assert.equal(denied, attacks.length, 'each refusal is audited');
  // Control: nested plain data, with keys that merely contain those words, reaches the handler.
  const ok = await airlock.run({ code: 'export default await tools.merge({ a: { b: 1 }, proto: 2, constructors: [3] })', policy });
  assert.equal(ok.status, 'ok', JSON.stringify(ok.error));
  assert.deepEqual(seen, [{ a: { b: 1 }, proto: 2, constructors: [3] }]);
});
