// Resource templates (docs/warrant-format.md §8): what a call's arguments name, and that no
// argument can forge the structure a grant's glob relies on (each attack beside its control).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorize } from '../../src/authority/authorize.ts';
import { compileResourceTemplate, escapeResourceValue, resolveResources, routeResource, type Resolved } from '../../src/authority/resources.ts';
import { verifyWarrant } from '../../src/authority/verify.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { rootToken, throwsCode, world } from './helpers.ts';

const resolve = (templates: string[], args: unknown): Resolved => resolveResources(templates.map(compileResourceTemplate), args);
const names = (templates: string[], args: unknown): readonly string[] => {
  const r = resolve(templates, args);
  assert.ok(r.ok, r.ok ? '' : r.problem);
  return r.resources;
};

test('a placeholder, one resource per array element, a default when absent, nothing when absent without one', () => {
  assert.deepEqual(names(['mail:thread/{threadId}'], { threadId: 't-1' }), ['mail:thread/t-1']);
  assert.deepEqual(names(['mail:to/{to[]}'], { to: ['a@x.com', 'b@y.com'] }), ['mail:to/a@x.com', 'mail:to/b@y.com']);
  assert.deepEqual(names(['mail:to/{to[]}'], { to: [] }), []);
  assert.deepEqual(names(['cal:day/{date|*}'], {}), ['cal:day/*']);
  assert.deepEqual(names(['cal:day/{date|*}'], { date: '2026-12-06' }), ['cal:day/2026-12-06']);
  assert.deepEqual(names(['mail:thread/{threadId}'], {}), []);
  assert.deepEqual(names(['mail:thread/{threadId}'], { threadId: null }), []);
  assert.deepEqual(names(['mail:thread/{threadId}', 'mail:to/{to[]}'], { threadId: 7, to: ['a@x.com'] }), ['mail:thread/7', 'mail:to/a@x.com']);
  assert.deepEqual(names(['acct:{owner.id}/{recipients[].iban}'], { owner: { id: 'o1' }, recipients: [{ iban: 'DE1' }, { iban: 'FR2' }] }), ['acct:o1/DE1', 'acct:o1/FR2']);
  assert.deepEqual(names(['flag:{on}'], { on: true }), ['flag:true']);
});

test('values that are not scalars, or too many, are refused rather than guessed at', () => {
  for (const [templates, args] of [
    [['mail:thread/{threadId}'], { threadId: { $gt: '' } }],
    [['mail:to/{to[]}'], { to: 'a@x.com' }],
    [['mail:to/{to[]}'], { to: [null] }],
    [['mail:to/{to[]}'], { to: Array.from({ length: 300 }, (_, i) => `${i}@x.com`) }],
  ] as const) {
    const r = resolve([...templates], args);
    assert.equal(r.ok, false, JSON.stringify(args).slice(0, 80));
  }
  // Only own properties: an inherited name is absent.
  assert.deepEqual(names(['x:{constructor}'], {}), []);
});

test('bad templates are refused when the tool is declared', () => {
  for (const bad of ['', 'a:{', 'a:}', 'a:{a b}', 'a:{to[].x[]}', 'a:{x|a|b}', 'a: {x}', 'a:{1x}', 'a:{a[]}/{b[]}']) {
    const error = throwsCode(() => compileResourceTemplate(bad), 'INVALID_POLICY');
    assert.ok(error instanceof AirlockError);
  }
  assert.equal(compileResourceTemplate('cal:day/{date|*}').source, 'cal:day/{date|*}', 'control');
});

test('an argument cannot forge "/" or "*": escaped, it stays inside its own segment', () => {
  assert.equal(escapeResourceValue('a/b*c%d e'), 'a%2Fb%2Ac%25d%20e');
  assert.equal(escapeResourceValue('é'), '%C3%A9');
  const w = world();
  // Thread 1 and everything under it, for a tool whose resources are mail:thread/{threadId}/msg/{msgId}.
  const verified = verifyWarrant(rootToken(w, { grants: [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/1/**'] }] }), w.options);
  const templates = ['mail:thread/{threadId}/msg/{msgId}'];
  const read = (args: unknown) => authorize(verified, { tool: 'mail.read', op: 'read', resources: names(templates, args), args });
  assert.equal(read({ threadId: '1', msgId: '5' }).allow, true, 'control: thread 1');
  assert.equal(read({ threadId: '2', msgId: '5' }).allow, false);
  // Unescaped, this would be mail:thread/1/msg/x/../../2/msg/5 and match thread 1's glob.
  const forged = read({ threadId: '1/msg/x/../../2', msgId: '5' });
  assert.equal(forged.allow, false, 'a "/" in an argument does not open another thread');
  // A "*" argument is not the "every day" default.
  assert.notDeepEqual(names(['cal:day/{date|*}'], { date: '*' }), names(['cal:day/{date|*}'], {}));
  const days = verifyWarrant(rootToken(w, { grants: [{ tool: 'cal.read', ops: ['read'], resources: ['cal:day/2026-*'] }] }), w.options);
  assert.equal(authorize(days, { tool: 'cal.read', op: 'read', resources: names(['cal:day/{date|*}'], { date: '2026-12-06' }), args: {} }).allow, true, 'control');
  assert.equal(authorize(days, { tool: 'cal.read', op: 'read', resources: names(['cal:day/{date|*}'], {}), args: {} }).allow, false, 'every day is more than 2026');
});

test('a grant that names resources denies a call that names none (an absent argument without a default)', () => {
  const w = world();
  const verified = verifyWarrant(rootToken(w, { grants: [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/*'] }] }), w.options);
  const templates = ['mail:thread/{threadId}'];
  const read = (args: Record<string, unknown>) => authorize(verified, { tool: 'mail.read', op: 'read', resources: names(templates, args), args });
  assert.equal(read({ threadId: '7' }).allow, true, 'control');
  const none = read({});
  assert.ok(!none.allow && /names none/.test(none.message), JSON.stringify(none));
  const open = verifyWarrant(rootToken(w, { grants: [{ tool: 'mail.read', ops: ['read'] }] }), w.options);
  assert.equal(authorize(open, { tool: 'mail.read', op: 'read', resources: [], args: {} }).allow, true, 'a grant without resources does not ask for any');
});

test('routes are resources: a warrant narrows the network like a tool', () => {
  assert.equal(routeResource({ scheme: 'https', host: 'API.Example.com', port: 443, path: '/v1/a b/*' }), 'net:https://api.example.com:443/v1/a%20b/%2A');
  assert.equal(routeResource({ scheme: 'http', host: 'example.com', port: 8080, path: '/' }), 'net:http://example.com:8080/');
  const w = world();
  const verified = verifyWarrant(rootToken(w, { grants: [{ tool: 'fetch', ops: ['get'], resources: ['net:https://api.example.com:443/v1/**'] }] }), w.options);
  const fetch = (host: string, path: string) => authorize(verified, { tool: 'fetch', op: 'get', resources: [routeResource({ scheme: 'https', host, port: 443, path })], args: {} }).allow;
  assert.equal(fetch('api.example.com', '/v1/users'), true, 'control');
  assert.equal(fetch('api.example.com', '/v2/users'), false);
  assert.equal(fetch('evil.example.com', '/v1/users'), false);
  assert.equal(fetch('api.example.com.evil.com', '/v1/users'), false);
});
