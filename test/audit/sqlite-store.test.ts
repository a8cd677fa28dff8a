import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import type { AuditRecord } from '../../src/audit/chain.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { runCheckpointConformance } from './checkpoint-conformance.ts';
import { decision, runStoreConformance, type StoreHarness } from './store-conformance.ts';

const CHILD = join(import.meta.dirname, 'sqlite-child.ts');
const root = mkdtempSync(join(tmpdir(), 'airlock-audit-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));

function freshDir(): string {
  return mkdtempSync(join(root, 'log-'));
}

function rawExec(path: string, sql: string): void {
  const db = new DatabaseSync(path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

const DROP_TRIGGERS = ['audit_events_no_update', 'audit_events_no_delete', 'audit_head_forward', 'audit_head_no_delete'].map((t) => `DROP TRIGGER IF EXISTS ${t};`).join(' ');

const harness: StoreHarness = {
  fresh() {
    const dir = freshDir();
    const path = join(dir, 'audit.db');
    const store = SqliteAuditStore.open({ path });
    return Promise.resolve({
      store,
      openAnother: () => Promise.resolve(SqliteAuditStore.open({ path })),
      sql: (s: string) => Promise.resolve().then(() => rawExec(path, s)),
      tamper: (s: string) => Promise.resolve().then(() => rawExec(path, `${DROP_TRIGGERS} ${s}`)),
      close: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  },
};

runStoreConformance('sqlite', harness);
runCheckpointConformance('sqlite', harness);

function child(args: string[]): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('sqlite audit store on disk', () => {
  test('by default the log is $AIRLOCK_HOME/audit.db, in a directory created with mode 0700, in WAL mode', async () => {
    const home = join(freshDir(), 'home', '.airlock');
    const store = SqliteAuditStore.open({ env: { AIRLOCK_HOME: home } });
    await store.append([decision('acme', 'sbx_a', true)]);
    await store.close();
    assert.equal(store.path, join(home, 'audit.db'));
    assert.equal(statSync(home).mode & 0o777, 0o700);
    const db = new DatabaseSync(store.path, { readOnly: true });
    assert.equal(db.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal');
    assert.equal(db.prepare('SELECT count(*) AS n FROM audit_events').get()?.['n'], 1);
    db.close();
  });

  test('events are durable once flush resolves: a fresh process sees them after the writer was killed -9', () => {
    const path = join(freshDir(), 'audit.db');
    const flushed = child(['flush-then-die', path]);
    assert.equal(flushed.signal, 'SIGKILL', String(flushed.stderr));
    assert.equal(flushed.stdout, 'flushed\n');
    // Control: a writer killed before flush leaves nothing, so the test can tell the two apart.
    const controlPath = join(freshDir(), 'audit.db');
    const unflushed = child(['append-then-die', controlPath]);
    assert.equal(unflushed.signal, 'SIGKILL', String(unflushed.stderr));

    const check = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { SqliteAuditStore } from ${JSON.stringify(join(import.meta.dirname, '../../src/audit/sqlite-store.ts'))};
      import { verifyChain } from ${JSON.stringify(join(import.meta.dirname, '../../src/audit/verify.ts'))};
      const out = [];
      for (const path of process.argv.slice(1)) {
        const s = SqliteAuditStore.open({ path });
        out.push({ kinds: (await s.query({})).map((r) => r.event.kind), ok: (await verifyChain(s)).ok });
        await s.close();
      }
      process.stdout.write(JSON.stringify(out));
    `, path, controlPath], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(check.status, 0, check.stderr);
    assert.deepEqual(JSON.parse(check.stdout), [
      { kinds: ['run.started', 'decision', 'decision', 'decision', 'run.ended'], ok: true },
      { kinds: [], ok: true },
    ]);
  });

  test('three processes appending to one file at once build one gapless chain', async () => {
    const path = join(freshDir(), 'audit.db');
    await SqliteAuditStore.open({ path }).close();
    const { spawn } = await import('node:child_process');
    const codes = await Promise.all(['a', 'b', 'c'].map((name) => new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, [CHILD, 'hammer', path, name, '30'], { stdio: ['ignore', 'ignore', 'inherit'] });
      p.on('exit', (code) => resolve(code));
    })));
    assert.deepEqual(codes, [0, 0, 0]);
    const store = SqliteAuditStore.open({ path });
    const v = await verifyChain(store);
    assert.deepEqual({ ok: v.ok, count: v.count }, { ok: true, count: 450 });
    const all: AuditRecord[] = [];
    for (let after = 0; ; after += 1000) {
      const page = await store.query({ afterSeq: after });
      all.push(...page);
      if (page.length < 1000) break;
    }
    // Each flush of 5 is one transaction: a run's events are never interleaved with another's.
    for (let i = 0; i < all.length; i += 5) assert.ok(all.slice(i, i + 5).every((r) => r.event.sandbox === all[i]?.event.sandbox));
    await store.close();
  });
});

describe('a damaged database is reported, never recreated or rewritten', () => {
  /** A real audit log of several pages, closed (checkpointed). */
  async function realLog(): Promise<string> {
    const path = join(freshDir(), 'audit.db');
    const store = SqliteAuditStore.open({ path });
    for (let i = 0; i < 40; i += 1) await store.append([decision('acme', `sbx_${i}`, true), decision('acme', `sbx_${i}`, false)]);
    await store.close();
    assert.ok(statSync(path).size >= 8 * 4096);
    return path;
  }

  const cases: [string, () => Promise<string>][] = [
    ['an empty file', () => Promise.resolve(writeNew(Buffer.alloc(0)))],
    ['a file of garbage', () => Promise.resolve(writeNew(Buffer.from('not a database at all, just text. '.repeat(500))))],
    ['a SQLite database that is not an audit log', () => Promise.resolve(foreignDb())],
    ['a log truncated to half its pages', async () => {
      const path = await realLog();
      truncateSync(path, Math.floor(statSync(path).size / 4096 / 2) * 4096);
      return path;
    }],
    ['a log truncated mid-page', async () => {
      const path = await realLog();
      truncateSync(path, statSync(path).size - 1000);
      return path;
    }],
    ['a log with a page overwritten by garbage', async () => {
      const path = await realLog();
      const bytes = readFileSync(path);
      bytes.fill(0xa5, 3 * 4096, 4 * 4096);
      writeFileSync(path, bytes);
      return path;
    }],
  ];

  function writeNew(bytes: Buffer): string {
    const path = join(freshDir(), 'audit.db');
    writeFileSync(path, bytes);
    return path;
  }

  function foreignDb(): string {
    const path = join(freshDir(), 'audit.db');
    rawExec(path, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');");
    return path;
  }

  for (const [what, make] of cases) {
    test(`${what} → AUDIT_CORRUPT, and the file is left byte for byte as it was`, async () => {
      const path = await make();
      const before = readFileSync(path);
      const mtime = statSync(path).mtimeMs;
      assert.throws(() => SqliteAuditStore.open({ path }), (e: unknown) => {
        assert.ok(e instanceof AirlockError);
        assert.equal(e.code, 'AUDIT_CORRUPT', e.message);
        assert.match(e.message, /restore it from a backup/);
        return true;
      });
      assert.deepEqual(readFileSync(path), before);
      assert.equal(statSync(path).mtimeMs, mtime);
      assert.equal(existsSync(`${path}-journal`), false);
    });
  }

  test('a deleted database whose WAL is still there → AUDIT_CORRUPT, and no new log is created in its place', async () => {
    const path = join(freshDir(), 'audit.db');
    const store = SqliteAuditStore.open({ path });
    await store.append([decision('acme', 'sbx_a', true)]);
    assert.ok(existsSync(`${path}-wal`));
    rmSync(path);
    assert.throws(() => SqliteAuditStore.open({ path }), (e: unknown) => e instanceof AirlockError && e.code === 'AUDIT_CORRUPT' && /deleted or moved/.test(e.message));
    assert.equal(existsSync(path), false);
    await store.close();
  });

  test('control: the same real log, undamaged, opens and verifies', async () => {
    const path = await realLog();
    const store = SqliteAuditStore.open({ path });
    assert.deepEqual({ ...(await verifyChain(store)), head: null }, { ok: true, count: 80, head: null, checkpoint: null });
    await store.close();
  });
});

describe('a full disk', () => {
  const rootUser = process.getuid?.() === 0;
  test('flush rejects with AUDIT_UNAVAILABLE, keeps the event queued, loses nothing recorded, and succeeds once there is room', { skip: rootUser ? false : 'mounting a small tmpfs needs root' }, () => {
    const dir = freshDir();
    // A private mount namespace: the 4 MiB tmpfs exists only for the child and vanishes with it.
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=4m airlock-full "$0" && exec "$1" "$2" full-disk "$0"', dir, process.execPath, CHILD], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { failed: 'AUDIT_UNAVAILABLE', pendingAfterFailure: 1, storedWhileFull: 5, verifiedWhileFull: true, storedAfter: 6, verifiedAfter: true });
    assert.equal(existsSync(join(dir, 'audit.db')), false, 'the tmpfs was private to the child');
  });
});

test('a new log and its write-ahead files are private to their owner (0600)', async () => {
  const path = join(freshDir(), 'audit.db');
  const store = SqliteAuditStore.open({ path });
  try {
    await store.append([decision('acme', 'sbx_a', true)]);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      if (!existsSync(file)) continue;
      assert.equal(statSync(file).mode & 0o777, 0o600, `${file} is readable by others`);
    }
    assert.equal((await store.query({})).length, 1, 'control: the log works');
  } finally {
    await store.close();
  }
});
