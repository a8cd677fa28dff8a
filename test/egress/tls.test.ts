// Upstream TLS: the gateway dials the address it checked, yet verifies the certificate against the
// granted name (SNI + hostname check), so pinning the address can't be used to skip verification.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import type { EgressGateway } from '../../src/egress/gateway.ts';
import { secretsFromEnv } from '../../src/egress/secrets.ts';
import { ctxFor, newGateway, viaProxy } from './helpers.ts';

const SECRET = 'tls_secret_abcdef0123456789';
const state: { dir: string; server: Server; port: number; seen: string[]; gateway: EgressGateway; sock: string; ctx: ReturnType<typeof ctxFor> } = {} as never;

before(async () => {
  state.dir = mkdtempSync(join(tmpdir(), 'airlock-tls-'));
  const key = join(state.dir, 'key.pem');
  const cert = join(state.dir, 'cert.pem');
  const r = spawnSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=api.example.test', '-addext', 'subjectAltName=DNS:api.example.test'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  state.seen = [];
  state.server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    state.seen.push(`${req.headers.host ?? ''} ${req.url ?? ''} ${req.headers.authorization ?? ''}`);
    res.end(`hello ${req.headers.authorization ?? ''}`);
  });
  await new Promise<void>((res) => state.server.listen(0, '127.0.0.1', res));
  state.port = (state.server.address() as AddressInfo).port;
  const { gateway } = newGateway({
    ca: readFileSync(cert, 'utf8'),
    resolve: (host) => Promise.resolve(host.endsWith('.example.test') ? ['127.0.0.1'] : []),
    secrets: secretsFromEnv({ tok: 'T' }, { T: SECRET }),
  });
  const p = state.port;
  state.ctx = ctxFor({
    version: 1,
    secrets: { tok: {} },
    network: {
      routes: [
        { name: 'good', host: 'good.airlock', scheme: 'http', addresses: ['127.0.0.1'], forward: { to: `https://api.example.test:${p}`, credential: { secret: 'tok' } } },
        { name: 'wrong', host: 'wrong.airlock', scheme: 'http', addresses: ['127.0.0.1'], forward: { to: `https://wrong.example.test:${p}`, credential: { secret: 'tok' } } },
        { name: 'direct', host: 'api.example.test', scheme: 'https', port: p, addresses: ['127.0.0.1'], methods: ['GET'] },
      ],
    },
  });
  state.gateway = gateway;
  state.sock = (await gateway.socketFor(state.ctx)).path;
});

after(async () => {
  await state.gateway.close();
  state.server.closeAllConnections();
  await new Promise<void>((r) => state.server.close(() => r()));
  rmSync(state.dir, { recursive: true, force: true });
});

test('a credentialed route forwards over TLS to the pinned address, verified against the granted name', async () => {
  const ok = await viaProxy(state.sock, 'GET', 'http://good.airlock/x', { host: 'good.airlock' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body, 'hello Bearer [secret:tok]');
  assert.deepEqual(state.seen, [`api.example.test:${state.port} /x Bearer ${SECRET}`]);
  // The certificate names api.example.test only: the same address under another name fails, unsent.
  const wrong = await viaProxy(state.sock, 'GET', 'http://wrong.airlock/x', { host: 'wrong.airlock' });
  assert.deepEqual([wrong.status, wrong.headers['x-airlock-error']], [502, 'EGRESS_UPSTREAM_FAILED']);
  assert.equal(state.seen.length, 1, 'no request went over the unverified connection');
});

test('the isolate fetch speaks TLS itself and so checks method on an https route', async () => {
  const res = await state.gateway.fetch(state.ctx, { method: 'GET', url: `https://api.example.test:${state.port}/y`, headers: [] });
  assert.equal(res.status, 200);
  await assert.rejects(
    state.gateway.fetch(state.ctx, { method: 'POST', url: `https://api.example.test:${state.port}/y`, headers: [], body: new Uint8Array([1]) }),
    (e: unknown) => e instanceof AirlockError && e.code === 'EGRESS_NOT_GRANTED',
  );
  assert.deepEqual(state.seen.slice(1), [`api.example.test:${state.port} /y `]);
});
