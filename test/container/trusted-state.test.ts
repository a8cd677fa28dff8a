// What airlock trusts on disk (the compiled seccomp program every sandbox loads, the registry) is
// used only from places root alone can change. An allow-all program planted in a user-writable
// AIRLOCK_HOME must not become a sandbox's filter.
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { Registry } from '../../src/runtime/registry.ts';
import { sandboxFixture } from './helpers.ts';

const state = sandboxFixture();

// keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0): a keyring id without seccomp, refused
// (EPERM) by the container profile, which denies keyctl.
const KEYCTL = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(250, 0, -4, 0)
print(r, os.strerror(ctypes.get_errno()) if r < 0 else 'ok')`;

/** One classic BPF instruction, "return SECCOMP_RET_ALLOW": a filter that allows every syscall. */
const ALLOW_ALL = Buffer.from([0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f]);

const ATTACKER = 1_234_567;

test('an allow-all program planted in a user-writable home is not loaded; a clean home loads the real filter', { timeout: 120_000 }, async () => {
  // Control first: a root-owned home gets the real program, and keyctl is refused in the sandbox.
  const { sbx } = await state.box!.make();
  const r = await sbx.exec(['python3', '-c', KEYCTL]);
  assert.equal(r.status, 'ok', r.stderr);
  assert.equal(r.stdout.trim(), '-1 Operation not permitted');
  const cached = (await readdir(`${state.home!.home}/seccomp`)).filter((n) => n.endsWith('.bpf'));
  assert.equal(cached.length, 1);
  // Attack: a home owned by another user, with the allow-all program under the cache's own name.
  const home = await mkdtemp(`${tmpdir()}/airlock-userhome-`);
  try {
    await mkdir(`${home}/seccomp`);
    await writeFile(`${home}/seccomp/${cached[0]}`, ALLOW_ALL);
    for (const p of [home, `${home}/seccomp`, `${home}/seccomp/${cached[0]}`]) await chown(p, ATTACKER, ATTACKER);
    let outcome: unknown;
    try {
      const { sbx: planted } = await state.box!.make({}, { home });
      outcome = (await planted.exec(['python3', '-c', KEYCTL])).stdout.trim();
    } catch (error) {
      outcome = error;
    }
    assert.ok(!(typeof outcome === 'string' && !outcome.startsWith('-1 ')), `keyctl ran under the planted program: ${String(outcome)}`);
    // Refused before any sandbox exists: no sandbox ever ran under the planted program.
    assert.ok(outcome instanceof AirlockError && outcome.code === 'SANDBOX_UNAVAILABLE' && /seccomp program cache .* owned by uid 1234567/.test(outcome.message), String(outcome));
    // The same with a root-owned home that anyone may write into.
    for (const p of [home, `${home}/seccomp`, `${home}/seccomp/${cached[0]}`]) await chown(p, 0, 0);
    await chmod(`${home}/seccomp`, 0o777);
    await assert.rejects(state.box!.make({}, { home }), (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_UNAVAILABLE' && /writable by its group or by others/.test(e.message));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('the registry is opened only in a directory root alone can change', async () => {
  const dir = await mkdtemp(`${tmpdir()}/airlock-reg-`);
  try {
    await chown(dir, ATTACKER, ATTACKER);
    assert.throws(() => Registry.open({ dir }), (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_UNAVAILABLE' && /registry .* owned by uid 1234567/.test(e.message));
    assert.deepEqual(await readdir(dir), [], 'no registry file was made there');
    // Control: the same directory, root's again, holds a registry.
    await chown(dir, 0, 0);
    const reg = Registry.open({ dir });
    reg.close();
    assert.ok((await readdir(dir)).includes('registry-v2.db'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
