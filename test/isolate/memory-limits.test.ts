// Memory the isolate's heap limit does not count (resizable buffers, WebAssembly memories) is held
// to the policy's memoryMiB by the worker watching its own memory; the hostile cases are in
// test/escape/isolate/*-hold.js. This is their control: honest use up to the limit is not stopped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
