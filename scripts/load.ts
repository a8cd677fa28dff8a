/**
 * `npm run load [-- --runs 1000 --concurrency 200 --tenants 50 --hostile 10]`: runs through a real
 * `airlock serve` on loopback, many tenants at once, one run in `--hostile` (default 10) hostile:
 * bombs, escape attempts, and reads of another tenant's runs and sandboxes. Not part of `npm test`.
 *
 * Reports benign failures (goal 0), cross-tenant reads that answered anything but 404 (must be 0),
 * benign p50/p99 latency and runs/s, and whether the audit chain verifies afterwards against its
 * signed checkpoint. Exits 1 when a benign run failed, a cross-tenant read got through, or the
 * chain does not verify.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tenantId } from '../src/audit/store.ts';
import { KeyStore } from '../src/server/keys.ts';
import { HOSTILE, type Probe } from './load-cases.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '200' },
    tenants: { type: 'string', default: '50' },
    hostile: { type: 'string', default: '10' },
  },
});
const RUNS = Number(values.runs);
const CONCURRENCY = Number(values.concurrency);
const TENANTS = Number(values.tenants);
const HOSTILE_EVERY = Number(values.hostile);
for (const [flag, n] of Object.entries({ RUNS, CONCURRENCY, TENANTS, HOSTILE_EVERY })) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`load: ${flag.toLowerCase()} must be a whole number ≥ 1`);
}

const root = join(import.meta.dirname, '..');
const home = mkdtempSync(join(tmpdir(), 'airlock-load-'));
const checkpoints = mkdtempSync(join(tmpdir(), 'airlock-load-ckpt-'));
const env = { ...process.env, AIRLOCK_HOME: home, AIRLOCK_CHECKPOINT_DIR: checkpoints };

const keys = KeyStore.open(home);
const tenantKeys = Array.from({ length: TENANTS }, (_, i) => keys.create(tenantId(`load-${i}`)).key);
keys.close();

const server = spawn(process.execPath, [join(root, 'bin/airlock.js'), 'serve', '--port', '0', '--rate', '10000000'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let seen = '';
  server.stdout.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    const m = /listening on (http:\/\/\S+)/.exec(seen);
    if (m?.[1] !== undefined) resolve(m[1]);
  });
  server.once('exit', (code) => reject(new Error(`airlock serve exited (${String(code)}) before listening`)));
});

async function call(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

// Tenant 0's run and sandbox: what the hostile runs of every other tenant try to read.
const victimKey = tenantKeys[0] as string;
const victimRun = await call(victimKey, 'POST', '/v1/runs', { code: 'export default "victim secret 7f3a"' });
const victimRunId = (victimRun.json as { id: string }).id;
const victimBox = await call(victimKey, 'POST', '/v1/sandboxes', {});
const victimBoxId = victimBox.status === 201 || victimBox.status === 200 ? (victimBox.json as { id: string }).id : null;
const stolen: Probe = { runId: victimRunId, sandboxId: victimBoxId };

const latencies: number[] = [];
const failures: string[] = [];
const leaks: string[] = [];
const hostileOutcomes = new Map<string, number>();
const started = performance.now();

async function one(i: number): Promise<void> {
  const t = 1 + (i % Math.max(1, TENANTS - 1));
  const key = tenantKeys[TENANTS === 1 ? 0 : t] as string;
  if (i % HOSTILE_EVERY === HOSTILE_EVERY - 1) {
    const hostile = HOSTILE[Math.floor(i / HOSTILE_EVERY) % HOSTILE.length];
    if (hostile === undefined) return;
    const outcome = await hostile.run((method, path, body) => call(key, method, path, body), stolen);
    hostileOutcomes.set(`${hostile.name}: ${outcome.verdict}`, (hostileOutcomes.get(`${hostile.name}: ${outcome.verdict}`) ?? 0) + 1);
    if (outcome.leaked) leaks.push(`${hostile.name}: ${outcome.verdict}`);
    return;
  }
  const t0 = performance.now();
  const res = await call(key, 'POST', '/v1/runs', { code: 'export default function (x) { return x.n * 2 }', input: { n: i } });
  latencies.push(performance.now() - t0);
  const result = (res.json as { result?: unknown }).result;
  if (res.status !== 200 || result !== i * 2) failures.push(`run ${i}: HTTP ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
}

async function drive(): Promise<void> {
  const cursor = { next: 0 };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (cursor.next < RUNS) await one(cursor.next++);
    }),
  );
}
await drive();
const seconds = (performance.now() - started) / 1000;

// Controls: the victim itself still reads its run and its sandbox (so a 404 above meant "not yours").
const ownRun = await call(victimKey, 'GET', `/v1/audit/${victimRunId}`);
if (ownRun.status !== 200 || !JSON.stringify(ownRun.json).includes(victimRunId)) failures.push(`control: the victim could not read its own run (HTTP ${ownRun.status})`);
if (victimBoxId !== null) {
  const ownBox = await call(victimKey, 'GET', `/v1/sandboxes/${victimBoxId}`);
  if (ownBox.status !== 200) failures.push(`control: the victim's sandbox is gone or unreadable (HTTP ${ownBox.status})`);
  await call(victimKey, 'DELETE', `/v1/sandboxes/${victimBoxId}`);
}

server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
const verify = spawnSync(process.execPath, [join(root, 'bin/airlock.js'), 'audit', 'verify', '--json'], { env, encoding: 'utf8' });

latencies.sort((a, b) => a - b);
const at = (q: number): number => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN) * 10) / 10;
const report = {
  runs: RUNS,
  concurrency: CONCURRENCY,
  tenants: TENANTS,
  benign: latencies.length,
  benign_failures: failures.length,
  cross_tenant_reads: leaks.length,
  p50_ms: at(0.5),
  p99_ms: at(0.99),
  runs_per_s: Math.round((RUNS / seconds) * 10) / 10,
  hostile: Object.fromEntries(hostileOutcomes),
  audit_verify: verify.status === 0 ? 'holds' : `FAILS: ${verify.stdout}${verify.stderr}`.trim(),
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
for (const f of failures.slice(0, 10)) process.stderr.write(`benign failure: ${f}\n`);
for (const l of leaks) process.stderr.write(`CROSS-TENANT READ: ${l}\n`);
rmSync(home, { recursive: true, force: true });
rmSync(checkpoints, { recursive: true, force: true });
process.exitCode = failures.length > 0 || leaks.length > 0 || verify.status !== 0 ? 1 : 0;
