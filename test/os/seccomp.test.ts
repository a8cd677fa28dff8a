// The seccomp layer under real bubblewrap: every refusal sits beside a control run of the same
// probe without the filter (given every capability, so the kernel itself would allow the call),
// and beside ordinary work that must keep working under the filter.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../../src/core/errors.ts';
import { renderProfile, seccompProgram, type SeccompProfile } from '../../src/os/seccomp.ts';
import { allowedSyscalls, CLONE_NAMESPACE_FLAGS, CONTAINER_PROFILE, FORBIDDEN_SYSCALLS, lowWordNotIn, WORKER_PROFILE } from '../../src/os/seccomp-profiles.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));
const NODE = realpathSync(join(ROOT, 'node_modules/.bin/node'));
const CACHE = mkdtempSync(join(tmpdir(), 'airlock-seccomp-'));
after(() => rmSync(CACHE, { recursive: true, force: true }));

const ROOTFS = ['--die-with-parent', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--symlink', 'usr/bin', '/bin', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp'];
/** The sandbox as the tiers run it: all namespaces, no capabilities. */
const SANDBOX = ['--unshare-all', ...ROOTFS];
/** The control: real root with every capability (no user namespace), so only seccomp can refuse. */
const PRIVILEGED = ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup', '--cap-add', 'ALL', ...ROOTFS];

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bwrap with `fds` placed at 3, 4, ... (a FileHandle or 'pipe'); `onPipe` talks to fd 3. */
function bwrap(args: readonly string[], fds: readonly (FileHandle | 'pipe')[] = [], onPipe?: (s: Socket) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const stdio = ['ignore', 'pipe', 'pipe', ...fds.map((f) => (f === 'pipe' ? 'pipe' : f.fd))] as const;
    const child = spawn('bwrap', args, { stdio: [...stdio], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const pipe = child.stdio[3];
    if (onPipe && pipe instanceof Socket) onPipe(pipe);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function withProgram<T>(profile: SeccompProfile, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
  const fh = await open(await seccompProgram(profile, { cacheDir: CACHE }), 'r');
  try {
    return await fn(fh);
  } finally {
    await fh.close();
  }
}

function probeArgs(base: readonly string[], seccomp: 'filtered' | 'unfiltered', probe: string): string[] {
  return [...base, '--ro-bind', FIXTURES, '/fixtures', ...(seccomp === 'filtered' ? ['--seccomp', '3'] : []), 'python3', '/fixtures/seccomp-probe.py', probe];
}

async function probe(base: readonly string[], seccomp: 'filtered' | 'unfiltered', name: string): Promise<{ result: string; effect: boolean } | { killed: number | null }> {
  const out = seccomp === 'filtered' ? await withProgram(CONTAINER_PROFILE, (fh) => bwrap(probeArgs(base, seccomp, name), [fh])) : await bwrap(probeArgs(base, seccomp, name));
  if (out.code !== 0) return { killed: out.code };
  return JSON.parse(out.stdout) as { result: string; effect: boolean };
}

// bwrap reports a command killed by signal N as exit 128 + N; SIGSYS is 31.
const KILLED_BY_SIGSYS = { killed: 128 + 31 };

/** Hostile cases: what the kernel does without the filter, and what the filter makes of it. */
const HOSTILE: { name: string; control: object; filtered: object }[] = [
  { name: 'unshare', control: { result: 'ok', effect: true }, filtered: { result: 'EPERM', effect: false } },
  { name: 'mount', control: { result: 'ok', effect: true }, filtered: { result: 'EPERM', effect: false } },
  { name: 'ptrace', control: { result: 'ok', effect: true }, filtered: { result: 'EPERM', effect: false } },
  { name: 'keyctl', control: { result: 'ok', effect: true }, filtered: { result: 'EPERM', effect: false } },
  { name: 'bpf', control: { result: 'ok', effect: true }, filtered: { result: 'EPERM', effect: false } },
  { name: 'perf_event_open', control: { result: 'ok', effect: true }, filtered: { result: 'EPERM', effect: false } },
  { name: 'io_uring_setup', control: { result: 'ok', effect: true }, filtered: { result: 'ENOSYS', effect: false } },
  { name: 'raw_socket', control: { result: 'ok', effect: true }, filtered: { result: 'EPERM', effect: false } },
  { name: 'packet_socket', control: { result: 'ok', effect: true }, filtered: { result: 'EPERM', effect: false } },
  { name: 'netlink_uevent', control: { result: 'ok', effect: true }, filtered: { result: 'EPERM', effect: false } },
  { name: 'clone_newuser', control: { result: 'ok', effect: true }, filtered: { result: 'EPERM', effect: false } },
  { name: 'clone3_newuser', control: { result: 'ok', effect: true }, filtered: { result: 'ENOSYS', effect: false } },
  // This kernel has no x32 ABI (ENOSYS); the filter kills before the kernel is asked.
  { name: 'x32_getpid', control: { result: 'ENOSYS', effect: false }, filtered: KILLED_BY_SIGSYS },
  // stdin is /dev/null: an allowed TIOCSTI reaches the tty layer (ENOTTY); a refused one does not.
  { name: 'tiocsti', control: { result: 'ENOTTY', effect: false }, filtered: { result: 'EPERM', effect: false } },
  { name: 'tiocsti_high_bits', control: { result: 'ENOTTY', effect: false }, filtered: { result: 'EPERM', effect: false } },
];

for (const c of HOSTILE) {
  test(`container: ${c.name} is refused by the filter (control: the same probe without it)`, async () => {
    assert.deepEqual(await probe(PRIVILEGED, 'unfiltered', c.name), c.control, 'control');
    assert.deepEqual(await probe(PRIVILEGED, 'filtered', c.name), c.filtered, 'filtered, with every capability');
    assert.deepEqual(await probe(SANDBOX, 'filtered', c.name), c.filtered, 'filtered, as the tier runs it');
  });
}

// The i386 entry (`int 0x80` from a 64-bit process) is not there on every kernel build: some
// refuse it outright (SIGSEGV, before any syscall entry, so before seccomp is asked). What matters
// either way is that the call has no effect under the filter; where the kernel reaches the entry,
// the filter must be what kills it (SIGSYS). The test's name says which of the two this kernel is.
const KILLED_BY_SIGSEGV = { killed: 128 + 11 };
const i386Control = await probe(PRIVILEGED, 'unfiltered', 'i386_getpid');
const i386Entry = 'killed' in i386Control ? 'refused by this kernel itself (SIGSEGV without the filter)' : 'reached on this kernel';
test(`container: i386_getpid has no effect under the filter; the i386 entry is ${i386Entry}`, async () => {
  if ('killed' in i386Control) {
    assert.deepEqual(i386Control, KILLED_BY_SIGSEGV, 'the kernel refuses the i386 entry with SIGSEGV, or the control ran it');
    // Nothing to filter: the kernel stops the call before a syscall exists. Still no effect under the filter.
    assert.deepEqual(await probe(PRIVILEGED, 'filtered', 'i386_getpid'), KILLED_BY_SIGSEGV, 'filtered, with every capability');
    assert.deepEqual(await probe(SANDBOX, 'filtered', 'i386_getpid'), KILLED_BY_SIGSEGV, 'filtered, as the tier runs it');
    return;
  }
  assert.deepEqual(i386Control, { result: 'ok', effect: true }, 'control');
  assert.deepEqual(await probe(PRIVILEGED, 'filtered', 'i386_getpid'), KILLED_BY_SIGSYS, 'filtered, with every capability');
  assert.deepEqual(await probe(SANDBOX, 'filtered', 'i386_getpid'), KILLED_BY_SIGSYS, 'filtered, as the tier runs it');
});

test('container: ordinary work runs under the filter exactly as without it', async () => {
  const expected = { sum: 499999500000, file: 'written', fork: 7, thread: 'thread', inet: 'tcp', udp6: 'ok', socketpair: 'unix', netlink_route: 'ok', tcgets: 'ENOTTY', sh: '42' };
  const ordinary = async (base: readonly string[], seccomp: 'filtered' | 'unfiltered'): Promise<unknown> => {
    const out = seccomp === 'filtered' ? await withProgram(CONTAINER_PROFILE, (fh) => bwrap(probeArgs(base, seccomp, 'ordinary'), [fh])) : await bwrap(probeArgs(base, seccomp, 'ordinary'));
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout);
  };
  assert.deepEqual(await ordinary(SANDBOX, 'unfiltered'), expected);
  assert.deepEqual(await ordinary(SANDBOX, 'filtered'), expected);
});

/** Node 24 running the worker workload in bwrap: seccomp on fd 4, the host channel on fd 3. */
async function worker(seccomp: 'filtered' | 'unfiltered', args: readonly string[], binds: readonly string[] = []): Promise<Outcome> {
  const base = [...SANDBOX, '--ro-bind', dirname(NODE), dirname(NODE), '--ro-bind', ROOT, ROOT, ...binds];
  const argv = [...base, ...(seccomp === 'filtered' ? ['--seccomp', '4'] : []), NODE, join(FIXTURES, 'worker-workload.ts'), ...args];
  const echo = (s: Socket): void => void s.on('data', () => s.write('world'));
  if (seccomp === 'unfiltered') return bwrap(argv, ['pipe'], echo);
  return withProgram(WORKER_PROFILE, (fh) => bwrap(argv, ['pipe', fh], echo));
}

test('worker: Node 24 + isolated-vm works under WORKER_PROFILE (isolates, modules, wasm, threads, host sockets)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-host-'));
  const server = createServer((s) => s.end('pong'));
  await new Promise<void>((resolve) => server.listen(join(dir, 'host.sock'), resolve));
  try {
    const out = await worker('filtered', ['work', '--channel', '--socket=/run/host/host.sock'], ['--ro-bind', dir, '/run/host']);
    assert.equal(out.code, 0, out.stderr);
    // score = sum + module (42) + wasm (42) + timeout fired (1) + heap bomb stopped (1)
    assert.deepEqual(JSON.parse(out.stdout), { ok: true, score: 4999950000 + 86, pong: 'pong', text: 'read', fromThread: 42, hello: 'world' });
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('worker: starting a process and opening a TCP socket are refused (control: allowed without the filter)', async () => {
  const control = await worker('unfiltered', ['hostile', '9']);
  assert.equal(control.code, 0, control.stderr);
  // Without the filter the child ran (its file exists) and socket() worked (connect found no one).
  assert.deepEqual(JSON.parse(control.stdout), { spawn: 'ran:0', spawnedFile: true, tcp: 'ECONNREFUSED' });
  const filtered = await worker('filtered', ['hostile', '9']);
  assert.equal(filtered.code, 0, filtered.stderr);
  assert.deepEqual(JSON.parse(filtered.stdout), { spawn: 'EPERM', spawnedFile: false, tcp: 'EPERM' });
});

test('no profile allows a forbidden syscall; clone3 and io_uring_setup answer ENOSYS', () => {
  for (const profile of [WORKER_PROFILE, CONTAINER_PROFILE]) {
    const allowed = new Set(allowedSyscalls(profile));
    assert.deepEqual(FORBIDDEN_SYSCALLS.filter((n) => allowed.has(n)), [], profile.name);
    assert.deepEqual(profile.defaultAction, { kind: 'errno', errno: 'EPERM' });
    for (const name of ['clone3', 'io_uring_setup']) {
      assert.deepEqual(profile.rules.filter((r) => r.syscall === name).map((r) => r.action), [{ kind: 'errno', errno: 'ENOSYS' }], `${profile.name} ${name}`);
    }
    // Every clone rule requires all namespace flags clear.
    for (const rule of profile.rules.filter((r) => r.syscall === 'clone')) {
      assert.ok(rule.when.some((c) => c.arg === 0 && c.op === 'masked_eq' && (c.mask & CLONE_NAMESPACE_FLAGS) === CLONE_NAMESPACE_FLAGS && (c.value & CLONE_NAMESPACE_FLAGS) === 0));
    }
  }
  // The worker: no process creation, and sockets are AF_UNIX only.
  const worker = new Set(allowedSyscalls(WORKER_PROFILE));
  for (const name of ['fork', 'vfork', 'bind', 'listen', 'accept4', 'socketpair']) assert.equal(worker.has(name), false, name);
  // kill only as SIGKILL to its own process group (the memory backstop), never to another pid.
  assert.deepEqual(WORKER_PROFILE.rules.filter((r) => r.syscall === 'kill').map((r) => r.when), [[{ arg: 0, op: 'eq', value: 0 }, { arg: 1, op: 'eq', value: 9 }]]);
  assert.deepEqual(WORKER_PROFILE.rules.filter((r) => r.syscall === 'socket').map((r) => r.when), [[{ arg: 0, op: 'eq', value: 1 }]]);
  const families = CONTAINER_PROFILE.rules.filter((r) => r.syscall === 'socket').map((r) => r.when.find((c) => c.arg === 0)?.value);
  assert.deepEqual([...new Set(families)].sort((a, b) => (a ?? 0) - (b ?? 0)), [1, 2, 10, 16]);
});

test('lowWordNotIn matches every 32-bit word except the forbidden ones (seeded samples)', () => {
  const forbidden = [0x5412, 0x541c];
  const cubes = lowWordNotIn(forbidden);
  const allowedWord = (w: number): boolean => cubes.some((c) => (w & c.mask) >>> 0 === c.value);
  for (const w of forbidden) assert.equal(allowedWord(w), false);
  let seed = 12345;
  let allowedCount = 0;
  for (let i = 0; i < 20_000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    // Half the samples sit next to a forbidden word (one or two bits away), where mistakes hide.
    const w = i % 2 === 0 ? seed : ((forbidden[i % 4 === 1 ? 0 : 1]! ^ (1 << (seed % 32)) ^ (1 << ((seed >>> 8) % 32))) >>> 0);
    assert.equal(allowedWord(w), !forbidden.includes(w), w.toString(16));
    if (allowedWord(w)) allowedCount++;
  }
  assert.ok(allowedCount > 19_000, 'not vacuous');
  assert.ok(cubes.every((c) => c.mask <= 0xffffffff), 'masks stay in the low word');
});

const TINY: SeccompProfile = { name: 'tiny', defaultAction: { kind: 'errno', errno: 'EPERM' }, rules: [{ syscall: 'socket', action: { kind: 'allow' }, when: [{ arg: 0, op: 'eq', value: 1 }] }] };

test('renderProfile writes the generator format and refuses bad values', () => {
  assert.equal(renderProfile(TINY), 'default errno EPERM\nallow socket if arg0 eq 0x1\n');
  const bad = (value: number): SeccompProfile => ({ ...TINY, rules: [{ syscall: 'socket', action: { kind: 'allow' }, when: [{ arg: 0, op: 'eq', value }] }] });
  for (const v of [-1, 1.5, 2 ** 60]) assert.throws(() => renderProfile(bad(v)), (e: unknown) => e instanceof AirlockError && e.code === 'INTERNAL');
  assert.throws(() => renderProfile({ ...TINY, rules: [{ syscall: 'read; allow ptrace', action: { kind: 'allow' }, when: [] }] }), /not a syscall name/);
});

test('seccompProgram caches by profile hash and writes whole programs', async () => {
  const first = await seccompProgram(TINY, { cacheDir: CACHE });
  const again = await seccompProgram(TINY, { cacheDir: CACHE });
  assert.equal(again, first);
  assert.equal(statSync(first).size % 8, 0);
  const other = await seccompProgram({ ...TINY, rules: [...TINY.rules, { syscall: 'read', action: { kind: 'allow' }, when: [] }] }, { cacheDir: CACHE });
  assert.notEqual(other, first);
  const [a, b] = await Promise.all([seccompProgram(CONTAINER_PROFILE, { cacheDir: join(CACHE, 'race') }), seccompProgram(CONTAINER_PROFILE, { cacheDir: join(CACHE, 'race') })]);
  assert.equal(a, b);
  assert.ok(statSync(a).size > 8 * 100);
});

test('the generator refuses unknown names and ambiguous rules; a missing generator names the fix', async () => {
  const refused = async (profile: SeccompProfile, message: RegExp): Promise<void> => {
    await assert.rejects(seccompProgram(profile, { cacheDir: CACHE }), (e: unknown) => e instanceof AirlockError && e.code === 'INTERNAL' && message.test(e.message));
  };
  await refused({ ...TINY, rules: [{ syscall: 'no_such_call', action: { kind: 'allow' }, when: [] }] }, /not an x86_64 syscall name: no_such_call/);
  await refused({ ...TINY, rules: [{ syscall: 'socketcall', action: { kind: 'allow' }, when: [] }] }, /not an x86_64 syscall name: socketcall/);
  // libseccomp would silently drop the conditional rule beside an unconditional one.
  await refused({ ...TINY, rules: [{ syscall: 'ioctl', action: { kind: 'allow' }, when: [] }, { syscall: 'ioctl', action: { kind: 'errno', errno: 'ENOTTY' }, when: [{ arg: 1, op: 'masked_eq', mask: 0xffffffff, value: 0x5412 }] }] }, /second action/);
  await refused({ ...TINY, rules: [...TINY.rules, { syscall: 'socket', action: { kind: 'allow' }, when: [] }] }, /unconditional rule beside/);
  await assert.rejects(seccompProgram(TINY, { cacheDir: CACHE, generator: join(CACHE, 'absent') }), (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_UNAVAILABLE' && e.message.includes('npm run setup'));
});
