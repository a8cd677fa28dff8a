/**
 * The cgroup file system underneath src/os/cgroup.ts: where the controllers are (v2, or v1's
 * separate hierarchies), and small readers and writers of its files. Reads that the launcher
 * makes per exec are synchronous: cgroupfs answers from memory in microseconds, less than a
 * thread-pool round trip.
 */
import { constants as fsc, readFileSync } from 'node:fs';
import { access, readFile, realpath, writeFile } from 'node:fs/promises';
import { AirlockError } from '../core/errors.ts';

/** What Cgroup.layout() found: opaque outside these files. */
export interface CgroupLayout {
  readonly version: 1 | 2;
}

export const CGROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];
export const PARENT = 'airlock';

export type Layout =
  | { readonly version: 2; readonly dir: string }
  | { readonly version: 1; readonly dirs: Readonly<Record<V1Controller, string>>; readonly unique: readonly string[] };

export function isLayout(l: CgroupLayout): l is Layout {
  return 'dir' in l || 'unique' in l;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path, fsc.F_OK);
    return true;
  } catch {
    return false;
  }
}

export function unavailable(message: string): AirlockError {
  return new AirlockError('SANDBOX_UNAVAILABLE', message);
}

export async function put(path: string, value: string): Promise<void> {
  try {
    await writeFile(path, value);
  } catch (error) {
    throw unavailable(`can't write ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): run airlock as root on a host with this cgroup controller`);
  }
}

export async function readNumber(path: string): Promise<number> {
  const text = (await readFile(path, 'utf8')).trim();
  return text === 'max' ? Number.POSITIVE_INFINITY : Number(text);
}

export async function detect(root: string): Promise<Layout> {
  if (process.getuid?.() !== 0) throw unavailable('cgroup limits need root: run airlock as root (or give it a delegated cgroup)');
  if (await exists(`${root}/cgroup.controllers`)) {
    const have = (await readFile(`${root}/cgroup.controllers`, 'utf8')).trim().split(/\s+/);
    for (const c of ['memory', 'pids', 'cpu']) {
      if (!have.includes(c)) throw unavailable(`cgroup v2 controller "${c}" is missing at ${root}: enable it in the kernel / boot options`);
    }
    return { version: 2, dir: `${root}/${PARENT}` };
  }
  const dirs = {} as Record<V1Controller, string>;
  const unique: string[] = [];
  for (const c of V1_CONTROLLERS) {
    const base = `${root}/${c}`;
    if (!(await exists(`${base}/cgroup.procs`))) {
      throw unavailable(`cgroup controller "${c}" is not mounted at ${base}: mount it (mount -t cgroup -o ${c} cgroup ${base}) or boot with cgroup v2`);
    }
    // cpu and cpuacct are often one hierarchy (cpu,cpuacct) reached by two symlinks.
    const real = `${await realpath(base)}/${PARENT}`;
    dirs[c] = real;
    if (!unique.includes(real)) unique.push(real);
  }
  return { version: 1, dirs, unique };
}

export function readNumberNow(path: string): number {
  const text = readFileSync(path, 'utf8').trim();
  return text === 'max' ? Number.POSITIVE_INFINITY : Number(text);
}

/** Reads `key value` lines (memory.events, cpu.stat, memory.oom_control) into a map. */
export function readKeyedNow(path: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key !== undefined && value !== undefined) map.set(key, Number(value));
  }
  return map;
}

export function killPidsNow(procsFile: string): number {
  let text: string;
  try {
    text = readFileSync(procsFile, 'utf8');
  } catch {
    return 0;
  }
  const pids = text.split('\n').filter((s) => s !== '').map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}

