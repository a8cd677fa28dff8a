// The container tier's egress through the library: the same routes as the isolate tier, through
// the host's gateway only (a unix socket private to the sandbox's uid, a forwarder inside its empty
// network namespace). Each denial beside its control; the upstream's log shows what reached it.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { testAirlock } from '../support/airlock.ts';

test('a container reaches only its granted routes, through the gateway, with the secret attached on the host', async () => {
  const seen: string[] = [];
  const secret = `sk_${'q'.repeat(30)}`;
  const upstream = createServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers.authorization ?? '-'}`);
    res.end(`hello ${req.headers.authorization === `Bearer ${secret}` ? 'authorised' : 'anonymous'}`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  try {
    await using airlock = testAirlock({ secrets: { get: (n) => (n === 'api' ? secret : undefined) } });
    const policy = {
      version: 1 as const,
      secrets: { api: {} },
      network: { routes: [{ host: 'api.airlock', scheme: 'http' as const, methods: ['GET' as const], paths: ['/ok'], forward: { to: `http://127.0.0.1:${port}`, credential: { secret: 'api' } } }] },
    };
    await using box = await airlock.sandbox({ tier: 'container', tenant: 'acme', policy });
    const curl = (args: string): Promise<{ stdout: string }> => box.exec(['sh', '-c', `curl -s -m 5 ${args}; echo " [$?]"`]);
    const granted = await curl('http://api.airlock/ok/1');
    assert.match(granted.stdout, /hello authorised/, 'control: the granted route works and the host attached the secret');
    const path = await curl('-o /dev/null -w "%{http_code}" http://api.airlock/secret');
    assert.match(path.stdout, /^403/);
    const method = await curl('-o /dev/null -w "%{http_code}" -X DELETE http://api.airlock/ok/2');
    assert.match(method.stdout, /^403/);
    const direct = await curl(`--noproxy '*' http://127.0.0.1:${port}/ok/direct`);
    assert.match(direct.stdout, /\[(7|28)\]\s*$/, 'a direct connection bypassing the proxy fails');
    const dns = await box.exec(['sh', '-c', 'getent hosts api.airlock example.com; echo "[$?]"']);
    assert.match(dns.stdout, /^\[[1-9]\d*\]\s*$/, 'no resolver inside: names resolve only on the host, through the proxy');
    const env = await box.exec(['sh', '-c', 'env; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"']);
    assert.ok(!env.stdout.includes(secret), 'the secret is nowhere in the sandbox environment');
    assert.match(env.stdout, /HTTP_PROXY=http:\/\/127\.0\.0\.1:/, 'control: the proxy variables are set');
    assert.deepEqual(seen, [`GET /ok/1 Bearer ${secret}`], 'only the granted request reached the upstream');
  } finally {
    upstream.close();
  }
});
