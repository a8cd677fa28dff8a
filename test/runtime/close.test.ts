// Closing airlock, or destroying a sandbox, while something runs: the run is stopped and still
// ends with a result (killed, STOPPED_BY_HOST) and a run.ended in the log; close() resolves only
// after that, and every caller of close() waits for the same close.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAirlock, MemoryAuditSink, type RunResult } from '../../src/index.ts';

const home = (): string => mkdtempSync(join(tmpdir(), 'airlock-close-'));
const LONG = { version: 1, limits: { wallMs: 30_000, cpuMs: 30_000 } } as const;

function endOf(audit: MemoryAuditSink, run: string): { status: unknown; errorCode: unknown } | undefined {
  const e = audit.events.find((x) => x.kind === 'run.ended' && x.run === run);
  return e?.kind === 'run.ended' ? { status: e.status, errorCode: e.errorCode } : undefined;
}

const STOPPED = { status: 'killed', errorCode: 'STOPPED_BY_HOST' };
const CGROUPS = '/sys/fs/cgroup/pids/airlock';

/** Waits (bounded) until a process whose command line matches runs in one of the tenant's container cgroups. */
async function running(tenant: string, program: RegExp): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const procs = readdirSync(CGROUPS)
      .filter((n) => n.startsWith(`${tenant}.`))
      .flatMap((n) => readFileSync(`${CGROUPS}/${n}/cgroup.procs`, 'utf8').split('\n').filter((p) => p !== ''));
    if (procs.some((p) => existsSync(`/proc/${p}/cmdline`) && program.test(readFileSync(`/proc/${p}/cmdline`, 'utf8')))) return;
    await sleep(50);
  }
  assert.fail(`no ${String(program)} ever ran for ${tenant}`);
}

test('close() during runs on both tiers stops them; each result and its run.ended say STOPPED_BY_HOST, and both callers of close() wait for it (control: a run before close is ok)', async () => {
  const audit = new MemoryAuditSink();
  const airlock = createAirlock({ home: home(), audit });
  const before = await airlock.run({ tenant: 'closing', code: 'export default 1' });
  assert.equal(before.status, 'ok', 'control: the host runs code');
  const isolate = airlock.run({ tenant: 'closing', code: 'await new Promise(() => {});', policy: LONG });
  const container = airlock.run({ tier: 'container', tenant: 'closing', language: 'python', code: 'import time\ntime.sleep(60)\n', policy: LONG });
  await running('closing', /main\.py/);
  await sleep(300); // past the hand-over: the isolate run's worker has its job by now too
  const started = performance.now();
  const settled: RunResult[] = [];
  void isolate.then((r) => settled.push(r));
  void container.then((r) => settled.push(r));
  await Promise.all([airlock.close(), airlock.close().then(() => assert.equal(settled.length, 2, 'the second close() also waited for the runs'))]);
  assert.ok(performance.now() - started < 10_000, 'closing did not wait out the runs');
  for (const r of [await isolate, await container]) {
    assert.equal(r.status, 'killed', JSON.stringify(r.error));
    assert.equal(r.error?.code, 'STOPPED_BY_HOST');
    assert.deepEqual(endOf(audit, r.id), STOPPED, `${r.tier}: the log has how it ended`);
  }
});

test("a container sandbox destroyed during an exec: the exec resolves STOPPED_BY_HOST with its run.ended logged, then the sandbox is gone (control: an exec before it is ok)", async () => {
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: home(), audit });
  const box = await airlock.sandbox({ tier: 'container', tenant: 'closing', policy: LONG });
  assert.equal((await box.exec(['true'])).status, 'ok', 'control: the sandbox runs commands');
  const exec = box.exec(['sleep', '60']);
  await running('closing', /^sleep/);
  await box.destroy();
  const r = await exec;
  assert.equal(r.status, 'killed');
  assert.equal(r.error?.code, 'STOPPED_BY_HOST');
  assert.deepEqual(endOf(audit, r.runId), STOPPED);
  const kinds = audit.events.filter((e) => e.sandbox === box.id).map((e) => e.kind);
  assert.equal(kinds.at(-1), 'sandbox.destroyed', 'the run ended before the sandbox was destroyed');
  await assert.rejects(box.exec(['true']), /SANDBOX_CLOSED|destroyed/);
});

test('close() while a container sandbox is being made: the call rejects SANDBOX_CLOSED or its sandbox is destroyed with the rest; nothing of it is left (control: one made before close works)', async () => {
  // How far the making got when close() came depends on the machine's speed, so each verdict holds
  // either way: closed at once (the making is still awaiting), the call must reject; closed later,
  // it may reject (destroyed again as it finished) or have finished first and been closed with the rest.
  for (const delayMs of [0, 5, 20]) {
    const audit = new MemoryAuditSink();
    const airlock = createAirlock({ home: home(), audit });
    const made = await airlock.sandbox({ tier: 'container', tenant: 'closing' });
    assert.equal((await made.exec(['true'])).status, 'ok', 'control: a sandbox made before close works');
    const making = airlock.sandbox({ tier: 'container', tenant: 'closing' }).then(
      (box) => ({ box, error: null }),
      (error: unknown) => ({ box: null, error: error as { code?: string } }),
    );
    if (delayMs > 0) await sleep(delayMs);
    await airlock.close();
    const outcome = await making;
    if (delayMs === 0 || outcome.box === null) assert.equal(outcome.error?.code, 'SANDBOX_CLOSED', `closed after ${delayMs} ms: ${JSON.stringify(outcome.error)}`);
    if (outcome.box !== null) await assert.rejects(outcome.box.exec(['true']), (e: { code?: string }) => e.code === 'SANDBOX_CLOSED', 'a sandbox that finished first was closed with the rest');
    const created = audit.events.filter((e) => e.kind === 'sandbox.created').map((e) => e.sandbox);
    const destroyed = new Set(audit.events.filter((e) => e.kind === 'sandbox.destroyed').map((e) => e.sandbox));
    assert.deepEqual(created.filter((id) => !destroyed.has(id)), [], 'every sandbox created was destroyed');
    assert.deepEqual(readdirSync(CGROUPS).filter((n) => created.some((id) => n.endsWith(`.${id}`))), [], 'no cgroup of them is left');
  }
});
