// Sizes a sandbox's caller or guest can push onto the host: argv and environment past what execve
// takes, a workspace filled with inodes rather than bytes, a file counted once per hard link.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { sandboxFixture, sh } from './helpers.ts';

const state = sandboxFixture();

test('an argv element over 128 KiB is INVALID_REQUEST naming the limit, recorded nowhere; one just under runs', async () => {
  const { sbx, audit } = await state.box!.make();
  const before = audit.events.length;
  await assert.rejects(
    sbx.exec(['sh', '-c', 'echo ran > ran.txt', 'x'.repeat(128 * 1024)]),
    (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST' && /argv\[3\] .* 131071 .*128 KiB/.test(e.message),
  );
  assert.equal(audit.events.length, before, 'no run.started for an exec that never ran');
  assert.deepEqual((await sbx.listFiles()).map((e) => e.path), [], 'the command did not run');
  // Control: an argument of 128 KiB less its NUL reaches the command whole.
  const r = await sbx.exec(['sh', '-c', 'printf %s "$1" | wc -c', 'sh', 'x'.repeat(128 * 1024 - 1)]);
  assert.equal(r.status, 'ok', r.stderr);
  assert.equal(r.stdout.trim(), String(128 * 1024 - 1));
});

test('argv and environment over 1 MiB together are INVALID_REQUEST naming the limit', async () => {
  const { sbx } = await state.box!.make({ env: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`BIG${i}`, 'v'.repeat(30_000)])) });
  await assert.rejects(sbx.exec(['sh', '-c', 'true']), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST' && /1048576 .*1 MiB/.test(e.message));
  // Control: the same sandbox's environment alone (1.2 MB) is over; a smaller one is not.
  const { sbx: small } = await state.box!.make({ env: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`BIG${i}`, 'v'.repeat(30_000)])) });
  const r = await sh(small, 'printf %s "$BIG19" | wc -c');
  assert.equal(r.status, 'ok', r.stderr);
  assert.equal(r.stdout.trim(), '30000');
});

test('the workspace holds at most limits.workspaceFiles inodes: past that, creating files fails inside', async () => {
  const { sbx } = await state.box!.make({ limits: { workspaceFiles: 100 } });
  const r = await sh(sbx, 'i=0; while [ $i -lt 300 ]; do (: > f$i) 2>/dev/null || break; i=$((i+1)); done; echo $i');
  assert.equal(r.status, 'ok', r.stderr);
  const made = Number(r.stdout.trim());
  assert.ok(made < 100, `made ${made} files with a cap of 100 inodes`);
  assert.ok(made >= 90, `the cap, not something else, stopped it at ${made}`);
  await assert.rejects(sbx.writeFile('one-more', 'x'), (e: unknown) => e instanceof AirlockError && e.code === 'FILE_TOO_LARGE' && /workspaceFiles/.test(e.message));
  // Control: the default cap lets the same loop make all 300.
  const { sbx: roomy } = await state.box!.make();
  const ok = await sh(roomy, 'i=0; while [ $i -lt 300 ]; do (: > f$i) 2>/dev/null || break; i=$((i+1)); done; echo $i');
  assert.equal(ok.stdout.trim(), '300');
});

test('listFiles lists a hard-linked file once, so its bytes are counted once; distinct files each count', async () => {
  const { sbx } = await state.box!.make();
  const r = await sh(sbx, 'head -c 100000 /dev/zero > a; ln a b; mkdir d; ln a d/c; head -c 3000 /dev/zero > other');
  assert.equal(r.status, 'ok', r.stderr);
  const files = (await sbx.listFiles()).filter((e) => e.type === 'file');
  const linked = files.filter((e) => ['a', 'b', 'd/c'].includes(e.path));
  assert.equal(linked.length, 1, `one entry for three names: ${JSON.stringify(linked)}`);
  assert.equal(files.reduce((n, e) => n + e.size, 0), 103_000, 'bytes of the linked file counted once, the other file too');
  assert.ok(files.some((e) => e.path === 'other'), 'a distinct file is listed');
});
