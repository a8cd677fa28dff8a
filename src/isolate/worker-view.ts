/**
 * What an isolate worker sees of the host's file system: the node binary, the shared libraries it
 * and isolated-vm link against, and the worker's own code. Nothing else — no /usr, no /etc, no
 * home, no project tree beyond those files. Computed once per host process.
 *
 * The worker's code is its JavaScript build (scripts/build.ts: one file, nothing to strip or link,
 * so a worker starts in a fraction of the time) when bin/build-state.js finds the build current and
 * private to this user, and otherwise its sources (src/isolate/). Either way it is bound read-only
 * and owned by the host's user: a worker can't change what the next worker or the host runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usableBuild } from '../../bin/build-state.js';
import { AirlockError } from '../core/errors.ts';
import { mirrored } from './view-mirror.ts';

export interface WorkerView {
  readonly node: string;
  /** [host path, sandbox path] pairs, bound read-only. */
  readonly binds: readonly (readonly [string, string])[];
  readonly entry: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = join(HERE, '..', '..');

/**
 * The dynamic loader ldd runs for a 64-bit binary here: asked directly, it answers the same list
 * without ldd's shell script (a few ms of every cold start).
 */
const LOADER = '/lib64/ld-linux-x86-64.so.2';

/** The shared objects a binary needs, as the loader resolves them (paths it will ask for). */
function sharedLibraries(binary: string): string[] {
  const out = existsSync(LOADER) ? execFileSync(LOADER, ['--list', binary], { encoding: 'utf8' }) : execFileSync('ldd', [binary], { encoding: 'utf8' });
  const paths: string[] = [];
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1] !== undefined) paths.push(m[1]);
  }
  return paths;
}

export function workerView(nodePath: string = process.execPath): WorkerView {
  const node = realpathSync(nodePath);
  const ivmDir = join(PROJECT_ROOT, 'node_modules', 'isolated-vm');
  const gypBuild = join(PROJECT_ROOT, 'node_modules', 'node-gyp-build');
  const prebuilt = join(ivmDir, 'prebuilds', 'linux-x64');
  const addon = readdirSync(prebuilt)
    .filter((f) => f.includes(`abi${process.versions.modules}.glibc`))
    .map((f) => join(prebuilt, f))[0];
  if (addon === undefined) {
    throw new AirlockError('SANDBOX_UNAVAILABLE', `isolated-vm has no prebuilt binary for Node ABI ${process.versions.modules}: run \`npm run setup\` on Node 24`);
  }
  const libs = new Set([...sharedLibraries(node), ...sharedLibraries(addon)]);
  const wanted: [string, string][] = [[node, node]];
  for (const lib of libs) wanted.push([realpathSync(lib), lib]);
  const built = usableBuild(PROJECT_ROOT, 'worker');
  const code = built === null ? { dir: join(PROJECT_ROOT, 'src', 'isolate'), entry: join(PROJECT_ROOT, 'src', 'isolate', 'worker-main.ts') } : { dir: built.workerDir, entry: built.workerEntry };
  for (const p of [join(PROJECT_ROOT, 'package.json'), code.dir, ivmDir, gypBuild]) wanted.push([p, p]);
  const from = mirrored(wanted.map(([source]) => source));
  const binds = wanted.map(([source, to]) => [from.get(source) ?? source, to] as const);
  return { node, binds, entry: code.entry };
}
