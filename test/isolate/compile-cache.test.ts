// The worker's code cache (src/isolate/compile-cache.ts): the same code run again compiles from
// V8's cached data, and still gets a fresh isolate each time: nothing a run did is seen by the next.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ivm from 'isolated-vm';
import { CompileCache } from '../../src/isolate/compile-cache.ts';
import { testAirlock } from '../support/airlock.ts';

test('code run again (compiled from the cache from its third run) sees nothing an earlier run left', async () => {
  await using airlock = testAirlock({ isolate: { workersPerTenant: 1 } });
  // Each run marks the global, a built-in prototype and a closure-held counter, and reports what it found.
  const code = `
    const seen = [globalThis.mark ?? null, Array.prototype.mark ?? null, typeof counter];
    globalThis.mark = 'left'; Array.prototype.mark = 'left';
    var counter = (globalThis.counter ?? 0) + 1;
    export default [...seen, counter];`;
  for (let i = 0; i < 5; i++) {
    const r = await airlock.run({ tenant: 'cc', code });
    assert.equal(r.status, 'ok', JSON.stringify(r.error));
    assert.deepEqual(r.result, [null, null, 'undefined', 1], `run ${i + 1} saw what an earlier run left`);
  }
});

test('cached data is produced on the second compile and used from the third; the script behaves the same', () => {
  const cache = new CompileCache();
  const results: unknown[] = [];
  const used: (boolean | undefined)[] = [];
  for (let i = 0; i < 4; i++) {
    const isolate = new ivm.Isolate({ memoryLimit: 16 });
    try {
      const script: ivm.Script & { cachedDataRejected?: boolean } = cache.compile(isolate, '(function () { return [6 * 7, typeof globalThis.x]; })', 'file:///t.js', 'acme');
      used.push(script.cachedDataRejected);
      const main = script.runSync(isolate.createContextSync(), { reference: true }) as ivm.Reference<() => unknown>;
      results.push(main.applySync(undefined, [], { result: { copy: true } }));
    } finally {
      isolate.dispose();
    }
  }
  assert.deepEqual(results, Array.from({ length: 4 }, () => [42, 'undefined']));
  assert.deepEqual(used, [undefined, undefined, false, false], 'the third and fourth compiles consumed the cached data, and V8 accepted it');
});

test("one tenant's cached code is not another's: the same text compiled for a second tenant (a cordon-mate in the same worker) starts its own cache", () => {
  const cache = new CompileCache();
  const code = '(function () { return 1; })';
  const compile = (tenant: string): boolean | undefined => {
    const isolate = new ivm.Isolate({ memoryLimit: 16 });
    try {
      return (cache.compile(isolate, code, 'file:///t.js', tenant) as ivm.Script & { cachedDataRejected?: boolean }).cachedDataRejected;
    } finally {
      isolate.dispose();
    }
  };
  const alpha = [compile('alpha'), compile('alpha'), compile('alpha')];
  assert.deepEqual(alpha, [undefined, undefined, false], 'control: alpha uses its cache from its third compile');
  const beta = [compile('beta'), compile('beta'), compile('beta')];
  assert.deepEqual(beta, [undefined, undefined, false], "beta's first two compiles did not use alpha's data");
});
