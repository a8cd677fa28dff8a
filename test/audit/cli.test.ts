import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { GENESIS_HASH, recordHash, type AuditRecord } from '../../src/audit/chain.ts';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import type { VerifyResult } from '../../src/audit/verify.ts';
import { auditCommand } from '../../src/cli/audit.ts';
import { AirlockError, codeInfo } from '../../src/core/errors.ts';
import { decision, ev, runEnded } from './store-conformance.ts';

const root = mkdtempSync(join(tmpdir(), 'airlock-cli-audit-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A fresh AIRLOCK_HOME holding records for two tenants: acme (seq 1–4) and globex (seq 5–6). */
async function home(): Promise<string> {
  const dir = join(mkdtempSync(join(root, 'h-')), '.airlock');
  const store = SqliteAuditStore.open({ env: { AIRLOCK_HOME: dir } });
  await store.append([
    ev({ kind: 'sandbox.created', tenant: 'acme', sandbox: 'sbx_a', tier: 'isolate', policyHash: 'p1' }, '2026-01-01T00:00:00.000Z'),
    decision('acme', 'sbx_a', true, '2026-01-01T00:00:01.000Z'),
    decision('acme', 'sbx_a', false, '2026-01-01T00:00:02.000Z'),
    runEnded('acme', 'sbx_a', 'ok', '2026-01-01T00:00:03.000Z'),
  ]);
  await store.append([decision('globex', 'sbx_g', false, '2026-02-01T00:00:00.000Z'), runEnded('globex', 'sbx_g', 'timeout', '2026-02-01T00:00:01.000Z')]);
  await store.close();
  return dir;
}

/** The CLI's settings: this home, and a checkpoint directory of its own (these logs are written unsigned). */
function envOf(dir: string): NodeJS.ProcessEnv {
  return { AIRLOCK_HOME: dir, AIRLOCK_CHECKPOINT_DIR: join(dir, '..', 'checkpoints') };
}

async function cli(dir: string, args: string[]): Promise<string> {
  const out: string[] = [];
  await auditCommand({ env: envOf(dir), write: (t) => Promise.resolve(void out.push(t)) }).parseAsync(args, { from: 'user' });
  return out.join('');
}

async function cliError(dir: string, args: string[]): Promise<{ code: string; out: string; error: AirlockError }> {
  const out: string[] = [];
  try {
    await auditCommand({ env: envOf(dir), write: (t) => Promise.resolve(void out.push(t)) }).parseAsync(args, { from: 'user' });
  } catch (error) {
    assert.ok(error instanceof AirlockError, String(error));
    return { code: error.code, out: out.join(''), error };
  }
  assert.fail(`expected ${args.join(' ')} to fail`);
}

const seqs = (json: string): number[] => (JSON.parse(json) as AuditRecord[]).map((r) => r.seq);

test('list prints every record in seq order; each filter narrows', async () => {
  const dir = await home();
  const lines = (await cli(dir, ['list'])).trimEnd().split('\n');
  assert.equal(lines.length, 6);
  assert.match(lines[0] ?? '', /^1\t2026-01-01T00:00:00.000Z\tacme\tsbx_a\tsandbox.created\ttier=isolate/);
  assert.match(lines[2] ?? '', /decision\ttool "readMail" deny TOOL_NOT_GRANTED$/);
  assert.deepEqual(seqs(await cli(dir, ['list', '--json'])), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(seqs(await cli(dir, ['list', '--json', '--decision', 'deny'])), [3, 5]);
  assert.deepEqual(seqs(await cli(dir, ['list', '--json', '--status', 'timeout'])), [6]);
  assert.deepEqual(seqs(await cli(dir, ['list', '--json', '--sandbox', 'sbx_a', '--decision', 'allow'])), [2]);
  assert.deepEqual(seqs(await cli(dir, ['list', '--json', '--since', '2026-01-15'])), [5, 6]);
  assert.deepEqual(seqs(await cli(dir, ['list', '--json', '--until', '2026-01-01T00:00:02Z'])), [1, 2]);
  assert.deepEqual(seqs(await cli(dir, ['list', '--json', '--run', 'run_sbx_g'])), [5, 6]);
  assert.deepEqual(JSON.parse(await cli(dir, ['list', '--json', '--tenant', 'initech'])), []);
});

test("one tenant can't list, show or export another's records (control: its own are all there)", async () => {
  const dir = await home();
  assert.deepEqual(seqs(await cli(dir, ['list', '--json', '--tenant', 'acme'])), [1, 2, 3, 4]);
  assert.deepEqual(seqs(await cli(dir, ['list', '--json', '--tenant', 'globex'])), [5, 6]);
  assert.deepEqual(seqs(await cli(dir, ['list', '--json', '--tenant', 'globex', '--sandbox', 'sbx_a'])), []);
  assert.equal((JSON.parse(await cli(dir, ['show', '1', '--tenant', 'acme', '--json'])) as AuditRecord[])[0]?.event.kind, 'sandbox.created');
  for (const id of ['1', 'run_sbx_a', 'sbx_a']) {
    const r = await cliError(dir, ['show', id, '--tenant', 'globex']);
    assert.equal(r.code, 'AUDIT_NOT_FOUND');
    assert.equal(r.out, '', 'nothing of acme was printed');
  }
  const exported = (await cli(dir, ['export', '--tenant', 'globex'])).trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
  assert.deepEqual(exported.map((r) => r.event.tenant), ['globex', 'globex']);
});

test('a tenant id with SQL or path characters is INVALID_REQUEST, and nothing is printed', async () => {
  const dir = await home();
  for (const bad of ["acme' OR '1'='1", '../acme', 'acme/..', 'Acme', "'; DROP TABLE audit_events; --"]) {
    for (const args of [['list', '--tenant', bad], ['show', '1', '--tenant', bad], ['export', '--tenant', bad]]) {
      const r = await cliError(dir, args);
      assert.equal(r.code, 'INVALID_REQUEST', args.join(' '));
      assert.equal(r.out, '');
    }
  }
  assert.equal((await cli(dir, ['list'])).trimEnd().split('\n').length, 6, 'the log is intact');
});

test('bad flag values are INVALID_REQUEST naming the flag', async () => {
  const dir = await home();
  assert.match((await cliError(dir, ['list', '--status', 'great'])).error.message, /--status "great" is not one of ok, error/);
  assert.match((await cliError(dir, ['list', '--decision', 'maybe'])).error.message, /--decision/);
  assert.match((await cliError(dir, ['list', '--since', 'last tuesday'])).error.message, /--since/);
  // What Date.parse would only guess at: "0" (2000-01-01), "foo 1" (2001), a day that does not exist.
  for (const guess of ['0', 'foo 1', '2024-02-30', '2026-1-2']) assert.equal((await cliError(dir, ['list', '--until', guess])).code, 'INVALID_REQUEST', guess);
  assert.equal((await cliError(dir, ['show', 'drop table'])).code, 'INVALID_REQUEST');
  assert.equal((await cliError(dir, ['show', '99'])).code, 'AUDIT_NOT_FOUND');
  assert.equal((await cliError(dir, ['verify', '--expect', 'nonsense'])).code, 'INVALID_REQUEST');
});

test('show prints one record by seq, or all of a run or sandbox', async () => {
  const dir = await home();
  const one = await cli(dir, ['show', '3']);
  assert.match(one, /^3\t.*deny TOOL_NOT_GRANTED\n\{\n {2}"allow": false,/);
  assert.deepEqual(seqs(await cli(dir, ['show', 'run_sbx_a', '--json'])), [2, 3, 4]);
  assert.deepEqual(seqs(await cli(dir, ['show', 'sbx_a', '--json'])), [1, 2, 3, 4]);
});

test('verify passes on the untouched log and fails at the edited seq with AUDIT_CHAIN_BROKEN (a non-zero exit)', async () => {
  const dir = await home();
  const ok = await cli(dir, ['verify']);
  assert.match(ok, /^audit chain holds: 6 records; head 6:[0-9a-f]{64}; no signed checkpoint for this log in files under \S+: only the chain was checked \(a deleted tail would not show\)\n$/);
  const head = /head (\d+:[0-9a-f]{64})/.exec(ok)?.[1] ?? '';
  assert.equal((await cli(dir, ['verify', '--expect', head])).startsWith('audit chain holds'), true);
  assert.equal((JSON.parse(await cli(dir, ['verify', '--json'])) as VerifyResult).ok, true);

  const db = new DatabaseSync(join(dir, 'audit.db'));
  db.exec("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET event = replace(event, '\"allow\":false', '\"allow\":true'), decision = 'allow' WHERE seq = 3");
  db.close();
  const broken = await cliError(dir, ['verify']);
  assert.equal(broken.code, 'AUDIT_CHAIN_BROKEN');
  assert.equal(broken.error.details?.['seq'], 3);
  assert.match(broken.out, /^audit chain BROKEN at seq 3: its hash does not match its contents \(edited\) \(2 records before it hold\); no signed checkpoint/);
  assert.notEqual(codeInfo('AUDIT_CHAIN_BROKEN').exit, 0);
  const json = await cliError(dir, ['verify', '--json']);
  const result = JSON.parse(json.out) as VerifyResult;
  assert.deepEqual({ ok: result.ok, brokenAt: result.ok ? null : result.brokenAt }, { ok: false, brokenAt: 3 });
});

test('export is JSON Lines that re-verify on their own: every hash recomputes from the line', async () => {
  const dir = await home();
  const records = (await cli(dir, ['export'])).trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
  assert.equal(records.length, 6);
  let prev = GENESIS_HASH;
  for (const [i, r] of records.entries()) {
    assert.equal(r.seq, i + 1);
    assert.equal(r.prevHash, prev);
    assert.equal(recordHash(r.seq, r.prevHash, r.at, canonicalJson(r.event)), r.hash);
    prev = r.hash;
  }
});

test('a corrupted database is AUDIT_CORRUPT for every subcommand, and the file is not touched', async () => {
  const dir = await home();
  const path = join(dir, 'audit.db');
  const bytes = readFileSync(path);
  writeFileSync(path, bytes.subarray(0, 4096 + 100));
  const damaged = readFileSync(path);
  for (const args of [['list'], ['show', '1'], ['verify'], ['export']]) assert.equal((await cliError(dir, args)).code, 'AUDIT_CORRUPT', args.join(' '));
  assert.deepEqual(readFileSync(path), damaged);
});

test('verify reads every page: an index page off the append path, damaged, is AUDIT_CORRUPT there though opening the log (bounded) does not read it; the file is not touched', async () => {
  const dir = join(mkdtempSync(join(root, 'h-')), '.airlock');
  const store = SqliteAuditStore.open({ env: { AIRLOCK_HOME: dir } });
  for (let i = 0; i < 40; i++) await store.append(Array.from({ length: 50 }, (_, j) => decision('acme', `sbx_${i}_${j}`, j % 2 === 0)));
  await store.close();
  assert.ok((await cli(dir, ['verify'])).startsWith('audit chain holds: 2000 records'), 'control: the undamaged log verifies');
  const path = join(dir, 'audit.db');
  const probe = new DatabaseSync(path, { readOnly: true });
  const page = Number(probe.prepare("SELECT pageno FROM dbstat WHERE name = 'audit_events_sandbox' AND pagetype = 'leaf' ORDER BY pageno LIMIT 1").get()?.['pageno']);
  const pageSize = Number(probe.prepare('PRAGMA page_size').get()?.['page_size']);
  probe.close();
  const bytes = readFileSync(path);
  bytes.fill(0xa5, (page - 1) * pageSize, page * pageSize);
  writeFileSync(path, bytes);
  // Opening checks the header, schema and the pages an append reads, not this one: it opens.
  await SqliteAuditStore.open({ path }).close();
  const damaged = readFileSync(path);
  const r = await cliError(dir, ['verify']);
  assert.equal(r.code, 'AUDIT_CORRUPT', r.error.message);
  assert.match(r.error.message, /quick_check/);
  assert.deepEqual(readFileSync(path), damaged);
});
