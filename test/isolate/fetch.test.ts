// The isolate tier's fetch: present only when the policy grants routes, through the host's egress
// gateway with the same routes as the container tier, secrets attached on the host. Each denial
// beside its control; the upstream's own log shows what reached it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { testAirlock } from '../support/airlock.ts';
import { dripUpstream, heldAfterWait } from '../support/drip.ts';

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

test("a route naming 0.0.0.0 or :: reaches nothing (the kernel connects them to loopback); one naming 127.0.0.1 does", async () => {
  const up = await upstream();
  try {
    await using airlock = testAirlock();
    const route = (host: string) => ({ version: 1 as const, network: { routes: [{ host, scheme: 'http' as const, methods: ['GET' as const], port: up.port }] } });
    const code = (host: string) => `export default await fetch('http://${host}:${up.port}/x').then((r) => r.status, (e) => e.code);`;
    for (const host of ['0.0.0.0', '[::]']) {
      const r = await airlock.run({ code: code(host), policy: route(host) });
      assert.equal(r.result, 'EGRESS_ADDRESS_REFUSED', `${host}: ${JSON.stringify(r.result ?? r.error)}`);
    }
    // The forbidden effect did not happen: the loopback-only server saw nothing.
    assert.deepEqual(up.seen, []);
    const control = await airlock.run({ code: code('127.0.0.1'), policy: route('127.0.0.1') });
    assert.equal(control.result, 200, JSON.stringify(control.result ?? control.error));
    assert.equal(up.seen.length, 1);
  } finally {
    up.close();
  }
});

test("a fetch still in flight when the run ends is cut and audited; the host keeps no socket to the upstream", async () => {
  // An upstream that sends its headers, then one byte a second: never idle, never done. The run
  // ended at its wall limit while the host went on reading, unaudited, for as long as it dripped.
  const drip = await dripUpstream();
  const dripPort = drip.port;
  const up = await upstream();
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit });
  const routes = [{ host: '127.0.0.1', scheme: 'http' as const, port: dripPort }, { host: '127.0.0.1', scheme: 'http' as const, port: up.port }];
  try {
    const control = await airlock.run({ code: `export default (await fetch('http://127.0.0.1:${up.port}/ok')).status`, policy: { version: 1, network: { routes } } });
    assert.equal(control.result, 200, JSON.stringify(control.error));
    const r = await airlock.run({
      code: `for (let i = 0; i < 3; i++) fetch('http://127.0.0.1:${dripPort}/d' + i).catch(() => {});\nexport default await fetch('http://127.0.0.1:${dripPort}/main').then((x) => x.text());`,
      policy: { version: 1, limits: { wallMs: 800, cpuMs: 500 }, network: { routes } },
    });
    assert.equal(r.status, 'timeout', JSON.stringify(r.error));
    assert.equal(await heldAfterWait(drip), 0, 'the upstream still has sockets from the host after the run ended');
    const cut = audit.events.filter((e) => e.kind === 'decision' && e.door === 'network' && e.run === r.id);
    assert.equal(cut.length, 4, `each of the run's 4 fetches is audited: ${JSON.stringify(cut)}`);
    assert.ok(cut.every((e) => JSON.stringify(e).includes('EGRESS_UPSTREAM_FAILED')), JSON.stringify(cut));
  } finally {
    drip.close();
    up.close();
  }
});
