// Tool answers reach the guest whole and in order whichever way the worker read them: by its
// reply spin (reply-spin.ts: it reads the socket itself for a short while after each call) or by
// the event loop (a slow handler's answer, or the rest of a large one). The two feed one frame reader.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { testAirlock } from '../support/airlock.ts';

const OBJ = { type: 'object' } as const;
const policy = {
  version: 1,
  tools: { big: { operation: 'read', args: OBJ }, slow: { operation: 'read', args: OBJ }, fast: { operation: 'read', args: OBJ } },
  limits: { toolCalls: 500, wallMs: 20_000, cpuMs: 10_000, memoryMiB: 128, resultBytes: 1 << 20 },
} as const;

test('large answers (split between the spin and the event loop), slow answers (past the spin) and fast ones after them all arrive whole and in order', async () => {
  const blob = (n: number): string => createHash('sha256').update(String(n)).digest('hex').repeat(64 * 1024 / 64 * 32); // 2 MiB
  await using airlock = testAirlock({
    tools: {
      big: (a) => blob((a as { n: number }).n),
      slow: async (a) => {
        await new Promise((r) => setTimeout(r, 20));
        return (a as { n: number }).n;
      },
      fast: (a) => (a as { n: number }).n,
    },
  });
  const code = `
    const out = [];
    for (let n = 0; n < 3; n++) { const s = await tools.big({ n }); out.push([s.length, s.slice(0, 8), s.slice(-8)]); }
    for (let n = 0; n < 5; n++) out.push(await tools.slow({ n }));
    let sum = 0; for (let n = 0; n < 200; n++) sum += await tools.fast({ n });
    out.push(sum);
    export default out;`;
  const r = await airlock.run({ code, policy });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  const want = [0, 1, 2].map((n) => { const s = blob(n); return [s.length, s.slice(0, 8), s.slice(-8)]; });
  assert.deepEqual(r.result, [...want, 0, 1, 2, 3, 4, 199 * 100]);
});
