/** Test helpers: an Airlock with a private AIRLOCK_HOME and a few host tools. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAirlock, type Airlock, type AirlockOptions, type PolicyDocument } from '../../src/index.ts';

export const OBJECT_AB = {
  type: 'object',
  properties: { a: { type: 'number' }, b: { type: 'number' } },
  required: ['a', 'b'],
  additionalProperties: false,
};

export const TEST_TOOLS = {
  add: (args: unknown) => {
    const { a, b } = args as { a: number; b: number };
    return a + b;
  },
  explode: () => {
    throw new Error('the handler blew up');
  },
  hang: () => new Promise(() => undefined),
};

export const TEST_POLICY: PolicyDocument = {
  version: 1,
  tools: {
    add: { operation: 'compute', args: OBJECT_AB },
    explode: { operation: 'compute', args: { type: 'object' } },
    hang: { operation: 'compute', args: { type: 'object' } },
  },
  limits: { wallMs: 1500, cpuMs: 500, memoryMiB: 32, outputBytes: 65536, toolCalls: 50, toolMs: 200, resultBytes: 1024 * 1024 },
};

export function testAirlock(options: Omit<AirlockOptions, 'home'> = {}): Airlock {
  return createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-test-')), tools: TEST_TOOLS, isolate: { workersPerTenant: 1 }, ...options });
}
