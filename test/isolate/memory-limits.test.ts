// Memory the isolate's heap limit does not count (resizable buffers, WebAssembly memories) is held
// to the policy's memoryMiB by the worker watching its own memory; the hostile cases are in
// test/escape/isolate/*-hold.js. This is their control: honest use up to the limit is not stopped.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

test('a run that uses its memory honestly (heap, a WebAssembly memory, a resizable buffer) up to memoryMiB is not stopped', async () => {
  await using airlock = testAirlock();
  const code = `
    const heap = []; for (let i = 0; i < 20; i++) heap.push(new Array(1 << 17).fill(i));      // ~20 MiB of heap
    const wasm = new WebAssembly.Memory({ initial: 256 }); new Uint8Array(wasm.buffer).fill(1); // 16 MiB outside it
    const rab = new ArrayBuffer(8 << 20, { maxByteLength: 32 << 20 }); new Uint8Array(rab).fill(1);
    export default [heap.length, wasm.buffer.byteLength >> 20, rab.byteLength >> 20];`;
  for (let i = 0; i < 3; i++) {
    const r = await airlock.run({ code, policy: TEST_POLICY });
    assert.equal(r.status, 'ok', JSON.stringify(r.error));
    assert.deepEqual(r.result, [20, 16, 8]);
    assert.ok(r.usage.memoryBytes > 16 * 1024 * 1024, `usage counts memory outside the heap too (${r.usage.memoryBytes})`);
  }
});

test("airlock runs inside a host's own worker thread: the memory watch starts only in isolate workers", async () => {
  const index = new URL('../../src/index.ts', import.meta.url).href;
  const code = `
    const { parentPort } = require('node:worker_threads');
    const { mkdtempSync } = require('node:fs'); const { tmpdir } = require('node:os'); const { join } = require('node:path');
    import(${JSON.stringify(index)}).then(async ({ createAirlock }) => {
      const airlock = createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-thread-')), isolate: { workersPerTenant: 1 } });
      try { parentPort.postMessage((await airlock.run({ code: 'export default 6 * 7' })).result); } finally { await airlock.close(); }
    }, (e) => parentPort.postMessage(String(e)));`;
  const thread = new Worker(code, { eval: true, workerData: { the: "host's own data" } });
  const answer = await new Promise((resolve) => thread.once('message', resolve));
  await thread.terminate();
  assert.equal(answer, 42);
});

test('the watch thread catches memory held inside one slice both when it was asleep and when it was still ticking after the runs before (it is notified only when asleep)', async () => {
  await using airlock = testAirlock();
  const hold = readFileSync(new URL('../escape/isolate/sync-slice-memory.js', import.meta.url), 'utf8');
  const policy = { version: 1, limits: { memoryMiB: 32, wallMs: 5000, cpuMs: 5000 } } as const;
  // Asleep: the worker's first run, and one after a pause longer than the thread's linger.
  const first = await airlock.run({ code: hold, policy });
  assert.equal(first.error?.code, 'MEMORY_LIMIT', JSON.stringify(first.error));
  assert.equal((await airlock.run({ code: 'export default 1' })).status, 'ok', 'control: an honest run is ok');
  await new Promise((r) => setTimeout(r, 300));
  const afterPause = await airlock.run({ code: hold, policy });
  assert.equal(afterPause.error?.code, 'MEMORY_LIMIT', JSON.stringify(afterPause.error));
  // Ticking: straight after back-to-back runs, so the arm is not notified.
  for (let i = 0; i < 5; i++) assert.equal((await airlock.run({ code: 'export default 1' })).status, 'ok');
  const backToBack = await airlock.run({ code: hold, policy });
  assert.equal(backToBack.error?.code, 'MEMORY_LIMIT', JSON.stringify(backToBack.error));
});
