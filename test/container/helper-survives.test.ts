// The shared root process helper serves every tenant's processes: nothing one child or one request
// does may end it. Each attack runs while another process is in flight, and that process must still
// end normally with its output (on a dead helper its end is reported at once as [null, null]).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { HelperSpawner, type SpawnedProcess } from '../../src/container/spawner.ts';

/** A process that waits for its stdin to close, then prints "done" and exits 0. */
async function inFlight(spawner: HelperSpawner): Promise<{ p: SpawnedProcess; out: () => string }> {
  const p = await spawner.spawn({ argv: ['/bin/sh', '-c', 'cat >/dev/null; echo done'], files: [], pipes: [] });
  const chunks: Buffer[] = [];
  p.stream(1)?.on('data', (b: Buffer) => chunks.push(b));
  return { p, out: () => Buffer.concat(chunks).toString() };
}

test('a child killed by a signal the helper cannot name (SIGRTMIN+3) ends alone: another exec in flight completes', { timeout: 30_000 }, async () => {
  const spawner = new HelperSpawner();
  const other = await inFlight(spawner);
  try {
    // 37 is SIGRTMIN+3 under glibc: Python's signal module has no name for it.
    const victim = await spawner.spawn({ argv: ['/bin/sh', '-c', 'kill -37 $$'], files: [], pipes: [] });
    victim.stream(0)?.end();
    assert.deepEqual(await victim.exited, [128 + 37, null], 'reported by number, as a shell would');
    other.p.stream(0)?.end();
    assert.deepEqual(await other.p.exited, [0, null]);
    assert.equal(other.out(), 'done\n');
    // Control: the same helper still starts processes.
    const after = await inFlight(spawner);
    after.p.stream(0)?.end();
    assert.deepEqual(await after.p.exited, [0, null]);
    assert.equal(after.out(), 'done\n');
  } finally {
    other.p.stream(0)?.end();
    spawner.close();
  }
});

test('a request the helper cannot carry out fails alone: another exec in flight completes', { timeout: 30_000 }, async () => {
  const spawner = new HelperSpawner();
  const other = await inFlight(spawner);
  try {
    // A lone surrogate can't be encoded as a file name: Python raises UnicodeEncodeError, not OSError.
    await assert.rejects(
      spawner.spawn({ argv: ['/usr/bin/true'], files: [{ fd: 5, path: '/etc/\ud800' }], pipes: [] }),
      (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_UNAVAILABLE' && /bad request/.test(e.message),
    );
    other.p.stream(0)?.end();
    assert.deepEqual(await other.p.exited, [0, null]);
    assert.equal(other.out(), 'done\n');
    // Control: a good request on the same helper works.
    const ok = await spawner.spawn({ argv: ['/bin/sh', '-c', 'echo ok'], files: [], pipes: [] });
    const chunks: Buffer[] = [];
    ok.stream(1)?.on('data', (b: Buffer) => chunks.push(b));
    ok.stream(0)?.end();
    assert.deepEqual(await ok.exited, [0, null]);
    assert.equal(Buffer.concat(chunks).toString(), 'ok\n');
  } finally {
    other.p.stream(0)?.end();
    spawner.close();
  }
});
