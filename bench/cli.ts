/**
 * The CLI as a user starts it, whole processes, beside `node -e 0` started the same way in the same
 * run (the floor no Node program starts under). Each sample is a new process; the kinds take turns,
 * so a busy machine slows every kind alike.
 *   node_start_ms          p50 of `node -e 0`
 *   cli_run_cold_ms        p50 of `node bin/airlock.js run f.js` (f.js: `export default 1`), a new process each time
 *   cli_run_vs_node_ratio  the two above, divided
 *   cli_npx_run_cold_ms    p50 of `npx airlock run f.js` from the checkout
 *   cli_help_ms            p50 of `node bin/airlock.js --help`
 *   cli_build_current      1 when the JavaScript build ran (bin/build-state.js), 0 when the sources did
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { usableBuild } from '../bin/build-state.js';
import { median, round } from './stats.ts';

const ROOT = join(import.meta.dirname, '..');
const SAMPLES = 11;

/** Wall time of one whole process, from spawn to exit; it must exit 0. */
function timed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${cmd} ${args.join(' ')} exited ${String(code)}: ${err}`))));
  });
}

export async function benchCli(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-cli-'));
  const file = join(dir, 'f.js');
  writeFileSync(file, 'export default 1\n');
  const env = { ...process.env, AIRLOCK_HOME: join(dir, 'home'), AIRLOCK_CHECKPOINT_DIR: process.env['AIRLOCK_CHECKPOINT_DIR'] ?? join(dir, 'checkpoints') };
  const bin = join(ROOT, 'bin', 'airlock.js');
  const kinds = {
    node: () => timed(process.execPath, ['-e', '0'], env),
    run: () => timed(process.execPath, [bin, 'run', file], env),
    // npx as a user has it (npm's own); it runs the bin on the Node that `npm run` puts first on PATH.
    npx: () => timed('npx', ['airlock', 'run', file], env),
    help: () => timed(process.execPath, [bin, '--help'], env),
  };
  // Not counted: the first run makes the home (its audit database, the seccomp program) and fills Node's compile cache.
  await kinds.run();
  const samples: Record<keyof typeof kinds, number[]> = { node: [], run: [], npx: [], help: [] };
  for (let i = 0; i < SAMPLES; i++) {
    for (const [kind, once] of Object.entries(kinds) as [keyof typeof kinds, () => Promise<number>][]) samples[kind].push(await once());
  }
  const node = median(samples.node);
  const run = median(samples.run);
  return {
    node_start_ms: round(node, 1),
    cli_run_cold_ms: round(run, 1),
    cli_run_vs_node_ratio: round(run / node, 2),
    cli_npx_run_cold_ms: round(median(samples.npx), 1),
    cli_help_ms: round(median(samples.help), 1),
    cli_build_current: usableBuild(ROOT, 'cli') === null ? 0 : 1,
  };
}
