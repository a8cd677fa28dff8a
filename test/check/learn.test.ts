// `--learn`: a sample that needs two tools and one route is denied all three; learn prints exactly
// those three grants as a diff, and the same code passes with the diff applied. Nothing is granted
// by learn itself: the second run is ours, with the policy the diff describes.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { formatLearned, learnFromRun } from '../../src/cli/learn.ts';
import type { PolicyDocument, ToolGrant } from '../../src/policy/schema.ts';
import { checkAirlock, startUpstream } from './helpers.ts';

const up = await startUpstream();
const fx = checkAirlock({
  tools: {
    getRepo: (args) => ({ name: (args as { name: string }).name, stars: 42 }),
    postComment: () => ({ id: 1 }),
  },
});
after(async () => {
  await fx.close();
  await up.close();
});

const SAMPLE = `
const settled = await Promise.allSettled([
  tools.getRepo({ name: 'acme/widgets' }),
  tools.postComment({ issue: 7, body: 'looks good' }),
  fetch('http://127.0.0.1:${up.port}/repos/acme/widgets'),
]);
const failed = settled.filter((s) => s.status === 'rejected');
if (failed.length > 0) throw new Error(failed.map((f) => f.reason.code).join(', '));
const [repo, comment, res] = settled.map((s) => s.value);
export default { repo, comment, status: res.status };
`;

// The host's catalog of its tools: what a learned grant copies.
const CATALOG: Record<string, ToolGrant> = {
  getRepo: { operation: 'read', args: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false } },
  postComment: { operation: 'write', args: { type: 'object', properties: { issue: { type: 'integer' }, body: { type: 'string' } }, required: ['issue', 'body'] } },
};

// One unrelated route, so the isolate has fetch (it has none while a policy grants no route).
const BASE: PolicyDocument = { version: 1, network: { routes: [{ name: 'docs', host: 'docs.example.org', methods: ['GET'] }] }, limits: { wallMs: 3000, cpuMs: 1000 } };

test('--learn on a run that needs two tools and one route prints exactly those three grants, and the run passes with them', async () => {
  const denied = await fx.airlock.run({ tier: 'isolate', tenant: 'learn', code: SAMPLE, policy: BASE });
  assert.equal(denied.status, 'error');
  assert.deepEqual(up.requests, [], 'the denied run reached nothing');
  const learned = learnFromRun({ policy: BASE, result: denied, events: fx.audit.events, catalog: CATALOG });
  assert.deepEqual(learned.grants, ['tools.getRepo', 'tools.postComment', `network.routes: GET http://127.0.0.1:${up.port} /repos/acme/widgets`]);
  assert.deepEqual(learned.notes, []);
  assert.deepEqual(learned.policy.tools, CATALOG);
  assert.deepEqual(learned.policy.network?.routes[1], { name: 'learned.127.0.0.1', host: '127.0.0.1', scheme: 'http', port: up.port, methods: ['GET'], paths: ['/repos/acme/widgets'] });
  // The diff adds lines only: nothing of the given policy is removed or widened.
  const lines = learned.diff.split('\n');
  assert.ok(lines.every((l) => !l.startsWith('- ')), learned.diff);
  assert.ok(lines.some((l) => l.startsWith('+ ') && l.includes('"getRepo"')));
  assert.ok(lines.some((l) => l.startsWith('+ ') && l.includes('"learned.127.0.0.1"')));
  const text = formatLearned(learned);
  assert.match(text, /^airlock --learn: 3 grant\(s\) would have let this run through:/);

  const passed = await fx.airlock.run({ tier: 'isolate', tenant: 'learn', code: SAMPLE, policy: learned.policy });
  assert.equal(passed.status, 'ok', passed.error?.message);
  assert.deepEqual(passed.result, { repo: { name: 'acme/widgets', stars: 42 }, comment: { id: 1 }, status: 200 });
  assert.deepEqual(up.requests, ['GET /repos/acme/widgets']);
  // Nothing more to learn from the passing run.
  assert.deepEqual(learnFromRun({ policy: learned.policy, result: passed, events: fx.audit.events }).grants, []);
});

test('without a catalog the tool grants are placeholders, said so; a limit stop is a note, never a grant', async () => {
  const denied = await fx.airlock.run({ tier: 'isolate', tenant: 'learn', code: 'await tools.getRepo({ name: "x" }); while (true) {}', policy: { version: 1, limits: { cpuMs: 300 } } });
  const learned = learnFromRun({ policy: { version: 1, limits: { cpuMs: 300 } }, result: denied, events: fx.audit.events });
  assert.deepEqual(learned.grants, ['tools.getRepo']);
  assert.equal(learned.policy.tools?.['getRepo']?.operation, 'read');
  assert.match(learned.notes.join('\n'), /tools\.getRepo: the host's catalog does not describe it/);
  const loop = await fx.airlock.run({ tier: 'isolate', tenant: 'learn', code: 'while (true) {}', policy: { version: 1, limits: { cpuMs: 300, wallMs: 60_000 } } });
  const fromLoop = learnFromRun({ policy: { version: 1, limits: { cpuMs: 300, wallMs: 60_000 } }, result: loop, events: fx.audit.events });
  assert.deepEqual(fromLoop.grants, []);
  assert.match(fromLoop.notes.join('\n'), /limits\.cpuMs: the run was stopped by it \(CPU_TIMEOUT\)/);
  assert.equal(fromLoop.policy.limits?.cpuMs, 300, 'the limit is not raised by learn');
});
