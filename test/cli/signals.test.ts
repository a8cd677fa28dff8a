// SIGTERM (a service manager stopping airlock) and SIGINT (Ctrl-C) during `airlock run`: the run is
// stopped, printed and recorded as stopped, and nothing it had is left behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { RUN_DIR } from '../../src/os/uids.ts';
import { REGISTRY_FILE } from '../../src/runtime/registry.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

interface Cli {
  readonly child: ChildProcess;
  readonly ended: Promise<{ code: number | null; out: string }>;
}

function start(home: string, args: string[]): Cli {
  // Bounded: a CLI that never ends is killed, and the test then fails on its exit code.
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, AIRLOCK_HOME: home }, stdio: ['ignore', 'pipe', 'ignore'], timeout: 40_000 });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  return { child, ended: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out }))) };
}

/** Rows the shared registry holds for this home (runs in flight, sandboxes, hosts). */
function registryRows(home: string): { runs: number; sandboxes: number; hosts: number } {
  const db = new DatabaseSync(`${RUN_DIR}/${REGISTRY_FILE}`, { readOnly: true, timeout: 5000 });
  try {
    const count = (table: string): number => Number(db.prepare(`SELECT count(*) AS n FROM ${table} WHERE home = ?`).get(home)?.['n']);
    return { runs: count('runs'), sandboxes: count('sandboxes'), hosts: count('hosts') };
  } finally {
    db.close();
  }
}

/** Waits (bounded) until the guest runs: its run is in flight and its process is in the tenant's cgroup. */
async function guestRunning(home: string, tenant: string, program: RegExp): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const inFlight = existsSync(`${RUN_DIR}/${REGISTRY_FILE}`) && registryRows(home).runs > 0;
    const procs = cgroupsOf(tenant).flatMap((n) => readFileSync(`${CGROUPS}/${n}/cgroup.procs`, 'utf8').split('\n').filter((p) => p !== ''));
    const cmdlines = procs.map((p) => (existsSync(`/proc/${p}/cmdline`) ? readFileSync(`/proc/${p}/cmdline`, 'utf8') : ''));
    if (inFlight && cmdlines.some((c) => program.test(c))) {
      await sleep(300); // past the hand-over: the guest itself is running now
      return;
    }
    await sleep(50);
  }
  assert.fail('the guest never started');
}

/** The tenant's cgroups (isolate workers and container sandboxes are named after their tenant). */
const CGROUPS = '/sys/fs/cgroup/pids/airlock';
function cgroupsOf(tenant: string): string[] {
  return existsSync(CGROUPS) ? readdirSync(CGROUPS).filter((n) => n.startsWith(`isolate-${tenant}-`) || n.startsWith(`${tenant}.`)) : [];
}

async function auditOf(home: string, run: string): Promise<{ kinds: string[]; ended: unknown; holds: boolean }> {
  const store = SqliteAuditStore.open({ path: join(home, 'audit.db') });
  try {
    const records = (await store.query({})).filter((r) => r.event.run === run);
    const ended = records.map((r) => r.event).find((e) => e.kind === 'run.ended');
    return { kinds: records.map((r) => r.event.kind), ended: ended?.kind === 'run.ended' ? { status: ended.status, errorCode: ended.errorCode } : undefined, holds: (await verifyChain(store)).ok };
  } finally {
    await store.close();
  }
}

const CASES = [
  { tier: 'isolate', file: 'hang.mjs', code: 'await new Promise(() => {});', signal: 'SIGTERM', program: /worker-main/ },
  { tier: 'container', file: 'hang.py', code: 'import time\ntime.sleep(60)\n', signal: 'SIGINT', program: /main\.py/ },
] as const;

for (const c of CASES) {
  test(`${c.tier}: ${c.signal} during \`airlock run\` stops the run, prints it as stopped, records run.ended in a chain that holds, and leaves nothing (control: the same run ends by its own limit)`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'airlock-signal-'));
    const tenant = `sig-${c.tier}-${process.pid}`;
    const file = join(home, c.file);
    writeFileSync(file, c.code);
    const control = await start(home, ['run', '--json', '--tier', c.tier, '--tenant', tenant, '--timeout', '400', file]).ended;
    assert.equal(control.code, 4, 'control: without a signal the run ends by its wall limit');
    assert.equal((JSON.parse(control.out) as { error: { code: string } }).error.code, 'WALL_TIMEOUT');

    const cli = start(home, ['run', '--json', '--tier', c.tier, '--tenant', tenant, '--timeout', '30000', file]);
    await guestRunning(home, tenant, c.program);
    cli.child.kill(c.signal);
    const { code, out } = await cli.ended;
    const result = JSON.parse(out) as { id: string; status: string; error: { code: string } | null };
    assert.equal(code, 6, out);
    assert.equal(result.status, 'killed');
    assert.equal(result.error?.code, 'STOPPED_BY_HOST');
    const audit = await auditOf(home, result.id);
    assert.deepEqual(audit.ended, { status: 'killed', errorCode: 'STOPPED_BY_HOST' }, `the log has how the run ended: ${audit.kinds.join(', ')}`);
    assert.ok(audit.kinds.includes('run.started'));
    assert.equal(audit.holds, true, 'the chain holds');
    assert.deepEqual(registryRows(home), { runs: 0, sandboxes: 0, hosts: 0 }, 'no run, sandbox or host row is left');
    assert.deepEqual(cgroupsOf(tenant), [], 'no cgroup (so no process) of the tenant is left');
  });
}

test('SIGTERM during `airlock check` prints no report (its probes were cut short) but a coded STOPPED_BY_HOST, and leaves nothing (control: the check answers when left alone)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-signal-'));
  const tenant = `sig-check-${process.pid}`;
  const policy = join(home, 'policy.json');
  writeFileSync(policy, JSON.stringify({ version: 1, limits: { cpuMs: 300 } }));
  const control = await start(home, ['check', '--json', '--tier', 'isolate', '--tenant', tenant, '--policy', policy]).ended;
  assert.equal(control.code, 0, control.out);
  assert.ok('answers' in (JSON.parse(control.out) as object), 'control: a report');
  const cli = start(home, ['check', '--json', '--tier', 'isolate', '--tenant', tenant, '--policy', policy]);
  await guestRunning(home, tenant, /worker-main/);
  cli.child.kill('SIGTERM');
  const { code, out } = await cli.ended;
  assert.equal(code, 6, out);
  const printed = JSON.parse(out) as { error?: { code: string }; answers?: unknown };
  assert.equal(printed.error?.code, 'STOPPED_BY_HOST');
  assert.equal(printed.answers, undefined, 'no report from cut-short probes');
  assert.deepEqual(registryRows(home), { runs: 0, sandboxes: 0, hosts: 0 });
  assert.deepEqual(cgroupsOf(tenant), []);
});

test('SIGTERM during `airlock demo` stops it with a coded STOPPED_BY_HOST and leaves nothing of it', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-signal-'));
  const cli = start(home, ['demo']);
  await guestRunning(home, 'demo', /worker-main|main\.py/);
  cli.child.kill('SIGTERM');
  const { code } = await cli.ended;
  assert.equal(code, 6);
  assert.deepEqual(registryRows(home), { runs: 0, sandboxes: 0, hosts: 0 }, 'no run, sandbox or host row of its home is left');
  // Other test files run the demo too (same tenant): this host's workers are the ones named by its pid.
  assert.deepEqual(cgroupsOf('demo').filter((n) => n.endsWith(`-${String(cli.child.pid)}`)), [], "none of this host's workers is left");
});
