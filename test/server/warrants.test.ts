// POST /v1/warrants and /v1/warrants/inspect: a tenant issues, attenuates and reads its own
// warrants with the keys the server holds, each one recorded; another tenant's key can neither
// read nor narrow them (no byte of the chain comes back, no warrant is made or recorded); a
// widening is refused and nothing is recorded.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { heldKeyIds, readSigningKey, revokedIds, trustedKeys, trustKey, warrantDirs, writeKeyPair } from '../../src/cli/warrant-files.ts';
import { call, testServer, type TestServer } from './helpers.ts';

/** A server that holds one trusted root key, wired as `airlock serve` wires it. */
async function serverWithKey(): Promise<{ t: TestServer; kid: string; revokedFile: string } & AsyncDisposable> {
  const dirs = warrantDirs({ AIRLOCK_HOME: mkdtempSync(join(tmpdir(), 'airlock-wkeys-')) });
  const key = generateSigningKey();
  writeKeyPair(dirs, key, undefined);
  trustKey(dirs, key.kid, key.publicKey);
  const t = await testServer({
    warrants: { trustedKeys: () => trustedKeys(dirs, []), revoked: () => revokedIds(dirs) },
    warrantSigning: { kids: () => heldKeyIds(dirs), key: (kid) => readSigningKey(dirs, kid) },
  });
  return { t, kid: key.kid, revokedFile: dirs.revoked, [Symbol.asyncDispose]: () => t[Symbol.asyncDispose]() };
}

const READ_MAIL = [{ tool: 'mail.*', ops: ['read', 'list'] }];
const ONE_THREAD = [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/7'] }];

interface Made {
  token: string;
  id: string;
  depth: number;
}
interface Inspection {
  valid: boolean;
  error: { code: string; message: string } | null;
  chain: { level: number; id: string; grants: unknown[]; inherits: boolean; narrowed: string[]; revoked: boolean }[];
}

async function issued(t: TestServer): Promise<{ tenant: string; op: string; id: string }[]> {
  return (await t.records()).flatMap((r) => (r.event.kind === 'warrant.issued' ? [{ tenant: r.event.tenant, op: r.event.op, id: r.event.warrant.id }] : []));
}

test("a tenant issues, attenuates and inspects its own warrants, each recorded; the chain shows what each level narrowed", async () => {
  await using server = await serverWithKey();
  const { t, kid } = server;
  const a = t.key('acme');
  const root = await call(t.server.url, a, 'POST', '/v1/warrants', { issue: { grants: READ_MAIL, ttlMs: 3_600_000 } });
  assert.equal(root.status, 201, JSON.stringify(root.json));
  const made = root.json as Made;
  assert.equal(made.depth, 0);
  const child = await call(t.server.url, a, 'POST', '/v1/warrants', { attenuate: { token: made.token, grants: ONE_THREAD, ttlMs: 60_000, maxDepth: 2 } });
  assert.equal(child.status, 201, JSON.stringify(child.json));
  const narrow = child.json as Made;
  assert.equal(narrow.depth, 1);
  assert.deepEqual(await issued(t), [
    { tenant: 'acme', op: 'issue', id: made.id },
    { tenant: 'acme', op: 'attenuate', id: narrow.id },
  ]);

  const seen = (await call(t.server.url, a, 'POST', '/v1/warrants/inspect', { token: narrow.token })).json as Inspection;
  assert.equal(seen.valid, true, JSON.stringify(seen.error));
  assert.deepEqual(seen.chain.map((l) => [l.level, l.id, l.inherits]), [[0, made.id, false], [1, narrow.id, false]]);
  const [rootLevel] = seen.chain;
  assert.deepEqual([rootLevel?.grants, rootLevel?.narrowed], [READ_MAIL, []]);
  const narrowed = seen.chain.at(1)?.narrowed ?? [];
  assert.ok(narrowed.includes('tool mail.read: narrowed from mail.*'), narrowed.join(' | '));
  assert.ok(narrowed.some((line) => line.startsWith('expires sooner: ')), narrowed.join(' | '));
  assert.ok(narrowed.includes('may be delegated to depth 2 (was 4)'), narrowed.join(' | '));
  // The key named explicitly works the same.
  assert.equal((await call(t.server.url, a, 'POST', '/v1/warrants', { issue: { key: kid, grants: READ_MAIL, ttlMs: 60_000 } })).status, 201);
});

test("another tenant's key can't read or narrow a tenant's warrant: no level of it comes back, nothing is made or recorded", async () => {
  await using server = await serverWithKey();
  const { t } = server;
  const a = t.key('acme');
  const b = t.key('bravo');
  const made = (await call(t.server.url, a, 'POST', '/v1/warrants', { issue: { grants: READ_MAIL, ttlMs: 3_600_000 } })).json as Made;
  // Control: A reads its own chain.
  assert.equal(((await call(t.server.url, a, 'POST', '/v1/warrants/inspect', { token: made.token })).json as Inspection).chain.length, 1);

  const res = await fetch(`${t.server.url}/v1/warrants/inspect`, { method: 'POST', headers: { authorization: `Bearer ${b}`, 'content-type': 'application/json' }, body: JSON.stringify({ token: made.token }) });
  const text = await res.text();
  assert.equal(res.status, 200);
  const seen = JSON.parse(text) as Inspection;
  assert.equal(seen.valid, false);
  assert.equal(seen.error?.code, 'WARRANT_INVALID');
  assert.deepEqual(seen.chain, []);
  for (const secret of [made.id, 'acme', 'mail.*']) assert.ok(!text.includes(secret), `B's answer names ${secret}: ${text}`);

  const before = await issued(t);
  const narrowed = await call(t.server.url, b, 'POST', '/v1/warrants', { attenuate: { token: made.token, grants: ONE_THREAD } });
  assert.equal(narrowed.status, 401);
  assert.equal((narrowed.json as { error: { code: string } }).error.code, 'WARRANT_INVALID');
  assert.ok(!JSON.stringify(narrowed.json).includes('acme'));
  assert.deepEqual(await issued(t), before, 'no warrant was made or recorded for B');
  // Control: B issues its own, for its own tenant.
  const mine = await call(t.server.url, b, 'POST', '/v1/warrants', { issue: { grants: READ_MAIL, ttlMs: 60_000 } });
  assert.equal(mine.status, 201);
  assert.equal((await issued(t)).at(-1)?.tenant, 'bravo');
});

test('a widening attenuation is refused and nothing is recorded; a revoked level shows, and the chain no longer verifies', async () => {
  await using server = await serverWithKey();
  const { t, revokedFile } = server;
  const a = t.key('acme');
  const made = (await call(t.server.url, a, 'POST', '/v1/warrants', { issue: { grants: ONE_THREAD, ttlMs: 3_600_000 } })).json as Made;
  const before = await issued(t);
  const wider = await call(t.server.url, a, 'POST', '/v1/warrants', { attenuate: { token: made.token, grants: READ_MAIL } });
  assert.equal(wider.status, 400);
  assert.equal((wider.json as { error: { code: string } }).error.code, 'WARRANT_WIDENING');
  const later = await call(t.server.url, a, 'POST', '/v1/warrants', { attenuate: { token: made.token, ttlMs: 7_200_000 } });
  assert.equal((later.json as { error: { code: string } }).error.code, 'WARRANT_WIDENING');
  assert.deepEqual(await issued(t), before);

  appendFileSync(revokedFile, `${made.id}\n`);
  const seen = (await call(t.server.url, a, 'POST', '/v1/warrants/inspect', { token: made.token })).json as Inspection;
  assert.equal(seen.valid, false);
  assert.equal(seen.error?.code, 'WARRANT_REVOKED');
  assert.deepEqual(seen.chain.map((l) => l.revoked), [true]);
});

test('bad warrant requests are coded errors that say what to change; a server holding no key makes none', async () => {
  await using server = await serverWithKey();
  const { t } = server;
  const a = t.key('acme');
  const cases: [unknown, string][] = [
    [{ issue: { grants: READ_MAIL, ttlMs: 60_000 }, attenuate: { token: 'aw1.x' } }, 'INVALID_REQUEST'],
    [{ issue: { key: '../../etc/passwd', grants: READ_MAIL, ttlMs: 60_000 } }, 'INVALID_REQUEST'],
    [{ issue: { grants: READ_MAIL, ttlMs: 0 } }, 'INVALID_REQUEST'],
    [{ issue: { grants: [{ tool: 'mail.read', ops: ['READ'] }], ttlMs: 60_000 } }, 'INVALID_REQUEST'],
    [{ issue: { key: 'k_AAAAAAAAAAAAAAAAAAAAAA', grants: READ_MAIL, ttlMs: 60_000 } }, 'WARRANT_KEY_UNTRUSTED'],
    [{ attenuate: { token: 'aw1.not-a-token' } }, 'WARRANT_INVALID'],
  ];
  for (const [body, code] of cases) {
    const r = await call(t.server.url, a, 'POST', '/v1/warrants', body);
    assert.equal((r.json as { error: { code: string } }).error.code, code, JSON.stringify(body));
  }
  const garbled = (await call(t.server.url, a, 'POST', '/v1/warrants/inspect', { token: 'aw1.garbage' })).json as Inspection;
  assert.deepEqual([garbled.valid, garbled.error?.code, garbled.chain], [false, 'WARRANT_INVALID', []]);
  assert.deepEqual(await issued(t), []);

  await using bare = await testServer();
  const none = await call(bare.server.url, bare.key('acme'), 'POST', '/v1/warrants', { issue: { grants: READ_MAIL, ttlMs: 60_000 } });
  assert.equal(none.status, 401);
  assert.match((none.json as { error: { code: string; message: string } }).error.message, /airlock warrant keygen --trust/);
});
