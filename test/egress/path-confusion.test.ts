// A route's `paths` grant is checked on the path as the gateway reads it; an upstream that decodes
// it differently (double decoding, `;` parameters, overlong or full-width UTF-8) would route it
// elsewhere. Such paths are refused at both doors, and the upstream sees no request at all.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import type { EgressGateway } from '../../src/egress/gateway.ts';
import { ctxFor, newGateway, rawProxy, startUpstream, viaProxy, type Upstream } from './helpers.ts';

const state: { up: Upstream; gateway: EgressGateway; sock: string; ctx: ReturnType<typeof ctxFor> } = {} as never;

before(async () => {
  state.up = await startUpstream();
  const { gateway } = newGateway();
  state.gateway = gateway;
  state.ctx = ctxFor({ version: 1, network: { routes: [{ name: 'api', host: '127.0.0.1', scheme: 'http', port: state.up.port, methods: ['GET'], paths: ['/api/'] }] } });
  state.sock = (await gateway.socketFor(state.ctx)).path;
});

after(async () => {
  await state.gateway.close();
  await state.up.close();
});

// Each of these is under /api/ as the gateway reads it, and somewhere else for some upstream.
const CONFUSING = [
  '/api/..;/admin', // Tomcat/Spring: `..;` is `..` with a parameter
  '/api/x;jsessionid=1/../admin',
  '/api/%252e%252e/admin', // decoded twice: `..`
  '/api/%252fadmin',
  '/api/%c0%ae%c0%ae/admin', // overlong UTF-8 for `..`
  '/api/%c0%afadmin', // overlong UTF-8 for `/`
  '/api/%ef%bc%8e%ef%bc%8e/admin', // full-width dots, folded to `..` by NFKC
  '/api/%e2%80%a5/admin', // two-dot leader
  '/api/%3b/admin',
  '/api/a%00b',
  '/api/%0d%0aX: y',
  '/api/%2',
];

const url = (path: string): string => `http://127.0.0.1:${state.up.port}${path}`;

test('isolate door: confusing paths are refused with EGRESS_BAD_REQUEST and reach no upstream; plain ones under the grant pass', async () => {
  const before = state.up.seen.length;
  for (const path of CONFUSING) {
    await assert.rejects(
      state.gateway.fetch(state.ctx, { method: 'GET', url: url(path), headers: [] }),
      (e: unknown) => e instanceof AirlockError && e.code === 'EGRESS_BAD_REQUEST',
      path,
    );
  }
  assert.equal(state.up.seen.length, before, 'the upstream saw none of them');
  const ok = await state.gateway.fetch(state.ctx, { method: 'GET', url: url('/api/a%20b/c-d_e~f'), headers: [] });
  assert.equal(ok.status, 200);
  assert.deepEqual(state.up.seen.slice(before).map((s) => s.url), ['/api/a%20b/c-d_e~f']);
});

test('proxy door: the same paths, and raw non-ASCII or backslashes, are refused with EGRESS_BAD_REQUEST; the upstream sees only the control', async () => {
  const before = state.up.seen.length;
  const host = { host: `127.0.0.1:${state.up.port}` };
  for (const path of CONFUSING.filter((p) => !p.includes(' '))) {
    const r = await viaProxy(state.sock, 'GET', url(path), host);
    assert.equal(r.status, 400, path);
    assert.equal(r.headers['x-airlock-error'], 'EGRESS_BAD_REQUEST', path);
  }
  // Bytes a client library would refuse to send: written raw on the socket.
  for (const raw of ['/api/\xc0\xae\xc0\xae/admin', '/api/\u00e9', '/api/..\\admin']) {
    const answer = await rawProxy(state.sock, `GET ${url(raw)} HTTP/1.1\r\nHost: 127.0.0.1:${state.up.port}\r\n\r\n`, { closeAfterMs: 500 });
    assert.match(answer, /^HTTP\/1\.1 400 [^]*EGRESS_BAD_REQUEST/, JSON.stringify(raw));
  }
  assert.equal(state.up.seen.length, before, 'the upstream saw none of them');
  const ok = await viaProxy(state.sock, 'GET', url('/api/ok'), host);
  assert.equal(ok.status, 200);
  assert.deepEqual(state.up.seen.slice(before).map((s) => s.url), ['/api/ok']);
});
