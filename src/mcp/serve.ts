/**
 * Starts `airlock mcp` on stdio (one session: the connection) or streamable HTTP (one per client),
 * and ends it: the sessions' sandboxes are destroyed, then the airlock closes (what runs is stopped
 * and recorded).
 *
 * @example
 *   const mcp = await startMcp({ airlock, policy, tenant: 'default', transport: { kind: 'stdio' } });
 *   await mcp.ended; await mcp.close();
 */
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { compilePolicy } from '../policy/compile.ts';
import type { PolicyDocument } from '../policy/schema.ts';
import type { Airlock } from '../runtime/airlock.ts';
import type { McpScope } from './airlock-tools.ts';
import { CallLog } from './call-log.ts';
import { codeMode } from './code-mode.ts';
import { serveMcpHttp } from './http.ts';
import { airlockMcpServer } from './server.ts';

export type McpTransportChoice =
  | { readonly kind: 'stdio' }
  | { readonly kind: 'http'; readonly port: number; readonly allowHosts: readonly string[]; readonly allowOrigins: readonly string[] };

export interface StartMcpOptions {
  readonly airlock: Airlock;
  readonly policy: PolicyDocument;
  readonly tenant: string;
  readonly transport: McpTransportChoice;
  readonly codeMode: 'on' | 'off';
  readonly sandboxesPerSession: number;
}

export interface RunningMcp {
  /** The HTTP endpoint, or null on stdio. */
  readonly url: string | null;
  /** Settles when the stdio connection closes (never, for HTTP: stop it with close()). */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

export async function startMcp(options: StartMcpOptions): Promise<RunningMcp> {
  const { airlock, policy, tenant } = options;
  // Refused at start (INVALID_POLICY), not at the first call.
  const compiled = compilePolicy(policy);
  const scope: McpScope = { airlock, policy, compiled, tenant };
  // `airlock mcp` has no host tools of its own: in code mode the API is empty unless a host adds tools.
  const mode = options.codeMode === 'on' ? codeMode(scope, () => [], new CallLog()) : undefined;
  const settings = { sandboxesPerSession: options.sandboxesPerSession, ...(mode === undefined ? {} : { codeMode: mode }) };
  if (options.transport.kind === 'http') {
    const served = await serveMcpHttp(() => airlockMcpServer(scope, settings).server, options.transport);
    return { url: served.url, ended: new Promise<void>(() => undefined), close: () => served.close() };
  }
  const { server, session } = airlockMcpServer(scope, settings);
  const transport = new StdioServerTransport();
  const ended = new Promise<void>((resolve) => {
    const destroy = server.server.onclose;
    server.server.onclose = () => {
      destroy?.();
      resolve();
    };
  });
  // stdin's end is the client going away: close the transport, which ends the session.
  process.stdin.once('end', () => void transport.close());
  await server.connect(transport);
  return {
    url: null,
    ended,
    async close() {
      await server.close().catch(() => undefined);
      await session.destroyAll();
    },
  };
}
