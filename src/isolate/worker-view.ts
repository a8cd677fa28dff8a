/**
 * What an isolate worker sees of the host's file system: the node binary, the shared libraries it
 * and isolated-vm link against, and the few source files the worker imports. Nothing else — no
 * /usr, no /etc, no home, no project tree beyond those files. Computed once per host process.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** The shared objects a binary needs, as ldd resolves them (paths the loader will ask for). */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
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
  for (const p of [join(PROJECT_ROOT, 'package.json'), join(PROJECT_ROOT, 'src', 'isolate'), ivmDir, gypBuild]) wanted.push([p, p]);
  const from = mirrored(wanted.map(([source]) => source));
  const binds = wanted.map(([source, to]) => [from.get(source) ?? source, to] as const);
  return { node, binds, entry: join(PROJECT_ROOT, 'src', 'isolate', 'worker-main.ts') };
}
