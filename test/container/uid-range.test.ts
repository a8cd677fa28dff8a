// Nothing on the host but airlock can act as a sandbox: on a host with two ordinary users made by
// useradd (each handed a block of subordinate ids it can become with newuidmap), a sandbox uid
// range that overlaps a block is refused, and the default range is nobody's, so neither user can
// touch a sandbox's workspace.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import { createContainerSandbox, DEFAULT_RUN_DIR } from '../../src/container/index.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { hostUidOf, sandboxFixture, sh } from './helpers.ts';

const state = sandboxFixture();

interface User {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Every id block the user may map into a namespace of its own: its own id and its subordinate ids. */
  readonly blocks: readonly { readonly first: number; readonly count: number }[];
}

/** Subordinate id blocks from /etc/subuid and /etc/subgid (read here, not through airlock's parser). */
async function subordinate(): Promise<{ owner: string; first: number; count: number }[]> {
  const out: { owner: string; first: number; count: number }[] = [];
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    for (const line of (await readFile(file, 'utf8').catch(() => '')).split('\n')) {
      const [owner = '', first = '', count = ''] = line.split(':');
      if (owner !== '') out.push({ owner, first: Number(first), count: Number(count) });
    }
  }
  return out;
}

async function addUser(name: string): Promise<User> {
  execFileSync('/usr/sbin/useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  const uid = Number(execFileSync('/usr/bin/id', ['-u', name]).toString());
  const gid = Number(execFileSync('/usr/bin/id', ['-g', name]).toString());
  const sub = (await subordinate()).filter((c) => c.owner === name);
  return { name, uid, gid, blocks: [{ first: uid, count: 1 }, ...sub] };
}

/** Lock files this process holds in the uid lock directory. */
async function myLocks(): Promise<number[]> {
  const names = await readdir(`${DEFAULT_RUN_DIR}/uids`).catch(() => [] as string[]);
  const mine: number[] = [];
  for (const n of names.filter((x) => /^\d+\.lock$/.test(x))) {
    const text = await readFile(`${DEFAULT_RUN_DIR}/uids/${n}`, 'utf8').catch(() => '');
    if (text.split(' ')[0] === String(process.pid)) mine.push(Number(n.slice(0, -5)));
  }
  return mine;
}

test('with two useradd users, a uid range overlapping their subordinate ids is refused naming a free range; the default is nobody\'s and neither user can touch a workspace', { timeout: 120_000 }, async () => {
  const tag = `${process.pid % 100_000}`;
  const users: User[] = [];
  try {
    users.push(await addUser(`alt${tag}a`), await addUser(`alt${tag}b`));
    const second = users[1]!;
    const block = second.blocks.find((b) => b.count > 1);
    assert.ok(block !== undefined, 'useradd gave the second user a subordinate id block');
    // Attack: the range airlock used to draw from (200000-299999) holds part of that block.
    const audit = new MemoryAuditSink();
    const policy = compilePolicy({ version: 1 });
    const before = await myLocks();
    const attempt = await createContainerSandbox({ tenant: 'test', sandboxId: newId('sbx'), policy, audit, home: state.home!.home, uids: { first: 200_000, count: 100_000 } })
      .then(async (made) => {
        const uid = await hostUidOf(made);
        await made.destroy();
        return `made a sandbox as uid ${uid}`;
      }, (e: unknown) => e);
    assert.ok(attempt instanceof AirlockError && attempt.code === 'UID_RANGE_IN_USE' && /subuid|subgid/.test(attempt.message), String(attempt));
    const m = /AIRLOCK_UIDS=(\d+)\+(\d+)/.exec(attempt.message);
    const named = m === null ? undefined : { first: Number(m[1]), count: Number(m[2]) };
    assert.deepEqual(await myLocks(), before, 'no uid of the clashing range was taken');
    assert.deepEqual(audit.events, [], 'no sandbox was made');
    // The range the message names is free: a sandbox starts in it.
    assert.ok(named !== undefined);
    const blocks = [...users.flatMap((u) => u.blocks), ...(await subordinate())];
    assert.ok(!blocks.some((c) => c.first < named.first + named.count && named.first < c.first + c.count), 'the named range overlaps no block');
    // Control: the default range works (AIRLOCK_UIDS is not set here), and its uids are no user's.
    assert.equal(process.env['AIRLOCK_UIDS'], undefined);
    const { sbx } = await state.box!.make();
    const uid = await hostUidOf(sbx);
    await sbx.writeFile('secret.txt', 'tenant data');
    const r = await sh(sbx, 'cat secret.txt');
    assert.equal(r.stdout, 'tenant data');
    for (const u of users) {
      for (const b of u.blocks) assert.ok(uid < b.first || uid >= b.first + b.count, `${u.name} can't become the sandbox's uid ${uid} (block ${b.first}+${b.count})`);
      // Each user, as itself, can neither read nor write the workspace.
      const ws = `${DEFAULT_RUN_DIR}/sandboxes/${sbx.id}/workspace`;
      const asUser = (cmd: string) => spawnSync('/usr/bin/setpriv', [`--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', '--', '/bin/sh', '-c', cmd], { encoding: 'utf8' });
      assert.notEqual(asUser(`cat ${ws}/secret.txt`).status, 0);
      assert.notEqual(asUser(`echo x > ${ws}/planted`).status, 0);
    }
    assert.deepEqual((await sbx.listFiles()).map((e) => e.path), ['secret.txt'], 'nothing was planted');
  } finally {
    for (const u of users) spawnSync('/usr/sbin/userdel', [u.name]);
  }
  assert.deepEqual((await subordinate()).filter((c) => c.owner.startsWith(`alt${tag}`)), [], 'the test users are gone');
});
