import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { decide } from '../../src/policy/decide.ts';
import { LIMIT_DEFAULTS } from '../../src/policy/schema.ts';

function codeOf(d: ReturnType<typeof decide>): string {
  return d.code;
}

function problemsOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AirlockError);
    assert.equal(error.code, 'INVALID_POLICY');
    return error.details?.['problems'] as { path: string; message: string }[];
  }
  assert.fail('expected the policy to be rejected');
}

test('the empty policy grants nothing and sets the default limits', () => {
  const p = compilePolicy({ version: 1 });
  assert.equal(p.tools.size, 0);
  assert.deepEqual(p.limits, LIMIT_DEFAULTS);
  const d = decide(p, { door: 'tool', name: 'anything', args: {}, callsSoFar: 0 });
  assert.equal(codeOf(d), 'TOOL_NOT_GRANTED');
});

test('compile reports every problem with its path', () => {
  const problems = problemsOf(() =>
    compilePolicy({ version: 1, extra: true, tools: { 'bad name': { operation: 'read', args: {} } }, limits: { wallMs: -1 } }),
  );
  const paths = problems.map((p) => p.path).sort();
  assert.deepEqual(paths, ['(root)', 'limits.wallMs', 'tools.bad name'].sort());
});

test('an invalid JSON Schema for a tool is a policy problem', () => {
  const problems = problemsOf(() => compilePolicy({ version: 1, tools: { t: { operation: 'read', args: { type: 'nonsense' } } } }));
  assert.equal(problems[0]?.path, 'tools.t.args');
});

test('a limit above its ceiling is refused (a policy cannot lift the sandbox out of its bounds)', () => {
  const problems = problemsOf(() => compilePolicy({ version: 1, limits: { memoryMiB: 1_000_000 } }));
  assert.equal(problems[0]?.path, 'limits.memoryMiB');
});

test('decide: granted tool with valid args is allowed; bad args and the call limit are denied', () => {
  const p = compilePolicy({
    version: 1,
    tools: { add: { operation: 'compute', args: { type: 'object', properties: { a: { type: 'number' } }, required: ['a'], additionalProperties: false } } },
    limits: { toolCalls: 2 },
  });
  assert.deepEqual(decide(p, { door: 'tool', name: 'add', args: { a: 1 }, callsSoFar: 0 }), { allow: true, code: 'TOOL_GRANTED' });
  const bad = decide(p, { door: 'tool', name: 'add', args: { a: 'x' }, callsSoFar: 0 });
  assert.equal(codeOf(bad), 'TOOL_ARGS_INVALID');
  const over = decide(p, { door: 'tool', name: 'add', args: { a: 1 }, callsSoFar: 2 });
  assert.equal(codeOf(over), 'LIMIT_TOOL_CALLS');
});

test('equal policies hash equally regardless of key order', () => {
  const a = compilePolicy({ version: 1, limits: { wallMs: 100, cpuMs: 50 } });
  const b = compilePolicy({ limits: { cpuMs: 50, wallMs: 100 }, version: 1 });
  assert.equal(a.hash, b.hash);
  assert.notEqual(a.hash, compilePolicy({ version: 1 }).hash);
});

test('a "__proto__" key is refused with its path, not dropped; the same grant under a real name compiles', () => {
  const grant = '{"operation":"read","args":{"type":"object"}}';
  const problems = problemsOf(() => compilePolicy(JSON.parse(`{"version":1,"tools":{"__proto__":${grant}},"limits":{"__proto__":{"wallMs":1}}}`)));
  assert.deepEqual(problems.map((p) => p.path).sort(), ['limits.__proto__', 'tools.__proto__']);
  const control = compilePolicy(JSON.parse(`{"version":1,"tools":{"lookup":${grant}}}`));
  assert.deepEqual([...control.tools.keys()], ['lookup']);
});
