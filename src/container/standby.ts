/**
 * A standby: a sandbox launched ahead of its first command, through exactly the launcher's steps
 * 2–6 (the same driver argv, cgroup join, rlimits, uid, namespaces, mounts, seccomp and
 * no_new_privs as a cold launch of the same spec), whose command is a waiter: `/bin/sh` that
 * says it is ready on one pipe, reads one line from another that only the host holds, closes
 * both, then `exec`s the line. So the command the sandbox
 * finally runs is pid 1 of the very namespaces the standby built, with the environment the spec
 * set (the waiter's own variables are not exported), and nothing of the waiter is left.
 *
 * The line is the argv, every word single-quoted by the host (a newline inside a word is spliced
 * back in from a variable), so the waiter's `eval` only ever sees quoted words. Until the line is
 * written no guest code runs, and a standby whose host dies reads end-of-file and exits 125
 * having run nothing.
 */
import type { Cgroup } from '../os/cgroup.ts';
import type { Driver } from './drivers/driver.ts';
import { spawnChain, type Spawned, type StandbyHandle } from './launch.ts';
import type { Spawner } from './spawner.ts';
import type { SandboxSpec } from './spec.ts';

/** The waiter's pipes, inside the sandbox too (bwrap passes inherited fds through). */
export const CONTROL_FD = 9;
const READY_FD = 8;

/** Variables the waiter uses; a policy that sets one in the environment gets no standby. */
export const WAITER_VARIABLES: readonly string[] = ['airlock_cmd', 'airlock_nl'];

/** What a standby's driver may say before any command runs (its set-up errors), kept for the report. */
const EARLY_CHARS = 4096;

/** Longer argvs go the cold way: dash reads the line one byte per read(2). */
export const MAX_HANDED_BYTES = 16 * 1024;

const WAITER = [
  `printf R >&${READY_FD}`,
  `exec ${READY_FD}>&-`,
  `IFS= read -r airlock_cmd <&${CONTROL_FD} || exit 125`,
  `exec ${CONTROL_FD}<&-`,
  // dash exports the PWD it sets itself; the spec's environment has none.
  'unset PWD',
  'eval "exec $airlock_cmd"',
].join('; ');

/** argv → one line of single-quoted words for the waiter's eval. */
export function quoteLine(args: readonly string[]): string {
  return args.map((a) => `'${a.replaceAll("'", `'\\''`).replaceAll('\n', `'"$airlock_nl"'`)}'`).join(' ');
}

/** The args a standby's spec carries in place of the command. */
export function waiterArgs(): string[] {
  return ['/bin/sh', '-c', `airlock_nl='\n'; ${WAITER}`, 'airlock-standby'];
}

/**
 * @example
 *   const sb = await Standby.launch(compileSpec(policy, inputs, waiterArgs()), bwrapDriver(), cgroup, 'pool');
 *   await sb.ready(); … launch(spec, driver, cgroup, id, {}, sb);
 */
export class Standby implements StandbyHandle {
  readonly #spawned: Spawned;
  readonly #ready: Promise<boolean>;
  readonly #early = { text: '' };
  readonly #drain = (chunk: Buffer): void => {
    if (this.#early.text.length < EARLY_CHARS) this.#early.text += chunk.toString('utf8').slice(0, EARLY_CHARS - this.#early.text.length);
  };
  #state: 'waiting' | 'handed' | 'gone' = 'waiting';

  private constructor(spawned: Spawned) {
    this.#spawned = spawned;
    // Until a command is handed, stdout and stderr are read here: a pipe nobody reads never reaches
    // end-of-file, and then a standby whose driver failed at set-up would never count as exited
    // (so never as not-ready) and whoever waits for it would wait forever. The waiter itself
    // prints nothing; what arrives is the driver's own error, kept for the report.
    for (const fd of [1, 2]) spawned.process.stream(fd)?.on('data', this.#drain);
    const ready = spawned.process.stream(READY_FD);
    this.#ready = new Promise<boolean>((resolve) => {
      ready?.once('data', () => resolve(true));
      void spawned.exited.then(() => resolve(false));
    });
    void spawned.exited.then(() => {
      if (this.#state === 'waiting') this.#state = 'gone';
    });
    // Once waiting, a standby must not keep the host process alive by itself (until then its
    // launch is work in progress that someone awaits).
    void this.#ready.then(() => {
      if (this.#state === 'waiting') spawned.process.unref();
    });
  }

  /** Steps 2–6 for `spec` (whose args are waiterArgs()). */
  static async launch(spec: SandboxSpec, driver: Driver, cgroup: Cgroup, id: string, spawner: Spawner): Promise<Standby> {
    const command = await driver.command(spec, id);
    try {
      const pipes = [{ fd: READY_FD, direction: 'from-child' as const }, { fd: CONTROL_FD, direction: 'to-child' as const }];
      return new Standby(await spawnChain(spec, command, cgroup, spawner, pipes));
    } catch (error) {
      await command.cleanup();
      throw error;
    }
  }

  /** True once the waiter runs (the namespaces and mounts are built); false if the standby died. */
  ready(): Promise<boolean> {
    return this.#ready;
  }

  /** What the driver printed before any command ran (a set-up error), at most 4,096 characters. */
  get early(): string {
    return this.#early.text;
  }

  /** The host pid of the waiter (pid 1 of the sandbox), once the driver reported it. */
  get pid(): number | undefined {
    return this.#spawned.readStatus().childPid;
  }

  get waiting(): boolean {
    return this.#state === 'waiting';
  }

  hand(args: readonly string[]): Spawned | undefined {
    const line = quoteLine(args);
    if (this.#state !== 'waiting' || Buffer.byteLength(line) > MAX_HANDED_BYTES) return undefined;
    this.#state = 'handed';
    // The command's output is the caller's from here: it attaches its readers in this same tick,
    // before any more data can be delivered.
    for (const fd of [1, 2]) this.#spawned.process.stream(fd)?.off('data', this.#drain);
    this.#spawned.process.ref();
    const control = this.#spawned.process.stream(CONTROL_FD);
    control?.on('error', () => undefined);
    control?.end(`${line}\n`);
    return this.#spawned;
  }

  /**
   * Ends a standby that was never handed a command. Closing its pipe makes the waiter read
   * end-of-file and exit 125 having run nothing, so bwrap reaps it and leaves no zombie for the
   * host's init; the caller's cgroup kill is the backstop if that takes longer than `graceMs`.
   */
  async discard(graceMs = 2000): Promise<void> {
    if (this.#state === 'handed') return;
    this.#state = 'gone';
    this.#spawned.process.stream(CONTROL_FD)?.destroy();
    const timer = { id: undefined as NodeJS.Timeout | undefined };
    await Promise.race([this.#spawned.exited, new Promise<void>((resolve) => (timer.id = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer.id);
    await this.#spawned.cleanup();
  }
}
