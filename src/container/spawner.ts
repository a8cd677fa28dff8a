/**
 * How the launcher starts a process with its pipes on exact fd numbers. Node's own spawn forks
 * the whole host process and waits for the child's exec on the main thread: ~1.2–3 ms per
 * sandbox here, the largest cost left on the create path. A pool instead keeps one small
 * long-lived root helper (Debian's python3, which forks in a fraction of that) that forks and
 * execs on request; the host then opens the helper's ends of the pipes through
 * /proc/<helper>/fd/N (a pipe reopened by path is the same pipe) and tells the helper to drop
 * them, so end-of-file means what it means with spawn. The child gets exactly the fds asked for
 * (everything else the helper holds is close-on-exec), an empty environment, cwd /, and when
 * asked, the uid and gid with no supplementary groups — as node's spawn does.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants as fsc, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { AirlockError } from '../core/errors.ts';
import { joinFilesAndExec } from '../os/cgroup.ts';
import { ulimitCommands, type Rlimit } from './rlimit.ts';
import { spawnerHelperSource } from './spawner-helper.ts';

export interface SpawnRequest {
  readonly argv: readonly string[];
  readonly uid?: number;
  readonly gid?: number;
  /** Host files opened read-only at these fds (the seccomp program). */
  readonly files: readonly { readonly fd: number; readonly path: string }[];
  /**
   * A mount namespace of the child's own, made as root before the uid drop, in which each
   * `source` is bind-mounted on its `target` (see DriverCommand.views).
   */
  readonly views?: readonly { readonly source: string; readonly target: string }[];
  /** Pipes besides 0, 1 and 2 (0 is to the child, 1 and 2 from it). */
  readonly pipes: readonly { readonly fd: number; readonly direction: 'to-child' | 'from-child' }[];
  /**
   * Cgroup files (Cgroup.joinFiles) the child writes `0` to as root, before its rlimits, the uid
   * drop and the exec: anything it runs starts inside. A join that fails ends it (exit 125),
   * having run nothing.
   */
  readonly join?: readonly string[];
  /** Limits set (soft = hard) after the join, before the uid drop; the exec'd program and all it forks keep them. */
  readonly rlimits?: readonly Rlimit[];
}

export interface SpawnedProcess {
  /** The host end of the pipe at `fd` in the child, if one was asked for. */
  stream(fd: number): Socket | undefined;
  /**
   * Settles when the process has exited and every pipe from it has closed. A pipe closes only once
   * it is read to its end: whoever holds a process must read every from-child pipe, or this never
   * settles (see standby.ts, which reads them until it hands over a command).
   */
  readonly exited: Promise<readonly [number | null, NodeJS.Signals | null]>;
  ref(): void;
  unref(): void;
}

export interface Spawner {
  spawn(request: SpawnRequest): Promise<SpawnedProcess>;
}

function allPipes(request: SpawnRequest): SpawnRequest['pipes'] {
  return [{ fd: 0, direction: 'to-child' }, { fd: 1, direction: 'from-child' }, { fd: 2, direction: 'from-child' }, ...request.pipes];
}

/**
 * The argv that sets a request up with Debian's tools, as root, in this order: unshare(1) makes
 * the mount namespace (private propagation) and mount(8) each view's bind; dash joins the cgroup
 * and sets the rlimits (joinFilesAndExec, which first closes fds inherited without close-on-exec);
 * setpriv(1) drops to the uid. A request with none of these is run as is (node drops the uid).
 */
function chained(request: SpawnRequest): { readonly argv: readonly string[]; readonly dropped: boolean } {
  const views = request.views ?? [];
  const join = request.join ?? [];
  const rlimits = request.rlimits ?? [];
  if (views.length === 0 && join.length === 0 && rlimits.length === 0) return { argv: request.argv, dropped: false };
  const drop = request.uid === undefined ? [] : ['/usr/bin/setpriv', `--reuid=${request.uid}`, `--regid=${request.gid ?? request.uid}`, '--clear-groups', '--'];
  const keepFdsBelow = Math.max(3, ...request.files.map((f) => f.fd + 1), ...request.pipes.map((p) => p.fd + 1));
  const joined = join.length === 0 && rlimits.length === 0 ? [...drop, ...request.argv] : joinFilesAndExec(join, [...drop, ...request.argv], ulimitCommands(rlimits), { keepFdsBelow });
  if (views.length === 0) return { argv: joined, dropped: true };
  const binds = views.map((_, i) => `mount --bind -- "$${2 * i + 1}" "$${2 * i + 2}" || exit 125`);
  const script = `${binds.join('; ')}; shift ${2 * views.length}; exec "$@"`;
  return { argv: ['/usr/bin/unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'airlock-view', ...views.flatMap((v) => [v.source, v.target]), ...joined], dropped: true };
}

/** node's child_process.spawn: no helper, one fork of the host per process. */
export function nodeSpawner(): Spawner {
  return {
    async spawn(request) {
      const files: FileHandle[] = [];
      try {
        const stdio: ('pipe' | 'ignore' | number)[] = [];
        for (const f of request.files) {
          const fh = await open(f.path, 'r');
          files.push(fh);
          stdio[f.fd] = fh.fd;
        }
        for (const p of allPipes(request)) stdio[p.fd] = 'pipe';
        for (let i = 0; i < stdio.length; i++) stdio[i] ??= 'ignore';
        const chain = chained(request);
        const [program = '/bin/sh', ...args] = chain.argv;
        const drop = request.uid === undefined || chain.dropped ? {} : { uid: request.uid, gid: request.gid ?? request.uid };
        const child = spawn(program, args, { stdio, env: {}, cwd: '/', ...drop });
        const exited = new Promise<readonly [number | null, NodeJS.Signals | null]>((resolve) => {
          child.on('error', () => resolve([null, null]));
          child.on('close', (c, sig) => resolve([c, sig]));
        });
        const streams = child.stdio as unknown as readonly (Socket | null | undefined)[];
        return {
          stream: (fd) => streams[fd] ?? undefined,
          exited,
          ref: () => {
            child.ref();
            for (const s of streams) s?.ref();
          },
          unref: () => {
            child.unref();
            for (const s of streams) s?.unref();
          },
        };
      } finally {
        for (const f of files) await f.close().catch(() => undefined);
      }
    },
  };
}

const PYTHON = '/usr/bin/python3';

type Reply =
  | { readonly id: number; readonly pid: number; readonly fds: Readonly<Record<string, number>> }
  | { readonly id: number; readonly error: string }
  | { readonly exit: number; readonly code: number | null; readonly signal: string | null; readonly signum: number | null };

/**
 * A child's end as the launcher reads it. A signal with a name is passed on by name; one Python
 * can't name (a real-time signal) becomes the exit code a shell would report, 128 + its number.
 */
function endOf(reply: Extract<Reply, { exit: number }>): readonly [number | null, NodeJS.Signals | null] {
  if (reply.signal !== null) return [null, reply.signal as NodeJS.Signals];
  if (reply.signum !== null) return [128 + reply.signum, null];
  return [reply.code, null];
}

interface Waiting {
  readonly resolve: (r: Reply) => void;
  readonly reject: (e: Error) => void;
}

type Helper = ChildProcessByStdio<Writable, Readable, null>;

/**
 * @example
 *   const spawner = new HelperSpawner();
 *   const p = await spawner.spawn({ argv: ['/usr/bin/true'], files: [], pipes: [] });
 *   await p.exited; spawner.close();
 */
export class HelperSpawner implements Spawner {
  #helper: Helper | undefined;
  readonly #waiting = new Map<number, Waiting>();
  readonly #exits = new Map<number, (r: readonly [number | null, NodeJS.Signals | null]) => void>();
  #next = 1;
  #busy = 0;

  #start(): Helper {
    const child = spawn(PYTHON, ['-I', '-S', '-c', spawnerHelperSource()], { stdio: ['pipe', 'pipe', 'ignore'], env: {} });
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let reply: Reply;
        try {
          reply = JSON.parse(line) as Reply;
        } catch {
          // The helper is confused: end it, and every waiter is told (close → fail) rather than left hanging.
          child.kill('SIGKILL');
          return;
        }
        if ('exit' in reply) {
          this.#exits.get(reply.exit)?.(endOf(reply));
          this.#exits.delete(reply.exit);
        } else {
          this.#waiting.get(reply.id)?.resolve(reply);
          this.#waiting.delete(reply.id);
        }
      }
    });
    const fail = () => {
      if (this.#helper === child) this.#helper = undefined;
      const error = new AirlockError('SANDBOX_UNAVAILABLE', `the process helper (${PYTHON}) stopped: check that python3 is installed and airlock runs as root`);
      for (const w of this.#waiting.values()) w.reject(error);
      this.#waiting.clear();
      // Their exits can no longer be reported: say so rather than hang.
      for (const e of this.#exits.values()) e([null, null]);
      this.#exits.clear();
    };
    child.on('error', fail);
    child.on('close', fail);
    child.stdin.on('error', () => undefined);
    return child;
  }

  /** The helper holds the host process alive only while one of its processes is referenced. */
  #hold(delta: number): void {
    this.#busy += delta;
    const h = this.#helper;
    if (h === undefined) return;
    for (const s of [h.stdout, h.stdin] as unknown as Socket[]) {
      if (this.#busy > 0) s.ref();
      else s.unref();
    }
    if (this.#busy > 0) h.ref();
    else h.unref();
  }

  #send(message: Record<string, unknown>): void {
    this.#helper?.stdin.write(`${JSON.stringify(message)}\n`);
  }

  async spawn(request: SpawnRequest): Promise<SpawnedProcess> {
    this.#helper ??= this.#start();
    const helper = this.#helper;
    const id = this.#next++;
    const pipes = allPipes(request);
    this.#hold(1);
    // Listened for before the request goes out: a child that dies at once has its exit in the
    // same chunk as the spawn reply, handled before this function resumes.
    const exit = new Promise<readonly [number | null, NodeJS.Signals | null]>((resolve) => this.#exits.set(id, resolve));
    let reply: Reply;
    try {
      reply = await new Promise<Reply>((resolve, reject) => {
        this.#waiting.set(id, { resolve, reject });
        this.#send({ op: 'spawn', id, argv: request.argv, uid: request.uid ?? null, gid: request.gid ?? request.uid ?? null, files: request.files, pipes, views: request.views ?? [], join: request.join ?? [], rlimits: (request.rlimits ?? []).map((r) => ({ type: r.type, soft: r.soft, hard: r.hard })) });
      });
    } catch (error) {
      this.#exits.delete(id);
      this.#hold(-1);
      throw error;
    }
    if (!('pid' in reply)) {
      this.#exits.delete(id);
      this.#hold(-1);
      throw new AirlockError('SANDBOX_UNAVAILABLE', `the process helper could not start ${request.argv[0] ?? ''}: ${'error' in reply ? reply.error : 'no reply'}`);
    }
    const streams = new Map<number, Socket>();
    try {
      for (const p of pipes) streams.set(p.fd, this.#openEnd(helper.pid ?? 0, reply.fds[String(p.fd)] ?? -1, p.direction));
    } finally {
      // Only the host's own ends (and the child's) may remain, or end-of-file would never come.
      this.#send({ op: 'release', id });
    }
    const closes = pipes.filter((p) => p.direction === 'from-child').map((p) => new Promise<void>((resolve) => streams.get(p.fd)?.once('close', () => resolve())));
    const exited = Promise.all([exit, ...closes]).then(([e]) => e);
    const refs = { held: true };
    void exited.then(() => {
      if (refs.held) this.#hold(-1);
      refs.held = false;
    });
    return {
      stream: (fd) => streams.get(fd),
      exited,
      ref: () => {
        if (!refs.held) this.#hold(1);
        refs.held = true;
        for (const s of streams.values()) s.ref();
      },
      unref: () => {
        if (refs.held) this.#hold(-1);
        refs.held = false;
        for (const s of streams.values()) s.unref();
      },
    };
  }

  #openEnd(helperPid: number, fd: number, direction: 'to-child' | 'from-child'): Socket {
    const path = `/proc/${helperPid}/fd/${fd}`;
    if (direction === 'from-child') return new Socket({ fd: openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK), readable: true, writable: false });
    try {
      return new Socket({ fd: openSync(path, fsc.O_WRONLY | fsc.O_NONBLOCK), readable: false, writable: true });
    } catch (error) {
      // ENXIO: the child already closed its end (it exited); writing to it would be lost anyway.
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
      const s = new Socket({ readable: false, writable: false });
      s.destroy();
      return s;
    }
  }

  /** Stops the helper; processes it started keep running and are killed through their cgroup. */
  close(): void {
    this.#helper?.stdin.end();
    this.#helper = undefined;
  }
}
