// A worker speaks only for the run the host gave it. In a trust cordon one worker process serves
// runs of several tenants in turn, so a compromised worker (a V8 escape) that names a run it does
// not hold (a cordon-mate's earlier run, or a run another worker holds right now) must not get that
// run's tool called: the frame is refused and the worker killed. Control: a call for the run it
// holds runs that run's tool.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunJob } from '../../src/isolate/protocol.ts';
import { mirrored } from '../../src/isolate/view-mirror.ts';
import { WorkerProcess, type ToolCall, type WorkerEnv } from '../../src/isolate/worker-process.ts';
import { testAirlock } from '../support/airlock.ts';

const LIMITS = { wallMs: 10_000, cpuMs: 5_000, memoryMiB: 32, outputBytes: 1 << 16, resultBytes: 1 << 16 };
const job = (run: string, input: unknown): RunJob => ({ t: 'run', run, tenant: 'test', code: '', kind: 'module', input, tools: ['mail'], network: 'none', delegation: 'none', limits: LIMITS });
const BUDGET = { toolArgBytes: 1 << 20 };

function forgingEnv(env: WorkerEnv): WorkerEnv {
  const fixture = join(import.meta.dirname, '..', 'fixtures', 'forging-worker.ts');
  const frames = join(import.meta.dirname, '..', '..', 'src', 'isolate', 'frames.ts');
  const from = mirrored([fixture, frames]);
  return { ...env, view: { ...env.view, entry: fixture, binds: [...env.view.binds, [from.get(fixture) ?? fixture, fixture] as const, [from.get(frames) ?? frames, frames] as const] } };
}

/** A tool handler standing for a run's authority: it records every call it answers, by run. */
function tool(ran: string[], run: string): (call: ToolCall) => Promise<{ ok: true; json: string }> {
  return (call) => {
    ran.push(`${run}:${call.run}:${call.name}`);
    return Promise.resolve({ ok: true, json: '"sent"' });
  };
}

test("a worker's frame for its cordon-mate's earlier run is refused, the worker killed, and that run's tool never runs (control: its own run's call runs)", async () => {
  await using airlock = testAirlock();
  const env = forgingEnv(await airlock.isolate.workerEnv());
  const worker = await WorkerProcess.start('cordon-shared', env);
  const ran: string[] = [];
  try {
    // Control: tenant A's run on the shared worker calls A's tool, as A's run.
    const a = await worker.run(job('run_a', { act: 'call', name: 'mail' }), tool(ran, 'run_a'), BUDGET);
    assert.equal(a.kind, 'done');
    assert.deepEqual(ran, ['run_a:run_a:mail'], "control: the held run's call ran its tool once");
    // Tenant B's run on the same worker: the worker sends a call under A's (finished) run id.
    const b = await worker.run(job('run_b', { act: 'forge', name: 'mail', victim: 'run_a' }), tool(ran, 'run_b'), BUDGET);
    assert.ok(b.kind === 'crashed', `the run ended ${b.kind}`);
    assert.match(b.detail, /for a run it does not hold/);
    assert.deepEqual(ran, ['run_a:run_a:mail'], "no tool ran for the forged frame: not A's, not B's");
    await worker.exited;
    assert.equal(worker.alive, false, 'the forging worker was killed');
  } finally {
    await worker.close();
  }
});

test("a worker's frame for a run another worker holds right now is refused and that run's tool never runs from it (control: the holder's own call runs)", async () => {
  await using airlock = testAirlock();
  const env = forgingEnv(await airlock.isolate.workerEnv());
  const holder = await WorkerProcess.start('cordon-shared', env);
  const forger = await WorkerProcess.start('cordon-shared', env);
  const ran: string[] = [];
  try {
    const held = holder.run(job('run_v', { act: 'hold', name: 'mail' }), tool(ran, 'run_v'), BUDGET);
    const f = await forger.run(job('run_f', { act: 'forge', name: 'mail', victim: 'run_v' }), tool(ran, 'run_f'), BUDGET);
    assert.ok(f.kind === 'crashed', `the run ended ${f.kind}`);
    assert.match(f.detail, /for a run it does not hold/);
    assert.deepEqual(ran, [], 'the victim run held elsewhere had no tool called by the forger');
    // Control: the holder, asked to end, calls its own run's tool once and finishes.
    holder.stop('run_v');
    assert.equal((await held).kind, 'done');
    assert.deepEqual(ran, ['run_v:run_v:mail'], "control: the holder's own call ran the victim run's tool, once");
  } finally {
    await Promise.all([holder.close(), forger.close()]);
  }
});
