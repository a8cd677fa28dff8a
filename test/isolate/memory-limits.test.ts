// Memory the isolate's heap limit does not count (resizable buffers, WebAssembly memories) is held
// to the policy's memoryMiB by the worker watching its own memory; the hostile cases are in
// test/escape/isolate/*-hold.js. This is their control: honest use up to the limit is not stopped.
import assert from 'node:assert/strict';
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
