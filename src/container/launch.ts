/**
 * The ordered launcher: one exec in one sandbox, as a checklist. Every step runs for every driver,
 * in this order, and any step that can't be done stops the launch (fail closed):
 *   1. the program exists in the sandbox's view (else COMMAND_NOT_FOUND, nothing runs);
 *   2. the driver turns the spec into a command;
 *   3. the spawned process joins the sandbox's cgroup (memory, swap off, pids, cpu) before anything else runs;
 *   4. it sets the rlimits (open files, file size, CPU seconds, no core) for itself and its children;
 *   5. it drops to the sandbox's own host uid with no groups, in an empty host environment;
 *   6. it execs the driver, which builds namespaces, mounts, seccomp and no_new_privs;
 *   7. the supervisor enforces wall time, cgroup CPU time and output bytes, killing the whole cgroup;
 *   8. when the command ends, whatever it left running (daemons, setsid, double forks) is killed.
 */
import { constants as fsc } from 'node:fs';
import { access } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { AirlockError, codeInfo, type ErrorCode } from '../core/errors.ts';
import type { RunStatus, Usage } from '../core/result.ts';
import type { Cgroup, CgroupStats } from '../os/cgroup.ts';
import type { Driver, DriverCommand, DriverStatus } from './drivers/driver.ts';
import { hostPathOf } from './mounts.ts';
import { RUN_ID } from './run-id.ts';
import { nodeSpawner, type SpawnedProcess, type Spawner, type SpawnRequest } from './spawner.ts';
import type { SandboxSpec } from './spec.ts';

export { RUN_ID } from './run-id.ts';

export interface ExecOptions {
  readonly stdin?: string | Uint8Array;
  readonly timeoutMs?: number;
  readonly onStdout?: (chunk: string) => void;
  readonly onStderr?: (chunk: string) => void;
  /**
   * airlock's own runs (runInContainer) name the run their RunResult reports. Keyed by a symbol the
   * package does not export: a caller can't choose a run id, so it can't give its exec another
   * run's id (another tenant's, or one it wants to hide among) in the audit log.
   */
  readonly [RUN_ID]?: string;
}

/** What one launch ends with; the session adds the run id. */
export type Launched = Omit<ExecResult, 'runId'>;


export interface ExecResult {
  /** The run's id, as its audit events carry it (chosen by airlock, never by the caller). */
  readonly runId: string;
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
 * With a `standby` (a sandbox the pool launched ahead for this very spec, steps 2–6 done, its
 * waiter blocked on a pipe), the command is handed to it instead of launching again.
 *
 * @example
 *   const r = await launch(spec, bwrapDriver(), cgroup, 'run_1', { timeoutMs: 1000 });
 */
export async function launch(
  spec: SandboxSpec,
  driver: Driver,
  cgroup: Cgroup,
  id: string,
  options: ExecOptions = {},
  via: { readonly standby?: StandbyHandle | undefined; readonly spawner?: Spawner | undefined; readonly signal?: AbortSignal | undefined } = {},
): Promise<Launched> {
  const zero: Usage = { wallMs: 0, cpuMs: 0, memoryBytes: 0 };
  // 1.
  if ((await findProgram(spec)) === undefined) {
    const name = spec.process.args[0] ?? '';
    return { exitCode: null, stdout: '', stderr: '', usage: zero, ...end('invalid', 'COMMAND_NOT_FOUND', `${JSON.stringify(name)} is not a program in the sandbox: use python3, node or sh, or a file in the workspace marked executable`) };
  }
  const before = await measureFrom(cgroup);
  const ready = via.standby?.hand(spec.process.args);
  if (ready !== undefined) {
    try {
      return await supervise(spec, cgroup, ready, options, performance.now(), before, via.signal);
    } finally {
      await ready.cleanup();
    }
  }
  // 2.
  const command = await driver.command(spec, id);
  try {
    const spawned = await spawnChain(spec, command, cgroup, via.spawner ?? nodeSpawner());
    return await supervise(spec, cgroup, spawned, options, performance.now(), before, via.signal);
  } finally {
    await command.cleanup();
  }
}

async function measureFrom(cgroup: Cgroup): Promise<CgroupStats> {
  await cgroup.resetPeak();
  return cgroup.stats();
}

/** A driver's sandbox, spawned under its cgroup, uid and rlimits (steps 3–6). */
export interface Spawned {
  readonly process: SpawnedProcess;
  /** What the driver reported on its status fd so far, raw and read. */
  status(): string;
  readStatus(): DriverStatus;
  /** Settles when the chain has exited and its stdio closed. */
  readonly exited: Promise<readonly [number | null, NodeJS.Signals | null]>;
  readonly statusFd: number | null;
  cleanup(): Promise<void>;
}

/** A pre-launched sandbox that can take one command (src/container/standby.ts). */
export interface StandbyHandle {
  /** Gives the waiter `args` to exec; undefined when the standby is gone and a fresh launch is needed. */
  hand(args: readonly string[]): Spawned | undefined;
}

/**
 * Steps 3–6: spawns the driver's command inside `cgroup` as the sandbox's uid. `extraPipes` adds
 * pipes at those fds (a standby's waiter reads its command on one and reports on another).
 */
export async function spawnChain(
  spec: SandboxSpec,
  command: DriverCommand,
  cgroup: Cgroup,
  spawner: Spawner,
  extraPipes: SpawnRequest['pipes'] = [],
): Promise<Spawned> {
  const pipes: SpawnRequest['pipes'] = [
    ...(command.statusFd === null ? [] : [{ fd: command.statusFd, direction: 'from-child' as const }]),
    ...(command.argsPipe === null ? [] : [{ fd: command.argsPipe.fd, direction: 'to-child' as const }]),
    ...extraPipes,
  ];
  // 3. + 4. + 5. The spawner joins the cgroup and sets the rlimits as root, then drops to the
  // sandbox's uid (a driver that must start as root keeps it), then 6. execs the driver.
  const proc = await spawner.spawn({
    argv: command.argv,
    files: command.fileFds.map((path, i) => ({ fd: 3 + i, path })),
    pipes,
    join: cgroup.joinFiles,
    rlimits: command.rlimits === 'runtime' ? [] : spec.process.rlimits,
    ...(command.runAs === 'sandbox-uid' ? { uid: spec.airlock.hostUid, gid: spec.airlock.hostGid } : {}),
    ...(command.views.length === 0 ? {} : { views: command.views }),
  });
  if (command.argsPipe !== null) {
    const args = proc.stream(command.argsPipe.fd);
    // A driver that died before reading them has told its status another way.
    args?.on('error', () => undefined);
    args?.end(command.argsPipe.data);
  }
  const statusText = { text: '' };
  if (command.statusFd !== null) proc.stream(command.statusFd)?.on('data', (b: Buffer) => (statusText.text += b.toString()));
  return {
    process: proc,
    status: () => statusText.text,
    readStatus: () => command.readStatus(statusText.text),
    exited: proc.exited,
    statusFd: command.statusFd,
    cleanup: () => command.cleanup(),
  };
}



async function supervise(
  spec: SandboxSpec,
  cgroup: Cgroup,
  spawned: Spawned,
  options: ExecOptions,
  started: number,
  before: CgroupStats,
  signal: AbortSignal | undefined,
): Promise<Launched> {
  const { statusFd } = spawned;
  const proc = spawned.process;
  const wallMs = Math.min(options.timeoutMs ?? spec.airlock.wallMs, spec.airlock.wallMs);
  const limit = spec.airlock.outputBytes;
  const out = { stdout: '', stderr: '', bytes: 0 };
  // Set from event callbacks; read after the child has closed.
  const ended: { why: Pick<ExecResult, 'status' | 'error'> | null } = { why: null };
  // The cgroup kills a stop starts, and its delayed backstop. The exec returns only after each kill
  // has finished, and the backstop is cancelled once the command has exited (step 8 then kills what
  // is left): one still running later would kill the sandbox's next exec, in the same cgroup.
  // A stop after the exit (a CPU sample or output still in flight) kills nothing: its pid is gone.
  const backstop: { timer: NodeJS.Timeout | null; kills: Promise<void>[]; exited: boolean } = { timer: null, kills: [], exited: false };
  const killAll = (): void => void backstop.kills.push(cgroup.killAll().catch(() => undefined));
  const stop = (why: Pick<ExecResult, 'status' | 'error'>): void => {
    if (ended.why !== null) return;
    ended.why = why;
    if (backstop.exited) return;
    // 7. Killing the command (pid 1 of its pid namespace) makes the kernel kill everything else in
    // the namespace, re-parented and setsid'd processes included, while bwrap stays alive to reap
    // it (killing all at once would orphan zombies to the host's init). The cgroup is the backstop.
    const pid = spawned.readStatus().childPid;
    if (pid === undefined) {
      killAll();
      return;
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    backstop.timer = setTimeout(killAll, 200);
  };
  const collect = (stream: 'stdout' | 'stderr', cb: ((chunk: string) => void) | undefined) => {
    const decoder = new StringDecoder('utf8');
    proc.stream(stream === 'stdout' ? 1 : 2)?.on('data', (buf: Buffer) => {
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
  // The sandbox is being destroyed (by its owner, its lifetime, or airlock closing), or the host
  // stopped it with a coded reason (its denial budget): the command is stopped like at a limit, so
  // the exec still ends with a result and its run.ended is recorded.
  const destroyed = (): void => {
    const why: unknown = signal?.reason;
    stop(why instanceof AirlockError ? end(codeInfo(why.code).status, why.code, why.message) : end('killed', 'STOPPED_BY_HOST', 'the sandbox was destroyed while the command ran: it was stopped; run it again in a new sandbox'));
  };
  if (signal?.aborted === true) destroyed();
  signal?.addEventListener('abort', destroyed, { once: true });
  collect('stdout', options.onStdout);
  collect('stderr', options.onStderr);
  const stdin = proc.stream(0);
  stdin?.on('error', () => undefined);
  stdin?.end(options.stdin ?? '');
  const wall = setTimeout(() => stop(end('timeout', 'WALL_TIMEOUT', `the command ran longer than ${wallMs} ms: make it finish sooner or raise limits.wallMs`)), wallMs);
  const cpuLimitNs = spec.airlock.cpuMs * 1e6;
  const cpuWatch = setInterval(() => {
    cgroup.stats().then((s) => {
      if (s.cpuNs - before.cpuNs > cpuLimitNs) stop(end('timeout', 'CPU_TIMEOUT', `the command used more than ${spec.airlock.cpuMs} ms of CPU: use less or raise limits.cpuMs`));
    }, () => undefined);
  }, 50);
  const [code, exitSignal] = await spawned.exited;
  signal?.removeEventListener('abort', destroyed);
  const status = spawned.readStatus();
  backstop.exited = true;
  if (backstop.timer !== null) clearTimeout(backstop.timer);
  clearTimeout(wall);
  clearInterval(cpuWatch);
  // 8.
  await Promise.all(backstop.kills);
  await cgroup.killAll();
  const after = await cgroup.stats();
  const usage: Usage = {
    wallMs: Math.round(performance.now() - started),
    cpuMs: Math.round((after.cpuNs - before.cpuNs) / 1e6),
    memoryBytes: after.peakMemoryBytes,
  };
  const exitCode = status.exitCode ?? code ?? (exitSignal === null ? null : 128);
  const base = { exitCode, stdout: out.stdout, stderr: out.stderr, usage };
  if (ended.why !== null) return { ...base, ...ended.why };
  // On v1 the OOM kill is counted in the victim's own cgroup: an OCI runtime's child cgroup,
  // gone with the container. A SIGKILL while this exec's peak reached the limit is that kill.
  const memoryLimit = spec.linux.resources.memory.limit;
  const killedAtLimit = exitCode === 128 + 9 && after.peakMemoryBytes >= memoryLimit - (1 << 20);
  if (after.oomKills > before.oomKills || killedAtLimit) return { ...base, ...end('memory', 'MEMORY_LIMIT', `the command used more than its memory limit (${spec.linux.resources.memory.limit >> 20} MiB): use less or raise limits.memoryMiB`) };
  if (exitCode === 128 + 24 || usage.cpuMs > spec.airlock.cpuMs) return { ...base, ...end('timeout', 'CPU_TIMEOUT', `the command used more than ${spec.airlock.cpuMs} ms of CPU: use less or raise limits.cpuMs`) };
  if (code === 125 && spawned.status() === '') {
    throw new AirlockError('SANDBOX_UNAVAILABLE', `the sandbox could not be set up (cgroup join or driver failed): ${out.stderr.trim().slice(0, 500)}`);
  }
  if (statusFd !== null && !status.started) {
    // The driver says the command never started: set-up failed. Refuse rather than report a guest error.
    throw new AirlockError('SANDBOX_UNAVAILABLE', `the sandbox driver failed before the command started: ${out.stderr.trim().slice(0, 500)}`);
  }
  if (exitCode === 0) return { ...base, ...end('ok', null, '') };
  return { ...base, ...end('error', 'GUEST_ERROR', `the command exited with code ${exitCode ?? 'none'}`) };
}
