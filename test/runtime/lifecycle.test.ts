// Lifecycle: idle timeout and maximum lifetime from the policy, on both tiers; creation and
// destruction paired (close() destroys what is still open, and each end is recorded); the
// registry row of a sandbox lives exactly as long as the sandbox.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { LifeTimer, type Expiry } from '../../src/runtime/lifecycle.ts';
import { DatabaseSync } from 'node:sqlite';
import { RUN_DIR } from '../../src/os/uids.ts';
import { Registry, REGISTRY_FILE } from '../../src/runtime/registry.ts';
import { createAirlock } from '../../src/index.ts';
import { assertNothingLeft, hostUidOf } from '../container/helpers.ts';

const home = (): string => mkdtempSync(join(tmpdir(), 'airlock-life-'));

/** Resolves with the first event matching `match`, polling the sink (bounded). */
async function eventually(audit: MemoryAuditSink, match: (e: AuditEvent) => boolean): Promise<AuditEvent> {
  for (let i = 0; i < 400; i++) {
    const found = audit.events.find(match);
    if (found !== undefined) return found;
    await sleep(25);
  }
  throw new Error('the event never came');
}

function rowsOf(h: string, tenant: string): string[] {
  const registry = Registry.open();
  try {
    return registry.sandboxesOf(h, tenant).map((r) => r.id);
  } finally {
    registry.close();
  }
}

test('LifeTimer: work in flight holds the idle clock; idleness afterwards expires it once', async () => {
  const expired: Expiry[] = [];
  const timer = new LifeTimer({ idleMs: 60, lifetimeMs: 60_000, onExpire: (why) => expired.push(why) });
  await timer.busy(() => sleep(250));
  assert.deepEqual(expired, [], 'no idle expiry while work ran for longer than idleMs');
  for (let i = 0; i < 100 && expired.length === 0; i++) await sleep(20);
  assert.deepEqual(expired, ['idle']);
  await sleep(150);
  assert.deepEqual(expired, ['idle'], 'it expires once');
  timer.stop();
});

test('LifeTimer: the lifetime ends even a busy sandbox; stop() prevents any expiry', async () => {
  const expired: Expiry[] = [];
  const timer = new LifeTimer({ idleMs: 60_000, lifetimeMs: 100, onExpire: (why) => expired.push(why) });
  await timer.busy(() => sleep(300));
  assert.deepEqual(expired, ['lifetime']);
  const stopped: Expiry[] = [];
  const control = new LifeTimer({ idleMs: 50, lifetimeMs: 80, onExpire: (why) => stopped.push(why) });
  control.stop();
  await sleep(200);
  assert.deepEqual(stopped, []);
});

test('the policy refuses lifetimes beyond the ceiling and below the floor', () => {
  for (const limits of [{ idleMs: 0 }, { idleMs: 3_600_001 }, { lifetimeMs: 86_400_001 }, { lifetimeMs: 10 }]) {
    assert.throws(() => compilePolicy({ version: 1, limits }), { code: 'INVALID_POLICY' }, JSON.stringify(limits));
  }
  const p = compilePolicy({ version: 1 });
  assert.deepEqual([p.limits.idleMs, p.limits.lifetimeMs], [60_000, 600_000], 'control: small defaults');
});

test('an idle isolate sandbox is destroyed and recorded; a busy one is not', async () => {
  const audit = new MemoryAuditSink();
  const h = home();
  await using airlock = createAirlock({ home: h, audit, isolate: { workersPerTenant: 1 } });
  const idle = await airlock.sandbox({ tenant: 'acme', policy: { version: 1, limits: { idleMs: 300 } } });
  await using control = await airlock.sandbox({ tenant: 'acme' });
  assert.deepEqual(new Set(rowsOf(h, 'acme')), new Set([idle.id, control.id]), 'control: both are registered');
  const decision = await eventually(audit, (e) => e.kind === 'decision' && e.sandbox === idle.id);
  assert.ok(decision.kind === 'decision' && decision.subject === 'idleMs' && !decision.allow && decision.reason.startsWith('SANDBOX_IDLE'));
  await eventually(audit, (e) => e.kind === 'sandbox.destroyed' && e.sandbox === idle.id);
  const late = await idle.run('export default 1');
  assert.equal(late.error?.code, 'SANDBOX_CLOSED');
  assert.deepEqual(rowsOf(h, 'acme'), [control.id], 'its registry row is gone with it');
  assert.equal((await control.run('export default 2')).result, 2, 'control: a sandbox with the default idle time still runs');
});

test('a container sandbox at its maximum lifetime is destroyed mid-exec and leaves nothing', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: home(), audit });
  const box = await airlock.sandbox({ tier: 'container', tenant: 'acme', policy: { version: 1, limits: { lifetimeMs: 1500, wallMs: 60_000, cpuMs: 30_000 } } });
  const uid = await hostUidOf(box);
  await box.writeFile('a.txt', 'x');
  // Cut off by the lifetime: the container tier reports a kill mid-exec as a failed result or a
  // rejection, depending on how far bwrap got; either way it must not be ok.
  const r = await box.exec(['sh', '-c', 'sleep 30'], { timeoutMs: 60_000 }).catch((e: unknown) => e);
  assert.ok(r instanceof Error || (r as { status?: string }).status !== 'ok', 'the exec was cut off by the lifetime');
  const decision = await eventually(audit, (e) => e.kind === 'decision' && e.sandbox === box.id && e.door === 'limit');
  assert.ok(decision.kind === 'decision' && decision.subject === 'lifetimeMs');
  await eventually(audit, (e) => e.kind === 'sandbox.destroyed' && e.sandbox === box.id);
  // A killed sandbox's last processes can stay zombies for a moment until init reaps them.
  for (let i = 0; i < 40 && !(await assertNothingLeft(box.id, uid).then(() => true, () => false)); i++) await sleep(50);
  await assertNothingLeft(box.id, uid);
  await assert.rejects(box.exec(['true']), { code: 'SANDBOX_CLOSED' });
});

test('close() destroys the sandboxes still open and records each end', async () => {
  const audit = new MemoryAuditSink();
  const h = home();
  const airlock = createAirlock({ home: h, audit, isolate: { workersPerTenant: 1 } });
  const a = await airlock.sandbox({ tenant: 'acme' });
  const b = await airlock.sandbox({ tenant: 'globex' });
  await airlock.close();
  const ended = audit.events.filter((e) => e.kind === 'sandbox.destroyed').map((e) => e.sandbox);
  assert.deepEqual(new Set(ended), new Set([a.id, b.id]));
  assert.ok(!a.open && !b.open);
  assert.deepEqual([...rowsOf(h, 'acme'), ...rowsOf(h, 'globex')], []);
});

test('close() with a one-shot run in flight ends the run and leaves no registry row of it', async () => {
  const audit = new MemoryAuditSink();
  const h = home();
  const airlock = createAirlock({ home: h, audit, isolate: { workersPerTenant: 1 } });
  await airlock.prewarm('acme');
  const running = airlock.run({ tenant: 'acme', code: 'for (;;) {}', policy: { version: 1, limits: { wallMs: 20_000, cpuMs: 20_000 } } });
  await eventually(audit, (e) => e.kind === 'run.started');
  assert.equal(rowsOf(h, 'acme').length, 1, 'control: the one-shot sandbox is registered while it runs');
  await airlock.close();
  const r = await running;
  assert.notEqual(r.status, 'ok');
  assert.ok(audit.events.some((e) => e.kind === 'run.ended' && e.run === r.id), 'its end is recorded');
  assert.deepEqual(rowsOf(h, 'acme'), [], 'no row outlives close()');
  const db = new DatabaseSync(`${RUN_DIR}/${REGISTRY_FILE}`, { readOnly: true, timeout: 10_000 });
  try {
    assert.deepEqual(db.prepare('SELECT id FROM runs WHERE home = ?').all(h), [], 'no run row is left for a reaper to call crashed');
  } finally {
    db.close();
  }
});
