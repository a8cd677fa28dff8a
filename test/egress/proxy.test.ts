// The container tier's door, exercised over its unix socket with upstreams on 127.0.0.1. Each
// denial sits beside its control, and the upstreams' own logs show no denied request reached them.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, connect } from 'node:net';
import { after, before, test } from 'node:test';
import type { EgressGateway } from '../../src/egress/gateway.ts';
import type { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { ctxFor, decisions, newGateway, rawProxy, startUpstream, viaProxy, type Upstream } from './helpers.ts';

const state: { up: Upstream; other: Upstream; gateway: EgressGateway; audit: MemoryAuditSink; sock: string; resolved: string[] } = {} as never;

before(async () => {
  state.up = await startUpstream();
  state.other = await startUpstream();
  state.resolved = [];
  const names: Record<string, string[]> = {
    'loop.example.com': ['127.0.0.1'],
    'meta.example.com': ['169.254.169.254'],
    'v6.example.com': ['::1'],
    'mapped.example.com': ['::ffff:7f00:1'],
    'named.example.com': ['169.254.169.254', '127.0.0.1'],
  };
  const { gateway, audit } = newGateway({
    resolve: (host) => {
      state.resolved.push(host);
      return Promise.resolve(names[host] ?? []);
    },
    limits: { maxHeaderBytes: 4096, maxBodyBytes: 1024 },
  });
  Object.assign(state, { gateway, audit });
  const p = state.up.port;
  const ctx = ctxFor({
    version: 1,
    network: {
      routes: [
        { name: 'up', host: '127.0.0.1', scheme: 'http', port: p, methods: ['GET', 'POST'], paths: ['/ok'] },
        { name: 'tunnel', host: '127.0.0.1', scheme: 'https', port: p },
        ...['loop', 'meta', 'v6', 'mapped'].map((n) => ({ name: n, host: `${n}.example.com`, scheme: 'http', port: p })),
        { name: 'named', host: 'named.example.com', scheme: 'http', port: p, addresses: ['127.0.0.1'] },
        { name: 'quota', host: '127.0.0.1', scheme: 'http', port: p, paths: ['/quota'], quota: { requests: 2 } },
      ],
    },
  });
  state.sock = (await gateway.socketFor(ctx)).path;
});

after(async () => {
  await state.gateway.close();
  await state.up.close();
  await state.other.close();
});

const seenPaths = (u: Upstream): string[] => u.seen.map((s) => s.url);
const url = (path: string, host = '127.0.0.1'): string => `http://${host}:${state.up.port}${path}`;
const hostHeader = (host = '127.0.0.1'): Record<string, string> => ({ host: `${host}:${state.up.port}` });

test('a granted route reaches the upstream; a non-granted host, port or path does not', async () => {
  const ok = await viaProxy(state.sock, 'GET', url('/ok/1'), hostHeader());
  assert.equal(ok.status, 200);
  const otherPort = await viaProxy(state.sock, 'GET', `http://127.0.0.1:${state.other.port}/ok/2`, { host: `127.0.0.1:${state.other.port}` });
  assert.deepEqual([otherPort.status, otherPort.headers['x-airlock-error']], [403, 'EGRESS_NOT_GRANTED']);
  const otherHost = await viaProxy(state.sock, 'GET', 'http://example.org/ok/3', { host: 'example.org' });
  assert.deepEqual([otherHost.status, otherHost.headers['x-airlock-error']], [403, 'EGRESS_NOT_GRANTED']);
  const path = await viaProxy(state.sock, 'GET', url('/secret/4'), hostHeader());
  const method = await viaProxy(state.sock, 'DELETE', url('/ok/5'), hostHeader());
  assert.deepEqual([path.status, method.status], [403, 403]);
  assert.deepEqual(seenPaths(state.up).filter((p) => /\/[1-5]$/.test(p)), ['/ok/1']);
  assert.deepEqual(seenPaths(state.other), []);
  assert.ok(decisions(state.audit).some((d) => d['reason'] === 'PORT_NOT_GRANTED'));
});

test('a granted name that resolves to loopback or metadata is refused, unless the route names the address', async () => {
  const before = state.up.seen.length;
  const cases: [string, string][] = [['loop', 'ADDRESS_LOOPBACK'], ['meta', 'ADDRESS_METADATA'], ['v6', 'ADDRESS_LOOPBACK'], ['mapped', 'ADDRESS_LOOPBACK']];
  for (const [name, why] of cases) {
    const r = await viaProxy(state.sock, 'GET', url(`/${name}`, `${name}.example.com`), hostHeader(`${name}.example.com`));
    assert.deepEqual([r.status, r.headers['x-airlock-error']], [403, 'EGRESS_ADDRESS_REFUSED'], name);
    assert.ok(decisions(state.audit).some((d) => d['host'] === `${name}.example.com` && d['reason'] === why), name);
  }
  assert.equal(state.up.seen.length, before, 'no refused request reached the upstream');
  // Control: the route names 127.0.0.1, so the gateway skips the metadata answer and connects there.
  const named = await viaProxy(state.sock, 'GET', url('/named', 'named.example.com'), hostHeader('named.example.com'));
  assert.equal(named.status, 200);
  assert.equal(state.up.seen.at(-1)?.headers.host, `named.example.com:${state.up.port}`);
  assert.equal(decisions(state.audit).at(-1)?.['address'], '127.0.0.1');
  assert.equal(state.resolved.filter((h) => h === 'named.example.com').length, 1, 'one lookup per request, no second lookup');
});

test('origin-form, Host mismatch, duplicate Host and odd IP spellings are refused before any upstream sees them', async () => {
  const before = state.up.seen.length;
  const p = state.up.port;
  const origin = await rawProxy(state.sock, `GET /ok/origin HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n\r\n`);
  assert.match(origin, /^HTTP\/1.1 400[^]*x-airlock-error: EGRESS_BAD_REQUEST[^]*absolute-form/);
  const mismatch = await viaProxy(state.sock, 'GET', url('/ok/mismatch'), { host: 'evil.example.com' });
  assert.deepEqual([mismatch.status, mismatch.headers['x-airlock-error']], [400, 'EGRESS_BAD_REQUEST']);
  const twice = await rawProxy(state.sock, `GET ${url('/ok/twice')} HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nHost: evil.example.com\r\n\r\n`);
  assert.match(twice, /^HTTP\/1.1 400/);
  for (const spelled of ['2130706433', '0177.0.0.1', '0x7f.0.0.1', '127.1']) {
    const r = await viaProxy(state.sock, 'GET', `http://${spelled}:${p}/ok/odd`, { host: `${spelled}:${p}` });
    assert.equal(r.status, 400, spelled);
  }
  for (const v6 of ['[::1]', '[::ffff:127.0.0.1]', '[0:0:0:0:0:ffff:7f00:1]']) {
    const r = await viaProxy(state.sock, 'GET', `http://${v6}:${p}/ok/v6`, { host: `${v6}:${p}` });
    assert.deepEqual([r.status, r.headers['x-airlock-error']], [403, 'EGRESS_NOT_GRANTED'], v6);
  }
  const dots = await viaProxy(state.sock, 'GET', url('/ok/%2e%2e/secret'), hostHeader());
  assert.equal(dots.status, 400);
  assert.equal(state.up.seen.length, before, 'the upstream saw none of them');
  const reasons = new Set(decisions(state.audit).map((d) => d['reason']));
  for (const r of ['ORIGIN_FORM', 'HOST_MISMATCH', 'NON_CANONICAL_IP', 'PATH_NOT_CANONICAL']) assert.ok(reasons.has(r), r);
  // Control: the same request with a matching Host header goes through.
  assert.equal((await viaProxy(state.sock, 'GET', url('/ok/control'), hostHeader())).status, 200);
});

test('CONNECT to a granted port tunnels; to a non-granted port it is refused and nothing connects', async () => {
  const probe = createServer((s) => { probed.push(1); s.destroy(); });
  const probed: number[] = [];
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const q = (probe.address() as AddressInfo).port;
  const refused = await rawProxy(state.sock, `CONNECT 127.0.0.1:${q} HTTP/1.1\r\nHost: 127.0.0.1:${q}\r\n\r\n`);
  assert.match(refused, /^HTTP\/1.1 403[^]*EGRESS_NOT_GRANTED/);
  assert.deepEqual(probed, []);
  probe.close();
  // Control: the granted port, with a plain HTTP request carried inside the tunnel.
  const p = state.up.port;
  const reply = await new Promise<string>((resolve) => {
    const s = connect(state.sock);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString();
      if (text.startsWith('HTTP/1.1 200 Connection Established\r\n\r\n') && !text.includes('GET /in-tunnel')) {
        if (chunks.length === 1) s.write(`GET /in-tunnel HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nConnection: close\r\n\r\n`);
      }
    });
    s.on('close', () => resolve(Buffer.concat(chunks).toString()));
    s.write(`CONNECT 127.0.0.1:${p} HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n\r\n`);
  });
  assert.match(reply, /Connection Established[^]*HTTP\/1.1 200/);
  assert.equal(state.up.seen.at(-1)?.url, '/in-tunnel');
  const last = decisions(state.audit).at(-1);
  assert.equal(last?.['method'], 'CONNECT');
  assert.ok(Number(last['bytesIn']) > 0 && Number(last['bytesOut']) > 0);
});

test('oversized headers and bodies are refused with a code; the upstream sees nothing', async () => {
  const before = state.up.seen.length;
  const big = await rawProxy(state.sock, `GET ${url('/ok/big')} HTTP/1.1\r\nHost: 127.0.0.1:${state.up.port}\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1.1 413[^]*EGRESS_TOO_LARGE/);
  const body = await viaProxy(state.sock, 'POST', url('/ok/body'), { ...hostHeader(), 'content-length': '2000' }, 'x'.repeat(2000));
  assert.deepEqual([body.status, body.headers['x-airlock-error']], [413, 'EGRESS_TOO_LARGE']);
  const chunked = await rawProxy(state.sock, `POST ${url('/ok/chunked')} HTTP/1.1\r\nHost: 127.0.0.1:${state.up.port}\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n${'y'.repeat(2048)}\r\n0\r\n\r\n`);
  assert.match(chunked, /^HTTP\/1.1 413/);
  assert.equal(state.up.seen.length, before);
  // Control: a body under the limit arrives whole.
  const small = await viaProxy(state.sock, 'POST', url('/ok/small'), { ...hostHeader(), 'content-length': '3' }, 'abc');
  assert.equal(small.status, 200);
  assert.equal(state.up.seen.at(-1)?.body, 'abc');
});

test('a quota overrun ends with EGRESS_QUOTA; the upstream saw exactly the granted requests', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await viaProxy(state.sock, 'GET', url(`/quota/${i}`), hostHeader())).status);
  assert.deepEqual(statuses, [200, 200, 429, 429]);
  assert.deepEqual(seenPaths(state.up).filter((p) => p.startsWith('/quota/')), ['/quota/0', '/quota/1']);
  assert.equal(decisions(state.audit).filter((d) => d['reason'] === 'QUOTA_REQUESTS').length, 2);
});

test('every request is audited with tenant, sandbox, method, host, path, route, decision, status, bytes and duration', () => {
  const all = decisions(state.audit);
  assert.ok(all.length >= 20);
  for (const d of all) {
    for (const key of ['tenant', 'sandbox', 'method', 'host', 'path', 'route', 'decision', 'reason', 'status', 'bytesIn', 'bytesOut', 'durationMs']) {
      assert.ok(key in d, `audit detail has ${key}`);
    }
  }
  const ok = all.find((d) => d['path'] === '/ok/small');
  assert.deepEqual([ok?.['tenant'], ok?.['route'], ok?.['decision'], ok?.['status'], ok?.['bytesOut']], ['acme', 'up', 'allow', 200, 3]);
});

test("each socket is bound to its own sandbox: another sandbox's socket carries none of this one's grants", async () => {
  const before = state.up.seen.length;
  const other = await state.gateway.socketFor(ctxFor({ version: 1 }, 'sbx_other'));
  const denied = await viaProxy(other.path, 'GET', url('/ok/from-other'), hostHeader());
  assert.deepEqual([denied.status, denied.headers['x-airlock-error']], [403, 'EGRESS_NOT_GRANTED']);
  assert.equal(state.up.seen.length, before);
  assert.equal(decisions(state.audit).at(-1)?.['sandbox'], 'sbx_other');
  await other.close();
  // Control: this sandbox's socket still carries its grant.
  assert.equal((await viaProxy(state.sock, 'GET', url('/ok/from-this'), hostHeader())).status, 200);
});
