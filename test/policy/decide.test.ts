// decide(): one function, one closed union of doors, typed codes. Each door's denial sits beside
// its allowed control; the union's members are pinned so a new door is seen in review.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isErrorCode } from '../../src/core/errors.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { decide, DOORS, type Ask, type Door } from '../../src/policy/decide.ts';

const policy = compilePolicy({
  version: 1,
  tools: { add: { operation: 'compute', args: { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] } } },
  network: { routes: [{ host: 'api.example.com', scheme: 'https', port: 443, methods: ['GET'] }] },
  limits: { toolCalls: 2 },
});
const usage = new Map<string, { requests: number; bytes: number }>();
const egress = (method: string, host = 'api.example.com'): Ask => ({ door: 'egress', request: { kind: 'request', scheme: 'https', method, host, port: 443, path: '/v1', usage } });

test('the doors are exactly these six', () => {
  // A compile-time check too: every Door is listed, and every listed name is a Door.
  const all: Record<Door, true> = { tool: true, egress: true, file: true, quota: true, denials: true, lifetime: true };
  assert.deepEqual([...DOORS].sort(), Object.keys(all).sort());
});

const CASES: { door: Door; allowed: Ask; denied: Ask; allowCode: string; denyCode: string }[] = [
  { door: 'tool', allowed: { door: 'tool', name: 'add', args: { a: 1 }, callsSoFar: 0 }, denied: { door: 'tool', name: 'rm', args: {}, callsSoFar: 0 }, allowCode: 'TOOL_GRANTED', denyCode: 'TOOL_NOT_GRANTED' },
  { door: 'tool', allowed: { door: 'tool', name: 'add', args: { a: 1 }, callsSoFar: 1 }, denied: { door: 'tool', name: 'add', args: { a: 1 }, callsSoFar: 2 }, allowCode: 'TOOL_GRANTED', denyCode: 'LIMIT_TOOL_CALLS' },
  { door: 'tool', allowed: { door: 'tool', name: 'add', args: { a: 1 }, callsSoFar: 0 }, denied: { door: 'tool', name: 'add', args: { a: 'x' }, callsSoFar: 0 }, allowCode: 'TOOL_GRANTED', denyCode: 'TOOL_ARGS_INVALID' },
  { door: 'egress', allowed: egress('GET'), denied: egress('POST'), allowCode: 'ROUTE_GRANTED', denyCode: 'EGRESS_NOT_GRANTED' },
  { door: 'egress', allowed: egress('GET'), denied: egress('GET', 'evil.example.com'), allowCode: 'ROUTE_GRANTED', denyCode: 'EGRESS_NOT_GRANTED' },
  { door: 'file', allowed: { door: 'file', path: 'a/b.txt', root: '/workspace' }, denied: { door: 'file', path: 'a/../../etc/passwd', root: '/workspace' }, allowCode: 'PATH_IN_WORKSPACE', denyCode: 'PATH_OUTSIDE_WORKSPACE' },
  { door: 'file', allowed: { door: 'file', path: '/workspace/x', root: '/workspace' }, denied: { door: 'file', path: '/etc/passwd', root: '/workspace' }, allowCode: 'PATH_IN_WORKSPACE', denyCode: 'PATH_OUTSIDE_WORKSPACE' },
  {
    door: 'quota',
    allowed: { door: 'quota', budget: 'memoryMiB', tenant: 'acme', used: 64, asking: 64, max: 128 },
    denied: { door: 'quota', budget: 'memoryMiB', tenant: 'acme', used: 65, asking: 64, max: 128 },
    allowCode: 'QUOTA_ROOM',
    denyCode: 'QUOTA_MEMORY',
  },
  { door: 'denials', allowed: { door: 'denials', spentBefore: 99 }, denied: { door: 'denials', spentBefore: 100 }, allowCode: 'DENIALS_WITHIN_BUDGET', denyCode: 'LIMIT_DENIALS' },
  { door: 'lifetime', allowed: { door: 'lifetime', sandbox: 'sbx_1', state: 'open' }, denied: { door: 'lifetime', sandbox: 'sbx_1', state: 'idle' }, allowCode: 'SANDBOX_OPEN', denyCode: 'SANDBOX_CLOSED' },
];

for (const c of CASES) {
  test(`${c.door}: ${c.denyCode} beside its allowed control`, () => {
    const yes = decide(policy, c.allowed);
    assert.equal(yes.allow, true);
    assert.equal(yes.code, c.allowCode);
    const no = decide(policy, c.denied);
    if (no.allow) assert.fail(`${c.denyCode} was allowed`);
    assert.equal(no.code, c.denyCode);
    // A denial's code is a member of the error table; its message is separate and says what to change.
    assert.ok(isErrorCode(no.code));
    assert.ok(no.message.length > 10 && !no.message.includes(String(undefined)), no.message);
  });
}

test('every door is covered by a case above', () => {
  assert.deepEqual([...new Set(CASES.map((c) => c.door))].sort(), [...DOORS].sort());
});
