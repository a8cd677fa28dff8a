// The gateway through its library entry (startGateway) with an HTTP upstream served in this
// process (the SDK's createMcpHandler, counting the calls it gets): the config is strict (unknown
// keys refused, with their paths); a policy that grants a tool the config does not declare, or
// calls it by another operation, is refused before any upstream is contacted; a warrant in a
// call's _meta narrows it (what it does not grant, or a warrant that does not verify, never reaches
// the upstream). Controls: the same config and policy without those faults serve the declared tool.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { mintWarrant } from '../../src/authority/mint.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { parseGatewayConfig } from '../../src/mcp/gateway-config.ts';
import { startGateway } from '../../src/mcp/gateway.ts';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import type { PolicyDocument } from '../../src/policy/schema.ts';

interface Upstream {
  readonly url: string;
  readonly calls: string[];
  readonly requests: { n: number };
  close(): Promise<void>;
}

async function httpUpstream(): Promise<Upstream> {
  const calls: string[] = [];
  const requests = { n: 0 };
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: 'http-upstream', version: '1.0.0' });
    server.registerTool('lookup', { inputSchema: z.object({ id: z.string() }) }, ({ id }) => {
      calls.push(`lookup:${id}`);
      return { content: [{ type: 'text', text: `found ${id}` }] };
    });
    return server;
  });
  const node = toNodeHandler(handler);
  const http: HttpServer = createServer((req, res) => {
    requests.n++;
    // The SDK types a request as always having a method; node.js leaves it optional.
    void node(req as Parameters<typeof node>[0], res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    calls,
    requests,
    async close() {
      await handler.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const config = (url: string): unknown => ({ version: 1, policy: { version: 1 }, upstreams: { web: { url, tools: { lookup: { operation: 'read' } } } } });
const GRANT: PolicyDocument = { version: 1, tools: { 'web.lookup': { operation: 'read', args: { type: 'object', properties: { id: { type: 'string' } } } } } };

function refusedWith(code: string, pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof AirlockError && error.code === code && pattern.test(error.message);
}

test('the gateway config is strict: unknown keys and bad names are refused with their paths', () => {
  assert.ok(parseGatewayConfig(config('http://127.0.0.1:1/mcp')), 'control: a good config parses');
  assert.throws(() => parseGatewayConfig({ ...(config('http://127.0.0.1:1/mcp') as object), extra: 1 }), refusedWith('INVALID_REQUEST', /Unrecognized key.*extra/));
  assert.throws(
    () => parseGatewayConfig({ version: 1, policy: {}, upstreams: { web: { url: 'http://x/mcp', tools: { lookup: { operation: 'read', readOnlyHint: true } } } } }),
    refusedWith('INVALID_REQUEST', /upstreams\.web\.tools\.lookup.*readOnlyHint/),
  );
  assert.throws(() => parseGatewayConfig({ version: 1, policy: {}, upstreams: { 'we-b': { url: 'http://x/mcp', tools: {} } } }), refusedWith('INVALID_REQUEST', /upstreams\.we-b/));
  assert.throws(() => parseGatewayConfig({ version: 1, policy: {}, upstreams: { web: { url: 'file:///etc/passwd', tools: {} } } }), refusedWith('INVALID_REQUEST', /upstreams\.web/));
});

test('a policy that grants an undeclared tool, or changes its operation, is refused before any upstream is contacted', async () => {
  const up = await httpUpstream();
  const home = mkdtempSync(join(tmpdir(), 'airlock-gw-'));
  try {
    const parsed = parseGatewayConfig(config(up.url));
    for (const [policy, why] of [
      [{ version: 1, tools: { 'web.wipe': { operation: 'delete', args: { type: 'object' } } } }, /web\.wipe.*no handler/],
      [{ version: 1, tools: { 'web.lookup': { operation: 'compute', args: { type: 'object' } } } }, /declares it "read"/],
    ] as const) {
      await assert.rejects(startGateway({ config: parsed, policy, tenant: 'default', airlock: { home, audit: new MemoryAuditSink() } }), refusedWith('INVALID_POLICY', why));
    }
    assert.equal(up.requests.n, 0, 'the upstream was never contacted');
    // Control: the right policy starts, and the declared tool answers through the HTTP upstream.
    const root = generateSigningKey();
    const gateway = await startGateway({ config: parsed, policy: GRANT, tenant: 'default', airlock: { home, audit: new MemoryAuditSink(), warrants: { trustedKeys: new Map([[root.kid, root.publicKey]]) } } });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await gateway.session().connect(serverSide);
    const client = new Client({ name: 'airlock-test', version: '1.0.0' });
    await client.connect(clientSide);
    try {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['web.lookup']);
      const r = await client.callTool({ name: 'web.lookup', arguments: { id: 'a1' } });
      assert.deepEqual(r.content, [{ type: 'text', text: 'found a1' }]);

      // A warrant in _meta narrows the call: this one grants lookups of a1 only.
      const warrant = mintWarrant({ signer: root, tenant: 'default', now: Date.now(), expiresAt: Date.now() + 3_600_000, grants: [{ tool: 'web.lookup', ops: ['read'], where: { id: { eq: 'a1' } } }] });
      const codeOf = (r: unknown): string => (r as { structuredContent: { error: { code: string } } }).structuredContent.error.code;
      const other = await client.callTool({ name: 'web.lookup', arguments: { id: 'b2' }, _meta: { 'airlock/warrant': warrant } });
      assert.equal(other.isError, true);
      assert.equal(codeOf(other), 'WARRANT_DENIED');
      const forged = await client.callTool({ name: 'web.lookup', arguments: { id: 'a1' }, _meta: { 'airlock/warrant': `${warrant.slice(0, -4)}AAAA` } });
      assert.equal(codeOf(forged), 'WARRANT_INVALID');
      const granted = await client.callTool({ name: 'web.lookup', arguments: { id: 'a1' }, _meta: { 'airlock/warrant': warrant } });
      assert.deepEqual(granted.content, [{ type: 'text', text: 'found a1' }], 'control: the warrant grants a1');
      assert.deepEqual(up.calls, ['lookup:a1', 'lookup:a1'], 'the upstream saw nothing the warrant did not grant');
    } finally {
      await client.close();
      await gateway.close();
    }
  } finally {
    await up.close();
  }
});
