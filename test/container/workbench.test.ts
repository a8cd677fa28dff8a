// The container tier as a workbench: pip and npm install a package from a registry granted as a
// route, over TLS that verifies against a CA the policy names, and the package then imports. The
// registry is on loopback, served by this test with a CA it makes (the host's own registries are
// not reachable from here). Beside it: the same registry without its route is denied and sees no
// connection at all, and without the policy's CA the TLS handshake fails before any request.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { ContainerPool, DEFAULT_RUN_DIR, type ContainerSandbox } from '../../src/container/index.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import type { PolicyDocument } from '../../src/index.ts';
import { testAirlock } from '../support/airlock.ts';
import { sandboxes, tempHome } from './helpers.ts';

const PKG = 'airlock-tinypkg';
const MODULE = 'airlock_tinypkg';
const WHEEL = `${MODULE}-1.0-py3-none-any.whl`;
const TARBALL = `${PKG}-1.0.0.tgz`;
const VALUE = 'from-the-loopback-registry';
// A name, not 127.0.0.1: npm's proxy agent checks an IP-addressed registry's certificate against
// "localhost". The gateway (the only resolver a sandbox has) resolves it to loopback, which the
// route names, as a route to a private mirror would.
const HOST = 'registry.airlock.test';
const resolve = (host: string): Promise<readonly string[]> => Promise.resolve(host === HOST ? ['127.0.0.1'] : []);

interface Registry {
  readonly server: Server;
  readonly port: number;
  /** Every TCP connection and every HTTP request the registry saw. */
  readonly connections: number[];
  readonly requests: string[];
}

const state: { dir: string; ca: string; registry: Registry } = {} as never;

function run(cmd: string, args: readonly string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(cwd === undefined ? {} : { cwd }) });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, and a server certificate for HOST that it signed. */
function makeCertificates(dir: string): { ca: string; key: Buffer; cert: Buffer } {
  const ssl = '/usr/bin/openssl';
  run(ssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.pem`, '-days', '2',
    '-subj', '/CN=airlock workbench test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(ssl, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${dir}/srv.key`, '-out', `${dir}/srv.csr`, '-subj', `/CN=${HOST}`]);
  writeFileSync(`${dir}/srv.ext`, `subjectAltName=DNS:${HOST}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  run(ssl, ['x509', '-req', '-in', `${dir}/srv.csr`, '-CA', `${dir}/ca.pem`, '-CAkey', `${dir}/ca.key`, '-CAcreateserial', '-out', `${dir}/srv.pem`, '-days', '2', '-extfile', `${dir}/srv.ext`]);
  return { ca: readFileSync(`${dir}/ca.pem`, 'utf8'), key: readFileSync(`${dir}/srv.key`), cert: readFileSync(`${dir}/srv.pem`) };
}

/** A pure-Python wheel and an npm tarball of the same tiny package, built here. */
function makePackages(dir: string): { wheel: Buffer; tarball: Buffer } {
  const build = join(dir, 'build');
  mkdirSync(join(build, 'package'), { recursive: true });
  const py = [
    'import zipfile, sys',
    `files = {"${MODULE}/__init__.py": 'VALUE = "${VALUE}"\\n',`,
    ` "${MODULE}-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: ${PKG}\\nVersion: 1.0\\n",`,
    ` "${MODULE}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: airlock-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}`,
    `files["${MODULE}-1.0.dist-info/RECORD"] = "".join(f"{n},,\\n" for n in [*files, "${MODULE}-1.0.dist-info/RECORD"])`,
    'with zipfile.ZipFile(sys.argv[1], "w") as z:',
    '    for n, t in files.items(): z.writestr(n, t)',
  ].join('\n');
  run('/usr/bin/python3', ['-c', py, join(build, WHEEL)]);
  writeFileSync(join(build, 'package', 'package.json'), JSON.stringify({ name: PKG, version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(build, 'package', 'index.js'), `module.exports = ${JSON.stringify(VALUE)};\n`);
  run('/usr/bin/tar', ['-czf', join(build, TARBALL), '-C', build, 'package']);
  return { wheel: readFileSync(join(build, WHEEL)), tarball: readFileSync(join(build, TARBALL)) };
}

/** A minimal PyPI "simple" index under /simple/ and a minimal npm registry under /npm/. */
async function startRegistry(key: Buffer, cert: Buffer, wheel: Buffer, tarball: Buffer): Promise<Registry> {
  const connections: number[] = [];
  const requests: string[] = [];
  const sha256 = createHash('sha256').update(wheel).digest('hex');
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  const shasum = createHash('sha1').update(tarball).digest('hex');
  const box: { port: number } = { port: 0 };
  const server = createServer({ key, cert }, (req, res) => {
    const url = req.url ?? '';
    requests.push(`${req.method ?? ''} ${url}`);
    const origin = `https://${HOST}:${box.port}`;
    if (url === `/simple/${PKG}/`) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!DOCTYPE html><html><body><a href="${origin}/files/${WHEEL}#sha256=${sha256}">${WHEEL}</a></body></html>\n`);
    } else if (url === `/files/${WHEEL}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(wheel);
    } else if (url === `/npm/${PKG}`) {
      const version = { name: PKG, version: '1.0.0', main: 'index.js', dist: { tarball: `${origin}/npm/${PKG}/-/${TARBALL}`, integrity, shasum } };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: PKG, 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': version } }));
    } else if (url === `/npm/${PKG}/-/${TARBALL}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(tarball);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  server.on('connection', () => connections.push(Date.now()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  box.port = (server.address() as AddressInfo).port;
  return { server, port: box.port, connections, requests };
}

before(async () => {
  state.dir = mkdtempSync(join(tmpdir(), 'airlock-workbench-'));
  // A CA file a policy names must be readable by any user (its directory included).
  chmodSync(state.dir, 0o755);
  const { ca, key, cert } = makeCertificates(state.dir);
  const { wheel, tarball } = makePackages(state.dir);
  state.ca = ca;
  state.registry = await startRegistry(key, cert, wheel, tarball);
});

after(async () => {
  state.registry.server.closeAllConnections();
  await new Promise<void>((r) => state.registry.server.close(() => r()));
  rmSync(state.dir, { recursive: true, force: true });
});

const LIMITS = { wallMs: 120_000, cpuMs: 60_000, memoryMiB: 512, pids: 256, openFiles: 4096, outputBytes: 1 << 20, workspaceMiB: 256 };

function policy(network: NonNullable<PolicyDocument['network']>): PolicyDocument {
  return { version: 1, limits: LIMITS, network };
}

// Retries off: a denied or failed fetch answers at once instead of after the tools' back-off.
const pip = (port: number) =>
  `python3 -m pip install --no-cache-dir --disable-pip-version-check --no-input --retries 0 --timeout 20 --index-url https://${HOST}:${port}/simple/ --target ./pylib ${PKG}`;
const npm = (port: number) =>
  `npm install --registry https://${HOST}:${port}/npm/ --fetch-retries=0 --no-audit --no-fund --no-update-notifier --loglevel=error ${PKG}`;

function sh(box: ContainerSandbox, script: string): ReturnType<ContainerSandbox['exec']> {
  return box.exec(['sh', '-c', script]);
}

test('pip and npm install from a granted TLS registry that a policy CA vouches for, and the package imports', async () => {
  const { port } = state.registry;
  await using airlock = testAirlock({ egress: { resolve } });
  await using box = await airlock.sandbox({ tier: 'container', tenant: 'acme', policy: policy({ routes: [{ host: HOST, scheme: 'https', port, addresses: ['127.0.0.1'] }], ca: [state.ca] }) });
  const before = state.registry.requests.length;
  const installed = await sh(box, `${pip(port)} && PYTHONPATH=pylib python3 -c 'import ${MODULE}; print(${MODULE}.VALUE)'`);
  assert.equal(installed.status, 'ok', `${installed.stdout}\n${installed.stderr}`);
  assert.match(installed.stdout, new RegExp(`^${VALUE}$`, 'm'));
  const npmed = await sh(box, `${npm(port)} && node -e 'console.log(require("${PKG}"))'`);
  assert.equal(npmed.status, 'ok', `${npmed.stdout}\n${npmed.stderr}`);
  assert.match(npmed.stdout, new RegExp(`^${VALUE}$`, 'm'));
  // The registry's own log: both tools fetched their index and their file through the route.
  const seen = state.registry.requests.slice(before);
  for (const want of [`GET /simple/${PKG}/`, `GET /files/${WHEEL}`, `GET /npm/${PKG}`, `GET /npm/${PKG}/-/${TARBALL}`]) assert.ok(seen.includes(want), `${want} in ${seen.join(', ')}`);
  // The bundle is the host's public store plus the policy's CA; no private key is anywhere near it.
  const store = await sh(box, 'grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-certificates.crt; grep -c "PRIVATE KEY" /etc/ssl/certs/ca-certificates.crt; ls /etc/ssl/private 2>&1; echo "$SSL_CERT_FILE $NODE_OPTIONS"');
  const [certs, keys] = store.stdout.split('\n');
  const hostCerts = (readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8').match(/BEGIN CERTIFICATE/g) ?? []).length;
  assert.equal(Number(certs), hostCerts + 1, store.stdout);
  assert.equal(keys, '0');
  assert.match(store.stdout, /'\/etc\/ssl\/private': No such file/);
  assert.match(store.stdout, /^\/etc\/ssl\/certs\/ca-certificates\.crt --use-openssl-ca$/m);
});

test('without the route the same installs are denied and the registry sees no connection; without the CA, TLS fails before any request', async () => {
  const { port } = state.registry;
  await using airlock = testAirlock({ egress: { resolve } });
  // Egress is wired (another host is granted), so the gateway itself refuses the registry.
  await using denied = await airlock.sandbox({ tier: 'container', tenant: 'acme', policy: policy({ routes: [{ host: 'pypi.org', scheme: 'https' }], ca: [state.ca] }) });
  const connections = state.registry.connections.length;
  const requests = state.registry.requests.length;
  const p = await sh(denied, `${pip(port)}; echo "pip=$?"; PYTHONPATH=pylib python3 -c 'import ${MODULE}' 2>&1 | tail -1`);
  assert.match(p.stdout, /^pip=[1-9]/m, p.stderr);
  assert.match(p.stdout, /ModuleNotFoundError/);
  const n = await sh(denied, `${npm(port)}; echo "npm=$?"; ls node_modules 2>&1`);
  assert.match(n.stdout, /^npm=[1-9]/m, n.stderr);
  assert.match(n.stdout, /No such file/);
  // What both met: the gateway refused the tunnel (pip and npm only say the fetch failed).
  const tunnel = await sh(denied, `curl -sS -m 20 https://${HOST}:${port}/simple/ 2>&1; echo " curl=$?"`);
  assert.match(tunnel.stdout, /CONNECT tunnel failed, response 403.* curl=56/s, tunnel.stderr);
  assert.equal(state.registry.connections.length, connections, 'the registry saw no connection at all');
  assert.equal(state.registry.requests.length, requests);
  // Control for the CA: the route granted but no network.ca, so the guest's TLS check fails (curl
  // exit 60) after connecting and before any request; the host's public store alone can't vouch.
  await using noCa = await airlock.sandbox({ tier: 'container', tenant: 'acme', policy: policy({ routes: [{ host: HOST, scheme: 'https', port, addresses: ['127.0.0.1'] }] }) });
  // The host's public store is there and is what TLS trusts by default (python's ssl loads it all).
  const hostCerts = (readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8').match(/BEGIN CERTIFICATE/g) ?? []).length;
  const store = await sh(noCa, `python3 -c 'import ssl; print(len(ssl.create_default_context().get_ca_certs()))'`);
  assert.equal(store.stdout.trim(), String(hostCerts), store.stderr);
  const c = await sh(noCa, `curl -sS -m 20 https://${HOST}:${port}/simple/${PKG}/; echo "curl=$?"`);
  assert.match(c.stdout, /^curl=60$/m, c.stderr);
  assert.ok(state.registry.connections.length > connections, 'control: the route reached the registry');
  assert.equal(state.registry.requests.length, requests, 'no request went over the unverified connection');
});

test('a CA named by path is read when the sandbox is made; a key, a root-only file, a FIFO or a missing file is refused then, and the bundle goes with the sandbox', async () => {
  const { port } = state.registry;
  await using airlock = testAirlock({ egress: { resolve } });
  const route = { host: HOST, scheme: 'https' as const, port, addresses: ['127.0.0.1'] };
  const box = await airlock.sandbox({ tier: 'container', tenant: 'acme', policy: policy({ routes: [route], ca: [`${state.dir}/ca.pem`] }) });
  const dir = `${DEFAULT_RUN_DIR}/sandboxes/${box.id}`;
  // The bundle is public data bwrap reads as the sandbox's uid, so it lives beside the sandbox's
  // root-only directory, in the run directory's trust/.
  const bundle = `${DEFAULT_RUN_DIR}/trust/${box.id}.ca-bundle.pem`;
  try {
    const ok = await sh(box, `curl -sS -m 20 -o /dev/null -w '%{http_code}' https://${HOST}:${port}/simple/${PKG}/`);
    assert.equal(ok.stdout, '200', ok.stderr);
    assert.ok(existsSync(bundle), 'control: the sandbox has its own bundle');
  } finally {
    await box.destroy();
  }
  assert.equal(existsSync(dir), false, 'destroying the sandbox removed its directory');
  assert.equal(existsSync(bundle), false, 'and its bundle');
  // The host reads these as root, so only what any user could read: a key (even a world-readable
  // one), a certificate only root may read, a FIFO (it would block) and a missing file are refused.
  spawnSync('/usr/bin/mkfifo', [`${state.dir}/fifo.pem`]);
  writeFileSync(`${state.dir}/key.pem`, readFileSync(`${state.dir}/ca.key`), { mode: 0o644 });
  writeFileSync(`${state.dir}/private-ca.pem`, state.ca, { mode: 0o600 });
  const refused = [
    [`${state.dir}/key.pem`, /private key/],
    [`${state.dir}/private-ca.pem`, /not world-readable/],
    [`${state.dir}/fifo.pem`, /not a regular file/],
    [`${state.dir}/absent.pem`, /can't be read on this host \(ENOENT\)/],
  ] as const;
  for (const [path, why] of refused) {
    await assert.rejects(
      airlock.sandbox({ tier: 'container', tenant: 'acme', policy: policy({ routes: [route], ca: [path] }) }),
      (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_POLICY' && why.test(e.message) && e.message.includes('network.ca.0'),
    );
  }
});

test('a pooled sandbox with a policy CA keeps its bundle when it is taken and renamed, and leaves nothing', async () => {
  const home = await tempHome();
  const box = sandboxes(home.home);
  const pool = new ContainerPool({ home: home.home, size: 1 });
  const doc = { network: { routes: [], ca: [state.ca] } };
  const hostCerts = (readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8').match(/BEGIN CERTIFICATE/g) ?? []).length;
  try {
    await pool.warm(compilePolicy({ version: 1, ...doc }));
    const { sbx } = await box.make(doc, { pool });
    // The first exec runs in the standby made under the pool's name, the second in a fresh launch
    // from the sandbox's own name (its bundle stays where it was made).
    for (const round of ['standby', 'fresh launch']) {
      const r = await sh(sbx, 'grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-certificates.crt');
      assert.equal(r.stdout.trim(), String(hostCerts + 1), `${round}: ${r.stderr}`);
    }
  } finally {
    // Destroys it and asserts nothing of it is left (its directory included).
    await box.cleanup();
    await pool.close();
    await home.done();
  }
  // Its bundle (named for the pool's sandbox it was made as) went with it, and the pool's spare's too.
  const left = existsSync(`${DEFAULT_RUN_DIR}/trust`) ? readdirSync(`${DEFAULT_RUN_DIR}/trust`).filter((f) => f.endsWith('.ca-bundle.pem')) : [];
  assert.deepEqual(left, [], 'no bundle is left');
});
