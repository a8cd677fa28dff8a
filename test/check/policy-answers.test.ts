// The policy's side of the answers, and how two sides combine: pure, no sandbox.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BUDGET } from '../../src/check/budget.ts';
import { policyAnswers, type HostFacts } from '../../src/check/policy-answers.ts';
import { combine, no, yes } from '../../src/check/questions.ts';
import { secretLikeEnv } from '../../src/check/secret-like.ts';
import { lineDiff } from '../../src/cli/learn.ts';
import { compilePolicy } from '../../src/policy/compile.ts';

const FACTS: HostFacts = { home: '/home/host', airlockHome: '/home/host/.airlock', runDir: '/run/airlock', budget: DEFAULT_BUDGET, cordon: null };

test('disagreement: the worse answer wins and is flagged; agreement is not flagged', () => {
  assert.deepEqual(combine(no('a'), yes('b')), { answer: 'yes', policy: 'no — a', observed: 'yes — b', agree: false });
  assert.deepEqual(combine(yes('a'), no('b')).answer, 'yes');
  assert.deepEqual(combine(no('a'), no('b')), { answer: 'no', policy: 'no — a', observed: 'no — b', agree: true });
});

test('each grant turns its question to yes on the container tier; deny-all answers no to all five', () => {
  const none = policyAnswers('container', compilePolicy({ version: 1 }), FACTS);
  for (const f of Object.values(none)) assert.equal(f.answer, 'no', f.evidence);
  const a = policyAnswers('container', compilePolicy({
    version: 1,
    env: { STRIPE_KEY: 'sk_live_abc' },
    files: [{ path: '/home/host/.ssh' }, { path: '/run/airlock/sandboxes', at: '/others' }],
    network: { routes: [{ host: 'api.github.com', methods: ['GET'], paths: ['/repos/acme'] }] },
    limits: { pids: 4096 },
  }), FACTS);
  assert.match(a.secrets.evidence, /env grants STRIPE_KEY=sk_l…\(11 chars\).*files grants \/home\/host\/\.ssh/);
  assert.equal(a.network.evidence, 'only GET https://api.github.com:443/repos/acme*');
  assert.match(a.files.evidence, /\/run\/airlock\/sandboxes at \/others/);
  assert.match(a.tenants.evidence, /files grants \/run\/airlock\/sandboxes/);
  assert.equal(a.resources.evidence, 'pids 4096 is over the budget of 256');
  for (const f of Object.values(a)) assert.equal(f.answer, 'yes');
});

test('the isolate tier ignores container-only grants: env and files answer no there', () => {
  const a = policyAnswers('isolate', compilePolicy({ version: 1, env: { GITHUB_TOKEN: 'ghp_x' }, files: [{ path: '/home/host' }] }), FACTS);
  assert.equal(a.secrets.answer, 'no');
  assert.equal(a.files.answer, 'no');
  assert.equal(a.tenants.answer, 'no');
});

test('secret-looking variables: by name, by known shape, by randomness; plain values are not', () => {
  assert.notEqual(secretLikeEnv('DB_PASSWORD', 'x'), null);
  assert.notEqual(secretLikeEnv('X', 'AKIAABCDEFGHIJKLMNOP'), null);
  assert.notEqual(secretLikeEnv('X', 'Zx8Qp2Lm9Rt4Vw7Yb3Nc6Kd1Hf5Gj0Sa'), null);
  assert.equal(secretLikeEnv('GREETING', 'hello world'), null);
  assert.equal(secretLikeEnv('HOST_HOME', '/root'), null);
});

test('the learned diff adds lines without showing a neighbour as removed', () => {
  const before = JSON.stringify({ version: 1 }, null, 2);
  const after = JSON.stringify({ version: 1, tools: {} }, null, 2);
  assert.equal(lineDiff(before, after), ['  {', '    "version": 1,', '+   "tools": {}', '  }'].join('\n'));
});

test('lineDiff of a 20,000-line policy with one grant added shows that one line; texts too different for the table are shown whole', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `    "K${i}": "v"`);
  const before = ['{', '  "env": {', ...keys.map((k, i) => (i < keys.length - 1 ? `${k},` : k)), '  }', '}'].join('\n');
  const after = before.replace('  "env": {', '  "tools": {},\n  "env": {');
  const diff = lineDiff(before, after).split('\n');
  assert.deepEqual(diff.filter((l) => !l.startsWith('  ')), ['+   "tools": {},']);
  assert.equal(diff.length, before.split('\n').length + 1);
  const a = Array.from({ length: 2000 }, (_, i) => `a${i}`).join('\n');
  const b = Array.from({ length: 2000 }, (_, i) => `b${i}`).join('\n');
  const whole = lineDiff(a, b).split('\n');
  assert.deepEqual([whole.filter((l) => l.startsWith('- ')).length, whole.filter((l) => l.startsWith('+ ')).length], [2000, 2000]);
});
