// `airlock run` as a user runs it: one JSON object on stdout, the exit code from the error table,
// and the policy flags doing exactly what they say (each beside its control).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const home = mkdtempSync(join(tmpdir(), 'airlock-cli-'));

function airlock(args: string[], stdin: 'ignore' | number = 'ignore'): Promise<{ code: number | null; json: { status: string; result: unknown; error: { code: string } | null } }> {
  // Bounded: a CLI that never ends is killed, and its empty output fails the test.
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, AIRLOCK_HOME: home }, stdio: [stdin, 'pipe', 'ignore'], timeout: 30_000 });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, json: JSON.parse(out) as never })));
}

/** A loopback HTTP server that records the paths it was asked for. */
async function recordingServer(): Promise<{ seen: string[]; server: ReturnType<typeof createServer>; port: number }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.end('hi');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { seen, server, port: (server.address() as AddressInfo).port };
}

test('--allow-net grants exactly that host and port; without it the guest has no network', async () => {
  const { seen, server, port } = await recordingServer();
  const file = join(home, 'f.mjs');
  writeFileSync(file, `const r = await fetch('http://127.0.0.1:${port}/x'); export default r.status;`);
  try {
    const denied = await airlock(['run', '--json', file]);
    assert.equal(denied.json.status, 'error');
    assert.equal(seen.length, 0, 'without the flag nothing reached the server');
    const other = await airlock(['run', '--json', '--allow-net', `127.0.0.1:${port + 1}`, file]);
    assert.equal(other.json.status, 'denied');
    assert.equal(other.json.error?.code, 'EGRESS_NOT_GRANTED');
    assert.equal(other.code, 3);
    assert.equal(seen.length, 0, 'a grant for another port does not reach this one');
    const granted = await airlock(['run', '--json', '--allow-net', `127.0.0.1:${port}`, file]);
    assert.equal(granted.code, 0);
    assert.equal(granted.json.result, 200);
    assert.deepEqual(seen, ['/x']);
  } finally {
    server.close();
  }
});

test('--timeout bounds the run and the exit code comes from the error table', async () => {
  const file = join(home, 'loop.mjs');
  writeFileSync(file, 'for (;;) {}');
  const r = await airlock(['run', '--json', '--timeout', '300', file]);
  assert.equal(r.json.status, 'timeout');
  assert.equal(r.code, 4);
  const bad = await airlock(['run', '--json', '--timeout', 'soon', file]);
  assert.equal(bad.json.error?.code, 'INVALID_REQUEST');
  assert.equal(bad.code, 2);
  writeFileSync(file, 'export default 6 * 7');
  const ok = await airlock(['run', '--json', '--timeout', '300', file]);
  assert.deepEqual([ok.code, ok.json.result], [0, 42]);
});

test('a policy file that names a key twice is INVALID_POLICY and grants nothing; written once, the same grant works', async () => {
  // JSON.parse keeps the last "network": a reviewer who read the first saw no network at all.
  const { seen, server, port } = await recordingServer();
  const code = join(home, 'twice.mjs');
  writeFileSync(code, `const r = await fetch('http://127.0.0.1:${port}/x'); export default r.status;`);
  const route = `{"routes": [{"host": "127.0.0.1", "scheme": "http", "port": ${port}}]}`;
  try {
    const twice = join(home, 'policy-twice.json');
    writeFileSync(twice, `{"version": 1,\n "network": {"routes": []},\n "network": ${route}}`);
    const refused = await airlock(['run', '--json', '--policy', twice, code]);
    assert.deepEqual([refused.code, refused.json.error?.code], [2, 'INVALID_POLICY'], JSON.stringify(refused.json));
    assert.deepEqual(seen, [], 'the hidden grant reached the server');
    const once = join(home, 'policy-once.json');
    writeFileSync(once, `{"version": 1, "network": ${route}}`);
    const granted = await airlock(['run', '--json', '--policy', once, code]);
    assert.deepEqual([granted.code, granted.json.result, seen], [0, 200, ['/x']]);
  } finally {
    server.close();
  }
});

test('a policy file that is not one JSON object is INVALID_POLICY (exit 2); an object beside it runs', async () => {
  const code = join(home, 'p.mjs');
  writeFileSync(code, 'export default 6 * 7');
  const docs: [string, string][] = [['null', 'null'], ['array', '[]'], ['string', '"x"'], ['number', '7']];
  for (const [name, text] of docs) {
    const file = join(home, `policy-${name}.json`);
    writeFileSync(file, text);
    const r = await airlock(['run', '--json', '--policy', file, '--timeout', '2000', code]);
    assert.equal(r.json.error?.code, 'INVALID_POLICY', `${name}: ${JSON.stringify(r.json.error)}`);
    assert.equal(r.code, 2);
  }
  const good = join(home, 'policy-ok.json');
  writeFileSync(good, '{"version": 1}');
  const ok = await airlock(['run', '--json', '--policy', good, '--timeout', '2000', code]);
  assert.deepEqual([ok.code, ok.json.status, ok.json.result], [0, 'ok', 42]);
});

test('code or a policy that never ends (/dev/zero) is refused at the ceiling, not read into memory; a small file runs', async () => {
  const zero = join(home, 'zero.mjs');
  symlinkSync('/dev/zero', zero);
  const code = await airlock(['run', '--json', zero]);
  assert.deepEqual([code.code, code.json.error?.code], [2, 'CODE_TOO_LARGE']);
  const fd = openSync('/dev/zero', 'r');
  const stdin = await airlock(['run', '--json', '-'], fd).finally(() => closeSync(fd));
  assert.deepEqual([stdin.code, stdin.json.error?.code], [2, 'CODE_TOO_LARGE']);
  const policy = join(home, 'zero.json');
  symlinkSync('/dev/zero', policy);
  const small = join(home, 'small.mjs');
  writeFileSync(small, 'export default 6 * 7');
  const refused = await airlock(['run', '--json', '--policy', policy, small]);
  assert.deepEqual([refused.code, refused.json.error?.code], [2, 'INVALID_POLICY']);
  const control = await airlock(['run', '--json', small]);
  assert.deepEqual([control.code, control.json.result], [0, 42]);
});

test('a usage error is INVALID_REQUEST, exit 2, one JSON object with --json (exit 1 means the guest failed); a good call runs', async () => {
  const small = join(home, 'usage.mjs');
  writeFileSync(small, 'export default 6 * 7');
  for (const args of [['run', '--json'], ['run', '--json', '--tier', 'vm', small], ['run', '--json', '--bogus', small]]) {
    const r = await airlock(args);
    assert.deepEqual([r.code, r.json.error?.code], [2, 'INVALID_REQUEST'], args.join(' '));
  }
  const control = await airlock(['run', '--json', '--tier', 'isolate', small]);
  assert.deepEqual([control.code, control.json.result], [0, 42]);
});

test('--warrant: the run may fetch only what the warrant grants (the server sees only that); a bad token refuses the run', async () => {
  const { seen, server, port } = await recordingServer();
  const text = async (args: string[]): Promise<string> => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, AIRLOCK_HOME: home }, stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise((resolve) => child.on('exit', resolve));
    return out;
  };
  try {
    const key = JSON.parse(await text(['warrant', 'keygen', '--trust', '--json'])) as { kid: string };
    const grants = JSON.stringify([{ tool: 'net.fetch', ops: ['get'], resources: [`net:http://127.0.0.1:${port}/public/**`] }]);
    const issued = JSON.parse(await text(['warrant', 'issue', '--key', key.kid, '--tenant', 'default', '--ttl', '1h', '--grants', grants, '--json'])) as { token: string };
    const token = join(home, 'task.warrant');
    writeFileSync(token, issued.token);
    const file = join(home, 'fetch.mjs');
    const fetchOf = (path: string): string => `let r; try { r = (await fetch('http://127.0.0.1:${port}${path}')).status; } catch (e) { r = e.code; } export default r;`;
    writeFileSync(file, fetchOf('/public/a'));
    const allowed = await airlock(['run', '--json', '--allow-net', `127.0.0.1:${port}`, '--warrant', token, file]);
    assert.equal(allowed.json.result, 200, JSON.stringify(allowed.json));
    writeFileSync(file, fetchOf('/secret'));
    const denied = await airlock(['run', '--json', '--allow-net', `127.0.0.1:${port}`, '--warrant', token, file]);
    assert.equal(denied.json.result, 'WARRANT_DENIED', JSON.stringify(denied.json));
    writeFileSync(token, `${issued.token.slice(0, -3)}AAA`);
    const bad = await airlock(['run', '--json', '--allow-net', `127.0.0.1:${port}`, '--warrant', token, file]);
    assert.equal(bad.json.error?.code, 'WARRANT_INVALID');
    assert.equal(bad.code, 2);
    assert.deepEqual(seen, ['/public/a'], 'the server saw only what the warrant grants');
  } finally {
    server.close();
  }
});
