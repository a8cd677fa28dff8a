import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressPermitted, classifyAddress, normalizeAddress } from '../../src/egress/address.ts';
import { parseAbsolute, parseConnect } from '../../src/egress/target.ts';

test('special-use addresses are classified, including IPv6 forms that carry IPv4', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'], ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::127.0.0.1', 'loopback'], ['64:ff9b::7f00:1', 'loopback'],
    ['2002:7f00:1::', 'loopback'], ['169.254.169.254', 'metadata'], ['::ffff:169.254.169.254', 'metadata'], ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'], ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'], ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'], ['192.168.1.1', 'private'], ['fc00::1', 'private'], ['100.64.0.1', 'private'],
    ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'], ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'], ['2001:db8::1', 'reserved'], ['not-an-ip', 'reserved'],
  ];
  for (const [ip, cls] of cases) assert.equal(classifyAddress(ip), cls, ip);
  // Controls: public addresses of both families, including a mapped public IPv4.
  for (const ip of ['93.184.216.34', '2606:2800:220:1::1', '::ffff:93.184.216.34', '172.32.0.1', '11.0.0.1']) {
    assert.equal(classifyAddress(ip), 'public', ip);
  }
});

test('a special address is permitted only when named; mapped IPv6 is compared as its IPv4', () => {
  assert.deepEqual(addressPermitted(new Set(), '127.0.0.1'), { ok: false, class: 'loopback' });
  assert.deepEqual(addressPermitted(new Set(['127.0.0.1']), '::ffff:127.0.0.1'), { ok: true, address: '127.0.0.1' });
  assert.deepEqual(addressPermitted(new Set(['127.0.0.1']), '127.0.0.2'), { ok: false, class: 'loopback' });
  assert.deepEqual(addressPermitted(new Set(), '93.184.216.34'), { ok: true, address: '93.184.216.34' });
  // Unspecified addresses reach this machine itself: never permitted, even when a route names them.
  for (const ip of ['0.0.0.0', '0.1.2.3', '::', '::ffff:0.0.0.0']) assert.equal(addressPermitted(new Set([ip, '0.0.0.0', '::']), ip).ok, false, ip);
  assert.equal(normalizeAddress('::FFFF:7F00:1'), '127.0.0.1');
});

test('request targets: odd IP spellings, user info, origin-form and encoded paths are refused; canonical forms pass', () => {
  const why = (url: string): string => {
    const r = parseAbsolute(url);
    return r.ok ? `ok ${r.value.host}:${r.value.port}${r.value.path}${r.value.search}` : r.why;
  };
  assert.equal(why('http://2130706433/'), 'NON_CANONICAL_IP');
  assert.equal(why('http://0177.0.0.1/'), 'NON_CANONICAL_IP');
  assert.equal(why('http://0x7f.0.0.1/'), 'NON_CANONICAL_IP');
  assert.equal(why('http://127.1/'), 'NON_CANONICAL_IP');
  assert.equal(why('http://a.example.com@127.0.0.1/'), 'USERINFO');
  assert.equal(why('/repos/acme/'), 'ORIGIN_FORM');
  assert.equal(why('ftp://example.com/'), 'BAD_URL');
  assert.equal(why('http://example.com/a/../b'), 'PATH_NOT_CANONICAL');
  assert.equal(why('http://example.com/a/%2e%2e/b'), 'PATH_NOT_CANONICAL');
  assert.equal(why('http://example.com/a%2fb'), 'PATH_NOT_CANONICAL');
  assert.equal(why('http://example.com/a\\b'), 'PATH_NOT_CANONICAL');
  assert.equal(why('http://example.com./'), 'BAD_HOST');
  assert.equal(why('http://example.com:0/'), 'BAD_PORT');
  assert.equal(why('http://example.com/#x'), 'BAD_URL');
  assert.equal(why('http://[::1/'), 'BAD_HOST');
  assert.equal(why('http://[fe80::1%25eth0]/'), 'BAD_HOST');
  assert.equal(why('http://127.0.0.%31/'), 'BAD_HOST');
  assert.equal(why('http://EXAMPLE.com:8080/a%20b?q=1'), 'ok example.com:8080/a%20b?q=1');
  assert.equal(why('http://[::ffff:127.0.0.1]/'), 'ok ::ffff:7f00:1:80/');
  assert.equal(why('https://example.com'), 'ok example.com:443/');
  const c = parseConnect('example.com:443');
  assert.deepEqual(c.ok ? c.value : c.why, { host: 'example.com', port: 443 });
  const noPort = parseConnect('example.com');
  assert.equal(noPort.ok ? 'ok' : noPort.why, 'BAD_URL');
});
