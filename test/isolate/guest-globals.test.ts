// The guest's global holds only ECMAScript built-ins, console and tools (and subrun, unwrap when
// the policy grants sub-runs). This list is pinned: a new global (from an isolated-vm or V8
// upgrade, or from airlock itself) fails here, in review.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testAirlock } from '../support/airlock.ts';

const EXPECTED = [
  'AggregateError', 'Array', 'AsyncDisposableStack', 'DisposableStack', 'Float16Array', 'SuppressedError', 'ArrayBuffer', 'Atomics', 'BigInt', 'BigInt64Array', 'BigUint64Array', 'Boolean', 'DataView', 'Date',
  'Error', 'EvalError', 'FinalizationRegistry', 'Float32Array', 'Float64Array', 'Function', 'Infinity', 'Int16Array', 'Int32Array',
  'Int8Array', 'Intl', 'Iterator', 'JSON', 'Map', 'Math', 'NaN', 'Number', 'Object', 'Promise', 'Proxy', 'RangeError',
  'ReferenceError', 'Reflect', 'RegExp', 'Set', 'SharedArrayBuffer', 'String', 'Symbol', 'SyntaxError', 'TypeError', 'URIError',
  'Uint16Array', 'Uint32Array', 'Uint8Array', 'Uint8ClampedArray', 'WeakMap', 'WeakRef', 'WeakSet', 'WebAssembly',
  'console', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'eval', 'globalThis', 'isFinite',
  'isNaN', 'parseFloat', 'parseInt', 'tools', 'undefined', 'unescape',
];

test('the guest global is ECMAScript built-ins plus console and tools, nothing of node', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'export default Object.getOwnPropertyNames(globalThis).sort()' });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  const names = r.result as string[];
  const extra = names.filter((n) => !EXPECTED.includes(n));
  const missing = EXPECTED.filter((n) => !names.includes(n));
  assert.deepEqual({ extra, missing }, { extra: [], missing: [] });
  for (const forbidden of ['process', 'require', 'module', 'fetch', 'setTimeout', 'setInterval', 'queueMicrotask', 'Buffer', '__airlock_init']) {
    assert.ok(!names.includes(forbidden), forbidden);
  }
});

test('subrun and unwrap are globals only when the policy grants sub-runs (limits.subruns > 0)', async () => {
  await using airlock = testAirlock();
  const code = 'export default Object.getOwnPropertyNames(globalThis).filter((n) => !EXPECTED.includes(n)).sort()';
  const extra = async (subruns: number): Promise<unknown> => {
    const r = await airlock.run({ code: `const EXPECTED = ${JSON.stringify(EXPECTED)}; ${code}`, policy: { version: 1, limits: { subruns } } });
    assert.equal(r.status, 'ok', JSON.stringify(r.error));
    return r.result;
  };
  assert.deepEqual(await extra(1), ['subrun', 'unwrap']);
  assert.deepEqual(await extra(0), []);
});
