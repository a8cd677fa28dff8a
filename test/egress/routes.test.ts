import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { decideEgress, type EgressAsk } from '../../src/policy/network.ts';

function problemsOf(policy: unknown): { path: string; message: string }[] {
  try {
    compilePolicy(policy);
  } catch (error) {
    assert.ok(error instanceof AirlockError);
    assert.equal(error.code, 'INVALID_POLICY');
    return error.details?.['problems'] as { path: string; message: string }[];
  }
  return assert.fail('expected the policy to be rejected');
}

const route = (r: Record<string, unknown>): unknown => ({ version: 1, network: { routes: [r] } });

function ask(over: Partial<EgressAsk>): EgressAsk {
  return { kind: 'request', scheme: 'https', method: 'GET', host: 'api.example.com', port: 443, path: '/', usage: new Map(), ...over };
}

test('the empty policy grants no route; a granted host is allowed beside it', () => {
  const none = compilePolicy({ version: 1 });
  assert.equal(none.routes.length, 0);
  const d0 = decideEgress(none.routes, ask({}));
  assert.equal(d0.allow ? d0.reason : d0.why, 'HOST_NOT_GRANTED');
  const one = compilePolicy(route({ host: 'api.example.com' }));
  assert.equal(decideEgress(one.routes, ask({})).allow, true);
});

test('host patterns: bare *, public suffixes, mid-label wildcards and odd IP spellings are refused with a path', () => {
  for (const host of ['*', '*.com', '*.co.uk', '*.github.io', 'com', 'a.*.example.com', '*.*.example.com', '2130706433', '0x7f.0.0.1', '0177.0.0.1', '127.1', 'exa mple.com', 'ex%61mple.com', 'example.com.', '[::1']) {
    const problems = problemsOf(route({ host }));
    assert.equal(problems[0]?.path, 'network.routes.0.host', `host ${host} should be refused`);
  }
  // Controls: exact names, a one-label wildcard on a registrable domain, canonical IP literals.
  for (const host of ['api.example.com', '*.example.com', '*.example.co.uk', '127.0.0.1', '::1', '[::1]', 'github.airlock']) {
    assert.equal(compilePolicy(route({ host })).routes.length, 1, `host ${host} should compile`);
  }
});

test('a wildcard matches subdomains only, never the bare domain or a look-alike', () => {
  const p = compilePolicy(route({ host: '*.example.com' }));
  assert.equal(decideEgress(p.routes, ask({ host: 'a.example.com' })).allow, true);
  assert.equal(decideEgress(p.routes, ask({ host: 'a.b.example.com' })).allow, true);
  assert.equal(decideEgress(p.routes, ask({ host: 'example.com' })).allow, false);
  assert.equal(decideEgress(p.routes, ask({ host: 'evilexample.com' })).allow, false);
});

test('port, scheme, method and path narrow a route; each denial names its step', () => {
  const p = compilePolicy(route({ host: 'api.example.com', scheme: 'http', port: 8080, methods: ['GET'], paths: ['/repos/acme'] }));
  const base = { scheme: 'http' as const, port: 8080, path: '/repos/acme/x' };
  const why = (over: Partial<EgressAsk>): string => {
    const d = decideEgress(p.routes, ask({ ...base, ...over }));
    return d.allow ? d.reason : d.why;
  };
  assert.equal(why({}), 'ROUTE_GRANTED');
  assert.equal(why({ path: '/repos/acme' }), 'ROUTE_GRANTED');
  assert.equal(why({ port: 80 }), 'PORT_NOT_GRANTED');
  assert.equal(why({ scheme: 'https' }), 'SCHEME_NOT_GRANTED');
  assert.equal(why({ method: 'POST' }), 'METHOD_NOT_GRANTED');
  assert.equal(why({ path: '/repos/acmeevil' }), 'PATH_NOT_GRANTED');
  assert.equal(why({ path: '/repos/other' }), 'PATH_NOT_GRANTED');
});

test('a CONNECT tunnel is refused on a route whose methods or paths it would hide', () => {
  const open = compilePolicy(route({ host: 'api.example.com' }));
  const narrow = compilePolicy(route({ host: 'api.example.com', methods: ['GET'] }));
  assert.equal(decideEgress(open.routes, ask({ kind: 'tunnel', method: 'CONNECT', path: '' })).allow, true);
  const d = decideEgress(narrow.routes, ask({ kind: 'tunnel', method: 'CONNECT', path: '' }));
  assert.equal(d.allow ? d.reason : d.why, 'TUNNEL_NOT_INSPECTABLE');
});

test('quotas: requests and bytes end with EGRESS_QUOTA once used up', () => {
  const p = compilePolicy(route({ name: 'api', host: 'api.example.com', quota: { requests: 2, bytes: 100 } }));
  const at = (requests: number, bytes: number) => decideEgress(p.routes, ask({ usage: new Map([['api', { requests, bytes }]]) }));
  assert.equal(at(1, 99).allow, true);
  const r = at(2, 0);
  assert.deepEqual(r.allow ? [] : [r.code, r.why], ['EGRESS_QUOTA', 'QUOTA_REQUESTS']);
  const b = at(0, 100);
  assert.deepEqual(b.allow ? [] : [b.code, b.why], ['EGRESS_QUOTA', 'QUOTA_BYTES']);
});

test('credentialed routes: the secret must be granted, the guest side is plain http, the target an origin', () => {
  const ok = {
    version: 1,
    secrets: { github: {} },
    network: { routes: [{ host: 'github.airlock', scheme: 'http', methods: ['GET'], paths: ['/repos/acme/'], forward: { to: 'https://api.github.com', credential: { secret: 'github' } } }] },
  };
  const compiled = compilePolicy(ok);
  const fwd = compiled.routes[0]?.forward;
  assert.deepEqual([fwd?.scheme, fwd?.host, fwd?.port, fwd?.credential?.header, fwd?.credential?.prefix], ['https', { kind: 'exact', host: 'api.github.com' }, 443, 'authorization', 'Bearer ']);
  assert.equal(JSON.stringify(compiled.document).includes('Bearer'), false);
  const noGrant = problemsOf({ ...ok, secrets: {} });
  assert.equal(noGrant[0]?.path, 'network.routes.0.forward.credential.secret');
  const https = problemsOf({ ...ok, network: { routes: [{ ...ok.network.routes[0], scheme: 'https' }] } });
  assert.equal(https[0]?.path, 'network.routes.0.forward');
  const withPath = problemsOf({ ...ok, network: { routes: [{ ...ok.network.routes[0], forward: { to: 'https://api.github.com/x' } }] } });
  assert.equal(withPath[0]?.path, 'network.routes.0.forward.to');
  const wild = problemsOf({ ...ok, network: { routes: [{ ...ok.network.routes[0], forward: { to: 'https://*.github.com' } }] } });
  assert.equal(wild[0]?.path, 'network.routes.0.forward.to');
  const fmt = problemsOf({ ...ok, network: { routes: [{ ...ok.network.routes[0], forward: { to: 'https://api.github.com', credential: { secret: 'github', format: 'token' } } }] } });
  assert.equal(fmt[0]?.path, 'network.routes.0.forward.credential.format');
});

test('unknown keys in routes and secrets are refused (strict), as are bad path prefixes', () => {
  assert.equal(problemsOf(route({ host: 'a.example.com', extra: 1 }))[0]?.path, 'network.routes.0');
  assert.equal(problemsOf({ version: 1, secrets: { gh: { value: 'x' } } })[0]?.path, 'secrets.gh');
  assert.equal(problemsOf(route({ host: 'a.example.com', paths: ['/a/../b'] }))[0]?.path, 'network.routes.0.paths.0');
  assert.equal(problemsOf(route({ host: 'a.example.com', paths: ['/a%2fb'] }))[0]?.path, 'network.routes.0.paths.0');
  assert.equal(problemsOf(route({ host: 'a.example.com', addresses: ['localhost'] }))[0]?.path, 'network.routes.0.addresses.0');
});
