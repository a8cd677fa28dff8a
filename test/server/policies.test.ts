// Stored policies: a tenant stores, lists, shows and checks its own; another tenant's key gets
// 404 for them exactly as for a name never stored, lists none of them, can't overwrite them by
// storing the same name, and can't make a check of them run (no probe runs: the log shows none).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, testServer } from './helpers.ts';

const READER = { version: 1, network: { routes: [{ host: 'api.example', methods: ['GET'], paths: ['/v1'] }] }, limits: { wallMs: 3000 } };
const QUIET = { version: 1, limits: { wallMs: 3000 } };

interface Stored {
  name: string;
  hash: string;
  summary: { routes: { host: string; methods: string[] | null }[]; limits: Record<string, number> };
  policy: unknown;
}

test('a tenant stores, lists and shows its policies; another tenant gets 404 as for a name never stored, lists none, and its PUT of the same name leaves them untouched', async () => {
  await using t = await testServer();
  const a = t.key('acme');
  const b = t.key('bravo');
  const put = await call(t.server.url, a, 'PUT', '/v1/policies/mail-reader', READER);
  assert.equal(put.status, 200, JSON.stringify(put.json));
  const stored = put.json as Stored;
  assert.equal(stored.name, 'mail-reader');
  assert.match(stored.hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(stored.summary.routes.map((r) => [r.host, r.methods]), [['api.example', ['GET']]]);
  assert.equal(stored.summary.limits['wallMs'], 3000);

  // Control: A lists and reads its own.
  const listA = (await call(t.server.url, a, 'GET', '/v1/policies')).json as { policies: { name: string; hash: string }[] };
  assert.deepEqual(listA.policies.map((p) => [p.name, p.hash]), [['mail-reader', stored.hash]]);
  const shownA = (await call(t.server.url, a, 'GET', '/v1/policies/mail-reader')).json as Stored;
  assert.deepEqual(shownA.policy, READER);

  // Attack: B asks for it by name; the answer is the one for a name never stored.
  const asked = await fetch(`${t.server.url}/v1/policies/mail-reader`, { headers: { authorization: `Bearer ${b}` } });
  const askedText = await asked.text();
  const missing = await fetch(`${t.server.url}/v1/policies/never-stored`, { headers: { authorization: `Bearer ${b}` } });
  const missingText = await missing.text();
  assert.deepEqual([asked.status, missing.status], [404, 404]);
  assert.equal(askedText.replace('mail-reader', '<name>'), missingText.replace('never-stored', '<name>'));
  assert.ok(!askedText.includes('api.example'), askedText);
  const listB = await fetch(`${t.server.url}/v1/policies`, { headers: { authorization: `Bearer ${b}` } });
  const listText = await listB.text();
  assert.deepEqual(JSON.parse(listText), { policies: [] });

  // B storing the same name makes B's own; A's is untouched.
  const mine = await call(t.server.url, b, 'PUT', '/v1/policies/mail-reader', QUIET);
  assert.equal(mine.status, 200);
  assert.notEqual((mine.json as Stored).hash, stored.hash);
  const again = (await call(t.server.url, a, 'GET', '/v1/policies/mail-reader')).json as Stored;
  assert.deepEqual([again.hash, again.policy], [stored.hash, READER]);
  // Replacing its own is allowed (control of the PUT).
  const replaced = await call(t.server.url, a, 'PUT', '/v1/policies/mail-reader', QUIET);
  assert.equal((replaced.json as Stored).hash, (mine.json as Stored).hash, 'the same document compiles to the same hash');
});

test("a stored policy's check gives the five answers' evidence for its tenant; another tenant's check of it is 404 and runs no probe", async () => {
  await using t = await testServer();
  const a = t.key('acme');
  const b = t.key('bravo');
  assert.equal((await call(t.server.url, a, 'PUT', '/v1/policies/quiet', QUIET)).status, 200);

  const refused = await call(t.server.url, b, 'POST', '/v1/policies/quiet/check', { tier: 'isolate', questions: ['network'] });
  assert.equal(refused.status, 404);
  assert.equal((refused.json as { error: { code: string } }).error.code, 'NOT_FOUND');
  assert.deepEqual((await t.records()).filter((r) => r.event.tenant.startsWith('bravo')), [], 'no probe ran for B');

  // Control: A's check runs its probes and answers with the evidence.
  const r = await call(t.server.url, a, 'POST', '/v1/policies/quiet/check', { tier: 'isolate', questions: ['network'] });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const report = r.json as { tier: string; consistent: boolean; answers: Partial<Record<string, { answer: string; policy: string; observed: string }>> };
  assert.equal(report.answers['network']?.answer, 'no');
  const evidence = report.answers['network'];
  assert.ok(evidence, JSON.stringify(report));
  assert.ok(evidence.policy.length > 0 && evidence.observed.length > 0, JSON.stringify(report));
  assert.equal(report.consistent, true);
  const probes = (await t.records()).filter((rec) => rec.event.kind === 'run.started').map((rec) => rec.event.tenant);
  assert.ok(probes.length > 0 && probes.every((tenant) => tenant.startsWith('acme')), probes.join(', '));
});

test('a policy that does not compile is INVALID_POLICY naming its field, and is not stored; a bad name is INVALID_REQUEST', async () => {
  await using t = await testServer();
  const a = t.key('acme');
  const cases: [string, unknown, string, RegExp][] = [
    ['bad-version', { version: 2 }, 'INVALID_POLICY', /version/],
    ['bad-limit', { version: 1, limits: { wallMs: -1 } }, 'INVALID_POLICY', /limits\.wallMs/],
    ['bad-schema', { version: 1, tools: { lookup: { operation: 'read', args: { type: 'nonsense' } } } }, 'INVALID_POLICY', /tools\.lookup\.args/],
    ['Bad Name', QUIET, 'INVALID_REQUEST', /name/],
  ];
  for (const [name, body, code, names] of cases) {
    const r = await call(t.server.url, a, 'PUT', `/v1/policies/${encodeURIComponent(name)}`, body);
    const error = (r.json as { error: { code: string; message: string } }).error;
    assert.equal(error.code, code, `${name}: ${error.message}`);
    assert.match(error.message, names);
  }
  assert.deepEqual((await call(t.server.url, a, 'GET', '/v1/policies')).json, { policies: [] });
});
