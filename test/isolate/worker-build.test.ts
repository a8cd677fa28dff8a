// The isolate worker runs its JavaScript build (scripts/build.ts) when the build is current, bound
// read-only: a worker that tries to change the build, the CLI's build, the compile cache or the
// sources fails, nothing of them changed on the host (the build's own stamps still hold), and the
// next run, on a fresh worker, runs as before.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { usableBuild } from '../../bin/build-state.js';
import { mirrored } from '../../src/isolate/view-mirror.ts';
import { spawnWorker } from '../../src/isolate/worker-process.ts';
import { testAirlock } from '../support/airlock.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const digest = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

test('a worker can not change the build it runs, the CLI build, the compile cache or the sources; the next run is unaffected', async () => {
  const built = usableBuild(ROOT, 'worker');
  assert.ok(built !== null, 'the build is current (`npm run setup` makes it)');
  await using airlock = testAirlock();
  const env = await airlock.isolate.workerEnv();
  // Control: workers run the build, bound in place of src/isolate/.
  assert.equal(env.view.entry, built.workerEntry);
  assert.ok(env.view.binds.some(([, to]) => to === built.workerDir));
  assert.ok(!env.view.binds.some(([, to]) => to === join(ROOT, 'src', 'isolate')));
  const hostState = (): Record<string, string | number> => ({
    worker: digest(built.workerEntry),
    workerMode: statSync(built.workerEntry).mode,
    cli: digest(built.main),
    manifest: digest(join(built.dir, 'manifest.json')),
    sources: digest(join(ROOT, 'src', 'isolate', 'worker-main.ts')),
  });
  const before = hostState();

  const probe = join(ROOT, 'test', 'fixtures', 'build-writer.ts');
  const from = mirrored([probe]);
  const view = { ...env.view, entry: probe, binds: [...env.view.binds, [from.get(probe) ?? probe, probe] as const] };
  const spawned = await spawnWorker('build-writer', env, view);
  let stderr = '';
  try {
    spawned.child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    await new Promise((resolve) => spawned.child.once('exit', resolve));
  } finally {
    await spawned.cgroup.killAll();
    await spawned.cgroup.destroy();
    await spawned.release();
  }
  const report = JSON.parse(stderr.trim().split('\n').at(-1) ?? '{}') as Record<string, string>;
  assert.equal(Object.keys(report).length, 8, `the probe ran and reported: ${stderr}`);
  // Each attempt is refused, or lands in the worker's own view only (a checkout under /tmp sits in
  // the worker's private /tmp, where bwrap made the parents of its binds): what counts is the host.
  for (const [what, outcome] of Object.entries(report)) assert.match(outcome, /^(err:(EROFS|EACCES|EPERM|ENOENT)|ok)$/, what);
  assert.ok(['overwriteWorker', 'appendWorker', 'chmodWorker'].every((k) => report[k] !== 'ok'), `the build the worker runs is read-only in its view: ${JSON.stringify(report)}`);
  // Nothing changed on the host: same bytes and modes, no new file, and the build's stamps all still hold.
  assert.deepEqual(hostState(), before);
  assert.equal(existsSync(join(built.workerDir, 'evil.mjs')), false);
  assert.equal(existsSync(join(ROOT, '.airlock-build', 'compile-cache', 'evil')), false);
  assert.notEqual(usableBuild(ROOT, 'worker'), null);
  // The next run starts a worker from the same build and runs as before.
  const result = await airlock.run({ code: 'export default 6 * 7' });
  assert.equal(result.status, 'ok');
  assert.equal(result.result, 42);
});
