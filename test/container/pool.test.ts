// The pool: sandboxes made ahead, each handed to exactly one taker, with the same isolation as a
// sandbox made on demand; the helpers it uses (mounts, processes) refuse what they must refuse;
// closing the pool leaves nothing behind.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { ContainerPool, DEFAULT_RUN_DIR } from '../../src/container/index.ts';
import { Mounter } from '../../src/container/mounter.ts';
import { HelperSpawner } from '../../src/container/spawner.ts';
import { quoteLine } from '../../src/container/standby.ts';
import { Cgroup } from '../../src/os/cgroup.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { processesOf, sandboxes, sh, tempHome } from './helpers.ts';

const state: { home?: Awaited<ReturnType<typeof tempHome>>; box?: ReturnType<typeof sandboxes>; pool?: ContainerPool } = {};
before(async () => {
  state.home = await tempHome();
  state.box = sandboxes(state.home.home);
  state.pool = new ContainerPool({ home: state.home.home, size: 2 });
});
after(async () => {
  await state.box?.cleanup();
  await state.pool?.close();
  await state.home?.done();
});

/** What a pool with its own run directory made: its sandbox directories and their cgroups. */
async function poolLeftovers(runDir: string): Promise<{ dirs: string[]; cgroups: string[] }> {
  const dirs = (await readdir(`${runDir}/sandboxes`).catch(() => [] as string[])).filter((n) => n.startsWith('pool_'));
  const cgroups = (await Cgroup.list()).filter((n) => dirs.some((d) => n === `pool.${d}`));
  return { dirs, cgroups };
}

test('a pooled sandbox runs its first command in its standby with the full isolation, then fresh launches', async () => {
  const pool = state.pool!;
  await pool.warm(compilePolicy({ version: 1, env: { GREETING: 'hi' } }));
  const a = await state.box!.make({ env: { GREETING: 'hi' } }, { pool });
  const probe = 'echo "pid=$$"; grep -E "^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; env | sort; ls /proc/self/fd';
  for (const round of ['standby', 'fresh launch']) {
    const r = await sh(a.sbx, probe);
    assert.equal(r.status, 'ok', `${round}: ${r.stderr}`);
    assert.match(r.stdout, /^pid=1$/m, round);
    assert.match(r.stdout, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m, round);
    assert.match(r.stdout, /^CapEff:\s+0+$/m, round);
    assert.match(r.stdout, /^CapBnd:\s+0+$/m, round);
    assert.match(r.stdout, /^NoNewPrivs:\s+1$/m, round);
    assert.match(r.stdout, /^Seccomp:\s+2$/m, round);
    // Exactly the policy's environment: nothing of the waiter (airlock_cmd, airlock_nl) leaks.
    assert.ok(!r.stdout.includes('airlock_'), r.stdout);
    // (The TLS trust variables point at the CA bundle: src/container/trust.ts.)
    assert.match(r.stdout, /^GREETING=hi\nHOME=\/workspace\nLANG=C\.UTF-8\nNODE_OPTIONS=--use-openssl-ca\nPATH=\S+\nPIP_CERT=\S+\nPWD=\/workspace\nREQUESTS_CA_BUNDLE=\S+\nSSL_CERT_FILE=\S+\nTMPDIR=\/tmp\n/m, round);
    // The waiter's pipes are closed: only stdio and ls's own directory fd remain.
    assert.deepEqual(r.stdout.trim().split('\n').slice(-4), ['0', '1', '2', '3'], round);
  }
  const other = await state.box!.make({ env: { GREETING: 'hi' } }, { pool });
  assert.notEqual(a.uid, other.uid, 'two pooled sandboxes share no uid');
});

test('a taken sandbox is never handed out again: the next taker gets a new uid and an empty workspace', async () => {
  const pool = state.pool!;
  const policy = compilePolicy({ version: 1 });
  await pool.warm(policy);
  const first = await state.box!.make({}, { pool });
  await first.sbx.writeFile('secret.txt', 'tenant a');
  await first.sbx.destroy();
  const seen = new Set([first.uid]);
  for (let i = 0; i < 3; i++) {
    const next = await state.box!.make({}, { pool });
    assert.ok(!seen.has(next.uid), 'a uid is not reused while its sandbox could still be in the pool');
    seen.add(next.uid);
    assert.deepEqual(await next.sbx.listFiles(), []);
    const r = await sh(next.sbx, 'ls -A /workspace; cat /workspace/secret.txt');
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /No such file/);
    await next.sbx.destroy();
  }
});

test('while the refill makes several at once, concurrent takers each get a sandbox of their own, under the policy\'s rlimits', async () => {
  const pool = new ContainerPool({ home: state.home!.home, size: 3, refillConcurrency: 2 });
  try {
    const doc = { limits: { openFiles: 77 } };
    await pool.warm(compilePolicy({ version: 1, ...doc }));
    // More takers than ready sandboxes: some are made for their taker while the refill runs.
    const made = await Promise.all(Array.from({ length: 5 }, () => state.box!.make(doc, { pool })));
    assert.equal(new Set(made.map((m) => m.uid)).size, made.length, 'no uid is handed to two takers');
    await Promise.all(made.map((m, i) => m.sbx.writeFile(`mine-${i}`, String(i))));
    const seen = await Promise.all(made.map((m) => sh(m.sbx, 'ulimit -n; ulimit -Hn; ls -A /workspace')));
    for (const [i, r] of seen.entries()) {
      assert.equal(r.status, 'ok', r.stderr);
      // Its own file only (no other taker's), and the limit set before its driver ran.
      assert.equal(r.stdout, `77\n77\nmine-${i}\n`);
    }
  } finally {
    await pool.close();
  }
});

test('the first command gets the limits too: a wall timeout kills its tree, a memory bomb is OOM-killed', async () => {
  const pool = state.pool!;
  const doc = { limits: { memoryMiB: 48, wallMs: 5000 } };
  await pool.warm(compilePolicy({ version: 1, ...doc }));
  const a = await state.box!.make(doc, { pool });
  const timeout = await sh(a.sbx, 'setsid sleep 60 & (sleep 60 &); sleep 60', 300);
  assert.equal(timeout.status, 'timeout');
  assert.deepEqual(await processesOf(a.uid), []);
  const b = await state.box!.make(doc, { pool });
  const bomb = await b.sbx.exec(['python3', '-c', 'x = []\nwhile True: x.append(bytearray(4 << 20))']);
  assert.equal(bomb.status, 'memory');
  // Control: the same sandbox still runs a small command afterwards.
  assert.equal((await sh(b.sbx, 'echo alive')).stdout, 'alive\n');
});

test('argv words with quotes, newlines and shell syntax reach the command unchanged', async () => {
  const pool = state.pool!;
  await pool.warm(compilePolicy({ version: 1 }));
  const { sbx } = await state.box!.make({}, { pool });
  const words = ["it's", 'two\nlines', '$(touch /workspace/pwned)', '`id`', '; rm -rf /workspace', '"', '\\', ' spaced '];
  const r = await sbx.exec(['python3', '-c', 'import json, sys; print(json.dumps(sys.argv[1:]))', ...words]);
  assert.deepEqual(JSON.parse(r.stdout), words);
  assert.deepEqual(await sbx.listFiles(), [], 'nothing in the words was run');
  assert.equal(quoteLine(["a'b"]), `'a'\\''b'`);
});

test('closing the pool removes every ready sandbox: no directory, cgroup or process of them is left', async () => {
  // Its own run directory and uids (outside the shared range), so only its sandboxes are counted.
  const runDir = `/run/airlock-pooltest-${process.pid}`;
  const pool = new ContainerPool({ home: state.home!.home, size: 2, runDir, uids: { first: 310_000 + (process.pid % 1000) * 4, count: 4 } });
  try {
    await pool.warm(compilePolicy({ version: 1, limits: { pids: 31 } }));
    const ready = await poolLeftovers(runDir);
    assert.equal(ready.dirs.length, 2, 'control: the pool made its sandboxes');
    assert.equal(ready.cgroups.length, 2, 'control: with their cgroups');
    const uids = await Promise.all(ready.dirs.map(async (d) => (await stat(`${runDir}/sandboxes/${d}/workspace`)).uid));
    assert.ok(uids.every((u) => u >= 310_000), String(uids));
    assert.equal((await Promise.all(uids.map((u) => processesOf(u)))).flat().length > 0, true, 'control: their standbys run');
    await pool.close();
    assert.deepEqual(await poolLeftovers(runDir), { dirs: [], cgroups: [] });
    assert.deepEqual(ready.cgroups.filter((c) => !c.startsWith('pool.')), []);
    assert.deepEqual((await Cgroup.list()).filter((c) => ready.cgroups.includes(c)), []);
    for (const uid of uids) assert.deepEqual(await processesOf(uid), []);
    assert.deepEqual((await readdir(`${runDir}/uids`)).filter((n) => n.endsWith('.lock')), [], 'no uid lock is held');
    await assert.rejects(pool.take(compilePolicy({ version: 1 }), { dir: 'x', cgroup: 'test.x' }), (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_CLOSED');
  } finally {
    await pool.close();
    await rm(runDir, { recursive: true, force: true });
  }
});

test('the mount helper mounts only workspaces under the sandboxes directory', async () => {
  const base = `${DEFAULT_RUN_DIR}/sandboxes/mounter-test-${process.pid}`;
  const outside = `/tmp/airlock-mounter-${process.pid}/workspace`;
  await mkdir(`${base}/workspace`, { recursive: true });
  await mkdir(outside, { recursive: true });
  const m = new Mounter(`${DEFAULT_RUN_DIR}/sandboxes`);
  try {
    await assert.rejects(m.mountTmpfs(outside, { bytes: 1 << 20, inodes: 64, uid: 250_000, gid: 250_000 }), (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_UNAVAILABLE');
    await assert.rejects(m.mountTmpfs(`${DEFAULT_RUN_DIR}/sandboxes/../etc/workspace`, { bytes: 1 << 20, inodes: 64, uid: 250_000, gid: 250_000 }));
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(outside), 'nothing was mounted outside');
    // Control: inside, the same request mounts a capped tmpfs owned by the uid, and unmounts.
    await m.mountTmpfs(`${base}/workspace`, { bytes: 1 << 20, inodes: 64, uid: 250_000, gid: 250_000 });
    assert.match(await readFile('/proc/self/mountinfo', 'utf8'), new RegExp(`${base}/workspace .*tmpfs airlock-ws .*size=1024k,nr_inodes=64`));
    assert.equal((await stat(`${base}/workspace`)).uid, 250_000);
    await m.unmount(`${base}/workspace`);
    assert.ok(!(await readFile('/proc/self/mountinfo', 'utf8')).includes(`${base}/workspace`));
  } finally {
    m.close();
    await rm(base, { recursive: true, force: true });
    await rm(`/tmp/airlock-mounter-${process.pid}`, { recursive: true, force: true });
  }
});

test('the process helper gives a child only the fds, uid and environment asked for', async () => {
  const spawner = new HelperSpawner();
  try {
    const p = await spawner.spawn({ argv: ['/bin/sh', '-c', 'id -u; id -G; env; ls /proc/self/fd; cat <&5'], uid: 250_001, gid: 250_001, files: [{ fd: 5, path: '/etc/hostname' }], pipes: [] });
    const chunks: Buffer[] = [];
    p.stream(1)?.on('data', (b: Buffer) => chunks.push(b));
    p.stream(0)?.end();
    const [code] = await p.exited;
    assert.equal(code, 0);
    const lines = Buffer.concat(chunks).toString().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['250001', '250001'], 'its uid and gid, no supplementary groups');
    // env printed nothing but PWD (the shell's own); ls shows 0-2, the granted 5, and its own dir fd.
    assert.deepEqual(lines.slice(2, 3), ['PWD=/']);
    assert.deepEqual(lines.slice(3, 8), ['0', '1', '2', '3', '5']);
    assert.equal(lines.slice(8).join('\n'), await readFile('/etc/hostname', 'utf8'));
  } finally {
    spawner.close();
  }
});
