// End to end for the container tier: socat forwarder + curl inside `bwrap --unshare-all` (an empty
// network namespace) as an unprivileged uid, the gateway's socket bind-mounted in. Proxied calls
// work; a direct socket to the upstream, DNS, and a search for the secret find nothing.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { forwarderPlan } from '../../src/egress/forwarder.ts';
import type { EgressGateway } from '../../src/egress/gateway.ts';
import { secretsFromEnv } from '../../src/egress/secrets.ts';
import type { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { ctxFor, decisions, newGateway, startUpstream, type Upstream } from './helpers.ts';

const SECRET = 'sk_live_container_9f8e7d6c5b4a';
const ENV_NAME = 'AIRLOCK_TEST_EGRESS_TOKEN';
const UID = 47_311;
const state: { up: Upstream; plain: Upstream; gateway: EgressGateway; audit: MemoryAuditSink; sock: string } = {} as never;

before(async () => {
  // The secret sits in this host process's environment, as a host would keep it.
  process.env[ENV_NAME] = SECRET;
  state.up = await startUpstream({ secret: SECRET });
  state.plain = await startUpstream();
  const { gateway, audit } = newGateway({ secrets: secretsFromEnv({ token: ENV_NAME }) });
  const p = state.plain.port;
  const ctx = ctxFor({
    version: 1,
    secrets: { token: {} },
    network: {
      routes: [
        { name: 'api', host: 'api.airlock', scheme: 'http', methods: ['GET'], paths: ['/v1/'], forward: { to: `http://127.0.0.1:${state.up.port}`, credential: { secret: 'token' } } },
        { name: 'plain', host: '127.0.0.1', scheme: 'http', port: p, paths: ['/plain'] },
        { name: 'tls', host: '127.0.0.1', scheme: 'https', port: p },
      ],
    },
  }, 'sbx_container');
  Object.assign(state, { gateway, audit });
  state.sock = (await gateway.socketFor(ctx)).path;
});

after(async () => {
  Reflect.deleteProperty(process.env, ENV_NAME);
  await state.gateway.close();
  await state.up.close();
  await state.plain.close();
});

/** Runs `script` in a fresh bwrap sandbox with the forwarder plan applied. */
function inSandbox(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const plan = forwarderPlan({ socketPath: state.sock });
  const args = ['--reuid', String(UID), '--regid', String(UID), '--clear-groups', '/usr/bin/bwrap', '--unshare-all', '--die-with-parent', '--clearenv'];
  args.push('--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64');
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/etc');
  for (const b of plan.binds) args.push('--ro-bind', b.source, b.destination);
  for (const [k, v] of Object.entries({ PATH: '/usr/bin', ...plan.env })) args.push('--setenv', k, v);
  const quoted = plan.sidecarArgv.map((a) => `'${a}'`).join(' ');
  args.push('--', '/bin/sh', '-c', `${quoted} & exec "$@"`, 'sidecar', ...plan.waitArgv, '/bin/sh', '-c', script);
  return new Promise((resolve) => {
    // An empty env, as src/container/launch.ts does: --clearenv alone is not enough, because the
    // sandbox's pid 1 (bwrap) keeps its own launch environment readable at /proc/1/environ.
    const child = spawn('/usr/bin/setpriv', args, { stdio: ['ignore', 'pipe', 'pipe'], env: {} });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

test('inside an empty network namespace the proxy is the only way out, and the secret never enters', async () => {
  const dns = createSocket('udp4');
  const datagrams: Buffer[] = [];
  dns.on('message', (m) => datagrams.push(m));
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', r));
  const dnsPort = dns.address().port;
  const p = state.plain.port;
  const before = state.up.seen.length;
  const beforePlain = state.plain.seen.length;
  const script = [
    `echo "proxied=$(curl -s -m 5 -o /tmp/resp -w '%{http_code}' http://api.airlock/v1/items)"`,
    `echo "body=$(cat /tmp/resp)"`,
    `echo "badpath=$(curl -s -m 5 -o /dev/null -w '%{http_code}' http://api.airlock/admin)"`,
    `echo "plain=$(curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:${p}/plain/x)"`,
    `echo "tunnel=$(curl -s -m 5 -p -o /dev/null -w '%{http_code}' http://127.0.0.1:${p}/plain/tunnelled)"`,
    `curl -s -m 3 --noproxy '*' http://127.0.0.1:${p}/plain/direct; echo "direct=$?"`,
    `getent hosts example.com; echo "getent=$?"`,
    `echo q | socat -u - UDP4-SENDTO:127.0.0.1:${dnsPort} 2>/dev/null; echo q | socat -u - UDP4-SENDTO:10.255.255.53:53 2>/dev/null; echo "udp=$?"`,
    `echo "routes=$(tail -n +2 /proc/net/route | wc -l)"`,
    // The search prints what a guest could read; the host looks for the secret in it (the script
    // itself must not name the secret, or its own cmdline would hold it).
    'echo "--- search"; env; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" "\\n"; find /tmp /etc /run -type f -exec cat {} + 2>/dev/null; echo "--- end"',
  ].join('\n');
  const r = await inSandbox(script);
  dns.close();
  const field = (k: string): string => new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout)?.[1] ?? `missing (stderr: ${r.stderr})`;
  // Controls: the proxied paths work.
  assert.equal(field('proxied'), '200', r.stderr);
  assert.match(field('body'), /"authorization":"Bearer \[secret:token\]"/);
  assert.equal(field('plain'), '200');
  assert.equal(field('tunnel'), '200');
  // Denials: a non-granted path, a direct socket, DNS.
  assert.equal(field('badpath'), '403');
  assert.notEqual(field('direct'), '0');
  assert.notEqual(field('getent'), '0');
  assert.notEqual(field('udp'), '0');
  assert.equal(field('routes'), '0');
  assert.deepEqual(datagrams, [], 'no datagram left the sandbox');
  // The upstreams' own logs: the credentialed call; the plain and the tunnelled one; nothing else.
  assert.deepEqual(state.up.seen.slice(before).map((s) => s.url), ['/v1/items']);
  assert.deepEqual(state.plain.seen.slice(beforePlain).map((s) => s.url), ['/plain/x', '/plain/tunnelled']);
  assert.equal(state.up.seen[before]?.headers.authorization, `Bearer ${SECRET}`);
  // The secret search inside the sandbox found nothing; the audit names the secret only.
  assert.match(r.stdout, /--- search[^]*--- end/);
  const leaks = (r.stdout + r.stderr).split('\n').filter((l) => l.includes(SECRET));
  assert.deepEqual(leaks, []);
  assert.equal(JSON.stringify(state.audit.events).includes(SECRET), false);
  assert.ok(decisions(state.audit).some((d) => d['secret'] === 'token' && d['status'] === 200));
  // Control for the DNS probe: the same datagram sent from the host does arrive.
  const control = createSocket('udp4');
  const got = new Promise<Buffer>((res) => control.once('message', res));
  await new Promise<void>((res) => control.bind(0, '127.0.0.1', res));
  spawnSync('/usr/bin/socat', ['-u', '-', `UDP4-SENDTO:127.0.0.1:${control.address().port}`], { input: 'q\n' });
  assert.equal((await got).toString(), 'q\n');
  control.close();
});
