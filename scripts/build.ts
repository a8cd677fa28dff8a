/**
 * The JavaScript build of this checkout, made at set-up (scripts/setup.sh) so that a one-shot
 * `airlock run` does not strip and link the TypeScript tree at every start:
 *   1. the CLI, bundled with esbuild into .airlock-build/dist/js/ (split at every dynamic import,
 *      so a command loads only its own code);
 *   2. the isolate worker and its backstop thread into .airlock-build/dist/worker/, self-contained
 *      (the worker's sandbox binds that folder read-only, in place of src/isolate/);
 *   3. manifest.json last: the stamps of every input and output (bin/build-state.js), which the
 *      CLI and the worker view check before they use the build, and fall back to the sources when
 *      anything changed since.
 * The build is made beside the old one and swapped in whole. With no argument it builds only when
 * the build is missing or stale; `--force` builds anyway.
 *
 * @example
 *   node scripts/build.ts          # nothing to do when the build is current
 */
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILD_DIR, MANIFEST_VERSION, parentsOf, stampOf, usableBuild } from '../bin/build-state.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const OUT = join(ROOT, BUILD_DIR);

/**
 * The CLI's modules keep the URL of their source file: paths derived from it (the project root,
 * the worker's sources when the build is not used) are the same whether the CLI runs built or not.
 */
const sourceUrls: Plugin = {
  name: 'source-urls',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const contents = text
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path));
      return { contents, loader: 'ts' };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // jsonc-parser's main entry is UMD, which loads its parts by a require esbuild can't follow.
  mainFields: ['module', 'main'],
  outExtension: { '.js': '.mjs' },
  // Native code and what is loaded only on demand stay packages, loaded from node_modules.
  external: ['isolated-vm', 'pg', 'amaro'],
  // CommonJS packages inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __airlockRequire } from 'node:module'; const require = __airlockRequire(import.meta.url);" },
  metafile: true,
  absWorkingDir: ROOT,
  logLevel: 'warning',
} satisfies BuildOptions;

function inputsOf(meta: Metafile): string[] {
  return Object.keys(meta.inputs)
    .filter((p) => !p.startsWith('node:') && !p.includes(':'))
    .map((p) => resolve(ROOT, p));
}

/** Every file and folder under `dir`, relative to it, with its kind. */
function outputsOf(dir: string): [string, 'dir' | 'file'][] {
  const found = readdirSync(dir, { recursive: true, withFileTypes: true }).map((e) => [relative(dir, join(e.parentPath, e.name)), e.isDirectory() ? 'dir' : 'file'] as [string, 'dir' | 'file']);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

/** What a part of the build is checked against: its inputs (and their folders) and its outputs under `tmp`. */
function partOf(meta: Metafile, tools: readonly string[], tmp: string, folder: string): { inputs: (readonly [string, readonly string[]])[]; outputs: (readonly [string, 'dir' | 'file', readonly string[]])[] } {
  const sources = inputsOf(meta);
  const inputs = [...new Set([...sources, ...tools])].sort();
  const outputs: [string, 'dir' | 'file'][] = [[folder, 'dir'], ...outputsOf(join(tmp, folder)).map(([rel, kind]) => [join(folder, rel), kind] as [string, 'dir' | 'file'])];
  return {
    inputs: [...inputs, ...parentsOf(sources)].map((p) => [p, stampOf(p)] as const),
    outputs: outputs.map(([rel, kind]) => [rel, kind, stampOf(join(tmp, rel))] as const),
  };
}

async function main(): Promise<void> {
  const why: { reason?: string } = {};
  if (!process.argv.includes('--force') && usableBuild(ROOT, 'cli', why) !== null && usableBuild(ROOT, 'worker', why) !== null) return;
  process.stderr.write(`airlock build: building (${why.reason ?? 'forced'})\n`);
  const tmp = `${OUT}.${String(process.pid)}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  // Readable by the worker's own uid (its sandbox binds the worker folder), writable by no one else.
  process.umask(0o022);
  mkdirSync(tmp, { recursive: true, mode: 0o755 });
  const cli = await build({ ...common, entryPoints: [join(ROOT, 'src/cli/main.ts')], outdir: join(tmp, 'js'), splitting: true, plugins: [sourceUrls] });
  const worker = await build({ ...common, entryPoints: [join(ROOT, 'src/isolate/worker-main.ts'), join(ROOT, 'src/isolate/backstop-thread.ts')], outdir: join(tmp, 'worker') });
  // What decides how the inputs become the build: this script, its check, the bundler, the lock file.
  const tools = [fileURLToPath(import.meta.url), join(ROOT, 'bin/build-state.js'), join(ROOT, 'node_modules/esbuild/package.json'), join(ROOT, 'package.json'), join(ROOT, 'package-lock.json')];
  for (const d of [tmp, join(tmp, 'js'), join(tmp, 'worker')]) chmodSync(d, 0o755);
  // Stamped before the swap: renaming the folder that holds them changes neither their stamps nor their contents.
  const manifest = { version: MANIFEST_VERSION, root: ROOT, parts: { cli: partOf(cli.metafile, tools, tmp, 'js'), worker: partOf(worker.metafile, tools, tmp, 'worker') } };
  writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest)}\n`, { mode: 0o644 });
  const old = `${OUT}.${String(process.pid)}.old`;
  rmSync(old, { recursive: true, force: true });
  try {
    renameSync(OUT, old);
  } catch {
    // No build before this one.
  }
  renameSync(tmp, OUT);
  rmSync(old, { recursive: true, force: true });
  for (const part of ['cli', 'worker'] as const) {
    const check: { reason?: string } = {};
    if (usableBuild(ROOT, part, check) === null) throw new Error(`the ${part} build just made is not usable: ${check.reason ?? 'unknown'}`);
  }
}

await main();
