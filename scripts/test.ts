// The test command behind `npm test`: type-check, lint, then every test file in its own process.
import { spawnSync } from 'node:child_process';
import { globSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function step(name: string, cmd: string, args: string[]): void {
  const started = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    process.stderr.write(`\n✗ ${name} failed (${secs}s)\n`);
    process.exit(r.status ?? 1);
  }
  process.stderr.write(`✓ ${name} (${secs}s)\n`);
}

// The audit's checkpoint key and witness files live outside AIRLOCK_HOME (/var/lib/airlock by
// default): the tests' logs sign into a private directory of this run, removed at the end.
const checkpoints = mkdtempSync(join(tmpdir(), 'airlock-checkpoints-'));
process.env['AIRLOCK_CHECKPOINT_DIR'] ??= checkpoints;
process.on('exit', () => rmSync(checkpoints, { recursive: true, force: true }));

const only = process.argv.slice(2);
const files = only.length > 0 ? only : globSync('test/**/*.test.ts').sort();
if (only.length === 0) {
  step('type-check', 'tsc', ['-p', 'tsconfig.json', '--noEmit']);
  step('lint', 'eslint', ['--max-warnings', '0', '.']);
}
// test/check/check-container.test.ts runs alone after the rest: one of its probes binds all of
// /run/airlock, and bwrap's recursive bind fails when other files' workspace mounts come and go
// under it meanwhile (the check then answers "could not verify", failing closed). It used to stall
// too: a pooled standby whose bwrap failed that way was never seen to exit (fixed in standby.ts).
// test/runtime/reaper.test.ts too: it kills hosts and checks that a given reaper takes what they
// left, but a dead host's sandbox is anyone's to reap, and every createAirlock in the files running
// beside it reaps at its start, so which reaper took it would depend on scheduling.
const ALONE = new Set(['test/check/check-container.test.ts', 'test/runtime/reaper.test.ts']);
const run = (name: string, list: string[], concurrency: number): void => {
  if (list.length > 0) step(`${name} (${list.length} files)`, process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=120000', ...list]);
};
run('tests', files.filter((f) => !ALONE.has(f)), 2);
run('tests run alone', files.filter((f) => ALONE.has(f)), 1);
