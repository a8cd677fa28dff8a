// The checkpoint key and witness files are only used from places the database's attacker can't
// change: each refusal (symlink, loose mode, foreign owner, writable directory, inside
// AIRLOCK_HOME) beside the control that loads.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GENESIS_HASH } from '../../src/audit/chain.ts';
import { keyId, signCheckpoint } from '../../src/audit/checkpoint.ts';
import { loadCheckpointKey } from '../../src/audit/checkpoint-key.ts';
import { FileWitness } from '../../src/audit/checkpoint-witness.ts';
import { createAirlock } from '../../src/index.ts';

const root = mkdtempSync(join(tmpdir(), 'airlock-cpkey-'));
after(() => rmSync(root, { recursive: true, force: true }));

function place(): { dir: string; home: string; key: string } {
  const base = mkdtempSync(join(root, 'p-'));
  const dir = join(base, 'cp');
  return { dir, home: join(base, '.airlock'), key: join(dir, 'checkpoint.key') };
}

test('control: the key is made on first use (0600, in a 0700 directory) and the same key is used after', () => {
  const p = place();
  const first = loadCheckpointKey({ path: p.key, home: p.home, create: 'if-missing' });
  assert.equal(statSync(p.key).mode & 0o777, 0o600);
  assert.equal(statSync(p.key).uid, process.geteuid?.());
  assert.equal(statSync(p.dir).mode & 0o777, 0o700);
  const again = loadCheckpointKey({ path: p.key, home: p.home, create: 'if-missing' });
  assert.equal(keyId(again.publicKey), keyId(first.publicKey));
  assert.equal(loadCheckpointKey({ path: join(p.dir, 'other.key'), home: p.home, create: 'never' }), null, 'verifying makes no key');
  assert.equal(existsSync(join(p.dir, 'other.key')), false);
});

test('a key file that is a symlink is refused, and the file it points at is not read or replaced', () => {
  const p = place();
  mkdirSync(p.dir, { mode: 0o700 });
  const planted = join(root, `planted-${process.pid}.key`);
  writeFileSync(planted, 'not a key', { mode: 0o600 });
  symlinkSync(planted, p.key);
  assert.throws(() => loadCheckpointKey({ path: p.key, home: p.home, create: 'if-missing' }), { code: 'AUDIT_KEY_UNSAFE' });
  assert.equal(readFileSync(planted, 'utf8'), 'not a key');
  assert.ok(lstatSync(p.key).isSymbolicLink(), 'left as it was');
});

test('a key others may read, a key of another owner, or a directory others may write is refused', () => {
  const loose = place();
  loadCheckpointKey({ path: loose.key, home: loose.home, create: 'if-missing' });
  chmodSync(loose.key, 0o644);
  assert.throws(() => loadCheckpointKey({ path: loose.key, home: loose.home, create: 'if-missing' }), { code: 'AUDIT_KEY_UNSAFE', message: /mode 644/ });

  const foreign = place();
  loadCheckpointKey({ path: foreign.key, home: foreign.home, create: 'if-missing' });
  chownSync(foreign.key, 4242, 4242);
  assert.throws(() => loadCheckpointKey({ path: foreign.key, home: foreign.home, create: 'if-missing' }), { code: 'AUDIT_KEY_UNSAFE', message: /uid 4242/ });

  const writable = place();
  loadCheckpointKey({ path: writable.key, home: writable.home, create: 'if-missing' });
  chmodSync(writable.dir, 0o770);
  assert.throws(() => loadCheckpointKey({ path: writable.key, home: writable.home, create: 'if-missing' }), { code: 'AUDIT_KEY_UNSAFE', message: /group or others may write/ });
});

test('a checkpoint directory inside AIRLOCK_HOME is refused before anything is made there; outside it loads', () => {
  const p = place();
  mkdirSync(p.home, { mode: 0o700 });
  const inside = join(p.home, 'cp');
  assert.throws(() => createAirlock({ home: p.home, checkpoint: { dir: inside } }), { code: 'AUDIT_KEY_UNSAFE', message: /inside AIRLOCK_HOME/ });
  assert.equal(existsSync(inside), false, 'no key was made inside the home');
  assert.equal(existsSync(join(p.home, 'audit.db')), false, 'and no log was opened');
  // Control: the same home with the key outside it.
  const airlock = createAirlock({ home: p.home, checkpoint: { dir: p.dir } });
  assert.ok(existsSync(p.key));
  return airlock.close();
});

test('a witness file that is a symlink or writable by others is refused (publish and latest); control: a sound one reads back', async () => {
  const p = place();
  const key = loadCheckpointKey({ path: p.key, home: p.home, create: 'if-missing' });
  const witness = new FileWitness({ dir: p.dir, home: p.home });
  const cp = signCheckpoint(key.privateKey, 'sqlite:/x/audit.db', { seq: 1, hash: GENESIS_HASH.replace(/0$/, '1') }, new Date());
  await witness.publish(cp);
  assert.deepEqual(await witness.latest(cp.log), cp);
  const file = witness.fileOf(cp.log);
  assert.equal(statSync(file).mode & 0o777, 0o644);

  chmodSync(file, 0o666);
  await assert.rejects(witness.latest(cp.log), { code: 'AUDIT_KEY_UNSAFE' });
  await assert.rejects(witness.publish(cp), { code: 'AUDIT_KEY_UNSAFE' });

  const other = 'sqlite:/y/audit.db';
  const target = join(root, `elsewhere-${process.pid}.jsonl`);
  writeFileSync(target, '');
  symlinkSync(target, witness.fileOf(other));
  await assert.rejects(witness.publish({ ...cp, log: other }), { code: 'AUDIT_KEY_UNSAFE' });
  assert.equal(readFileSync(target, 'utf8'), '', 'nothing was written through the link');
  await assert.rejects(witness.latest(other), { code: 'AUDIT_KEY_UNSAFE' });
});

test('a witness line cut short (power loss mid-write) is skipped: latest is the whole line before it, and the next publish stays whole', async () => {
  const p = place();
  const key = loadCheckpointKey({ path: p.key, home: p.home, create: 'if-missing' });
  const witness = new FileWitness({ dir: p.dir, home: p.home });
  const head = (seq: number): { seq: number; hash: string } => ({ seq, hash: GENESIS_HASH.replace(/0$/, String(seq)) });
  const first = signCheckpoint(key.privateKey, 'sqlite:/x/audit.db', head(1), new Date());
  await witness.publish(first);
  const file = witness.fileOf(first.log);
  const second = JSON.stringify(signCheckpoint(key.privateKey, first.log, head(2), new Date()));
  appendFileSync(file, second.slice(0, 40));
  assert.deepEqual(await witness.latest(first.log), first);
  const third = signCheckpoint(key.privateKey, first.log, head(3), new Date());
  await witness.publish(third);
  assert.deepEqual(await witness.latest(first.log), third);
  // Control: a whole line that is not a checkpoint is refused, not skipped.
  appendFileSync(file, 'garbage\n');
  await assert.rejects(witness.latest(first.log), { code: 'AUDIT_CHECKPOINT_INVALID' });
});
