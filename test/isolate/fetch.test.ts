// The isolate tier's fetch: present only when the policy grants routes, through the host's egress
// gateway with the same routes as the container tier, secrets attached on the host. Each denial
// beside its control; the upstream's own log shows what reached it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { testAirlock } from '../support/airlock.ts';

async function upstream(): Promise<{ port: number; seen: { method: string; url: string; auth: string }[]; close: () => void }> {
  const seen: { method: string; url: string; auth: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization ?? '' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization ?? null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen, close: () => server.close() };
}

test('no route, no fetch: the guest has no fetch at all', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'export default typeof fetch' });
  assert.equal(r.result, 'undefined');
});

test('fetch goes through the gateway: granted path allowed, others denied and never sent', async () => {
  const up = await upstream();
  const secret = 'tok_' + 'x'.repeat(24);
  await using airlock = testAirlock({ secrets: { get: (name) => (name === 'api' ? secret : undefined) } });
  const policy = {
    version: 1 as const,
    secrets: { api: {} },
    network: { routes: [{ host: 'api.airlock', scheme: 'http' as const, methods: ['GET' as const], paths: ['/ok'], forward: { to: `http://127.0.0.1:${up.port}`, credential: { secret: 'api' } } }] },
  };
  const code = `
    const ok = await fetch('http://api.airlock/ok/1');
    const body = await ok.json();
    const denied = [];
    for (const [url, init] of [['http://api.airlock/secret', {}], ['http://api.airlock/ok/2', { method: 'DELETE' }], ['http://127.0.0.1:${up.port}/ok', {}]]) {
      try { await fetch(url, init); denied.push('allowed'); } catch (e) { denied.push(e.code); }
    }
    export default { status: ok.status, path: body.path, sawSecret: JSON.stringify(body).includes(${JSON.stringify(secret)}), denied };
  `;
  const r = await airlock.run({ code, policy });
  up.close();
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  const result = r.result as { status: number; path: string; sawSecret: boolean; denied: string[] };
  assert.equal(result.status, 200);
  assert.equal(result.path, '/ok/1');
  assert.equal(result.sawSecret, false, 'the echoed secret is redacted before the guest sees it');
  assert.deepEqual(result.denied, ['EGRESS_NOT_GRANTED', 'EGRESS_NOT_GRANTED', 'EGRESS_NOT_GRANTED']);
  assert.deepEqual(up.seen.map((s) => s.url), ['/ok/1'], 'only the granted request reached the upstream');
  assert.equal(up.seen[0]?.auth, `Bearer ${secret}`, 'the host attached the secret');
  assert.equal(r.violations.filter((v) => v.door === 'network').length, 3);
});
