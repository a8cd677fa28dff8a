// procfs masks: which entries of a kernel's /proc are masked (an allowlist, so an entry no list
// names yet is masked too), and how each driver is told. The conformance suite (cases.ts) checks
// inside real sandboxes on bwrap, the pool and runc that each masked file reads nothing.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { bwrapArgs } from '../../src/container/drivers/bwrap.ts';
import { ociConfig } from '../../src/container/drivers/oci-config.ts';
import { procMasks } from '../../src/container/procfs.ts';
import { compileSpec } from '../../src/container/spec.ts';
import { compilePolicy } from '../../src/policy/compile.ts';

test('every readable top-level /proc entry but the kept few is masked, a new one included; process dirs, links and root-only files are not', async () => {
  const dir = await mkdtemp(`${tmpdir()}/airlock-proc-`);
  try {
    await mkdir(`${dir}/1`);
    await mkdir(`${dir}/bus`);
    await symlink('1', `${dir}/self`);
    for (const name of ['cpuinfo', 'interrupts', 'a-file-from-a-newer-kernel']) await writeFile(`${dir}/${name}`, 'x', { mode: 0o444 });
    await writeFile(`${dir}/kmsg`, 'x');
    await chmod(`${dir}/kmsg`, 0o400);
    assert.deepEqual(await procMasks(dir), [
      { path: '/proc/a-file-from-a-newer-kernel', kind: 'file' },
      { path: '/proc/bus', kind: 'dir' },
      { path: '/proc/interrupts', kind: 'file' },
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("this kernel's masks cover runc's list where it exists, and keep what programs read", async () => {
  const masks = new Set((await procMasks()).map((m) => m.path));
  assert.ok(masks.has('/proc/interrupts') && masks.has('/proc/kallsyms') && masks.has('/proc/cmdline'), [...masks].join(' '));
  for (const kept of ['/proc/self', '/proc/cpuinfo', '/proc/meminfo', '/proc/stat', '/proc/sys']) assert.ok(!masks.has(kept), kept);
});

test('bwrap masks right after mounting /proc; runc gets the same list as maskedPaths', () => {
  const masks = [{ path: '/proc/interrupts', kind: 'file' as const }, { path: '/proc/bus', kind: 'dir' as const }];
  const spec = compileSpec(compilePolicy({ version: 1 }), { hostUid: 250_123, hostGid: 250_123, workspaceHostPath: '/w', etcHostPath: '/e', seccomp: { profile: 'container', bpfPath: '/x.bpf' }, masks, caBundle: null }, ['true']);
  const a = bwrapArgs(spec);
  const at = a.indexOf('--proc');
  assert.deepEqual(a.slice(at, at + 13), ['--proc', '/proc', '--ro-bind', '/dev/null', '/proc/interrupts', '--perms', '0555', '--size', '4096', '--tmpfs', '/proc/bus', '--remount-ro', '/proc/bus']);
  const linux = (ociConfig(spec, 'oci-x', 'fd') as { linux: Record<string, unknown> }).linux;
  assert.deepEqual(linux['maskedPaths'], ['/proc/interrupts', '/proc/bus']);
  assert.deepEqual(linux['readonlyPaths'], ['/proc/sys']);
});
