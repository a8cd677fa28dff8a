// One upstream address serving two virtual hosts (a CDN edge, a shared reverse proxy): a plain
// route to the attacker's host and a credentialed route to the API. The attacker's origin sends a
// body after a HEAD response, the classic desync: a client that keeps that connection reads every
// later answer one late. Were the connection shared across routes, the credentialed request's
// answer (the API echoing the secret) would be read as the answer to the guest's next plain
// request, which is not redacted. Sockets are kept per route (and credential, and sandbox), a
// socket is not kept after a HEAD, and an idle pooled socket that receives bytes is destroyed.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { EgressGateway } from '../../src/egress/gateway.ts';
import { secretsFromEnv } from '../../src/egress/secrets.ts';
import { ctxFor, newGateway, viaProxy } from './helpers.ts';

const SECRET = 'ghp_pooled_0123456789abcdefSECRET';

interface Front {
  readonly server: Server;
  readonly port: number;
  /** Every request line the front received, with its connection's number and the Authorization it carried. */
  readonly seen: { readonly conn: number; readonly line: string; readonly host: string; readonly auth: string }[];
  /** Connections accepted so far. */
  connections: number;
}

function response(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

/**
 * A keep-alive front that answers in order, one answer written per request received. A HEAD to
 * evil.test queues a body after its head (as a whole extra answer, since that is how a client
 * that skips HEAD bodies will read it), so every later answer on that connection is one late.
 */
async function startFront(): Promise<Front> {
  const front: Front = { server: createServer(), port: 0, seen: [], connections: 0 };
  front.server.on('connection', (socket: Socket) => {
    const conn = ++front.connections;
    const queue: string[] = [];
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const [line = '', ...fields] = head.split('\r\n');
        const field = (name: string): string => fields.find((f) => f.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? '';
        const host = field('host');
        const auth = field('authorization');
        front.seen.push({ conn, line, host, auth });
        if (host.startsWith('api.test')) {
          queue.push(response(auth === `Bearer ${SECRET}` ? `echo: you sent ${auth}` : 'unauthorised'));
        } else if (line.startsWith('HEAD')) {
          queue.push(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n`, response('attacker-made answer'));
        } else {
          queue.push(response('evil page'));
        }
        socket.write(queue.shift() ?? '');
      }
    });
  });
  await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', r));
  return Object.assign(front, { port: (front.server.address() as AddressInfo).port });
}

const state: { front: Front; gateway: EgressGateway; ctx: ReturnType<typeof ctxFor>; other: ReturnType<typeof ctxFor>; sock: string } = {} as never;

function policy(port: number): unknown {
  return {
    version: 1,
    secrets: { api: {} },
    network: {
      routes: [
        { name: 'evil-too', host: 'evil.test', scheme: 'http', port, methods: ['GET'], paths: ['/other/'], addresses: ['127.0.0.1'] },
        { name: 'evil', host: 'evil.test', scheme: 'http', port, methods: ['GET', 'HEAD'], addresses: ['127.0.0.1'] },
        { name: 'api', host: 'api.airlock', scheme: 'http', methods: ['GET'], forward: { to: `http://api.test:${port}`, credential: { secret: 'api' } }, addresses: ['127.0.0.1'] },
      ],
    },
  };
}

before(async () => {
  state.front = await startFront();
  const { gateway } = newGateway({
    secrets: secretsFromEnv({ api: 'T' }, { T: SECRET }),
    resolve: (host) => Promise.resolve(['evil.test', 'api.test'].includes(host) ? ['127.0.0.1'] : []),
  });
  state.gateway = gateway;
  state.ctx = ctxFor(policy(state.front.port));
  state.other = ctxFor(policy(state.front.port), 'sbx_other');
  state.sock = (await gateway.socketFor(state.ctx)).path;
});

after(async () => {
  await state.gateway.close();
  state.front.server.close();
});

const text = (body: Uint8Array): string => Buffer.from(body).toString('latin1');

test('isolate door: after a HEAD that desyncs the plain route, the credentialed answer never reaches a plain request', async () => {
  const evil = `http://evil.test:${state.front.port}`;
  const seenBefore = state.front.seen.length;
  const head = await state.gateway.fetch(state.ctx, { method: 'HEAD', url: `${evil}/`, headers: [] });
  assert.equal(head.status, 200);
  const api = await state.gateway.fetch(state.ctx, { method: 'GET', url: 'http://api.airlock/me', headers: [] });
  const next = await state.gateway.fetch(state.ctx, { method: 'GET', url: `${evil}/page`, headers: [] });
  assert.equal(text(next.body).includes(SECRET), false, `the plain route got the secret: ${text(next.body)}`);
  // Control: the credentialed route works, its echo is redacted, and the plain route answers.
  assert.equal(text(api.body), 'echo: you sent Bearer [secret:api]');
  assert.equal(next.status, 200);
  assert.equal(text(next.body), 'evil page');
  const seen = state.front.seen.slice(seenBefore);
  const apiConn = seen.find((s) => s.host.startsWith('api.test'))?.conn;
  assert.ok(seen.filter((s) => s.host.startsWith('evil.test')).every((s) => s.conn !== apiConn), 'the credentialed request went on a connection of its own');
});

test('proxy door: the same sequence leaks nothing either, and requests of another sandbox get connections of their own', async () => {
  const evil = `http://evil.test:${state.front.port}`;
  const host = { host: `evil.test:${state.front.port}` };
  const seenBefore = state.front.seen.length;
  assert.equal((await viaProxy(state.sock, 'HEAD', `${evil}/`, host)).status, 200);
  const api = await viaProxy(state.sock, 'GET', 'http://api.airlock/me', { host: 'api.airlock' });
  const next = await viaProxy(state.sock, 'GET', `${evil}/page`, host);
  assert.equal(next.body.includes(SECRET), false, `the plain route got the secret: ${next.body}`);
  assert.equal(api.body, 'echo: you sent Bearer [secret:api]');
  assert.equal(next.body, 'evil page');
  // Two sandboxes of one tenant on the same plain route: their requests never share a connection.
  await state.gateway.fetch(state.ctx, { method: 'GET', url: `${evil}/a`, headers: [] });
  await state.gateway.fetch(state.other, { method: 'GET', url: `${evil}/b`, headers: [] });
  await state.gateway.fetch(state.ctx, { method: 'GET', url: `${evil}/other/c`, headers: [] });
  const seen = state.front.seen.slice(seenBefore);
  const connOf = (path: string): number | undefined => seen.find((s) => s.line === `GET ${path} HTTP/1.1`)?.conn;
  assert.notEqual(connOf('/a'), connOf('/b'), 'two sandboxes shared an upstream connection');
  assert.notEqual(connOf('/a'), connOf('/other/c'), 'two routes shared an upstream connection');
});

test('a pooled socket that receives bytes while idle is destroyed, not handed to the next request; a quiet one is reused', async () => {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('data', () => socket.write(response(`answer on connection ${sockets.indexOf(socket)}`)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const { gateway } = newGateway();
  const ctx = ctxFor({ version: 1, network: { routes: [{ name: 'up', host: '127.0.0.1', scheme: 'http', port }] } });
  try {
    const first = await gateway.fetch(ctx, { method: 'GET', url: `http://127.0.0.1:${port}/1`, headers: [] });
    const second = await gateway.fetch(ctx, { method: 'GET', url: `http://127.0.0.1:${port}/2`, headers: [] });
    assert.deepEqual([text(first.body), text(second.body)], ['answer on connection 0', 'answer on connection 0'], 'control: a quiet keep-alive socket is reused');
    // Unasked-for bytes on the idle connection: they must not become the next request's answer.
    sockets[0]?.write(response('planted answer'));
    const closed = new Promise<void>((r) => sockets[0]?.once('close', () => r()));
    await closed;
    const third = await gateway.fetch(ctx, { method: 'GET', url: `http://127.0.0.1:${port}/3`, headers: [] });
    assert.equal(text(third.body), 'answer on connection 1');
  } finally {
    await gateway.close();
    server.close();
  }
});
