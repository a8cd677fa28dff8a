/**
 * The egress part of `airlock demo`: a guest calls a credentialed route (the proxy pattern) to a
 * local upstream that checks the secret. The host holds the secret and attaches it; the guest
 * looks for it everywhere it can and finds nothing, and the audit records the secret's name only.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { secretsFromEnv } from '../egress/secrets.ts';
import { createAirlock } from '../runtime/airlock.ts';
import { MemoryAuditSink } from '../audit/memory-sink.ts';

const GUEST = `// The guest calls the route in plain HTTP; it never holds the token.
const res = await fetch('http://github.airlock/repos/acme/widgets');
const repo = await res.json();
const denied = [];
for (const [method, url] of [['DELETE', 'http://github.airlock/repos/acme/widgets'], ['GET', 'http://github.airlock/repos/other/secrets'], ['GET', 'http://169.254.169.254/latest/meta-data/']]) {
  try { await fetch(url, { method }); denied.push(method + ' ' + url + ' → allowed?!'); } catch (e) { denied.push(method + ' ' + url + ' → ' + e.code); }
}
// Everything the guest can see, searched for anything that looks like the token.
const everything = JSON.stringify(Object.getOwnPropertyNames(globalThis)) + JSON.stringify(repo);
console.log('environment: ' + (typeof process === 'undefined' ? 'none (no process object)' : JSON.stringify(process.env)));
export default { status: res.status, repo: repo.repo, stars: repo.stars, upstreamEcho: repo.youSent, tokenVisible: /ghp_/.test(everything), denied };
`;

export async function demoEgress(out: (line: string) => void): Promise<void> {
  // The host's secret: made up for the demo, held only in this process's own env object.
  const secret = `ghp_demo_${randomBytes(12).toString('hex')}`;
  const upstream = createServer((req, res) => {
    const ok = req.headers.authorization === `Bearer ${secret}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { repo: req.url, stars: 42, youSent: req.headers.authorization } : { error: 'bad credentials' }));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  const audit = new MemoryAuditSink();
  try {
    await using airlock = createAirlock({ audit, secrets: secretsFromEnv({ github: 'AIRLOCK_DEMO_GITHUB_TOKEN' }, { AIRLOCK_DEMO_GITHUB_TOKEN: secret }) });
    out(`egress: route github.airlock → 127.0.0.1:${port}, GET /repos/acme/ only, secret "github" attached by the host`);
    const r = await airlock.run({
      tenant: 'demo',
      code: GUEST,
      policy: {
        version: 1,
        secrets: { github: { description: 'read-only token for acme repos' } },
        network: { routes: [{ name: 'github', host: 'github.airlock', scheme: 'http', methods: ['GET'], paths: ['/repos/acme/'], forward: { to: `http://127.0.0.1:${port}`, credential: { secret: 'github' } } }] },
      },
    });
    out(`egress: guest run → ${r.status}${r.error ? ` ${r.error.code}: ${r.error.message}` : ''}`);
    if (r.stdout) out(`egress: guest printed ${r.stdout.trim()}`);
    const result = r.result as { denied?: string[] } | null;
    out(`egress: guest result ${JSON.stringify({ ...result, denied: undefined })}`);
    for (const d of result?.denied ?? []) out(`egress:   ${d}`);
    for (const e of audit.events) {
      if (e.kind !== 'decision' || e.door !== 'network') continue;
      const d = e.detail ?? {};
      out(`audit: ${e.subject} ${e.allow ? 'allow' : 'deny'} ${e.reason} status=${String(d['status'])} secret=${String(d['secret'])}`);
    }
    const leaked = JSON.stringify(r).includes(secret) || JSON.stringify(audit.events).includes(secret);
    out(`egress: secret value in guest output, result or audit log: ${leaked ? 'yes (BUG)' : 'no'}`);
  } finally {
    await new Promise<void>((r) => {
      upstream.closeAllConnections();
      upstream.close(() => r());
    });
  }
}
