// The HTTP API's doors, over a real socket: a key (and only a live one), the body size, the Host and
// Origin, the per-key rate. Each refusal is paired with its control, and each asserts that nothing
// ran (no run.started in the audit log), not only the status.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { mintWarrant } from '../../src/authority/mint.ts';
import { recordingServer } from '../support/recording-server.ts';
import { call, rawRequest, readEvents, startCommand, testServer } from './helpers.ts';

const RUN = { code: 'export default 6 * 7' };

/** A server trusting one root key, an upstream that records what reaches it, and a warrant granting GETs under /public/ there. */
async function warrantedServer(): Promise<AsyncDisposable & { t: Awaited<ReturnType<typeof testServer>>; seen: string[]; port: number; key: string; warrant: string; policy: unknown }> {
  const root = generateSigningKey();
  const t = await testServer({ warrants: { trustedKeys: new Map([[root.kid, root.publicKey]]) } });
  const up = await recordingServer();
  const { seen, port } = up;
  const warrant = mintWarrant({ signer: root, tenant: 'acme', now: Date.now(), expiresAt: Date.now() + 3_600_000, grants: [{ tool: 'net.fetch', ops: ['get'], resources: [`net:http://127.0.0.1:${port}/public/**`] }] });
  const policy = { version: 1, network: { routes: [{ host: '127.0.0.1', scheme: 'http', port }] } };
  return {
    t, seen, port, key: t.key('acme'), warrant, policy,
    [Symbol.asyncDispose]: async () => {
      await up[Symbol.asyncDispose]();
      await t[Symbol.asyncDispose]();
    },
  };
}

async function runsStarted(records: () => Promise<{ event: { kind: string } }[]>): Promise<number> {
  return (await records()).filter((r) => r.event.kind === 'run.started').length;
}

test('a run needs a live key: none, a forged one and a revoked one are 401 AUTH_REQUIRED and nothing runs (control: the live key runs)', async () => {
  await using t = await testServer();
  const base = t.server.url;
  const key = t.key('acme');
  const ok = await call(base, key, 'POST', '/v1/runs', RUN);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal((ok.json as { result: unknown }).result, 42);
  const before = await runsStarted(t.records);
  assert.equal(before, 1, 'control: the live key ran, and it is in the log');

  // A forged key: right shape and a real id (alk_<16 hex>_<43 base64url>), wrong secret.
  const forged = `${key.slice(0, 'alk_'.length + 16 + 1)}${'A'.repeat(43)}`;
  assert.equal(forged.length, key.length);
  for (const bad of [null, forged, 'alk_nonsense', key.toUpperCase()]) {
    const r = await call(base, bad, 'POST', '/v1/runs', RUN);
    assert.equal(r.status, 401, String(bad));
    assert.equal((r.json as { error: { code: string } }).error.code, 'AUTH_REQUIRED');
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="airlock"');
  }
  t.revoke('acme', key);
  const revoked = await call(base, key, 'POST', '/v1/runs', RUN);
  assert.equal(revoked.status, 401, 'a revoked key is refused at once');
  assert.equal(await runsStarted(t.records), before, 'no refused request ran anything');
});

test('a body over the limit is 413 REQUEST_TOO_LARGE, with or without Content-Length, and nothing runs (control: one under it runs)', async () => {
  await using t = await testServer({ maxBodyBytes: 4096 });
  const base = t.server.url;
  const key = t.key('acme');
  const small = await call(base, key, 'POST', '/v1/runs', { code: `// ${'x'.repeat(3000)}\nexport default 1` });
  assert.equal(small.status, 200, 'control: a body under the limit runs');
  const before = await runsStarted(t.records);

  const big = { code: `// ${'x'.repeat(5000)}\nexport default 1` };
  const sized = await call(base, key, 'POST', '/v1/runs', big);
  assert.equal(sized.status, 413);
  assert.equal((sized.json as { error: { code: string } }).error.code, 'REQUEST_TOO_LARGE');
  // Chunked: no Content-Length to trust, so the server counts what arrives.
  const text = new TextEncoder().encode(JSON.stringify(big));
  const chunked = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < text.length; i += 1000) controller.enqueue(text.subarray(i, i + 1000));
      controller.close();
    },
  });
  const streamed = await call(base, key, 'POST', '/v1/runs', chunked);
  assert.equal(streamed.status, 413);
  assert.equal((streamed.json as { error: { code: string } }).error.code, 'REQUEST_TOO_LARGE');
  assert.equal(await runsStarted(t.records), before, 'nothing ran for the bodies over the limit');
});

test('a foreign Host or a browser Origin not listed is 403 HOST_NOT_ALLOWED and nothing runs (controls: 127.0.0.1:PORT, localhost:PORT, a listed Origin)', async () => {
  await using t = await testServer({ allowOrigins: ['http://console.example'] });
  const base = t.server.url;
  const port = t.server.port;
  const key = t.key('acme');
  const body = JSON.stringify(RUN);
  const headers = (extra: Record<string, string>): Record<string, string> => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extra });

  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
    const r = await rawRequest(base, { method: 'POST', path: '/v1/runs', headers: headers({ host }), body });
    assert.equal(r.status, 200, `control: Host ${host} is served`);
  }
  const listed = await rawRequest(base, { method: 'POST', path: '/v1/runs', headers: headers({ host: `127.0.0.1:${port}`, origin: 'http://console.example' }), body });
  assert.equal(listed.status, 200, 'control: a listed Origin may call');
  const before = await runsStarted(t.records);

  // DNS rebinding: a page at attacker.example whose name now resolves to 127.0.0.1.
  const attacks = [
    { host: `attacker.example:${port}` },
    { host: `127.0.0.1:${port + 1}` },
    { host: `127.0.0.1:${port}`, origin: 'http://attacker.example' },
    { host: `localhost:${port}`, origin: 'null' },
  ];
  for (const extra of attacks) {
    const r = await rawRequest(base, { method: 'POST', path: '/v1/runs', headers: headers(extra), body });
    assert.equal(r.status, 403, JSON.stringify(extra));
    assert.equal((r.json as { error: { code: string } }).error.code, 'HOST_NOT_ALLOWED');
  }
  const doc = await rawRequest(base, { method: 'GET', path: '/openapi.json', headers: { host: `attacker.example:${port}` } });
  assert.equal(doc.status, 403, 'the Host check covers every path');
  assert.equal(await runsStarted(t.records), before, 'nothing ran for the refused requests');
});

test('each key has its own rate: past it, 429 RATE_LIMITED with Retry-After and nothing runs (control: another key of the same tenant still runs)', async () => {
  await using t = await testServer({ ratePerMinute: 3 });
  const base = t.server.url;
  const hasty = t.key('acme');
  const calm = t.key('acme');
  for (let i = 0; i < 3; i++) assert.equal((await call(base, hasty, 'POST', '/v1/runs', RUN)).status, 200);
  const before = await runsStarted(t.records);
  const limited = await call(base, hasty, 'POST', '/v1/runs', RUN);
  assert.equal(limited.status, 429);
  assert.equal((limited.json as { error: { code: string } }).error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1, 'Retry-After says how long');
  assert.equal(await runsStarted(t.records), before, 'the limited request ran nothing');
  assert.equal((await call(base, calm, 'POST', '/v1/runs', RUN)).status, 200, 'control: the other key has its own rate');
});

test('run errors answer with their code from the one table: a bad policy is 400 INVALID_POLICY, a throw is 422 with the RunResult, an unknown route 404', async () => {
  await using t = await testServer();
  const base = t.server.url;
  const key = t.key('acme');
  const policy = await call(base, key, 'POST', '/v1/runs', { ...RUN, policy: { version: 2 } });
  assert.equal(policy.status, 400);
  assert.equal((policy.json as { error: { code: string } }).error.code, 'INVALID_POLICY');
  const unknown = await call(base, key, 'POST', '/v1/runs', { ...RUN, tenant: 'someone-else' });
  assert.equal(unknown.status, 400, 'the tenant is the key\'s: a body can\'t name one');
  assert.equal((unknown.json as { error: { code: string } }).error.code, 'INVALID_REQUEST');
  const threw = await call(base, key, 'POST', '/v1/runs', { code: 'throw new Error("no")' });
  assert.equal(threw.status, 422);
  assert.equal((threw.json as { status: string; error: { code: string } }).error.code, 'GUEST_ERROR');
  assert.equal((threw.json as { status: string }).status, 'error');
  for (const [body, type] of [['{', 'application/json'], [JSON.stringify(RUN), 'text/plain']] as const) {
    const r = await call(base, key, 'POST', '/v1/runs', body, { 'content-type': type });
    assert.equal(r.status, 400, `${type} ${body}`);
    assert.equal((r.json as { error: { code: string } }).error.code, 'INVALID_REQUEST');
  }
  assert.deepEqual(t.logs, [], 'nothing was an internal error');
  const none = await call(base, key, 'GET', '/v1/nothing');
  assert.equal(none.status, 404);
  assert.equal((none.json as { error: { code: string } }).error.code, 'NOT_FOUND');
});

test('a run may carry a warrant: a fetch it does not grant is denied and the server saw nothing of it; a warrant that does not verify refuses the run (control: granted)', async () => {
  await using w = await warrantedServer();
  const { t, seen, port, key, warrant, policy } = w;
  const body = (path: string, w: string): unknown => ({ code: `let r; try { r = (await fetch('http://127.0.0.1:${port}${path}')).status; } catch (e) { r = e.code; } export default r;`, policy, warrant: w });
  const granted = await call(t.server.url, key, 'POST', '/v1/runs', body('/public/a', warrant));
  assert.equal((granted.json as { result: unknown }).result, 200, JSON.stringify(granted.json));
  const denied = await call(t.server.url, key, 'POST', '/v1/runs', body('/secret', warrant));
  assert.equal((denied.json as { result: unknown }).result, 'WARRANT_DENIED');
  const forged = await call(t.server.url, key, 'POST', '/v1/runs', body('/public/a', `${warrant.slice(0, -4)}AAAA`));
  assert.equal(forged.status, 401);
  assert.equal((forged.json as { error: { code: string } }).error.code, 'WARRANT_INVALID');
  assert.deepEqual(seen, ['GET /public/a'], 'the upstream saw only what the warrant grants');
});

test("a sandbox may carry a warrant for its whole life: its exec's request the warrant does not grant never reaches the server; a forged one makes no sandbox (control: granted)", async () => {
  await using w = await warrantedServer();
  const { t, seen, port, key, warrant, policy } = w;
  const forged = await call(t.server.url, key, 'POST', '/v1/sandboxes', { policy, warrant: `${warrant.slice(0, -4)}AAAA` });
  assert.equal((forged.json as { error: { code: string } }).error.code, 'WARRANT_INVALID', JSON.stringify(forged.json));
  assert.deepEqual((await call(t.server.url, key, 'GET', '/v1/sandboxes')).json, { sandboxes: [] }, 'nothing was made');
  const made = await call(t.server.url, key, 'POST', '/v1/sandboxes', { policy, warrant });
  assert.equal(made.status, 201, JSON.stringify(made.json));
  const id = (made.json as { id: string }).id;
  // The command's stream ends with its result; its stdout is curl's status code.
  const status = async (path: string): Promise<string> => {
    const events = await readEvents(await startCommand(t.server.url, key, id, { argv: ['curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}${path}`] }));
    return (JSON.parse(events.at(-1)?.data ?? '{}') as { stdout?: string }).stdout ?? JSON.stringify(events);
  };
  assert.equal(await status('/public/a'), '200', 'control: granted');
  assert.equal(await status('/secret'), '403', 'refused by the warrant');
  assert.deepEqual(seen, ['GET /public/a'], 'the upstream saw only what the warrant grants');
  await call(t.server.url, key, 'DELETE', `/v1/sandboxes/${id}`);
});
