// Hostile cases as data (test/escape/isolate/*.js): each payload carries its expected outcome on
// its first line, and may raise limits on a `// limits:` line, so that each verdict depends only on
// the limit it is about: a CPU-bound case raises wallMs (a busy machine stretches wall time, and
// cpuMs is CPU time), a memory bomb raises cpuMs and wallMs (first-touch pages are slow on a freshly
// booted VM, and a bomb cut short by another limit says nothing about memory). Each case gets a
// fresh Airlock, so fresh worker processes; after each, a control
// run in the same Airlock shows the host and its workers still serve.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

interface Expect {
  status: string | string[];
  code?: string;
  result?: unknown;
  message?: string;
  messageIncludes?: string;
}

const dir = join(import.meta.dirname, 'isolate');
for (const file of readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
  const code = readFileSync(join(dir, file), 'utf8');
  const header = /^\/\/ expect: (.*)$/m.exec(code);
  assert.ok(header?.[1], `${file} has no "// expect:" line`);
  const expect = JSON.parse(header[1]) as Expect;
  const raised = /^\/\/ limits: (.*)$/m.exec(code);
  const policy = raised?.[1] === undefined ? TEST_POLICY : { ...TEST_POLICY, limits: { ...TEST_POLICY.limits, ...(JSON.parse(raised[1]) as object) } };
  const wallMs = policy.limits?.wallMs ?? 0;
  test(`escape/isolate/${file}`, async () => {
    await using airlock = testAirlock();
    const started = performance.now();
    const r = await airlock.run({ code, policy });
    const statuses = Array.isArray(expect.status) ? expect.status : [expect.status];
    assert.ok(statuses.includes(r.status), `${file}: status ${r.status} (${JSON.stringify(r.error)}), expected ${statuses.join('|')}`);
    if (expect.code !== undefined) assert.equal(r.error?.code, expect.code, JSON.stringify(r.error));
    if ('result' in expect) assert.deepEqual(r.result, expect.result);
    if (expect.message !== undefined) assert.equal(r.error?.message, expect.message);
    if (expect.messageIncludes !== undefined) assert.ok(r.error?.message.includes(expect.messageIncludes), r.error?.message);
    if (r.status !== 'ok') assert.equal(r.result, null, 'a failed run carries no result');
    // Every limit is enforced from outside the guest: nothing runs much past its wall limit.
    assert.ok(performance.now() - started < wallMs + 3000, 'the run ended near its wall limit');
    const control = await airlock.run({ code: 'export default 6 * 7', policy: TEST_POLICY });
    assert.equal(control.status, 'ok', `after ${file} the next run failed: ${JSON.stringify(control.error)}`);
    assert.equal(control.result, 42);
  });
}
