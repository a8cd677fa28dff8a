// The worker's reply spin (src/isolate/reply-spin.ts), with a scripted reader: it feeds what it
// reads in order and stops at the answer; a spin that ran out of budget turns spinning off for
// the next calls but one in eight, and one answered within the budget turns it back on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replySpin, type ReadInto } from '../../src/isolate/reply-spin.ts';

const EAGAIN = (): never => {
  throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
};

/** A reader that has nothing for `emptyReads` reads, then gives `chunks` one per read. */
function scripted(emptyReads: number, chunks: string[]): { read: ReadInto; reads: () => number } {
  let reads = 0;
  return {
    read: (buffer) => {
      reads += 1;
      if (reads <= emptyReads) return EAGAIN();
      const next = chunks.shift();
      if (next === undefined) return EAGAIN();
      return buffer.write(next);
    },
    reads: () => reads,
  };
}

test('bytes read are pushed in order, and the spin stops as soon as the answer is in', () => {
  const got: string[] = [];
  const reader = scripted(3, ['ab', 'cd', 'ef']);
  const spin = replySpin(reader.read, (c) => got.push(c.toString()), 50_000_000n);
  spin.startRun(1_000_000_000n);
  spin.wait(() => got.join('').length >= 4);
  assert.deepEqual(got, ['ab', 'cd'], 'stopped once answered, leaving the rest to the event loop');
  assert.equal(reader.reads(), 5);
});

test('after a spin that ran out, only one call in eight spins until one is answered within the budget', () => {
  let reads = 0;
  let answer = false;
  const read: ReadInto = (buffer) => {
    reads += 1;
    if (!answer) return EAGAIN();
    answer = false;
    return buffer.write('x');
  };
  const spin = replySpin(read, () => undefined, 200_000n);
  spin.startRun(1_000_000_000n);
  spin.wait(() => false); // nothing comes: the budget runs out
  assert.ok(reads > 0, 'control: the first call spun');
  const probed: boolean[] = [];
  for (let i = 0; i < 16; i++) {
    const before = reads;
    spin.wait(() => false);
    probed.push(reads > before);
  }
  assert.deepEqual(probed.map((p, i) => (p ? i : -1)).filter((i) => i >= 0), [7, 15], 'one call in eight re-probes');
  // An answer within the budget turns spinning back on for every call.
  for (let i = 0; i < 7; i++) spin.wait(() => false); // skipped, up to the next probe
  answer = true;
  let done = false;
  spin.wait(() => (done = !answer));
  assert.equal(done, true, 'the probe got its answer');
  const before = reads;
  spin.wait(() => false);
  assert.ok(reads > before, 'the next call spins again');
});

test("a run's spins add up to at most what startRun allowed; the next run starts afresh", () => {
  const reads: number[] = [];
  const read: ReadInto = () => {
    reads.push(1);
    return EAGAIN();
  };
  const spin = replySpin(read, () => undefined, 5_000_000n);
  spin.startRun(0n);
  spin.wait(() => false);
  assert.equal(reads.length, 0, 'a run allowed nothing does not spin');
  // Unbounded, 64 calls would spin 5 ms, then 5 ms at every eighth: 45 ms. Allowed: 10 ms.
  spin.startRun(10_000_000n);
  // This thread's CPU, not wall time: a machine that keeps the thread off the CPU stretches the
  // wall clock, never the CPU the spins burn (they are bounded by elapsed time, so they burn less).
  const before = process.threadCpuUsage();
  for (let i = 0; i < 64; i++) spin.wait(() => false);
  const used = process.threadCpuUsage(before);
  const spentUs = used.user + used.system;
  assert.notEqual(reads.length, 0, 'control: it spun');
  assert.ok(spentUs < 25_000, `spun ${spentUs} µs of CPU in all, for a run allowed 10 ms`);
});
