// Bounded resources: slow and idle connections are closed while others are served; byte quotas
// and response sizes end with coded errors.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import type { EgressGateway } from '../../src/egress/gateway.ts';
import type { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { dripUpstream, heldAfterWait } from '../support/drip.ts';
import { ctxFor, decisions, newGateway, startUpstream, viaProxy, type Upstream } from './helpers.ts';

const state: { up: Upstream; gateway: EgressGateway; audit: MemoryAuditSink; sock: string; ctx: ReturnType<typeof ctxFor> } = {} as never;

before(async () => {
  state.up = await startUpstream();
  const { gateway, audit } = newGateway({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 300, maxResponseBytes: 2000 } });
  const p = state.up.port;
  state.ctx = ctxFor({
    version: 1,
    network: {
      routes: [
        { name: 'open', host: '127.0.0.1', scheme: 'http', port: p, paths: ['/ok'] },
        { name: 'bytes', host: '127.0.0.1', scheme: 'http', port: p, paths: ['/bytes'], quota: { bytes: 100 } },
      ],
    },
  });
  Object.assign(state, { gateway, audit });
  state.sock = (await gateway.socketFor(state.ctx)).path;
});

after(async () => {
  await state.gateway.close();
  await state.up.close();
});

const url = (path: string): string => `http://127.0.0.1:${state.up.port}${path}`;
const host = (): Record<string, string> => ({ host: `127.0.0.1:${state.up.port}` });

test('a slow-loris connection is cut off with 408 while another client is served', async () => {
  const s = connect(state.sock);
  const got: Buffer[] = [];
  s.on('data', (c: Buffer) => got.push(c));
  const closed = new Promise<void>((r) => s.on('close', () => r()));
  s.on('error', () => undefined);
  s.write(`GET ${url('/ok/slow')} HTTP/1.1\r\nHost: 127.0.0.1:${state.up.port}\r\nX-Slow: `);
  let dribbled = 0;
  const conn = { open: true };
  void closed.then(() => (conn.open = false));
  // Control, while the slow client is connected: an ordinary request is answered.
  const meanwhile = await viaProxy(state.sock, 'GET', url('/ok/meanwhile'), host());
  assert.equal(meanwhile.status, 200);
  while (conn.open && dribbled < 100) {
    s.write('a');
    dribbled += 1;
    await new Promise((r) => setTimeout(r, 50));
  }
  await closed;
  assert.ok(dribbled < 100, 'the gateway closed the slow connection before the client gave up');
  assert.match(Buffer.concat(got).toString(), /^HTTP\/1.1 408[^]*EGRESS_TIMEOUT/);
  assert.equal(state.up.seen.some((x) => x.url === '/ok/slow'), false);
  assert.ok(decisions(state.audit).some((d) => d['reason'] === 'TIMEOUT'));
});

test('an idle connection that sends nothing is closed; the gateway keeps serving', async () => {
  const s = connect(state.sock);
  s.on('error', () => undefined);
  const closed = await new Promise<boolean>((r) => {
    s.on('close', () => r(true));
    // Generous: the gateway closes it after 300 ms; a loaded CI machine may lag far behind that.
    setTimeout(() => r(false), 20_000).unref();
  });
  assert.equal(closed, true, 'the gateway closed the idle connection');
  s.destroy();
  assert.ok(decisions(state.audit).some((d) => d['reason'] === 'IDLE' && d['code'] === 'EGRESS_TIMEOUT'));
  assert.equal((await viaProxy(state.sock, 'GET', url('/ok/after-idle'), host())).status, 200);
});

test('a byte quota: a body that does not fit is refused up front; a response that overruns it is cut, then the route is closed', async () => {
  const before = state.up.seen.length;
  const big = await viaProxy(state.sock, 'POST', url('/bytes/big'), { ...host(), 'content-length': '200' }, 'z'.repeat(200));
  assert.deepEqual([big.status, big.headers['x-airlock-error']], [429, 'EGRESS_QUOTA']);
  assert.equal(state.up.seen.length, before, 'the oversized body never reached the upstream');
  // The echo of this request is longer than the 100 bytes left: the relay stops there.
  await viaProxy(state.sock, 'GET', url('/bytes/first'), host()).then(
    (r) => assert.ok(r.body.length <= 100 + 64, 'at most the quota (plus one chunk) was relayed'),
    (e: unknown) => assert.ok(e instanceof Error),
  );
  const next = await viaProxy(state.sock, 'GET', url('/bytes/second'), host());
  assert.deepEqual([next.status, next.headers['x-airlock-error']], [429, 'EGRESS_QUOTA']);
  assert.deepEqual(state.up.seen.slice(before).map((x) => x.url), ['/bytes/first']);
  const cut = decisions(state.audit).find((d) => d['path'] === '/bytes/first');
  assert.equal(cut?.['ended'], 'EGRESS_QUOTA');
});

test('a response over the size limit ends the isolate fetch with EGRESS_TOO_LARGE; a small one arrives', async () => {
  const small = await state.gateway.fetch(state.ctx, { method: 'GET', url: url('/ok/small'), headers: [] });
  assert.equal(small.status, 200);
  await assert.rejects(
    state.gateway.fetch(state.ctx, { method: 'GET', url: url('/ok/large'), headers: [['x-pad', 'p'.repeat(3000)]] }),
    (e: unknown) => e instanceof AirlockError && e.code === 'EGRESS_TOO_LARGE',
  );
  assert.equal(decisions(state.audit).at(-1)?.['ended'], 'EGRESS_TOO_LARGE');
});

test('quotas hold for requests made at once: of 20 concurrent fetches 2 pass quota.requests 2, and concurrent bodies stay within quota.bytes', async () => {
  // Admission waits on name resolution; the quota was counted only after it, so every request
  // that arrived meanwhile passed the check (20 of 20 went upstream).
  const slowResolve = async (name: string): Promise<string[]> => {
    await new Promise((r) => setTimeout(r, 20));
    return name.endsWith('.example.com') ? ['127.0.0.1'] : [];
  };
  const { gateway } = newGateway({ resolve: slowResolve });
  const p = state.up.port;
  const ctx = ctxFor({
    version: 1,
    network: {
      routes: [
        { name: 'calls', host: 'calls.example.com', scheme: 'http', port: p, addresses: ['127.0.0.1'], quota: { requests: 2 } },
        { name: 'sent', host: 'sent.example.com', scheme: 'http', port: p, paths: ['/sent'], addresses: ['127.0.0.1'], quota: { bytes: 1000 } },
      ],
    },
  });
  try {
    const before = state.up.seen.length;
    const calls = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => gateway.fetch(ctx, { method: 'GET', url: `http://calls.example.com:${p}/c${i}`, headers: [] })));
    assert.equal(calls.filter((r) => r.status === 'fulfilled').length, 2, 'the control: two calls fit the quota and are answered');
    assert.equal(state.up.seen.length - before, 2, 'only the two admitted calls reached the upstream');
    const mark = state.up.seen.length;
    await Promise.allSettled(Array.from({ length: 10 }, (_, i) => gateway.fetch(ctx, { method: 'POST', url: `http://sent.example.com:${p}/sent/${i}`, headers: [], body: new Uint8Array(400) })));
    const bodies = state.up.seen.slice(mark).reduce((n, s) => n + s.body.length, 0);
    assert.ok(bodies > 0 && bodies <= 1000, `${bodies} body bytes went upstream against a quota of 1000`);
  } finally {
    await gateway.close();
  }
});

test('a sandbox that hangs up mid-response takes the upstream connection with it; a whole response is relayed', async () => {
  // The upstream sends headers, then a byte a second. Before, the guest's side was closed and the
  // gateway kept reading the upstream, a host socket held for as long as it dripped.
  const drip = await dripUpstream();
  const port = drip.port;
  const ctx = ctxFor({ version: 1, network: { routes: [{ host: '127.0.0.1', scheme: 'http', port }, { host: '127.0.0.1', scheme: 'http', port: state.up.port }] } });
  const sock = await state.gateway.socketFor(ctx);
  try {
    const whole = await viaProxy(sock.path, 'GET', url('/ok/whole'), host());
    assert.equal(whole.status, 200);
    const s = connect(sock.path);
    s.on('error', () => undefined);
    s.write(`GET http://127.0.0.1:${port}/drip HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await new Promise<void>((r) => s.once('data', () => r()));
    assert.equal(drip.held(), 1, 'the upstream is answering');
    s.destroy();
    assert.equal(await heldAfterWait(drip), 0, 'the gateway still holds the upstream connection after the sandbox hung up');
  } finally {
    drip.close();
    await sock.close();
  }
});
