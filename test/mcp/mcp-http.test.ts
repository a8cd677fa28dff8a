// `airlock mcp --http` (the real CLI) over streamable HTTP with the MCP SDK's client. Attack: a
// DNS-rebinding page (a foreign Host, or a foreign browser Origin) sends initialize and a run_code
// call: refused 403 HOST_NOT_ALLOWED, and no run was recorded. Control: the SDK client with the
// served Host runs code. A session's sandbox is destroyed when that session is deleted, while the
// server goes on.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

async function serve(home: string): Promise<{ child: ChildProcess; url: URL }> {
  const child = spawn(process.execPath, [MAIN, 'mcp', '--http', '--port', '0'], { env: { ...process.env, AIRLOCK_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`airlock mcp ended before it listened: ${out}`)));
  });
  return { child, url: new URL(url) };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A raw POST with the headers a page would send (fetch can't set Host). */
function post(url: URL, headers: Record<string, string>, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function recorded(home: string, kind: string, sandbox?: string): Promise<number> {
  const store = SqliteAuditStore.open({ path: join(home, 'audit.db') });
  try {
    return (await store.query(sandbox === undefined ? {} : { sandbox })).filter((r) => r.event.kind === kind).length;
  } finally {
    await store.close();
  }
}

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'page', version: '1' } } };

test('airlock mcp --http: a foreign Host or browser Origin is refused before the SDK sees it; the served Host runs code', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-mcp-http-'));
  const { child, url } = await serve(home);
  try {
    for (const headers of [{ host: `rebind.example:${url.port}` }, { host: url.host, origin: 'http://rebind.example' }]) {
      const refused = await post(url, headers, INIT);
      assert.equal(refused.status, 403, refused.text);
      const body = JSON.parse(refused.text) as { error: { code: number; data: { code: string } } };
      assert.equal(body.error.data.code, 'HOST_NOT_ALLOWED');
      assert.equal(body.error.code, -32001);
    }
    // Control: the same initialize with the served Host opens a session (the SDK answers it).
    const opened = await post(url, { host: url.host }, INIT);
    assert.equal(opened.status, 200, opened.text);

    const client = new Client({ name: 'airlock-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(url);
    await client.connect(transport);
    const r = await client.callTool({ name: 'run_code', arguments: { code: 'export default 6 * 7' } });
    assert.equal((r.structuredContent as { result: number }).result, 42);
    await client.close();
    // Only the control's run happened: the refused requests ran nothing.
    assert.equal(await recorded(home, 'run.started'), 1);
  } finally {
    await stop(child);
  }
});

test('airlock mcp --http: deleting the MCP session destroys its sandboxes while the server goes on', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-mcp-http-'));
  const { child, url } = await serve(home);
  try {
    const client = new Client({ name: 'airlock-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(url);
    await client.connect(transport);
    const created = await client.callTool({ name: 'sandbox_create', arguments: {} });
    const id = (created.structuredContent as { sandbox: string }).sandbox;
    const ran = await client.callTool({ name: 'sandbox_exec', arguments: { sandbox: id, argv: ['sh', '-c', 'echo $((6*7))'] } });
    assert.equal((ran.structuredContent as { stdout: string }).stdout.trim(), '42');
    assert.equal(await recorded(home, 'sandbox.destroyed', id), 0);
    await transport.terminateSession();
    await client.close();
    let n = 0;
    for (let i = 0; i < 200 && n === 0; i++) {
      n = await recorded(home, 'sandbox.destroyed', id);
      if (n === 0) await sleep(50);
    }
    assert.equal(n, 1, 'the session ended, and its sandbox was destroyed');
    assert.equal(child.exitCode, null, 'the server is still up');
  } finally {
    await stop(child);
  }
});
