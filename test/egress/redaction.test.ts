// An upstream on a credentialed route that echoes the secret back in other spellings than the
// plain one: changed case, line-wrapped base64, \u and HTML escapes, split over response chunks or
// over several headers. Through both doors the guest gets each answer (the control: the rest of
// the echo is there) with the secret replaced, and no decoding of the answer gives the secret back.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { EgressGateway } from '../../src/egress/gateway.ts';
import { secretsFromEnv } from '../../src/egress/secrets.ts';
import { ctxFor, newGateway, viaProxy } from './helpers.ts';

const SECRET = 'ghp_Redact0123456789abcdefXYZ';
const state: { server: Server; gateway: EgressGateway; sock: string; ctx: ReturnType<typeof ctxFor> } = {} as never;

const wrap = (text: string, width: number, eol: string): string => (text.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(eol);
const entity = (c: string, i: number): string => (i % 3 === 0 ? `&#${c.charCodeAt(0)};` : i % 3 === 1 ? `&#x${c.charCodeAt(0).toString(16).toUpperCase()};` : c);

/** Each echo: how the upstream writes the token it got, and how a guest would decode the answer. */
const ECHOES: Record<string, { readonly write: (res: ServerResponse, token: string) => void; readonly decode: (body: string) => string }> = {
  upper: { write: (res, t) => res.end(`token=${t.toUpperCase()}`), decode: (b) => b.toLowerCase() },
  swapped: { write: (res, t) => res.end(`token=${Array.from(t).map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')}`), decode: (b) => b.toLowerCase() },
  'base64-76': {
    write: (res, t) => res.end(wrap(Buffer.from(`${'x'.repeat(40)}{"token":"${t}"}`).toString('base64'), 76, '\r\n')),
    decode: (b) => Buffer.from(b.replace(/\[secret:[a-z]+\]/g, ''), 'base64').toString('latin1'),
  },
  'base64-64': {
    write: (res, t) => res.end(wrap(Buffer.from(`${'y'.repeat(41)}token=${t};`).toString('base64'), 64, '\n')),
    decode: (b) => Buffer.from(b.replace(/\[secret:[a-z]+\]/g, ''), 'base64').toString('latin1'),
  },
  'u-escaped': { write: (res, t) => res.end(`{"token":"${Array.from(t).map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}`), decode: (b) => b.replace(/\\u([0-9a-f]{4})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))) },
  'u-mixed': { write: (res, t) => res.end(`"${Array.from(t).map((c, i) => (i % 2 === 0 ? `\\u00${c.charCodeAt(0).toString(16).toUpperCase()}` : c)).join('')}"`), decode: (b) => b.replace(/\\u([0-9a-f]{4})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))) },
  html: {
    write: (res, t) => res.end(`<p>${Array.from(t).map(entity).join('').replace('_', '&lowbar;')}</p>`),
    decode: (b) => b.replace(/&#x([0-9a-f]+);?/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/&#([0-9]+);?/g, (_m, d: string) => String.fromCharCode(Number(d))).replaceAll('&lowbar;', '_'),
  },
  chunks: {
    write: (res, t) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(`token=${t.slice(0, 10)}`);
      setTimeout(() => res.end(`${t.slice(10)};`), 50);
    },
    decode: (b) => b,
  },
  'split-headers': {
    write: (res, t) => {
      res.writeHead(200, [['x-part-a', t.slice(0, 9)], ['x-part-b', t.slice(9, 20)], ['x-part-c', t.slice(20)], ['x-plain', 'kept']]);
      res.end('see headers');
    },
    decode: (b) => b,
  },
  'name-and-value': {
    write: (res, t) => {
      res.writeHead(200, [[`x-${t.slice(0, 12)}`, t.slice(12)], ['x-plain', 'kept']]);
      res.end('see headers');
    },
    decode: (b) => b,
  },
};

function echo(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  const form = (req.url ?? '').split('/').at(-1) ?? '';
  const e = ECHOES[form];
  if (e === undefined) {
    res.writeHead(404);
    res.end();
    return;
  }
  e.write(res, token);
}

before(async () => {
  state.server = createServer(echo);
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
  const port = (state.server.address() as AddressInfo).port;
  const { gateway } = newGateway({ secrets: secretsFromEnv({ github: 'T' }, { T: SECRET }) });
  state.gateway = gateway;
  state.ctx = ctxFor({
    version: 1,
    secrets: { github: {} },
    network: { routes: [{ name: 'gh', host: 'github.airlock', scheme: 'http', methods: ['GET'], paths: ['/echo/'], forward: { to: `http://127.0.0.1:${port}`, credential: { secret: 'github' } } }] },
  });
  state.sock = (await gateway.socketFor(state.ctx)).path;
});

after(async () => {
  await state.gateway.close();
  state.server.closeAllConnections();
  await new Promise<void>((r) => state.server.close(() => r()));
});

/** Everything the guest got, headers and body, as one text. */
async function viaBothDoors(form: string): Promise<{ readonly fetched: string; readonly proxied: string }> {
  const url = `http://github.airlock/echo/${form}`;
  const r = await state.gateway.fetch(state.ctx, { method: 'GET', url, headers: [] });
  assert.equal(r.status, 200, form);
  const p = await viaProxy(state.sock, 'GET', url, { host: 'github.airlock' });
  assert.equal(p.status, 200, form);
  const headers = (pairs: [string, string][]): string => pairs.map(([k, v]) => `${k}: ${v}\n`).join('');
  return {
    fetched: `${headers(r.headers.map(([k, v]) => [k, v]))}\n${Buffer.from(r.body).toString('latin1')}`,
    proxied: `${headers(Object.entries(p.headers).map(([k, v]) => [k, String(v)]))}\n${p.body}`,
  };
}

for (const [form, { decode }] of Object.entries(ECHOES)) {
  test(`an echo of the secret ${form} is redacted at both doors, and the rest of the answer arrives`, async () => {
    for (const [door, text] of Object.entries(await viaBothDoors(form))) {
      // A header whose name held part of the secret is dropped whole: no placeholder to see there.
      if (form !== 'name-and-value') assert.match(text, /\[secret:github\]/, `${door}: the echo came back, with the secret replaced`);
      const seen = decode(text).replace(/\r?\n/g, '');
      assert.equal(seen.toLowerCase().includes(SECRET.toLowerCase()), false, `${door} ${form}: the secret reads back out of ${JSON.stringify(text.slice(0, 400))}`);
      for (const piece of [SECRET.slice(0, 9), SECRET.slice(9, 20), SECRET.slice(20)]) {
        if (form.includes('header') || form === 'name-and-value') assert.equal(text.includes(piece), false, `${door}: a piece of the secret (${piece}) survives`);
      }
      if (form === 'split-headers' || form === 'name-and-value') assert.match(text, /x-plain: kept/, `${door}: the other headers arrive`);
    }
  });
}
