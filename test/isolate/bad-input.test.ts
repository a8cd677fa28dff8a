// Bad input at the boundary: each gets a coded error that says what to change, costs no sandbox
// when it can be caught before one exists, and leaves the next run working.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

// (func (export "main") (result i32) i32.const 42), and the same with an import of env.f.
const WASM_42 = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 8, 1, 4, 109, 97, 105, 110, 0, 0, 10, 6, 1, 4, 0, 65, 42, 11]);
const WASM_IMPORTS = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 2, 9, 1, 3, 101, 110, 118, 1, 102, 0, 0, 3, 2, 1, 0, 7, 8, 1, 4, 109, 97, 105, 110, 0, 1, 10, 6, 1, 4, 0, 65, 42, 11]);

test('bad code, requests and policies get coded errors; good ones beside them work', async () => {
  await using airlock = testAirlock();
  const cases: [string, Parameters<typeof airlock.run>[0], string, string][] = [
    ['not UTF-8', { code: Uint8Array.from([0x65, 0x78, 0xff, 0xfe]) }, 'invalid', 'CODE_NOT_UTF8'],
    ['lone surrogate', { code: 'export default "\uD800"' }, 'invalid', 'CODE_NOT_UTF8'],
    ['too large', { code: `export default 1;//${'x'.repeat(2000)}`, policy: { version: 1, limits: { codeBytes: 1000 } } }, 'invalid', 'CODE_TOO_LARGE'],
    ['syntax error', { code: 'export default 1;\nconst = 2;' }, 'invalid', 'SYNTAX_ERROR'],
    ['unknown request key', { code: '1', extra: true } as never, 'invalid', 'INVALID_REQUEST'],
    ['bad tenant', { code: '1', tenant: '../etc' }, 'invalid', 'INVALID_REQUEST'],
    ['unknown policy key', { code: '1', policy: { version: 1, network: { everything: true } } as never }, 'invalid', 'INVALID_POLICY'],
    ['a granted tool with no handler', { code: '1', policy: { version: 1, tools: { nope: { operation: 'read', args: {} } } } }, 'invalid', 'INVALID_POLICY'],
    ['non-erasable TypeScript', { code: 'enum E { A }\nexport default E.A', language: 'ts' }, 'invalid', 'SYNTAX_ERROR'],
    ['wasm with imports', { code: WASM_IMPORTS, language: 'wasm' }, 'invalid', 'WASM_IMPORTS_NOT_GRANTED'],
    ['not wasm', { code: Uint8Array.from([1, 2, 3, 4]), language: 'wasm' }, 'invalid', 'SYNTAX_ERROR'],
    ['python on the isolate tier', { code: 'print(1)', language: 'python', tier: 'isolate' }, 'invalid', 'UNSUPPORTED_LANGUAGE'],
    ['result schema mismatch', { code: 'export default { n: "seven" }', resultSchema: { type: 'object', properties: { n: { type: 'number' } } } }, 'error', 'RESULT_SCHEMA_MISMATCH'],
    ['not JSON data', { code: 'export default () => 10n' }, 'error', 'RESULT_NOT_PLAIN'],
  ];
  for (const [name, request, status, code] of cases) {
    const r = await airlock.run(request);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.error)}`);
    assert.equal(r.error?.code, code, name);
    assert.ok(r.error.message.length > 10, `${name}: the message says what to change`);
    assert.equal(r.result, null);
  }
  const syntax = await airlock.run({ code: 'export default 1;\nconst = 2;' });
  assert.match(syntax.error?.message ?? '', /line 2, column 7/);

  // Controls: the allowed paths beside each.
  const ok: [Parameters<typeof airlock.run>[0], unknown][] = [
    [{ code: new TextEncoder().encode('export default "é✓"') }, 'é✓'],
    [{ code: 'const n: number = 41;\nexport default (n satisfies number) + 1;', language: 'ts' }, 42],
    [{ code: WASM_42, language: 'wasm' }, 42],
    [{ code: 'export default { n: 7 }', resultSchema: { type: 'object', properties: { n: { type: 'number' } } } }, { n: 7 }],
    [{ code: 'export default async (input) => input.x * 2', input: { x: 21 } }, 42],
    [{ code: 'export default async function main() { return await tools.add({ a: 1, b: 2 }); }', policy: TEST_POLICY }, 3],
    [{ code: 'const v = 5; export { v as default };' }, 5],
  ];
  for (const [request, result] of ok) {
    const r = await airlock.run(request);
    assert.equal(r.status, 'ok', JSON.stringify(r.error));
    assert.deepEqual(r.result, result);
  }
});

test("input that is not JSON data is refused before it reaches a worker, and the sandbox's next run works", async () => {
  await using airlock = testAirlock();
  await using sandbox = await airlock.sandbox({ tenant: 'acme' });
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic['self'] = cyclic;
  const bad: [unknown, RegExp][] = [
    [{ n: 1n }, /input\.n is a bigint/],
    [cyclic, /input\.self refers back to itself/],
    [{ when: new Date(0) }, /input\.when is not a plain object/],
    [[1, () => 2], /input\[1\] is a function/],
    [{ x: Number.NaN }, /input\.x is not a finite number/],
    [{ list: Object.setPrototypeOf([1], { toJSON: () => 'forged' }) as unknown }, /input\.list is an array of another kind/],
  ];
  for (const [input, why] of bad) {
    const r = await sandbox.run('export default (x) => x', { input });
    assert.equal(r.error?.code, 'INVALID_REQUEST', JSON.stringify(r.error));
    assert.match(r.error.message, why);
  }
  // A getter is read once, into the copy that is sent: it can't answer differently after the check.
  let reads = 0;
  const shifty = { get v(): unknown { return ++reads === 1 ? 'checked' : 1n; } };
  const once = await sandbox.run('export default (x) => x.v', { input: shifty });
  assert.equal(once.result, 'checked', JSON.stringify(once.error));
  assert.equal(reads, 1);
  // Control: the same sandbox (and its one worker) still runs, with input that is data.
  const ok = await sandbox.run('export default (x) => x.a + x.b.length', { input: { a: 1, b: [1, 2] } });
  assert.equal(ok.result, 3, JSON.stringify(ok.error));
});

test('HTML-like comments that would move code out of the strict wrapper are refused; the same characters in strings and a-- > b work', async () => {
  await using airlock = testAirlock();
  // As a module, the second line is inside a template literal; as a script, "<!--" starts a comment.
  const attack = "let b = 0;\n0 <!--b + `\n}); globalThis.leak = 'outside'; (async function(){\n--> `;\nexport default typeof globalThis.leak";
  const refused = await airlock.run({ code: attack });
  assert.equal(refused.error?.code, 'SYNTAX_ERROR', JSON.stringify(refused));
  assert.match(refused.error.message, /HTML-like comments/);
  const control = await airlock.run({ code: 'let n = 0; for (let i = 3; i-->0;) n++;\nconst html = "<!-- a comment -->";\nexport default [n, html.length, typeof globalThis.leak]' });
  assert.deepEqual(control.result, [3, 18, 'undefined'], JSON.stringify(control.error));
});

test('the promise forms of WebAssembly work (compile, instantiate from bytes or a module); the streaming forms and Atomics.waitAsync, which could only hang, are absent', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({
    code: `const bytes = new Uint8Array(${JSON.stringify([...WASM_42])});
      const { module, instance } = await WebAssembly.instantiate(bytes);
      const again = await WebAssembly.instantiate(await WebAssembly.compile(bytes));
      let refused = null; try { await WebAssembly.compile(new Uint8Array([1, 2, 3])); } catch (e) { refused = e.name; }
      export default [instance.exports.main(), again.exports.main(), module instanceof WebAssembly.Module, refused, typeof WebAssembly.instantiateStreaming, typeof Atomics.waitAsync, typeof Atomics.wait];`,
  });
  assert.deepEqual(r.result, [42, 42, true, 'CompileError', 'undefined', 'undefined', 'function'], JSON.stringify(r.error));
});
