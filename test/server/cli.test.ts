// The real CLI: `airlock keys` (a key shown once and stored only hashed), `airlock serve --port 0`
// printing its URL, and SIGTERM while a run is in flight: no new connections, the run still ends
// and is recorded (run.ended in a chain that holds), and the server exits 0. Past --drain-ms, what
// still runs is stopped and recorded as stopped.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { RUN_DIR } from '../../src/os/uids.ts';
import { REGISTRY_FILE } from '../../src/runtime/registry.ts';
import { readEvents, startCommand, type SseEvent } from './helpers.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

function cli(home: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { env: { ...process.env, AIRLOCK_HOME: home }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
}

async function serve(home: string, args: string[] = []): Promise<Served> {
  // Bounded: a server that never stops is killed, and the test then fails on its exit code.
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', ...args], { env: { ...process.env, AIRLOCK_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'], timeout: 90_000 });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+) /.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`airlock serve ended before it listened: ${out}`)));
  });
  return { child, url, exited };
}

function runsInFlight(home: string): number {
  if (!existsSync(`${RUN_DIR}/${REGISTRY_FILE}`)) return 0;
  const db = new DatabaseSync(`${RUN_DIR}/${REGISTRY_FILE}`, { readOnly: true, timeout: 5000 });
  try {
    return Number(db.prepare('SELECT count(*) AS n FROM runs WHERE home = ?').get(home)?.['n']);
  } finally {
    db.close();
  }
}

async function inFlight(home: string, runs = 1): Promise<void> {
  for (let i = 0; i < 400 && runsInFlight(home) < runs; i++) await sleep(25);
  assert.ok(runsInFlight(home) >= runs, 'the runs never started');
}

async function ended(home: string, run: string): Promise<{ status: string; errorCode: string | null } | undefined> {
  const store = SqliteAuditStore.open({ path: join(home, 'audit.db') });
  try {
    assert.equal((await verifyChain(store)).ok, true, 'the audit chain holds');
    const e = (await store.query({ run })).map((r) => r.event).find((x) => x.kind === 'run.ended');
    return e?.kind === 'run.ended' ? { status: e.status, errorCode: e.errorCode } : undefined;
  } finally {
    await store.close();
  }
}

function post(url: string, key: string, body: unknown): Promise<Response> {
  return fetch(`${url}/v1/runs`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

const LONG = { version: 1, limits: { wallMs: 30_000, cpuMs: 30_000 } };

test('`airlock keys` shows a key once and stores only its hash; list shows ids, revoke refuses another tenant\'s key, a check neighbour\'s name gets none', () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-keys-'));
  const made = cli(home, ['keys', 'create', '--tenant', 'acme', '--json']);
  assert.equal(made.code, 0, made.err);
  const { id, key } = JSON.parse(made.out) as { id: string; key: string };
  const secret = key.slice('alk_'.length + id.length + 1);
  assert.equal(secret.length, 43);
  const stored = readdirSync(home).filter((f) => f.startsWith('keys.db')).map((f) => readFileSync(join(home, f)).toString('latin1')).join('');
  assert.ok(stored.includes(id), 'control: the key id is in the file');
  assert.ok(!stored.includes(secret), 'the secret part of the key is nowhere in the file');
  const listed = cli(home, ['keys', 'list', '--tenant', 'acme']);
  assert.match(listed.out, new RegExp(`^${id}\\t.*\\tlive$`, 'm'));
  assert.ok(!listed.out.includes(secret), 'list never shows a key');
  const foreign = cli(home, ['keys', 'revoke', '--tenant', 'other', id]);
  assert.equal(foreign.code, 2, "another tenant can't revoke it");
  assert.match(cli(home, ['keys', 'list', '--tenant', 'acme']).out, /\tlive$/m);
  assert.equal(cli(home, ['keys', 'revoke', '--tenant', 'acme', id]).code, 0);
  const neighbour = cli(home, ['keys', 'create', '--tenant', 'acme-nbr']);
  assert.equal(neighbour.code, 2, "the check's neighbour tenant names are reserved: no key acts as one");
  assert.equal(neighbour.out, '');
  assert.match(cli(home, ['keys', 'list', '--tenant', 'acme']).out, /\trevoked /);
});

test('SIGTERM to `airlock serve` during a run and a streamed command: no new connections, both end ok and are recorded, the server exits 0 (control: a run before it)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-serve-cli-'));
  const key = cli(home, ['keys', 'create', '--tenant', 'acme']).out.trim();
  const server = await serve(home);
  const before = await post(server.url, key, { code: 'export default 6 * 7' });
  assert.equal(before.status, 200, 'control: the server runs code');

  // A command whose output streams, and a run that takes 3 s of its own (a clock loop), well inside their limits.
  const made = await fetch(`${server.url}/v1/sandboxes`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ policy: LONG }) });
  const box = ((await made.json()) as { id: string }).id;
  const stream = await startCommand(server.url, key, box, { argv: ['sh', '-c', 'echo begun; sleep 3; echo done'] });
  const events: SseEvent[] = [];
  const streamed = readEvents(stream, (e) => (events.push(e), 'more'));
  const pending = post(server.url, key, { code: 'const t = Date.now(); while (Date.now() - t < 3000) {} export default "done"', policy: LONG });
  await inFlight(home, 2);
  for (let i = 0; i < 400 && !events.some((e) => e.event === 'stdout'); i++) await sleep(25);
  server.child.kill('SIGTERM');
  let refused = false;
  for (let i = 0; i < 200 && !refused; i++) {
    refused = await fetch(`${server.url}/openapi.json`, { headers: { connection: 'close' } }).then(() => false, () => true);
    if (!refused) await sleep(10);
  }
  assert.ok(refused, 'a new connection is refused once draining began');
  const res = await pending;
  const result = (await res.json()) as { id: string; status: string; result: unknown };
  assert.equal(res.status, 200, JSON.stringify(result));
  assert.equal(result.status, 'ok', 'the run in flight went on to its end');
  assert.equal(result.result, 'done');
  await streamed;
  const last = events[events.length - 1];
  assert.equal(last?.event, 'ended', JSON.stringify(events));
  const exec = JSON.parse(last.data) as { runId: string; status: string; stdout: string };
  assert.equal(exec.status, 'ok', 'the streamed command went on to its end');
  assert.equal(exec.stdout, 'begun\ndone\n');
  assert.equal(await server.exited, 0, 'the server exits 0');
  assert.deepEqual(await ended(home, result.id), { status: 'ok', errorCode: null }, "the run's run.ended is in the log");
  assert.deepEqual(await ended(home, exec.runId), { status: 'ok', errorCode: null }, "the command's run.ended is in the log");
  assert.equal(runsInFlight(home), 0, 'no run is left registered');
});

test('past --drain-ms, SIGTERM stops what still runs and records it as stopped, then exits 0', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-serve-cli-'));
  const key = cli(home, ['keys', 'create', '--tenant', 'acme']).out.trim();
  const server = await serve(home, ['--drain-ms', '300']);
  const pending = post(server.url, key, { code: 'await new Promise(() => {});', policy: LONG });
  await inFlight(home);
  server.child.kill('SIGTERM');
  const res = await pending;
  const result = (await res.json()) as { id: string; status: string; error: { code: string } | null };
  assert.equal(result.error?.code, 'STOPPED_BY_HOST', JSON.stringify(result));
  assert.equal(res.status, 409, "STOPPED_BY_HOST's status from the table");
  assert.equal(await server.exited, 0);
  assert.deepEqual(await ended(home, result.id), { status: 'killed', errorCode: 'STOPPED_BY_HOST' });
});

test('`airlock serve --audit-durability` takes durable or batched (with --audit-flush-ms), and refuses anything else saying what to write (control: batched serves and records a run)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-serve-durability-'));
  for (const [args, said] of [
    [['--audit-durability', 'fast'], /--audit-durability "fast" must be durable .* or batched/],
    [['--audit-flush-ms', '5'], /--audit-flush-ms applies to --audit-durability batched only/],
    [['--audit-durability', 'batched', '--audit-flush-ms', '0'], /--audit-flush-ms "0" must be a whole number from 1 to 1000/],
  ] as const) {
    const r = cli(home, ['serve', '--port', '0', ...args]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, said);
    assert.equal(r.out, '', 'it never listened');
  }
  const key = cli(home, ['keys', 'create', '--tenant', 'acme']).out.trim();
  const server = await serve(home, ['--audit-durability', 'batched', '--audit-flush-ms', '5']);
  const res = await post(server.url, key, { code: 'export default 6 * 7' });
  assert.equal(res.status, 200);
  const { id } = (await res.json()) as { id: string };
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
  assert.deepEqual(await ended(home, id), { status: 'ok', errorCode: null });
});
