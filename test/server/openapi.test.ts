// /openapi.json is a valid OpenAPI 3.1 document, generated from the routes' own schemas, and lists
// every route the app serves; and /v1/check answers the threat report for the key's tenant.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { buildApp } from '../../src/server/app.ts';
import { call, testServer } from './helpers.ts';
import type { RouteParts } from '../../src/server/routes/common.ts';
import { KeyStore } from '../../src/server/keys.ts';
import { RateLimiter } from '../../src/server/rate.ts';

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[] }>>;
}

/** The routes the app really serves (Hono's own table), as "METHOD /path/{param}". */
function servedRoutes(): string[] {
  // Built without a live airlock: only the route table is read, nothing is called.
  const app = buildApp({
    parts: {} as RouteParts,
    keys: KeyStore.open(mkdtempSync(join(tmpdir(), 'airlock-routes-'))),
    rate: new RateLimiter({ perMinute: 1 }),
    hosts: { hosts: [], origins: [] },
    maxBodyBytes: 1,
    log: () => undefined,
  });
  const all = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
  // The console's pages (/console/…) are HTML for people, not API routes: they read through the routes listed.
  return [...new Set(all)].filter((r) => r !== 'GET /openapi.json' && !r.includes(' /console')).sort();
}

test('/openapi.json is valid OpenAPI 3.1, lists every route the app serves, and each /v1 route needs the API key', async () => {
  await using t = await testServer();
  const res = await fetch(`${t.server.url}/openapi.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as OpenApiDoc;
  assert.equal(doc.openapi, '3.1.0');
  const validator = new Validator();
  const verdict = await validator.validate(doc as unknown as Record<string, unknown>);
  assert.equal(verdict.valid, true, JSON.stringify(verdict.errors));
  assert.equal(validator.version, '3.1');
  const broken = await new Validator().validate({ ...doc, info: { title: 'no version' } });
  assert.equal(broken.valid, false, 'control: the validator does refuse a document that is not 3.1');

  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
  const served = servedRoutes();
  assert.ok(served.length >= 13, `the app serves its routes: ${served.join(', ')}`);
  assert.deepEqual(documented, served, 'every served route is documented, and nothing else');
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) assert.deepEqual(op.security, [{ apiKey: [] }], `${method} ${path} needs a key`);
  }
});

test('/v1/check answers for the key\'s tenant from the policy and a live probe (network: no, consistent)', async () => {
  await using t = await testServer();
  const key = t.key('checker');
  const r = await call(t.server.url, key, 'POST', '/v1/check', { tier: 'isolate', questions: ['network'] });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const report = r.json as { tier: string; consistent: boolean; answers: Record<string, { answer: string }> };
  assert.equal(report.tier, 'isolate');
  assert.equal(report.answers['network']?.answer, 'no');
  assert.equal(report.consistent, true);
  const probes = (await t.records()).filter((rec) => rec.event.kind === 'run.started').map((rec) => rec.event.tenant);
  assert.ok(probes.includes('checker'), `the probes ran as the key's tenant: ${probes.join(', ')}`);
});

test('one check at a time per tenant: a second one while the first runs is 429 RATE_LIMITED (control: another tenant\'s check runs beside it)', async () => {
  await using t = await testServer();
  const a = t.key('checker');
  const b = t.key('other');
  const body = { tier: 'isolate', questions: ['network', 'files', 'secrets'] };
  // Sent together: the first one's probes take far longer than the second takes to arrive.
  const [first, second, beside] = await Promise.all([
    call(t.server.url, a, 'POST', '/v1/check', body),
    call(t.server.url, a, 'POST', '/v1/check', body),
    call(t.server.url, b, 'POST', '/v1/check', body),
  ]);
  assert.deepEqual([first.status, second.status].sort(), [200, 429], JSON.stringify([first.json, second.json]));
  const refused = first.status === 429 ? first : second;
  assert.equal((refused.json as { error: { code: string } }).error.code, 'RATE_LIMITED');
  assert.equal(refused.headers.get('retry-after'), '5');
  assert.equal(beside.status, 200, "control: another tenant's check is not held up");
});
