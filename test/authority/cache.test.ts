// WarrantCache: a chain is verified once per tenant, yet a hit never outlives expiry, revocation,
// a key rotation or another tenant asking; the cache stays within its bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WarrantCache } from '../../src/authority/cache.ts';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { HOUR, NOW, rootToken, throwsCode, world } from './helpers.ts';

test('a hit returns the chain verified before; another tenant gets no hit and is refused', () => {
  const w = world();
  const cache = new WarrantCache();
  const token = rootToken(w);
  const first = cache.verify(token, w.options);
  assert.equal(cache.verify(token, w.options), first, 'the same verified chain, not a second verification');
  throwsCode(() => cache.verify(token, { ...w.options, tenant: 'globex' }), 'WARRANT_INVALID', /tenant/);
  assert.equal(cache.size('globex'), 0);
  assert.equal(cache.size('acme'), 1);
});

test('a cached chain is refused once expired, revoked, or its root key no longer trusted', () => {
  const w = world();
  const cache = new WarrantCache();
  const token = rootToken(w);
  const verified = cache.verify(token, w.options);
  throwsCode(() => cache.verify(token, { ...w.options, now: NOW + HOUR }), 'WARRANT_EXPIRED');
  assert.equal(cache.verify(token, w.options).id, verified.id, 'control: now again');
  throwsCode(() => cache.verify(token, { ...w.options, revoked: new Set([verified.id]) }), 'WARRANT_REVOKED');
  const next = generateSigningKey();
  throwsCode(() => cache.verify(token, { ...w.options, trustedKeys: new Map([[next.kid, next.publicKey]]) }), 'WARRANT_KEY_UNTRUSTED');
  cache.verify(token, w.options);
  // The same kid now mapped to another key is not the key the chain was verified with (a hit, not a re-verification).
  throwsCode(() => cache.verify(token, { ...w.options, trustedKeys: new Map([[w.root.kid, next.publicKey]]) }), 'WARRANT_KEY_UNTRUSTED');
  assert.equal(cache.verify(token, w.options).id, verified.id, 'control: trusted again');
});

test('the cache is bounded per tenant and in tenants, least recently used first', () => {
  const w = world();
  const cache = new WarrantCache({ perTenant: 3, tenants: 2 });
  const tokens = Array.from({ length: 5 }, () => rootToken(w));
  for (const t of tokens) cache.verify(t, w.options);
  assert.equal(cache.size('acme'), 3);
  const globex = world('globex');
  const initech = world('initech');
  cache.verify(rootToken(globex, { tenant: 'globex' }), globex.options);
  cache.verify(rootToken(initech, { tenant: 'initech' }), initech.options);
  assert.equal(cache.size('acme'), 0, 'the least recently used tenant went first');
  assert.equal(cache.size('globex'), 1);
  assert.equal(cache.size('initech'), 1);
});
