// The second layer, probed from inside: a program started exactly as an isolate worker is started
// (own uid, cgroup, setpriv, bubblewrap, seccomp) reports what it can reach. Each denial is
// checked beside its control, and the forbidden effect is checked from the host's side too.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { readFrames, writeFrame } from '../../src/isolate/frames.ts';
import { mirrored } from '../../src/isolate/view-mirror.ts';
import { spawnWorker } from '../../src/isolate/worker-process.ts';
import { testAirlock } from '../support/airlock.ts';

test('an isolate worker has no files, network, processes, privileges or environment of the host', async () => {
  await using airlock = testAirlock();
  const env = await airlock.isolate.workerEnv();
  const accepted: string[] = [];
  const server = createServer((s) => {
    accepted.push(String(s.remoteAddress));
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const probe = join(import.meta.dirname, '..', 'fixtures', 'worker-probe.ts');
  const frames = join(import.meta.dirname, '..', '..', 'src', 'isolate', 'frames.ts');
  // Bound the way the worker's own files are: from a mirror when the checkout is private.
  const from = mirrored([probe, frames]);
  const view = { ...env.view, entry: probe, binds: [...env.view.binds, [from.get(probe) ?? probe, probe] as const, [from.get(frames) ?? frames, frames] as const] };
  const spawned = await spawnWorker('probe', env, view);
  try {
    const report = await new Promise<Record<string, unknown>>((resolve, reject) => {
      readFrames(spawned.child.stdio[3] as Socket, { maxBytes: 1 << 20, onFrame: (v) => resolve(v as Record<string, unknown>), onError: reject });
      spawned.child.on('exit', (code) => reject(new Error(`probe exited ${code}: ${spawned.child.stderr?.read() ?? ''}`)));
      writeFrame(spawned.child.stdio[3] as Socket, { port });
    });
    // By now sh → setpriv → bwrap have exec'd in place: the spawned pid is bubblewrap itself.
    const host = readFileSync(`/proc/${spawned.child.pid}/status`, 'utf8');
    assert.match(host, new RegExp(`^Uid:\\s+${spawned.uid}\\s`, 'm'), 'the worker runs as its own unprivileged host uid');
    assert.match(readFileSync(`/proc/${spawned.child.pid}/cgroup`, 'utf8'), /airlock\/isolate-probe-/, 'inside its own cgroup');
    // Controls: the probe ran and could use what it was given.
    assert.equal(report['ownEntry'], 'ok:true');
    assert.equal(report['writeTmp'], 'ok:undefined');
    // Files: only the worker view; no /etc, /root, /home; the root is read-only.
    assert.deepEqual(report['root'], [...new Set(['dev', 'proc', 'tmp', ...env.view.binds.map(([, to]) => to.split('/')[1] as string)])].sort());
    assert.equal(report['etcPasswd'], 'err:ENOENT');
    assert.equal(report['hostRoot'], 'err:ENOENT');
    assert.match(String(report['writeRoot']), /^err:(EROFS|EACCES)$/);
    assert.equal(existsSync('/escape'), false);
    // Environment: empty but for PWD, which bubblewrap always sets to the sandbox's own cwd.
    assert.deepEqual(report['env'], ['PWD']);
    // Processes: no new process can start (seccomp refuses fork), and only its own pid namespace.
    assert.match(String(report['spawnShell']), /^err:/);
    assert.match(String(report['spawnNode']), /^err:/);
    assert.ok(Number(report['pids']) <= 3, `pid namespace holds ${String(report['pids'])} processes`);
    // Privileges: no capabilities, no_new_privs, a seccomp filter.
    assert.equal(report['capEff'], '0000000000000000');
    assert.equal(report['noNewPrivs'], '1');
    assert.equal(report['seccomp'], '2');
    // Network: refused, and the server saw nothing.
    assert.match(String(report['tcp']), /^err:/);
    assert.deepEqual(accepted, []);
  } finally {
    spawned.child.kill('SIGKILL');
    await new Promise((r) => spawned.child.once('exit', r));
    await spawned.cgroup.killAll();
    await spawned.cgroup.destroy();
    await spawned.release();
    server.close();
  }
});
