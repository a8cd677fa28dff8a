// `airlock mcp` over stdio, driven by the MCP SDK's own client against the real CLI: run_code
// answers the result, console output and violations; a refused tool call is coded; a container
// session works end to end (create, write, exec, read, destroy), one session can't reach a
// sandbox id it didn't make, and a session's sandboxes are destroyed when the client goes away.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

interface Coded {
  readonly error?: { readonly code: string; readonly rpc: number; readonly message: string } | undefined;
  readonly [key: string]: unknown;
}

async function connect(home: string, args: string[]): Promise<Client> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp', ...args], env: { ...env, AIRLOCK_HOME: home }, stderr: 'inherit' });
  const client = new Client({ name: 'airlock-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<{ isError: boolean; data: Coded }> {
  const r = await client.callTool({ name, arguments: args });
  return { isError: r.isError === true, data: (r.structuredContent ?? {}) as Coded };
}

async function destroyedRecorded(home: string, sandbox: string): Promise<boolean> {
  const store = SqliteAuditStore.open({ path: join(home, 'audit.db') });
  try {
    return (await store.query({ sandbox })).some((r) => r.event.kind === 'sandbox.destroyed');
  } finally {
    await store.close();
  }
}

test('airlock mcp over stdio: the tools and their honest annotations; run_code answers; a refused call is coded', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-mcp-'));
  const policy = join(home, 'policy.json');
  writeFileSync(policy, JSON.stringify({ version: 1 }));
  const client = await connect(home, ['--policy', policy]);
  try {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual([...byName.keys()].sort(), ['run_code', 'sandbox_create', 'sandbox_destroy', 'sandbox_exec', 'sandbox_read_file', 'sandbox_write_file']);
    assert.equal(byName.get('sandbox_exec')?.annotations?.readOnlyHint, false);
    assert.equal(byName.get('sandbox_destroy')?.annotations?.destructiveHint, true);
    assert.equal(byName.get('sandbox_read_file')?.annotations?.readOnlyHint, true);
    // The policy grants no network: nothing reaches the open world.
    assert.equal(byName.get('run_code')?.annotations?.openWorldHint, false);

    const ok = await call(client, 'run_code', { code: 'console.log("hi"); export default 6 * 7' });
    assert.equal(ok.isError, false);
    assert.equal(ok.data['result'], 42);
    assert.match(String(ok.data['stdout']), /hi/);

    const ts = await call(client, 'run_code', { code: 'const n: number = 5; export default (x: { k: number }) => n * x.k', language: 'ts', input: { k: 3 } });
    assert.equal(ts.data['result'], 15);

    // A tool the policy does not grant: refused by the bridge, coded, and listed as a violation.
    const denied = await call(client, 'run_code', { code: 'export default await tools.mail.send({ to: "x" })' });
    assert.equal(denied.isError, true);
    assert.deepEqual([denied.data.error?.code, denied.data.error?.rpc], ['TOOL_NOT_GRANTED', -32001]);
    assert.deepEqual((denied.data['violations'] as { code: string }[]).map((v) => v.code), ['TOOL_NOT_GRANTED']);
  } finally {
    await client.close();
  }
  // The same tools under a policy that grants a network route: now they reach the open world.
  writeFileSync(policy, JSON.stringify({ version: 1, network: { routes: [{ host: 'example.com' }] } }));
  const networked = await connect(home, ['--policy', policy]);
  try {
    const { tools } = await networked.listTools();
    assert.equal(tools.find((t) => t.name === 'run_code')?.annotations?.openWorldHint, true);
    assert.equal(tools.find((t) => t.name === 'sandbox_exec')?.annotations?.openWorldHint, true);
    assert.equal(tools.find((t) => t.name === 'sandbox_read_file')?.annotations?.openWorldHint, false);
  } finally {
    await networked.close();
  }
});

test('airlock mcp over stdio: a container session end to end, scoped to the MCP session and destroyed with it', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-mcp-'));
  const a = await connect(home, []);
  const b = await connect(home, []);
  let id = '';
  try {
    const created = await call(a, 'sandbox_create', {});
    assert.equal(created.isError, false, JSON.stringify(created.data));
    id = String(created.data['sandbox']);
    assert.equal((await call(a, 'sandbox_write_file', { sandbox: id, path: 'main.py', content: 'print(6 * 7)' })).isError, false);
    const ran = await call(a, 'sandbox_exec', { sandbox: id, argv: ['python3', 'main.py'] });
    assert.equal(ran.data['exitCode'], 0, JSON.stringify(ran.data));
    assert.equal(String(ran.data['stdout']).trim(), '42');
    assert.equal((await call(a, 'sandbox_exec', { sandbox: id, argv: ['sh', '-c', 'echo made > out.txt'] })).data['exitCode'], 0);
    const read = await call(a, 'sandbox_read_file', { sandbox: id, path: 'out.txt' });
    assert.equal(read.data['content'], 'made\n');

    // Another MCP session can't use or destroy it: NOT_FOUND, and the file is still there after.
    const foreign = await call(b, 'sandbox_exec', { sandbox: id, argv: ['rm', 'out.txt'] });
    assert.equal(foreign.isError, true);
    assert.equal(foreign.data.error?.code, 'NOT_FOUND');
    assert.equal((await call(b, 'sandbox_destroy', { sandbox: id })).data.error?.code, 'NOT_FOUND');
    assert.equal((await call(a, 'sandbox_read_file', { sandbox: id, path: 'out.txt' })).data['content'], 'made\n');

    // A path outside the workspace is refused, coded.
    const outside = await call(a, 'sandbox_read_file', { sandbox: id, path: '../../etc/passwd' });
    assert.equal(outside.data.error?.code, 'PATH_OUTSIDE_WORKSPACE');
  } finally {
    await a.close();
    await b.close();
  }
  // The client went away: the server destroyed the session's sandbox and recorded it.
  let destroyed = false;
  for (let i = 0; i < 200 && !destroyed; i++) {
    destroyed = await destroyedRecorded(home, id);
    if (!destroyed) await sleep(50);
  }
  assert.ok(destroyed, `sandbox ${id} was not destroyed when its MCP session ended`);
});

test('airlock mcp --code-mode: execute runs a TypeScript program and lists the calls it was refused', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-mcp-'));
  const client = await connect(home, ['--code-mode']);
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'execute') && tools.some((t) => t.name === 'typescript_api'));
    const api = await call(client, 'typescript_api', {});
    assert.match(String(api.data['dts']), /declare const tools: \{/);
    const ok = await call(client, 'execute', { code: 'const xs: number[] = [1, 2, 3]; export default () => xs.reduce((a, b) => a + b, 0);' });
    assert.equal(ok.data['result'], 6);
    assert.deepEqual(ok.data['calls'], []);
    const denied = await call(client, 'execute', { code: 'export default async () => { try { await tools.db.drop({}); } catch (e) { return (e as { code: string }).code; } };' });
    // The program caught the refusal and answered its code; the call is listed as refused.
    assert.equal(denied.data['result'], 'TOOL_NOT_GRANTED');
    assert.deepEqual((denied.data['calls'] as { allowed: boolean; code: string }[]).map((c) => `${c.allowed}:${c.code}`), ['false:TOOL_NOT_GRANTED']);
  } finally {
    await client.close();
  }
});
