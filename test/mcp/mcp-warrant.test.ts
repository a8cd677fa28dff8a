// `airlock mcp`'s own tools take a warrant in a call's `_meta["airlock/warrant"]`, as the gateway
// does: run_code's fetch and a container session's egress reach only what it grants (the upstream
// saw only that); a forged warrant runs nothing and makes nothing. Each beside its control.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { mintWarrant } from '../../src/authority/mint.ts';
import { airlockMcpServer } from '../../src/mcp/server.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import type { PolicyDocument } from '../../src/policy/schema.ts';
import { createAirlock } from '../../src/runtime/airlock.ts';
import { recordingServer } from '../support/recording-server.ts';

test("airlock mcp: run_code and sandbox_create act under the call's _meta warrant; the upstream saw only what it grants (controls: granted, and no warrant)", async () => {
  await using up = await recordingServer();
  const { seen, port } = up;
  const root = generateSigningKey();
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-mcp-')), audit, warrants: { trustedKeys: new Map([[root.kid, root.publicKey]]) }, isolate: { workersPerTenant: 1 } });
  const policy: PolicyDocument = { version: 1, network: { routes: [{ host: '127.0.0.1', scheme: 'http', port }] } };
  const { server } = airlockMcpServer({ airlock, policy, compiled: compilePolicy(policy), tenant: 'acme' }, { sandboxesPerSession: 2 });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'airlock-test', version: '1.0.0' });
  await client.connect(clientSide);
  try {
    const warrant = mintWarrant({ signer: root, tenant: 'acme', now: Date.now(), expiresAt: Date.now() + 3_600_000, grants: [{ tool: 'net.fetch', ops: ['get'], resources: [`net:http://127.0.0.1:${port}/public/**`] }] });
    const meta = (w: string): { _meta: Record<string, string> } => ({ _meta: { 'airlock/warrant': w } });
    const data = (r: unknown): Record<string, unknown> => (r as { structuredContent: Record<string, unknown> }).structuredContent;
    const fetchCode = (path: string): string => `let r; try { r = (await fetch('http://127.0.0.1:${port}${path}')).status; } catch (e) { r = e.code; } export default r;`;

    assert.equal(data(await client.callTool({ name: 'run_code', arguments: { code: fetchCode('/public/a') }, ...meta(warrant) })).result, 200, 'control: granted');
    assert.equal(data(await client.callTool({ name: 'run_code', arguments: { code: fetchCode('/secret') }, ...meta(warrant) })).result, 'WARRANT_DENIED');
    const forged = await client.callTool({ name: 'run_code', arguments: { code: fetchCode('/public/b') }, ...meta(`${warrant.slice(0, -4)}AAAA`) });
    assert.equal((data(forged).error as { code: string }).code, 'WARRANT_INVALID');
    assert.deepEqual(seen, ['GET /public/a'], 'the upstream saw only what the warrant grants');

    const badBox = await client.callTool({ name: 'sandbox_create', arguments: {}, ...meta(`${warrant.slice(0, -4)}AAAA`) });
    assert.equal(badBox.isError, true);
    assert.equal(audit.events.filter((e) => e.kind === 'sandbox.created' && e.tier === 'container').length, 0, 'a forged warrant made no sandbox');
    const box = data(await client.callTool({ name: 'sandbox_create', arguments: {}, ...meta(warrant) })).sandbox as string;
    const curl = async (path: string): Promise<unknown> => data(await client.callTool({ name: 'sandbox_exec', arguments: { sandbox: box, argv: ['curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}${path}`] } })).stdout;
    assert.equal(await curl('/public/c'), '200', 'control: granted');
    assert.equal(await curl('/secret'), '403');
    assert.deepEqual(seen, ['GET /public/a', 'GET /public/c'], 'the upstream saw nothing the sandbox warrant did not grant');
    // Control: without a warrant the policy alone decides.
    assert.equal(data(await client.callTool({ name: 'run_code', arguments: { code: fetchCode('/secret') } })).result, 200);
  } finally {
    await client.close();
  }
});
