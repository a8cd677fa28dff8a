/**
 * The ordered launcher: one exec in one sandbox, as a checklist. Every step runs for every driver,
 * in this order, and any step that can't be done stops the launch (fail closed):
 *   1. the program exists in the sandbox's view (else COMMAND_NOT_FOUND, nothing runs);
 *   2. the driver turns the spec into a command;
 *   3. a shell joins the sandbox's cgroup (memory, swap off, pids, cpu) before anything else runs;
 *   4. it sets the rlimits (open files, file size, CPU seconds, no core) for itself and its children;
 *   5. it runs as the sandbox's own host uid with no groups, in an empty host environment;
 *   6. it execs the driver, which builds namespaces, mounts, seccomp and no_new_privs;
 *   7. the supervisor enforces wall time, cgroup CPU time and output bytes, killing the whole cgroup;
 *   8. when the command ends, whatever it left running (daemons, setsid, double forks) is killed.
 */
import { spawn } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import { access, open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { AirlockError, type ErrorCode } from '../core/errors.ts';
import type { RunStatus, Usage } from '../core/result.ts';
import { joinAndExec, type Cgroup } from '../os/cgroup.ts';
import type { Driver } from './drivers/driver.ts';
import { hostPathOf } from './mounts.ts';
import { ulimitCommands } from './rlimit.ts';
import type { SandboxSpec } from './spec.ts';

export interface ExecOptions {
  readonly stdin?: string | Uint8Array;
  readonly timeoutMs?: number;
  readonly onStdout?: (chunk: string) => void;
  readonly onStderr?: (chunk: string) => void;
}

export interface ExecResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly status: RunStatus;
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  readonly usage: Usage;
}

/** Step 1: finds the program the way the sandbox's PATH would, on the host paths behind the binds. */
export async function findProgram(spec: SandboxSpec): Promise<string | undefined> {
  const name = spec.process.args[0];
  if (name === undefined || name === '') return undefined;
  const pathVar = spec.process.env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  const candidates = name.includes('/')
    ? [name.startsWith('/') ? name : `${spec.process.cwd}/${name}`]
    : pathVar.split(':').filter((d) => d.startsWith('/')).map((d) => `${d}/${name}`);
  for (const c of candidates) {
    const host = hostPathOf(spec.mounts, spec.airlock.links, c);
    if (host !== undefined && (await access(host, fsc.X_OK).then(() => true, () => false))) return c;
  }
  return undefined;
}

function end(status: RunStatus, code: ErrorCode | null, message: string): Pick<ExecResult, 'status' | 'error'> {
  return { status, error: code === null ? null : { code, message } };
}

/**
 * Runs `spec.process.args` in a new sandbox built by `driver`, inside `cgroup`, to completion.
 *
 * @example
 *   const r = await launch(spec, bwrapDriver(), cgroup, 'sbx_1', { timeoutMs: 1000 });
 */
export async function launch(spec: SandboxSpec, driver: Driver, cgroup: Cgroup, id: string, options: ExecOptions = {}): Promise<ExecResult> {
  const zero: Usage = { wallMs: 0, cpuMs: 0, memoryBytes: 0 };
  // 1.
  if ((await findProgram(spec)) === undefined) {
    const name = spec.process.args[0] ?? '';
    return { exitCode: null, stdout: '', stderr: '', usage: zero, ...end('invalid', 'COMMAND_NOT_FOUND', `${JSON.stringify(name)} is not a program in the sandbox: use python3, node or sh, or a file in the workspace marked executable`) };
  }
  // 2.
  const command = await driver.command(spec, id);
  const files: FileHandle[] = [];
  try {
    for (const path of command.fileFds) files.push(await open(path, 'r'));
    // 3. + 4.
    // 5. The uid drop happens in spawn when the uid may join the cgroup itself, else via setpriv.
    const selfJoin = command.runAs === 'sandbox-uid' && cgroup.joinableBy(spec.airlock.hostUid);
    const { hostUid, hostGid } = spec.airlock;
    const driverArgv = command.runAs === 'sandbox-uid' && !selfJoin
      ? ['/usr/bin/setpriv', `--reuid=${hostUid}`, `--regid=${hostGid}`, '--clear-groups', '--', ...command.argv]
      : command.argv;
    const argv = joinAndExec(cgroup, driverArgv, ulimitCommands(spec.process.rlimits));
    const [program = '/bin/sh', ...args] = argv;
    await cgroup.resetPeak();
    const before = await cgroup.stats();
    const started = performance.now();
    const stdio: ('pipe' | number)[] = ['pipe', 'pipe', 'pipe', ...files.map((f) => f.fd)];
    if (command.statusFd !== null) stdio[command.statusFd] = 'pipe';
    // 5. + 6.
    const child = spawn(program, args, {
      stdio,
      env: {},
      cwd: '/',
      ...(selfJoin ? { uid: hostUid, gid: hostGid } : {}),
    });
    for (const f of files) await f.close();
    files.length = 0;
    return await supervise(spec, cgroup, child, command.statusFd, options, started, before);
  } finally {
    for (const f of files) await f.close().catch(() => undefined);
    await command.cleanup();
  }
}

type Child = ReturnType<typeof spawn>;

async function supervise(
  spec: SandboxSpec,
  cgroup: Cgroup,
  child: Child,
  statusFd: number | null,
  options: ExecOptions,
  started: number,
  before: Awaited<ReturnType<Cgroup['stats']>>,
): Promise<ExecResult> {
  const wallMs = Math.min(options.timeoutMs ?? spec.airlock.wallMs, spec.airlock.wallMs);
  const limit = spec.airlock.outputBytes;
  const out = { stdout: '', stderr: '', bytes: 0 };
  // Set from event callbacks; read after the child has closed.
  const ended: { why: Pick<ExecResult, 'status' | 'error'> | null } = { why: null };
  let statusText = '';
  const stop = (why: Pick<ExecResult, 'status' | 'error'>): void => {
    if (ended.why !== null) return;
    ended.why = why;
    // 7. Killing the command (pid 1 of its pid namespace) makes the kernel kill everything else in
    // the namespace, re-parented and setsid'd processes included, while bwrap stays alive to reap
    // it (killing all at once would orphan zombies to the host's init). The cgroup is the backstop.
    const pid = childPid(statusText);
    if (pid === undefined) {
      cgroup.killAll().catch(() => undefined);
      return;
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    setTimeout(() => void cgroup.killAll().catch(() => undefined), 200).unref();
  };
  const collect = (stream: 'stdout' | 'stderr', cb: ((chunk: string) => void) | undefined) => {
    const decoder = new StringDecoder('utf8');
    child[stream]?.on('data', (buf: Buffer) => {
      if (ended.why !== null) return;
      const room = limit - out.bytes;
      const part = buf.length > room ? buf.subarray(0, Math.max(0, room)) : buf;
      out.bytes += part.length;
      const text = decoder.write(part);
      out[stream] += text;
      if (text !== '') cb?.(text);
      if (buf.length > room) stop(end('killed', 'OUTPUT_LIMIT', `the command printed more than limits.outputBytes (${limit} bytes): print less or raise it`));
    });
  };
  collect('stdout', options.onStdout);
  collect('stderr', options.onStderr);
  if (statusFd !== null) {
    const stream = child.stdio[statusFd];
    if (stream !== null && stream !== undefined && 'on' in stream) stream.on('data', (b: Buffer) => (statusText += b.toString()));
  }
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(options.stdin ?? '');
  const wall = setTimeout(() => stop(end('timeout', 'WALL_TIMEOUT', `the command ran longer than ${wallMs} ms: make it finish sooner or raise limits.wallMs`)), wallMs);
  const cpuLimitNs = spec.airlock.cpuMs * 1e6;
  const cpuWatch = setInterval(() => {
    cgroup.stats().then((s) => {
      if (s.cpuNs - before.cpuNs > cpuLimitNs) stop(end('timeout', 'CPU_TIMEOUT', `the command used more than ${spec.airlock.cpuMs} ms of CPU: use less or raise limits.cpuMs`));
    }, () => undefined);
  }, 50);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('error', () => resolve([null, null]));
    child.on('close', (c, s) => resolve([c, s]));
  });
  clearTimeout(wall);
  clearInterval(cpuWatch);
  // 8.
  await cgroup.killAll();
  const after = await cgroup.stats();
  const usage: Usage = {
    wallMs: Math.round(performance.now() - started),
    cpuMs: Math.round((after.cpuNs - before.cpuNs) / 1e6),
    memoryBytes: after.peakMemoryBytes,
  };
  const exitCode = childExit(statusText) ?? code ?? (signal === null ? null : 128);
  const base = { exitCode, stdout: out.stdout, stderr: out.stderr, usage };
  if (ended.why !== null) return { ...base, ...ended.why };
  if (after.oomKills > before.oomKills) return { ...base, ...end('memory', 'MEMORY_LIMIT', `the command used more than its memory limit (${spec.linux.resources.memory.limit >> 20} MiB): use less or raise limits.memoryMiB`) };
  if (exitCode === 128 + 24 || usage.cpuMs > spec.airlock.cpuMs) return { ...base, ...end('timeout', 'CPU_TIMEOUT', `the command used more than ${spec.airlock.cpuMs} ms of CPU: use less or raise limits.cpuMs`) };
  if (code === 125 && statusText === '') {
    throw new AirlockError('SANDBOX_UNAVAILABLE', `the sandbox could not be set up (cgroup join or driver failed): ${out.stderr.trim().slice(0, 500)}`);
  }
  if (statusFd !== null && childExit(statusText) === undefined) {
    // bwrap reports the command's exit only once the command ran; without it, setup failed: refuse
    // rather than report a guest error.
    throw new AirlockError('SANDBOX_UNAVAILABLE', `the sandbox driver failed before the command started: ${out.stderr.trim().slice(0, 500)}`);
  }
  if (exitCode === 0) return { ...base, ...end('ok', null, '') };
  return { ...base, ...end('error', 'GUEST_ERROR', `the command exited with code ${exitCode ?? 'none'}`) };
}

/** The host pid of the command, from bwrap's first status document. */
function childPid(statusText: string): number | undefined {
  const m = /"child-pid"\s*:\s*(\d+)/.exec(statusText);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** bwrap's --json-status-fd reports `{"exit-code": N}` for the command itself. */
function childExit(statusText: string): number | undefined {
  const m = /"exit-code"\s*:\s*(\d+)/.exec(statusText);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
