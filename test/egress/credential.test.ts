// The proxy pattern: the guest calls a plain-http route; the host attaches a secret it holds and
// forwards. Both doors (the proxy socket and the isolate tier's fetch) share routes and checks.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { AirlockError } from '../../src/core/errors.ts';
import { redact, secretsFromEnv, secretsFromFile } from '../../src/egress/secrets.ts';
import type { EgressGateway } from '../../src/egress/gateway.ts';
import type { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { ctxFor, decisions, newGateway, rawProxy, startUpstream, viaProxy, type Upstream } from './helpers.ts';

const SECRET = 'ghp_test_0123456789abcdefSECRET';
const state: { up: Upstream; gateway: EgressGateway; audit: MemoryAuditSink; sock: string; ctx: ReturnType<typeof ctxFor> } = {} as never;

function policy(port: number): unknown {
  return {
    version: 1,
    secrets: { github: { description: 'read-only token for acme repos' } },
    network: {
      routes: [
        {
          name: 'github',
          host: 'github.airlock',
          scheme: 'http',
          methods: ['GET'],
          paths: ['/repos/acme/'],
          quota: { requests: 50 },
          forward: { to: `http://127.0.0.1:${port}`, credential: { secret: 'github' } },
        },
      ],
    },
  };
}

before(async () => {
  state.up = await startUpstream({ secret: SECRET });
  const { gateway, audit } = newGateway({ secrets: secretsFromEnv({ github: 'TEST_GITHUB_TOKEN' }, { TEST_GITHUB_TOKEN: SECRET }) });
  Object.assign(state, { gateway, audit, ctx: ctxFor(policy(state.up.port)) });
  state.sock = (await gateway.socketFor(state.ctx)).path;
});

after(async () => {
  await state.gateway.close();
  await state.up.close();
});

test('proxy door: the host attaches the secret, the upstream accepts it, and every echo is redacted', async () => {
  const r = await viaProxy(state.sock, 'GET', 'http://github.airlock/repos/acme/widgets', { host: 'github.airlock', authorization: 'Bearer guest-forged-value' });
  assert.equal(r.status, 200);
  const seen = state.up.seen.at(-1);
  assert.equal(seen?.headers.authorization, `Bearer ${SECRET}`, 'the upstream got the host secret, not the guest header');
  assert.equal(seen.url, '/repos/acme/widgets');
  assert.equal(r.body.includes(SECRET), false, 'the echoed body is redacted');
  assert.match(r.body, /\[secret:github\]/);
  assert.equal(r.headers['x-echo-auth'], 'Bearer [secret:github]');
  assert.equal(JSON.stringify(state.audit.events).includes(SECRET), false, 'the audit log never holds the value');
  assert.equal(decisions(state.audit).at(-1)?.['secret'], 'github');
});

test('proxy door: a non-granted method or path on a credentialed route never reaches the upstream', async () => {
  const before = state.up.seen.length;
  const post = await viaProxy(state.sock, 'POST', 'http://github.airlock/repos/acme/widgets', { host: 'github.airlock', 'content-length': '2' }, '{}');
  const other = await viaProxy(state.sock, 'GET', 'http://github.airlock/repos/other/widgets', { host: 'github.airlock' });
  const sneaky = await viaProxy(state.sock, 'GET', 'http://github.airlock/repos/acme/%2e%2e/other', { host: 'github.airlock' });
  const tunnel = await rawProxy(state.sock, 'CONNECT github.airlock:80 HTTP/1.1\r\nHost: github.airlock:80\r\n\r\n');
  assert.deepEqual([post.status, other.status, sneaky.status, tunnel.slice(0, 12)], [403, 403, 400, 'HTTP/1.1 403']);
  assert.equal(state.up.seen.length, before, 'the upstream saw none of them');
  const reasons = decisions(state.audit).slice(-4).map((d) => d['reason']);
  assert.deepEqual(reasons, ['METHOD_NOT_GRANTED', 'PATH_NOT_GRANTED', 'PATH_NOT_CANONICAL', 'SCHEME_NOT_GRANTED']);
});

test('isolate door: fetch takes the same route, returns copied bytes, and denies with coded errors', async () => {
  const res = await state.gateway.fetch(state.ctx, { method: 'get', url: 'http://github.airlock/repos/acme/x', headers: [['accept', 'application/json']] });
  assert.equal(res.status, 200);
  assert.ok(res.body instanceof Uint8Array);
  const text = Buffer.from(res.body).toString();
  assert.equal(text.includes(SECRET), false);
  assert.equal((JSON.parse(text) as { url: string }).url, '/repos/acme/x');
  const before = state.up.seen.length;
  await assert.rejects(
    state.gateway.fetch(state.ctx, { method: 'DELETE', url: 'http://github.airlock/repos/acme/x', headers: [] }),
    (e: unknown) => e instanceof AirlockError && e.code === 'EGRESS_NOT_GRANTED' && /add DELETE/.test(e.message),
  );
  await assert.rejects(state.gateway.fetch(state.ctx, { method: 'GET', url: 'http://127.0.0.1:1/', headers: [] }), (e: unknown) => e instanceof AirlockError && e.code === 'EGRESS_NOT_GRANTED');
  await assert.rejects(state.gateway.fetch(state.ctx, { method: 'GET', url: 'not a url', headers: [] }), (e: unknown) => e instanceof AirlockError && e.code === 'EGRESS_BAD_REQUEST');
  await assert.rejects(
    state.gateway.fetch(state.ctx, { method: 'GET', url: 'http://github.airlock/repos/acme/x', headers: [['host', 'evil.example.com']] }),
    (e: unknown) => e instanceof AirlockError && e.code === 'EGRESS_BAD_REQUEST',
  );
  await assert.rejects(
    state.gateway.fetch(state.ctx, { method: 'GET', url: 'http://github.airlock/repos/acme/x', headers: [['x-big', 'a'.repeat(20_000)]] }),
    (e: unknown) => e instanceof AirlockError && e.code === 'EGRESS_TOO_LARGE',
  );
  assert.equal(state.up.seen.length, before);
  const last = decisions(state.audit).at(-1);
  assert.deepEqual([last?.['decision'], last?.['reason']], ['deny', 'HEADERS_TOO_LARGE']);
});

test('the secret does not come back through an encoding: compressed answers are withheld, base64 echoes redacted at any offset', async () => {
  const url = (path: string): string => `http://github.airlock/repos/acme/${path}`;
  const fetchText = async (path: string, headers: [string, string][] = []): Promise<string> =>
    Buffer.from((await state.gateway.fetch(state.ctx, { method: 'GET', url: url(path), headers })).body).toString('latin1');
  // An upstream that compresses when asked: the guest's Accept-Encoding is replaced by identity.
  const asked = await viaProxy(state.sock, 'GET', url('gzip'), { host: 'github.airlock', 'accept-encoding': 'gzip, deflate' });
  assert.equal(state.up.seen.at(-1)?.headers['accept-encoding'], 'identity', 'the upstream was asked for an uncompressed answer');
  assert.equal(asked.status, 200);
  assert.equal(asked.body.includes(SECRET), false);
  assert.match(asked.body, /\[secret:github\]/, 'control: the plain echo came back, redacted');
  assert.equal((await fetchText('gzip', [['accept-encoding', 'gzip']])).includes(SECRET), false);
  // An upstream that compresses anyway: nothing of its answer reaches the guest, through either door.
  const forced = await viaProxy(state.sock, 'GET', url('force-gzip'), { host: 'github.airlock' });
  assert.equal(forced.status, 502);
  assert.doesNotMatch(forced.body, /\x1f\x8b/);
  await assert.rejects(state.gateway.fetch(state.ctx, { method: 'GET', url: url('force-gzip'), headers: [] }), (e: unknown) => e instanceof AirlockError && e.code === 'EGRESS_UPSTREAM_FAILED' && /withheld/.test(e.message));
  // A base64 echo of a document that holds the secret, wherever it sits, in both alphabets.
  for (const pad of [0, 1, 2, 3, 4, 5]) {
    for (const as of ['std', 'url']) {
      const text = await fetchText(`base64?pad=${pad}&as=${as}`);
      assert.ok(text.length > 100, 'control: the encoded echo came back');
      const decoded = Buffer.from(text, as === 'url' ? 'base64url' : 'base64').toString('latin1');
      assert.equal(decoded.includes(SECRET), false, `pad ${pad}, ${as}: the secret decodes from the answer`);
      assert.match(text, /\[secret:github\]/);
    }
  }
  assert.equal(JSON.stringify(state.audit.events).includes(SECRET), false);
});

test("the secret does not come back in a header's name, in any case; the answer's other headers do", async () => {
  const res = await state.gateway.fetch(state.ctx, { method: 'GET', url: 'http://github.airlock/repos/acme/header-name', headers: [] });
  assert.equal(res.status, 200);
  const names = res.headers.map(([k]) => k.toLowerCase());
  assert.ok(names.includes('x-plain'), `control: the other headers are relayed: ${names.join(', ')}`);
  assert.equal(JSON.stringify(res.headers).toLowerCase().includes(SECRET.toLowerCase()), false, JSON.stringify(res.headers));
  const proxied = await viaProxy(state.sock, 'GET', 'http://github.airlock/repos/acme/header-name', { host: 'github.airlock' });
  assert.equal(proxied.headers['x-plain'], 'kept');
  assert.equal(JSON.stringify(proxied.headers).toLowerCase().includes(SECRET.toLowerCase()), false, JSON.stringify(proxied.headers));
});

test('a host without the secret fails closed: SECRET_UNAVAILABLE, nothing sent', async () => {
  const { gateway, audit } = newGateway({ secrets: secretsFromEnv({ github: 'UNSET_VAR' }, {}) });
  const before = state.up.seen.length;
  await assert.rejects(gateway.fetch(state.ctx, { method: 'GET', url: 'http://github.airlock/repos/acme/x', headers: [] }), (e: unknown) => e instanceof AirlockError && e.code === 'SECRET_UNAVAILABLE');
  assert.equal(state.up.seen.length, before);
  assert.equal(decisions(audit).at(-1)?.['reason'], 'SECRET_UNAVAILABLE');
  await gateway.close();
});

test('a secrets file must be private to its owner; a private one supplies the secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-secrets-'));
  try {
    const file = join(dir, 'secrets.json');
    writeFileSync(file, JSON.stringify({ github: SECRET }));
    chmodSync(file, 0o644);
    assert.throws(() => secretsFromFile(file), (e: unknown) => e instanceof AirlockError && e.code === 'SECRET_UNAVAILABLE');
    chmodSync(file, 0o600);
    assert.equal(secretsFromFile(file).get('github'), SECRET);
    assert.equal(secretsFromFile(file).get('other'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a credentialed route answers whole or not at all: Range is not forwarded, a partial or transfer-coded answer is withheld', async () => {
  const url = (path: string): string => `http://github.airlock/repos/acme/${path}`;
  // A Range from the guest would fetch the echo in slices too short to hold the whole secret.
  const whole = await viaProxy(state.sock, 'GET', url('range'), { host: 'github.airlock', range: 'bytes=0-40' });
  assert.equal(state.up.seen.at(-1)?.headers.range, undefined, 'the upstream saw no Range');
  assert.equal(whole.status, 200);
  assert.match(whole.body, /\[secret:github\]/, 'control: the whole echo came back, redacted');
  const partial = await viaProxy(state.sock, 'GET', url('force-206'), { host: 'github.airlock' });
  assert.equal(partial.status, 502);
  await assert.rejects(state.gateway.fetch(state.ctx, { method: 'GET', url: url('force-206'), headers: [['range', 'bytes=0-10']] }), (e: unknown) => e instanceof AirlockError && /partial body/.test(e.message));
  const audited = JSON.stringify(state.audit.events);
  assert.equal(audited.includes(SECRET), false);
});

test("fetch can't frame the gateway's request: a guest Content-Length is dropped, so nothing is smuggled onto the pooled connection", async () => {
  const before = state.up.seen.length;
  // With the length forwarded, the upstream would wait for 40 body bytes and take them from the
  // next request on the pooled socket, whose header then starts a request of the guest's making.
  const smuggled = 'DELETE /repos/victim/important HTTP/1.0';
  const first = await state.gateway.fetch(state.ctx, { method: 'GET', url: 'http://github.airlock/repos/acme/a', headers: [['content-length', '40']] });
  const second = await state.gateway.fetch(state.ctx, { method: 'GET', url: 'http://github.airlock/repos/acme/b', headers: [['x-pad', smuggled]] });
  assert.deepEqual([first.status, second.status], [200, 200]);
  const seen = state.up.seen.slice(before);
  assert.deepEqual(seen.map((s) => s.url), ['/repos/acme/a', '/repos/acme/b'], 'the upstream saw exactly the two granted requests');
  assert.equal(seen[0]?.headers['content-length'], undefined);
  assert.equal(seen[1]?.headers['x-pad'], smuggled, 'control: the second request arrived whole, as itself');
  assert.ok(!state.up.seen.some((s) => s.url.includes('victim') || s.method === 'DELETE'));
});

test('redaction finds the common spellings of a secret with "/" and "+" in it', () => {
  const value = 'AKIA/zQ1+xY7wP4mN2vC8rS/abc';
  const secrets = [{ name: 'aws', value }];
  const bytes = Buffer.from(value);
  const spellings = [
    value,
    value.replaceAll('/', '\\/'),
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    encodeURIComponent(value).replaceAll('%2F', '/'),
    [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
    bytes.toString('hex'),
    Buffer.concat([Buffer.from('{"token":"'), bytes, Buffer.from('"}')]).toString('base64url'),
  ];
  for (const s of spellings) {
    const out = redact(`before ${s} after`, secrets);
    assert.match(out, /\[secret:aws\]/, `not found: ${s}`);
    assert.equal(out.includes(s), false);
  }
  assert.equal(redact('nothing to hide here', secrets), 'nothing to hide here', 'control: text without the secret is unchanged');
});

test('an upstream that compresses through Transfer-Encoding has its answer withheld too', async () => {
  // A raw upstream: Node's own server would not send a transfer coding other than chunked.
  const gz = gzipSync(`{"echo":"Bearer ${SECRET}"}`);
  const server = createNetServer((socket) => {
    socket.once('data', () => {
      const coding = 'gzip, chunked';
      socket.end(`HTTP/1.1 200 OK\r\ntransfer-encoding: ${coding}\r\ncontent-type: application/json\r\n\r\n${gz.length.toString(16)}\r\n${gz.toString('latin1')}\r\n0\r\n\r\n`, 'latin1');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { gateway } = newGateway({ secrets: secretsFromEnv({ github: 'TEST_GITHUB_TOKEN' }, { TEST_GITHUB_TOKEN: SECRET }) });
  try {
    const ctx = ctxFor(policy((server.address() as AddressInfo).port));
    await assert.rejects(
      gateway.fetch(ctx, { method: 'GET', url: 'http://github.airlock/repos/acme/x', headers: [] }),
      (e: unknown) => e instanceof AirlockError && e.code === 'EGRESS_UPSTREAM_FAILED' && /compressed or encoded/.test(e.message) && !e.message.includes(SECRET),
    );
  } finally {
    await gateway.close();
    await new Promise((r) => server.close(r));
  }
});
