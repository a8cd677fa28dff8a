// What a run is charged as CPU (worker-run.ts), in this process, with no worker around it: the
// CPU the worker spends inside the run's slices on its behalf (a tool call's reply spin, here a
// bridge that burns CPU before it answers) is charged to the run; time the guest spent waiting
// is not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackstop } from '../../src/isolate/backstop.ts';
import { CompileCache } from '../../src/isolate/compile-cache.ts';
import { prepareCode } from '../../src/isolate/prepare.ts';
import type { RunJob } from '../../src/isolate/protocol.ts';
import { WarmIsolate, type ToolBridge } from '../../src/isolate/warm-isolate.ts';
import { runInIsolate } from '../../src/isolate/worker-run.ts';

const snapshot = WarmIsolate.snapshot();
const control = { stop: null, backstop: startBackstop(), compiled: new CompileCache() };

function job(source: string): RunJob {
  return {
    t: 'run',
    run: 'run_test',
    tenant: 'test',
    code: prepareCode(source, 'js', 1 << 20).code,
    kind: 'module',
    input: null,
    tools: ['burn'],
    network: 'none',
    delegation: 'none',
    limits: { wallMs: 20_000, cpuMs: 20_000, memoryMiB: 64, outputBytes: 1 << 16, resultBytes: 1 << 16 },
  };
}

/** Spends `ms` of this thread's CPU (not of wall time: a busy machine only makes it take longer). */
function burnCpu(ms: number): void {
  const cpu = (): number => {
    const u = process.threadCpuUsage();
    return (u.user + u.system) / 1000;
  };
  const until = cpu() + ms;
  while (cpu() < until);
}

async function run(source: string, bridge: ToolBridge): Promise<number> {
  const warm = new WarmIsolate(64, snapshot);
  try {
    const done = await runInIsolate(warm, job(source), bridge, control);
    assert.equal(done.outcome.kind, 'ok', JSON.stringify(done.outcome));
    return done.usage.cpuMs;
  } finally {
    warm.dispose();
  }
}

const CALLS = 'for (let i = 0; i < 10; i++) await tools.burn({ i }); export default 1';
const answer = (): Promise<string> => Promise.resolve(JSON.stringify(['ok', 'null']));

test('CPU the worker spends inside a run\'s tool calls (as its reply spin does) is charged to the run', async () => {
  const charged = await run(CALLS, () => {
    burnCpu(5);
    return answer();
  });
  assert.ok(charged >= 45, `10 calls that each burnt 5 ms of the worker's CPU were charged ${charged} ms`);
  // Control: the same calls, answered at once, are charged far less: the charge above is the burn.
  const plain = await run(CALLS, answer);
  assert.ok(plain < 25, `the same calls answered at once were charged ${plain} ms`);
});

test('a guest that waits is not charged for the wait', async () => {
  const waited = await run('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200); export default 1', answer);
  assert.ok(waited < 100, `a 200 ms wait was charged ${waited} ms of CPU`);
});
