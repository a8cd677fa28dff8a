// The host's cache of prepared code (src/isolate/prepared-cache.ts): a hit answers exactly what
// prepareCode would have, so no check is skipped by asking again — under a smaller size limit, with
// text that only differs by an unpaired surrogate, or with code that failed before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { prepareCode } from '../../src/isolate/prepare.ts';
import { PreparedCodeCache } from '../../src/isolate/prepared-cache.ts';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof AirlockError ? error.code : 'not coded';
  }
};

test('the same code is prepared once and answered from the cache after, identical to prepareCode', () => {
  const cache = new PreparedCodeCache();
  const first = cache.prepare('acme', 'export default 6 * 7', 'js', 1 << 20);
  assert.equal(cache.prepare('acme', 'export default 6 * 7', 'js', 1 << 20), first, 'the second answer is the cached one');
  assert.deepEqual(first, prepareCode('export default 6 * 7', 'js', 1 << 20));
  // Another tenant's identical code is prepared afresh (no timing tells it what others ran).
  assert.notEqual(cache.prepare('other', 'export default 6 * 7', 'js', 1 << 20), first);
});

test('a cached success does not let the same code past a smaller size limit or another language', () => {
  const cache = new PreparedCodeCache();
  const code = `export default "${'x'.repeat(200)}"`;
  assert.equal(cache.prepare('acme', code, 'js', 1 << 20).kind, 'module', 'control: allowed under the large limit');
  assert.equal(codeOf(() => cache.prepare('acme', code, 'js', 100)), 'CODE_TOO_LARGE');
  const ts = 'const n: number = 1; export default n';
  assert.equal(cache.prepare('acme', ts, 'ts', 1 << 20).kind, 'module', 'control: TypeScript allowed as ts');
  assert.equal(codeOf(() => cache.prepare('acme', ts, 'js', 1 << 20)), 'SYNTAX_ERROR');
});

test('text with an unpaired surrogate is refused even after the same text with U+FFFD was cached', () => {
  const cache = new PreparedCodeCache();
  assert.equal(cache.prepare('acme', 'export default "\uFFFD"', 'js', 1 << 20).kind, 'module', 'control: well-formed text runs');
  assert.equal(codeOf(() => cache.prepare('acme', 'export default "\uD800"', 'js', 1 << 20)), 'CODE_NOT_UTF8');
});

test('code that failed a check fails again: failures are not cached', () => {
  const cache = new PreparedCodeCache();
  assert.equal(codeOf(() => cache.prepare('acme', 'export default (', 'js', 1 << 20)), 'SYNTAX_ERROR');
  assert.equal(codeOf(() => cache.prepare('acme', 'export default (', 'js', 1 << 20)), 'SYNTAX_ERROR');
  assert.equal(codeOf(() => cache.prepare('acme', 'import x from "y"; export default x', 'js', 1 << 20)), 'IMPORT_NOT_AVAILABLE');
});
