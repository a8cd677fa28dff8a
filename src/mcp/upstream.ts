/**
 * One upstream MCP server the gateway wraps: connected with the SDK's client (stdio command or
 * streamable HTTP URL), its tool list kept current (re-fetched on tools/list_changed), and each
 * declared tool's input schema pinned at its first sight. What the gateway exposes of it is decided
 * from the config and the policy, never from what the upstream says about its tools: a tool the
 * upstream offers and the config does not declare stays hidden; a declared tool whose input schema
 * changed after it was pinned is hidden until the gateway is restarted with its config reviewed.
 *
 * @example
 *   const up = await Upstream.connect('mail', config.upstreams.mail, () => gateway.changed());
 *   up.state('read'); // { kind: 'live', tool } | { kind: 'absent' } | { kind: 'schema-changed' }
 */
import { createHash } from 'node:crypto';
import { Client, StreamableHTTPClientTransport, type Tool } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { canonicalJson } from '../core/canonical-json.ts';
import { AirlockError } from '../core/errors.ts';
import type { UpstreamConfig } from './gateway-config.ts';

export type UpstreamToolState =
  | { readonly kind: 'live'; readonly tool: Tool }
  | { readonly kind: 'absent' }
  | { readonly kind: 'schema-changed' };

/** A schema that can't be hashed (nested past canonicalJson's bound) never matches anything. */
function schemaHash(schema: unknown): string | null {
  try {
    return createHash('sha256').update(canonicalJson(schema, 'an input schema')).digest('hex');
  } catch {
    return null;
  }
}

export class Upstream {
  readonly name: string;
  readonly #client: Client;
  readonly #declared: ReadonlySet<string>;
  #offered = new Map<string, Tool>();
  /** Input schema hashes of declared tools, pinned at first sight. */
  readonly #pinned = new Map<string, string | null>();

  private constructor(name: string, client: Client, declared: ReadonlySet<string>) {
    this.name = name;
    this.#client = client;
    this.#declared = declared;
  }

  static async connect(name: string, config: UpstreamConfig, changed: () => void): Promise<Upstream> {
    let upstream: Upstream | null = null;
    const client = new Client(
      { name: 'airlock-gateway', version: '0.1.0' },
      {
        listChanged: {
          tools: {
            // Re-fetched here (every page), then re-checked by the gateway.
            autoRefresh: false,
            debounceMs: 50,
            onChanged: () => void upstream?.refresh().then(changed, (error: unknown) => process.stderr.write(`airlock gateway: ${name}: re-listing tools failed: ${String(error)}\n`)),
          },
        },
      },
    );
    const transport =
      'url' in config
        ? new StreamableHTTPClientTransport(new URL(config.url))
        : new StdioClientTransport({ command: config.command, args: [...(config.args ?? [])], ...(config.env === undefined ? {} : { env: { ...config.env } }), ...(config.cwd === undefined ? {} : { cwd: config.cwd }), stderr: 'inherit' });
    try {
      await client.connect(transport);
    } catch (error) {
      throw new AirlockError('SANDBOX_UNAVAILABLE', `the upstream MCP server "${name}" could not be reached: ${error instanceof Error ? error.message : String(error)}; check its command or url in the gateway config`);
    }
    upstream = new Upstream(name, client, new Set(Object.keys(config.tools)));
    await upstream.refresh();
    return upstream;
  }

  /** Re-reads the upstream's tool list; pins the schema of each declared tool seen for the first time. */
  async refresh(): Promise<void> {
    const { tools } = await this.#client.listTools();
    const offered = new Map<string, Tool>();
    for (const tool of tools) {
      if (!this.#declared.has(tool.name) || offered.has(tool.name)) continue;
      offered.set(tool.name, tool);
      if (!this.#pinned.has(tool.name)) this.#pinned.set(tool.name, schemaHash(tool.inputSchema));
    }
    this.#offered = offered;
  }

  state(tool: string): UpstreamToolState {
    const offered = this.#offered.get(tool);
    if (offered === undefined) return { kind: 'absent' };
    const pinned = this.#pinned.get(tool);
    const now = schemaHash(offered.inputSchema);
    if (pinned === null || pinned === undefined || now !== pinned) return { kind: 'schema-changed' };
    return { kind: 'live', tool: offered };
  }

  /** Calls the upstream tool; `signal` aborts it (the run ended, or the call's deadline passed). */
  call(tool: string, args: unknown, signal: AbortSignal): ReturnType<Client['callTool']> {
    const params = { name: tool, arguments: (args ?? {}) as Record<string, unknown> };
    return this.#client.callTool(params, { signal });
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
