// Code mode's .d.ts generator against hostile JSON Schemas (an upstream MCP server writes them):
// a description that tries to end its doc comment and declare code; `__proto__` as a property and
// a namespace name; schemas nested past any bound, recursive refs and a ref bomb; and external
// refs (a URL on a local server that counts requests, a file). Each output must parse and
// type-check as exactly one declaration, within bounds, with nothing fetched or read. Controls:
// an ordinary schema gives the exact types, a local `#/$defs` ref resolves, and the counting
// server does count a request made to it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { DTS_LIMITS, toolsDts, type ToolSignature } from '../../src/mcp/dts.ts';

/** Type-checks the .d.ts with a program that uses it; answers the diagnostics and the declaration count. */
function check(dts: string, usage = ''): { errors: string[]; statements: number } {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-dts-'));
  writeFileSync(join(dir, 'api.d.ts'), dts);
  writeFileSync(join(dir, 'use.ts'), `${usage}\nexport {};\n`);
  const program = ts.createProgram([join(dir, 'api.d.ts'), join(dir, 'use.ts')], { noEmit: true, strict: true, types: [], lib: ['lib.es2022.d.ts'], target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext });
  const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  const file = program.getSourceFile(join(dir, 'api.d.ts'));
  return { errors, statements: file?.statements.length ?? -1 };
}

test('control: an ordinary schema gives exact types that a program type-checks against', () => {
  const dts = toolsDts([
    { name: 'mail.read', description: 'Read a thread', inputSchema: { type: 'object', properties: { threadId: { type: 'string' }, limit: { type: 'integer' } }, required: ['threadId'], additionalProperties: false }, outputSchema: { type: 'object', properties: { subject: { type: 'string' } }, required: ['subject'] } },
    { name: 'lookup', inputSchema: { type: 'object', properties: { kind: { enum: ['a', 'b'] }, ref: { $ref: '#/$defs/id' } }, $defs: { id: { type: 'string' } } } },
  ]);
  assert.deepEqual(check(dts, 'const r = await tools.mail.read({ threadId: "t1" }); const s: string = r.subject; await tools.lookup({ kind: "a", ref: "x" }); void s;'), { errors: [], statements: 1 });
  // The types are real: a wrong argument is a type error.
  assert.ok(check(dts, 'await tools.mail.read({ threadId: 1 });').errors.length > 0);
  assert.ok(check(dts, 'await tools.lookup({ kind: "c" });').errors.length > 0);
  assert.match(dts, /ref\?: string;/, 'a local #/$defs ref resolves');
});

test('a description that ends its doc comment stays a comment: one declaration, no injected code', () => {
  const hostile = '*/ declare const pwned: true; declare global { var leaked: 1 } /*';
  const dts = toolsDts([{ name: 'x.y', description: hostile, inputSchema: { type: 'object', properties: { a: { type: 'string', description: `line\n${hostile}\u2028` } } } }]);
  const { errors, statements } = check(dts, 'const p: true = pwned; void p;');
  assert.equal(statements, 1, dts);
  // `pwned` does not exist for the program: the only error is that it is not declared.
  assert.deepEqual(errors, ["Cannot find name 'pwned'."]);
  assert.deepEqual(check(dts).errors, []);
});

test('__proto__ as a property, a namespace and a literal: quoted keys, and nothing polluted', () => {
  const schema = JSON.parse('{"type":"object","properties":{"__proto__":{"type":"object","properties":{"polluted":{"const":"yes"}}},"constructor":{"type":"string"},"a b\\"c":{"enum":["__proto__","*/"]}},"required":["__proto__"]}') as unknown;
  const dts = toolsDts([{ name: '__proto__.polluted', inputSchema: schema }, { name: 'constructor', inputSchema: schema }]);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched');
  assert.match(dts, /"__proto__": \{/);
  assert.match(dts, /"a b\\"c"\?: "__proto__" \| "\*\/";/);
  assert.deepEqual(check(dts), { errors: [], statements: 1 });
});

test('deep nesting, recursive refs and a ref bomb end in `unknown`, within the size bound', () => {
  let deep: unknown = { type: 'string' };
  for (let i = 0; i < 5000; i++) deep = { type: 'object', properties: { d: deep } };
  const recursive = { type: 'object', properties: { self: { $ref: '#' }, loop: { $ref: '#/$defs/a' } }, $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } } };
  // Each level refers to the one below twice: 2^40 expansions if nothing bounded it.
  const defs: Record<string, unknown> = { l0: { type: 'string' } };
  for (let i = 1; i <= 40; i++) defs[`l${i}`] = { type: 'object', properties: { x: { $ref: `#/$defs/l${i - 1}` }, y: { $ref: `#/$defs/l${i - 1}` } } };
  const bomb = { $ref: '#/$defs/l40', $defs: defs };
  const started = performance.now();
  const tools: ToolSignature[] = [{ name: 'deep', inputSchema: deep }, { name: 'recursive', inputSchema: recursive }, { name: 'bomb', inputSchema: bomb }];
  const dts = toolsDts(tools);
  assert.ok(performance.now() - started < 10_000, 'bounded work');
  assert.ok(dts.length < 3 * (DTS_LIMITS.typeChars + 1000), `bounded size: ${dts.length}`);
  assert.match(dts, /self\?: unknown;/);
  assert.match(dts, /loop\?: unknown;/);
  assert.deepEqual(check(dts), { errors: [], statements: 1 });
});

test('external $refs are never followed: the URL server saw no request, no file was read', async () => {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.end(JSON.stringify({ type: 'string', description: 'fetched' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/schema.json`;
  try {
    const dts = toolsDts([
      {
        name: 'ext',
        description: 'external refs',
        inputSchema: { type: 'object', properties: { url: { $ref: url }, anchored: { $ref: `${url}#/definitions/x` }, file: { $ref: 'file:///etc/passwd' }, relative: { $ref: 'other.json#/a' }, id: { $id: url, $ref: 'x.json' } } },
      },
    ]);
    assert.match(dts, /url\?: unknown;/);
    assert.match(dts, /file\?: unknown;/);
    assert.doesNotMatch(dts, /fetched|root:/);
    assert.equal(requests, 0, 'no request reached the server');
    // Control: the counter counts.
    await fetch(url);
    assert.equal(requests, 1);
  } finally {
    server.close();
  }
});
