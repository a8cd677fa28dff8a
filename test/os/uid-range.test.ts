// The sandbox uid range check, on account files the test writes: each kind of claim is a clash,
// the message names a range that is free, and AIRLOCK_UIDS is read strictly.
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { checkUidRange, DEFAULT_SANDBOX_UIDS, sandboxUids } from '../../src/os/uid-range.ts';
import { UidAllocator } from '../../src/os/uids.ts';

async function etcWith(files: Record<string, string>): Promise<{ etc: string; done: () => Promise<void> }> {
  const etc = await mkdtemp(`${tmpdir()}/airlock-etc-`);
  for (const [name, text] of Object.entries(files)) await writeFile(`${etc}/${name}`, text);
  return { etc, done: () => rm(etc, { recursive: true, force: true }) };
}

const inUse = (pattern: RegExp) => (e: unknown) => e instanceof AirlockError && e.code === 'UID_RANGE_IN_USE' && pattern.test(e.message);

test('a range that a user, a group or a subordinate block holds is refused, naming the holder and a free range', async () => {
  const { etc, done } = await etcWith({
    passwd: 'root:x:0:0::/root:/bin/sh\nsvc:x:1900000005:100::/:/usr/sbin/nologin\n',
    group: 'root:x:0:\ngrp:x:1900050000:\n',
    subuid: 'alice:100000:65536\nbob:165536:65536\n',
    subgid: 'alice:100000:65536\nbob:165536:65536\ncarol:1900090000:65536\n',
  });
  try {
    await assert.rejects(checkUidRange({ first: 200_000, count: 100_000 }, etc), inUse(/subuid gives bob ids 165536-231071.*AIRLOCK_UIDS=1900155536\+100000/));
    await assert.rejects(checkUidRange({ first: 1_900_000_000, count: 10 }, etc), inUse(/passwd gives id 1900000005 to svc/));
    await assert.rejects(checkUidRange({ first: 1_900_049_000, count: 2000 }, etc), inUse(/group gives id 1900050000 to grp/));
    await assert.rejects(checkUidRange({ first: 1_900_100_000, count: 10 }, etc), inUse(/subgid gives carol/));
    // Control: the range the first message named, and a range between the claims, are accepted.
    await checkUidRange({ first: 1_900_155_536, count: 100_000 }, etc);
    await checkUidRange({ first: 1_900_000_006, count: 1000 }, etc);
  } finally {
    await done();
  }
});

test('the default range is free on a host whose account files useradd filled to SUB_UID_MAX', async () => {
  // Debian's useradd hands out blocks of 65536 from 100000 up to SUB_UID_MAX 600100000.
  const blocks = Array.from({ length: Math.floor(600_000_000 / 65_536) }, (_, i) => `u${i}:${100_000 + i * 65_536}:65536`).join('\n');
  const { etc, done } = await etcWith({ passwd: 'root:x:0:0::/root:/bin/sh\n', subuid: blocks, subgid: blocks });
  try {
    await checkUidRange(DEFAULT_SANDBOX_UIDS, etc);
    await assert.rejects(checkUidRange({ first: 600_000_000, count: 10 }, etc), inUse(/subuid gives u/));
  } finally {
    await done();
  }
});

test('AIRLOCK_UIDS chooses the range; a malformed value is INVALID_REQUEST', () => {
  assert.deepEqual(sandboxUids({}), DEFAULT_SANDBOX_UIDS);
  assert.deepEqual(sandboxUids({ AIRLOCK_UIDS: '1950000000+500' }), { first: 1_950_000_000, count: 500 });
  assert.throws(() => sandboxUids({ AIRLOCK_UIDS: '200000-300000' }), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST' && /FIRST\+COUNT/.test(e.message));
});

test('an allocator checks again when the account files change: a block added while it runs stops it handing out uids', async () => {
  const { etc, done } = await etcWith({ passwd: 'root:x:0:0::/root:/bin/sh\n', subuid: 'alice:100000:65536\n', subgid: 'alice:100000:65536\n' });
  const stateDir = await mkdtemp(`${tmpdir()}/airlock-uids-`);
  try {
    const uids = new UidAllocator({ stateDir, first: 1_900_000_000, count: 4, etc });
    const lease = await uids.acquire();
    await lease.release();
    // useradd replaces the file: a new user's block now covers the range.
    await writeFile(`${etc}/subuid.new`, 'alice:100000:65536\nmallory:1899990000:65536\n');
    await rename(`${etc}/subuid.new`, `${etc}/subuid`);
    await assert.rejects(uids.acquire(), inUse(/subuid gives mallory/));
    assert.deepEqual(await uids.held(), [], 'no uid went out');
    // Control: the block removed again, the same allocator hands out uids.
    await writeFile(`${etc}/subuid.new`, 'alice:100000:65536\n');
    await rename(`${etc}/subuid.new`, `${etc}/subuid`);
    await (await uids.acquire()).release();
  } finally {
    await done();
    await rm(stateDir, { recursive: true, force: true });
  }
});
