// Signed checkpoints make a shortened or rewritten tail show. Each attack is the one a writer of
// audit.db can do (drop the triggers, delete or replace the tail, move audit_head back), run by a
// real airlock and checked by the real CLI, beside an untouched control that passes.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdtempSync, symlinkSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { sealBatch, type ChainHead } from '../../src/audit/chain.ts';
import { signCheckpoint, type Checkpoint } from '../../src/audit/checkpoint.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import type { CheckpointWitness } from '../../src/audit/checkpoint-witness.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { codeInfo } from '../../src/core/errors.ts';
import { createAirlock } from '../../src/index.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const root = mkdtempSync(join(tmpdir(), 'airlock-checkpoint-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Recorded {
  readonly home: string;
  readonly cpDir: string;
  readonly db: string;
  /** The run ids, in the order they ran. */
  readonly runs: string[];
}

function env(home: string, cpDir: string): NodeJS.ProcessEnv {
  return { ...process.env, AIRLOCK_HOME: home, AIRLOCK_CHECKPOINT_DIR: cpDir };
}

/** The real CLI, `airlock run`, runs two isolate runs in tenant acme, each in its own process (whose close signs the head). */
async function recorded(): Promise<Recorded> {
  const base = mkdtempSync(join(root, 'h-'));
  const home = join(base, '.airlock');
  const cpDir = join(base, 'checkpoints');
  const file = join(base, 'add.mjs');
  writeFileSync(file, 'export default 40 + 2');
  const runs: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [MAIN, 'run', '--json', '--tenant', 'acme', file], { env: env(home, cpDir), timeout: 60_000 }, (error, stdout) => (error === null ? resolve(stdout) : reject(new Error(`airlock run failed: ${error.message}`))));
    });
    const r = JSON.parse(out) as { id: string; status: string; result: unknown };
    assert.deepEqual([r.status, r.result], ['ok', 42]);
    runs.push(r.id);
  }
  return { home, cpDir, db: join(home, 'audit.db'), runs };
}

function verifyCli(r: Recorded, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, [MAIN, 'audit', 'verify', ...args], {
    env: env(r.home, r.cpDir),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const DROP_TRIGGERS = ['audit_events_no_update', 'audit_events_no_delete', 'audit_head_forward', 'audit_head_no_delete'].map((t) => `DROP TRIGGER IF EXISTS ${t};`).join(' ');

/** The attack: drop the triggers, delete every record from the last run's first one on, move the head back. Returns the new head. */
function truncateLastRun(r: Recorded): ChainHead {
  const db = new DatabaseSync(r.db);
  try {
    db.exec(DROP_TRIGGERS);
    const first = Number(db.prepare('SELECT min(seq) AS s FROM audit_events WHERE run = ?').get(r.runs[r.runs.length - 1] ?? '')?.['s']);
    assert.ok(first > 1, 'the last run has records');
    db.prepare('DELETE FROM audit_events WHERE seq >= ?').run(first);
    const before = db.prepare('SELECT seq, hash FROM audit_events WHERE seq = ?').get(first - 1);
    const head = { seq: Number(before?.['seq']), hash: String(before?.['hash']) };
    db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1').run(head.seq, head.hash);
    return head;
  } finally {
    db.close();
  }
}

function rowCount(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number(db.prepare('SELECT count(*) AS n FROM audit_events').get()?.['n']);
  } finally {
    db.close();
  }
}

/** The chain checked on its own (no checkpoint): what `airlock audit verify` did before checkpoints. */
async function chainAlone(path: string): Promise<boolean> {
  const store = SqliteAuditStore.open({ path });
  try {
    return (await verifyChain(store)).ok;
  } finally {
    await store.close();
  }
}

function witnessFile(r: Recorded): string {
  const dir = join(r.cpDir, 'checkpoints');
  const files = readdirSync(dir);
  assert.equal(files.length, 1, 'one witness file for the one log');
  return join(dir, String(files[0]));
}

function lastCheckpoint(r: Recorded): Checkpoint {
  const lines = readFileSync(witnessFile(r), 'utf8').trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '') as Checkpoint;
}

test('a deleted tail with audit_head moved back fails verify (AUDIT_TRUNCATED); the untouched control passes', async () => {
  const [control, attacked] = await Promise.all([recorded(), recorded()]);
  const length = rowCount(attacked.db);

  const ok = verifyCli(control);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^audit chain holds: \d+ records; head \d+:[0-9a-f]{64}; checked against the checkpoint at seq \d+ signed at \S+ by key [0-9a-f]{32} \(from \/.*\.jsonl\)\n$/);

  const head = truncateLastRun(attacked);
  assert.equal(rowCount(attacked.db), head.seq, 'the records are gone');
  assert.ok(head.seq < length);
  assert.equal(await chainAlone(attacked.db), true, 'the chain alone still holds: this is the attack checkpoints exist for');

  const caught = verifyCli(attacked);
  assert.notEqual(caught.status, 0, `verify must fail: ${caught.stdout}`);
  assert.equal(caught.status, codeInfo('AUDIT_TRUNCATED').exit);
  assert.match(caught.stderr, /AUDIT_TRUNCATED/);
  const cp = lastCheckpoint(attacked);
  assert.equal(cp.seq, length, "the last process's close signed the final head");
  assert.match(caught.stdout, new RegExp(`^audit chain BROKEN at seq ${head.seq + 1}: the log ends at seq ${head.seq}, but the checkpoint signed at \\S+ by key [0-9a-f]{32} says it reached seq ${cp.seq}: records ${head.seq + 1}–${cp.seq} were deleted .*checked against the checkpoint at seq ${cp.seq}`));
  const witnessBefore = readFileSync(witnessFile(attacked));
  const json = verifyCli(attacked, ['--json']);
  const parsed = JSON.parse(json.stdout) as { ok: boolean; code: string; brokenAt: number; checkpoint: Checkpoint; checkpointFrom: string };
  assert.deepEqual({ ok: parsed.ok, code: parsed.code, brokenAt: parsed.brokenAt, seq: parsed.checkpoint.seq }, { ok: false, code: 'AUDIT_TRUNCATED', brokenAt: head.seq + 1, seq: cp.seq });
  assert.equal(parsed.checkpointFrom, witnessFile(attacked));
  assert.deepEqual(readFileSync(witnessFile(attacked)), witnessBefore, 'verify wrote nothing to the witness');
});

test('audit.db swapped for a symlink to a truncated copy still fails verify: the log is named by where it was configured, not by what it points at', async () => {
  const r = await recorded();
  const copy = join(r.home, 'elsewhere.db');
  copyFileSync(r.db, copy);
  const moved = { ...r, db: copy };
  truncateLastRun(moved);
  rmSync(r.db);
  rmSync(`${r.db}-wal`, { force: true });
  rmSync(`${r.db}-shm`, { force: true });
  symlinkSync(copy, r.db);
  assert.equal(await chainAlone(r.db), true, 'the chain alone holds through the link');
  const caught = verifyCli(r);
  assert.equal(caught.status, codeInfo('AUDIT_TRUNCATED').exit, caught.stdout);
});

test('a rewritten tail (records replaced by a recomputed valid chain) fails verify (AUDIT_CHAIN_BROKEN at the checkpoint)', async () => {
  const r = await recorded();
  const length = rowCount(r.db);
  const db = new DatabaseSync(r.db);
  try {
    const head = truncateLastRun(r);
    // The same number of records again, each a decision the run never made, chained after the new head.
    const forged: AuditEvent[] = Array.from({ length: length - head.seq + 1 }, (_, i) => ({
      v: 1,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      kind: 'decision',
      tenant: 'acme',
      sandbox: 'sbx_forged',
      run: 'run_forged',
      door: 'tool',
      subject: 'sendMail',
      allow: true,
      reason: 'granted',
    }));
    const rows = sealBatch(head, forged);
    const insert = db.prepare('INSERT INTO audit_events (seq, prev_hash, hash, at, tenant, sandbox, run, kind, status, decision, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const x of rows) insert.run(x.seq, x.prevHash, x.hash, x.at, x.tenant, x.sandbox, x.run, x.kind, x.status, x.decision, x.event);
    const last = rows[rows.length - 1];
    db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1').run(last?.seq ?? 0, last?.hash ?? '');
  } finally {
    db.close();
  }
  assert.ok(rowCount(r.db) > length, 'the log is as long as before, and longer');
  assert.equal(await chainAlone(r.db), true, 'the rewritten chain is consistent on its own');
  const caught = verifyCli(r);
  assert.notEqual(caught.status, 0, `verify must fail: ${caught.stdout}`);
  assert.equal(caught.status, codeInfo('AUDIT_CHAIN_BROKEN').exit);
  const cp = lastCheckpoint(r);
  assert.match(caught.stdout, new RegExp(`^audit chain BROKEN at seq ${cp.seq}: its hash differs from the checkpoint signed at \\S+ by key ${cp.key} \\(the chain was rewritten\\)`));
  assert.match(caught.stderr, /AUDIT_CHAIN_BROKEN/);
});

test('a forged checkpoint is refused: unknown key, bad signature, or edited fields (AUDIT_CHECKPOINT_INVALID); the genuine one passes', async () => {
  const r = await recorded();
  const genuine = lastCheckpoint(r);
  const file = witnessFile(r);
  const ok = verifyCli(r);
  assert.equal(ok.status, 0, ok.stdout);

  // The attacker truncates, then adds a checkpoint that matches the shortened log.
  const head = truncateLastRun(r);
  const attackerKey = generateKeyPairSync('ed25519').privateKey;
  const unknownKey = signCheckpoint(attackerKey, genuine.log, head, new Date());
  const badSig = { ...unknownKey, key: genuine.key };
  const edited = { ...genuine, seq: head.seq, hash: head.hash };
  for (const [name, forged, why] of [
    ['unknown key', unknownKey, /which is not a trusted checkpoint key/],
    ['bad signature', badSig, /its signature does not verify/],
    ['edited fields', edited, /its signature does not verify/],
  ] as const) {
    appendFileSync(file, `${JSON.stringify(forged)}\n`);
    const refused = verifyCli(r);
    assert.equal(refused.status, codeInfo('AUDIT_CHECKPOINT_INVALID').exit, name);
    assert.match(refused.stdout, why, name);
    assert.match(refused.stderr, /AUDIT_CHECKPOINT_INVALID/, name);
  }
  // The same through --checkpoint (a checkpoint fetched from a remote witness).
  const given = join(mkdtempSync(join(root, 'given-')), 'cp.json');
  appendFileSync(given, JSON.stringify(badSig));
  assert.equal(verifyCli(r, ['--checkpoint', given]).status, codeInfo('AUDIT_CHECKPOINT_INVALID').exit);
  // --public-key: a stranger's key is not trusted; the host key's public half, given so, is (control).
  const strangerPem = join(mkdtempSync(join(root, 'pub-')), 'stranger.pem');
  writeFileSync(strangerPem, createPublicKey(attackerKey).export({ format: 'pem', type: 'spki' }));
  const hostPem = join(mkdtempSync(join(root, 'pub-')), 'host.pem');
  writeFileSync(hostPem, createPublicKey(readFileSync(join(r.cpDir, 'checkpoint.key'))).export({ format: 'pem', type: 'spki' }));
  const real0 = join(mkdtempSync(join(root, 'given-')), 'cp.json');
  appendFileSync(real0, JSON.stringify(genuine));
  const byStranger = verifyCli(r, ['--checkpoint', real0, '--public-key', strangerPem]);
  assert.equal(byStranger.status, codeInfo('AUDIT_CHECKPOINT_INVALID').exit);
  assert.match(byStranger.stdout, /not a trusted checkpoint key/);
  assert.equal(verifyCli(r, ['--checkpoint', real0, '--public-key', hostPem]).status, codeInfo('AUDIT_TRUNCATED').exit, 'the host key checks the signature; the truncation shows');
  // Control: the genuine checkpoint given the same way still catches the truncation it covers.
  const real = join(mkdtempSync(join(root, 'given-')), 'cp.json');
  appendFileSync(real, JSON.stringify(genuine));
  const truncated = verifyCli(r, ['--checkpoint', real]);
  assert.equal(truncated.status, codeInfo('AUDIT_TRUNCATED').exit, truncated.stdout);
});

test('airlock refuses to extend a truncated log: the next run records nothing and says why', async () => {
  const r = await recorded();
  truncateLastRun(r);
  const before = rowCount(r.db);
  const airlock = createAirlock({ home: r.home, checkpoint: { dir: r.cpDir }, isolate: { workersPerTenant: 1 } });
  try {
    const result = await airlock.run({ tenant: 'acme', code: 'export default 1' });
    assert.notEqual(result.status, 'ok');
    assert.equal(result.error?.code, 'AUDIT_TRUNCATED', JSON.stringify(result.error));
  } finally {
    await airlock.close().catch(() => undefined);
  }
  assert.equal(rowCount(r.db), before, 'nothing was appended after the deleted tail');
  // Control: an untouched log takes the next run.
  const c = await recorded();
  const n = rowCount(c.db);
  const again = createAirlock({ home: c.home, checkpoint: { dir: c.cpDir }, isolate: { workersPerTenant: 1 } });
  try {
    assert.equal((await again.run({ tenant: 'acme', code: 'export default 1' })).status, 'ok');
  } finally {
    await again.close();
  }
  assert.ok(rowCount(c.db) > n);
  assert.equal(verifyCli(c).status, 0);
});

test("an operator's witness (checkpoint.witnesses) gets each checkpoint too, and verify checks against one fetched from it", async () => {
  const base = mkdtempSync(join(root, 'hook-'));
  const home = join(base, '.airlock');
  const cpDir = join(base, 'checkpoints');
  const kept: Checkpoint[] = [];
  const remote: CheckpointWitness = {
    name: 'a remote witness',
    publish: (cp) => Promise.resolve(void kept.push(cp)),
    latest: (log) => Promise.resolve(kept.filter((c) => c.log === log).at(-1) ?? null),
  };
  const airlock = createAirlock({ home, checkpoint: { dir: cpDir, witnesses: [remote] }, isolate: { workersPerTenant: 1 } });
  try {
    assert.equal((await airlock.run({ tenant: 'acme', code: 'export default 1' })).status, 'ok');
  } finally {
    await airlock.close();
  }
  const r: Recorded = { home, cpDir, db: join(home, 'audit.db'), runs: [] };
  const last = kept.at(-1);
  assert.equal(last?.seq, rowCount(r.db), 'the remote witness holds the final head');
  const fetched = join(base, 'fetched.json');
  writeFileSync(fetched, JSON.stringify(last));
  const ok = verifyCli(r, ['--checkpoint', fetched]);
  assert.equal(ok.status, 0, ok.stdout);
  assert.match(ok.stdout, new RegExp(`checked against the checkpoint at seq ${String(last.seq)} .*\\(from ${fetched}\\)`));
  // The local file witness is then deleted by someone who can (root): the remote one still catches a truncation.
  rmSync(join(cpDir, 'checkpoints'), { recursive: true });
  const db = new DatabaseSync(r.db);
  try {
    db.exec(`${DROP_TRIGGERS} DELETE FROM audit_events WHERE seq > 1; UPDATE audit_head SET seq = 1, hash = (SELECT hash FROM audit_events WHERE seq = 1) WHERE id = 1;`);
  } finally {
    db.close();
  }
  assert.equal(verifyCli(r).status, 0, 'with the file witness gone, the chain alone holds');
  assert.equal(verifyCli(r, ['--checkpoint', fetched]).status, codeInfo('AUDIT_TRUNCATED').exit);
});
