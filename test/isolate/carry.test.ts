// What a policy allows, a worker carries back: output and a result at their ceilings come home
// whole, whatever characters they hold (JSON would escape a control character to six bytes; long
// text travels base64'd). Past the ceilings, the limits answer with their own codes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LIMIT_CEILINGS } from '../../src/policy/schema.ts';
import { testAirlock } from '../support/airlock.ts';

const MiB = 1024 * 1024;

test('output and a result near their ceilings come back whole, control characters and all; one byte over is the limit', async () => {
  await using airlock = testAirlock();
  const limits = { wallMs: 20_000, cpuMs: 10_000, memoryMiB: 128, outputBytes: LIMIT_CEILINGS.outputBytes, resultBytes: LIMIT_CEILINGS.resultBytes };
  const lines = LIMIT_CEILINGS.outputBytes / MiB - 1;
  const printed = await airlock.run({
    code: `const line = '\\u0001'.repeat(${MiB - 1}); for (let i = 0; i < ${lines}; i++) console.log(line); export default 'printed'`,
    policy: { version: 1, limits },
  });
  assert.equal(printed.status, 'ok', JSON.stringify(printed.error));
  assert.equal(printed.stdout.length, lines * MiB);
  assert.equal(printed.stdout.slice(0, 3), '\u0001\u0001\u0001');
  const big = await airlock.run({ code: `export default '"'.repeat(${LIMIT_CEILINGS.resultBytes / 2 - 8})`, policy: { version: 1, limits } });
  assert.equal(big.status, 'ok', JSON.stringify(big.error));
  assert.equal((big.result as string).length, LIMIT_CEILINGS.resultBytes / 2 - 8);
  // Control: past the ceilings, the limits answer with their own codes, not a crashed worker.
  const over = await airlock.run({ code: `export default 'x'.repeat(${LIMIT_CEILINGS.resultBytes})`, policy: { version: 1, limits } });
  assert.equal(over.error?.code, 'RESULT_TOO_LARGE', JSON.stringify(over.error));
  const loud = await airlock.run({ code: `const line = 'x'.repeat(${MiB}); for (;;) console.log(line)`, policy: { version: 1, limits } });
  assert.equal(loud.error?.code, 'OUTPUT_LIMIT', JSON.stringify(loud.error));
});
