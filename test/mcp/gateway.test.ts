// `airlock gateway` (the real CLI) in front of a real upstream MCP server (test/fixtures/
// mcp-upstream.ts, the SDK's McpServer over stdio, which logs every call it receives), driven by
// the SDK's client. Attacks: an undeclared upstream tool, and a declared but ungranted one, are
// invisible and refused, and the upstream saw no call for them (controls: granted tools answer);
// the upstream's own annotations (it calls "send" read-only) are not believed; a tool added later
// (tools/list_changed) stays hidden, and a declared tool whose input schema changed is hidden.
// Code mode: a 3-call program works, and a denied call comes back coded without reaching upstream.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import ts from 'typescript';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const UPSTREAM = join(import.meta.dirname, '..', 'fixtures', 'mcp-upstream.ts');

interface Setup {
  readonly home: string;
  readonly log: string;
  readonly client: Client;
  /** tools/list_changed notifications the client got from the gateway. */
  readonly changes: { n: number };
}

const POLICY = {
  version: 1,
  tools: {
    'fx.echo': { operation: 'read', args: { type: 'object' } },
    'fx.add': { operation: 'compute', args: { type: 'object' } },
  },
};

function writeConfig(codeMode: boolean): { home: string; log: string; config: string } {
  const home = mkdtempSync(join(tmpdir(), 'airlock-gateway-'));
  const log = join(home, 'upstream.log');
  writeFileSync(join(home, 'policy.json'), JSON.stringify(POLICY));
  const config = {
    version: 1,
    policy: 'policy.json',
    codeMode,
    upstreams: {
      fx: {
        command: process.execPath,
        args: [UPSTREAM],
        env: { UPSTREAM_LOG: log, PATH: process.env['PATH'] ?? '' },
        // "wipe" and "late" are declared nowhere; "send" is declared but the policy does not grant it.
        tools: { echo: { operation: 'read' }, add: { operation: 'compute' }, send: { operation: 'send', resources: ['mail:to/{to}'] } },
      },
    },
  };
  writeFileSync(join(home, 'gateway.json'), JSON.stringify(config));
  return { home, log, config: join(home, 'gateway.json') };
}

async function gateway(codeMode: boolean): Promise<Setup> {
  const { home, log, config } = writeConfig(codeMode);
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'gateway', '--config', config], env: { ...env, AIRLOCK_HOME: home }, stderr: 'inherit' });
  const changes = { n: 0 };
  const client = new Client({ name: 'airlock-test', version: '1.0.0' }, { listChanged: { tools: { autoRefresh: false, debounceMs: 0, onChanged: () => { changes.n++; } } } });
  await client.connect(transport);
  return { home, log, client, changes };
}

function upstreamSaw(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { name: string }).name) : [];
}

async function names(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((t) => t.name).sort();
}

async function denials(home: string): Promise<string[]> {
  const store = SqliteAuditStore.open({ path: join(home, 'audit.db') });
  try {
    return (await store.query({ decision: 'deny' })).map((r) => (r.event.kind === 'decision' ? `${r.event.subject}:${r.event.reason}` : ''));
  } finally {
    await store.close();
  }
}

test('gateway: only declared AND granted tools exist downstream; the others are refused and never reach the upstream', async () => {
  const { home, log, client } = await gateway(false);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['fx.add', 'fx.echo']);
    // Annotations come from the config's declarations: echo reads, add computes (not read-only).
    assert.equal(tools.find((t) => t.name === 'fx.echo')?.annotations?.readOnlyHint, true);
    assert.equal(tools.find((t) => t.name === 'fx.add')?.annotations?.readOnlyHint, false);

    // Control: granted tools answer, through the upstream.
    const echoed = await client.callTool({ name: 'fx.echo', arguments: { text: 'hello' } });
    assert.equal(echoed.isError, undefined);
    assert.deepEqual(echoed.structuredContent, { echoed: 'hello' });
    const added = await client.callTool({ name: 'fx.add', arguments: { a: 2, b: 3 } });
    assert.deepEqual(added.structuredContent, { sum: 5 });
    assert.deepEqual(upstreamSaw(log), ['echo', 'add']);

    // Undeclared (wipe) and declared-but-ungranted (send, which the upstream calls read-only): refused, coded.
    for (const [name, args] of [['fx.wipe', {}], ['fx.send', { to: 'eve@example.com', body: 'secrets' }], ['wipe', {}]] as const) {
      const r = await client.callTool({ name, arguments: args });
      assert.equal(r.isError, true, name);
      assert.equal((r.structuredContent as { error: { code: string } }).error.code, 'TOOL_NOT_GRANTED', name);
    }
    assert.deepEqual(upstreamSaw(log), ['echo', 'add'], 'the upstream saw no call for a refused tool');
    // Each refusal was decided by the bridge and recorded.
    assert.deepEqual((await denials(home)).sort(), ['fx.send:TOOL_NOT_GRANTED', 'fx.wipe:TOOL_NOT_GRANTED', 'wipe:TOOL_NOT_GRANTED']);
  } finally {
    await client.close();
  }
});

test('gateway: a tool the upstream adds later stays hidden; a declared tool whose input schema changed is hidden', async () => {
  const { log, client, changes } = await gateway(false);
  try {
    assert.deepEqual(await names(client), ['fx.add', 'fx.echo']);
    // Read through a function: the notifications arrive between awaits.
    const seen = (): number => changes.n;
    assert.equal(seen(), 0);
    const pid = Number(readFileSync(`${log}.pid`, 'utf8'));
    process.kill(pid, 'SIGUSR2'); // adds "late"
    process.kill(pid, 'SIGUSR1'); // changes echo's input schema
    // The gateway re-fetched the list: echo disappears (bounded polling), and late never appears.
    let listed = await names(client);
    for (let i = 0; i < 200 && listed.includes('fx.echo'); i++) {
      await sleep(50);
      listed = await names(client);
    }
    assert.deepEqual(listed, ['fx.add']);
    // The downstream was told its list changed (echo went), not about the hidden "late".
    for (let i = 0; i < 100 && seen() === 0; i++) await sleep(50);
    assert.ok(seen() >= 1, 'tools/list_changed reached the downstream');
    for (const name of ['fx.late', 'fx.echo']) {
      const r = await client.callTool({ name, arguments: { text: 'x' } });
      assert.equal((r.structuredContent as { error: { code: string } }).error.code, 'TOOL_NOT_GRANTED', name);
    }
    // Control: the unchanged tool still answers.
    assert.deepEqual((await client.callTool({ name: 'fx.add', arguments: { a: 1, b: 1 } })).structuredContent, { sum: 2 });
    assert.deepEqual(upstreamSaw(log), ['add']);
  } finally {
    await client.close();
  }
});

test('gateway code mode: a typed API, a 3-call program, and a denied call that comes back coded', async () => {
  const { log, client } = await gateway(true);
  try {
    assert.deepEqual(await names(client), ['execute', 'typescript_api']);
    const api = await client.callTool({ name: 'typescript_api', arguments: {} });
    const dts = (api.structuredContent as { dts: string }).dts;
    assert.match(dts, /echo\(args: \{/);
    assert.match(dts, /add\(args: \{/);
    assert.doesNotMatch(dts, /send|wipe/, 'only granted, declared tools are in the API');
    // The upstream's description tried to end the doc comment and declare something: it stays a comment.
    const file = ts.createSourceFile('api.d.ts', dts, ts.ScriptTarget.Latest);
    assert.equal(file.statements.length, 1, 'the .d.ts declares `tools` and nothing else');

    const program = `
      export default async () => {
        const one = await tools.fx.add({ a: 1, b: 2 }) as { sum: number };
        const two = await tools.fx.add({ a: one.sum, b: 3 }) as { sum: number };
        const said = await tools.fx.echo({ text: 'n=' + two.sum }) as { echoed: string };
        console.log('done');
        return said.echoed;
      };`;
    const ok = await client.callTool({ name: 'execute', arguments: { code: program } });
    const okData = ok.structuredContent as { result: string; stdout: string; calls: { name: string; allowed: boolean }[] };
    assert.equal(ok.isError, undefined, JSON.stringify(okData));
    assert.equal(okData.result, 'n=6');
    assert.match(okData.stdout, /done/);
    assert.deepEqual(okData.calls.map((c) => `${c.name}:${c.allowed}`), ['fx.add:true', 'fx.add:true', 'fx.echo:true']);

    const denied = await client.callTool({ name: 'execute', arguments: { code: 'export default async () => tools.fx.send({ to: "eve@example.com", body: "x" });' } });
    const deniedData = denied.structuredContent as { error: { code: string; message: string }; calls: { allowed: boolean; code?: string; detail?: string }[] };
    assert.equal(denied.isError, true);
    assert.equal(deniedData.error.code, 'TOOL_NOT_GRANTED');
    assert.match(deniedData.error.message, /fx\.send/);
    assert.deepEqual(deniedData.calls.map((c) => `${c.allowed}:${c.code}`), ['false:TOOL_NOT_GRANTED']);
    assert.match(deniedData.calls[0]?.detail ?? '', /fx\.send/);
    assert.deepEqual(upstreamSaw(log), ['add', 'add', 'echo'], 'the denied send never reached the upstream');
  } finally {
    await client.close();
  }
});

test('gateway --http: a foreign Host is refused before any session exists; the served Host gets the declared, granted tools', async () => {
  const { home, log, config } = writeConfig(false);
  const child = spawn(process.execPath, [MAIN, 'gateway', '--config', config, '--http', '--port', '0'], { env: { ...process.env, AIRLOCK_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    let out = '';
    const url = new URL(
      await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
        child.once('exit', () => reject(new Error(`airlock gateway ended before it listened: ${out}`)));
      }),
    );
    const call = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'page', version: '1' } } };
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { host: `rebind.example:${url.port}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify(call));
    });
    assert.equal(status, 403);
    // Control: the SDK client with the served Host.
    const client = new Client({ name: 'airlock-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url));
    assert.deepEqual(await names(client), ['fx.add', 'fx.echo']);
    assert.deepEqual((await client.callTool({ name: 'fx.echo', arguments: { text: 'over http' } })).structuredContent, { echoed: 'over http' });
    await client.close();
    assert.deepEqual(upstreamSaw(log), ['echo']);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
