/**
 * `airlock gateway`: upstream MCP servers behind airlock. Each tool the config declares becomes a
 * host tool of one airlock (`createAirlock({ tools })`) named `<upstream>.<tool>`, declared with the
 * config's operation, resources and labels; the downstream client sees a tool only when the config
 * declares it, the policy grants it, and the upstream offers it with the input schema first seen.
 * Every call, direct or from a code-mode program, is a run whose tool call the one tool bridge
 * authorizes and audits; a refused call never reaches the upstream.
 *
 * @example
 *   const gw = await startGateway({ config, policy, tenant: 'default', airlock: {} });
 *   await gw.session().connect(new StdioServerTransport());   // one per downstream session
 */
import { Server, type CallToolRequest, type CallToolResult, type Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { AirlockError } from '../core/errors.ts';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.ts';
import type { RunRequest } from '../policy/request.ts';
import { TOOL_NAME, type PolicyDocument } from '../policy/schema.ts';
import { createAirlock, type Airlock, type AirlockOptions } from '../runtime/airlock.ts';
import { ToolCatalog, type ToolDeclaration } from '../runtime/tool-catalog.ts';
import { runAnswer, type McpScope } from './airlock-tools.ts';
import { CallLog } from './call-log.ts';
import { codeMode, type CodeMode, type CodeModeTool } from './code-mode.ts';
import type { ToolSignature } from './dts.ts';
import type { GatewayConfig, ToolDeclarationConfig } from './gateway-config.ts';
import { errorResult } from './tool-result.ts';
import { Upstream } from './upstream.ts';

type ToolContext = Parameters<ToolDeclaration['handler']>[1];
import { warrantFromMeta } from './warrant-meta.ts';

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly policy: PolicyDocument;
  readonly tenant: string;
  /** Everything createAirlock takes but the tools, which are the gateway's. */
  readonly airlock: Omit<AirlockOptions, 'tools'>;
}

export interface Gateway {
  /**
   * A downstream MCP server for one session (stdio: the one; HTTP: one per client), sharing the
   * upstreams and the airlock; told when the tools it lists change.
   */
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- the low-level Server: tools/list must carry the upstreams' JSON Schemas as they are, and change at run time
  session(): Server;
  readonly airlock: Airlock;
  close(): Promise<void>;
}

interface Exposed {
  readonly name: string;
  readonly upstream: Upstream;
  readonly tool: string;
  readonly declaration: ToolDeclarationConfig;
}

/** What an upstream answered, as the value a run sees: structured content, else its text, else its blocks. */
function upstreamValue(name: string, result: Awaited<ReturnType<Upstream['call']>>): unknown {
  const blocks = Array.isArray(result.content) ? result.content : [];
  const texts = blocks.map((b) => (b.type === 'text' ? b.text : null));
  if (result.isError === true) {
    // The bridge passes an AirlockError's message to the guest: the upstream's own words, bounded.
    throw new AirlockError('TOOL_FAILED', `the upstream tool ${name} answered an error: ${texts.filter((t) => t !== null).join('\n').slice(0, 1000)}`);
  }
  if (result.structuredContent !== undefined) return result.structuredContent;
  if (texts.every((t) => t !== null)) return texts.join('\n');
  return { content: blocks };
}

/** How each exposed tool is described downstream: by its declaration, never the upstream's annotations. */
function annotationsOf(declaration: ToolDeclarationConfig): Tool['annotations'] {
  const reads = declaration.operation === 'read';
  return { readOnlyHint: reads, destructiveHint: !reads, idempotentHint: false, openWorldHint: true };
}

function listed(t: CodeModeTool): Tool {
  return { name: t.name, title: t.title, description: t.description, inputSchema: z.toJSONSchema(t.inputSchema) as Tool['inputSchema'], annotations: t.annotations };
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, policy, tenant } = options;
  // Refused at start, before any upstream is started: a bad policy, or one that grants a tool the
  // config does not declare or calls it by another operation (INVALID_POLICY).
  const compiled: CompiledPolicy = compilePolicy(policy);
  const exposed = new Map<string, Omit<Exposed, 'upstream'> & { readonly upstreamName: string }>();
  for (const [upstreamName, up] of Object.entries(config.upstreams)) {
    for (const [tool, declaration] of Object.entries(up.tools)) exposed.set(`${upstreamName}.${tool}`, { name: `${upstreamName}.${tool}`, upstreamName, tool, declaration });
  }
  // The same check createAirlock makes at each run, made here on the declarations alone (the
  // handlers need the upstreams, which are not started yet): this catalog only checks, never calls.
  const stub = (): never => {
    throw new AirlockError('INTERNAL', 'the start-up check catalog was called');
  };
  new ToolCatalog(Object.fromEntries([...exposed.values()].map((e) => [e.name, { handler: stub, operation: e.declaration.operation }]))).check(compiled);

  // eslint-disable-next-line @typescript-eslint/no-deprecated -- see Gateway.session
  const sessions = new Set<Server>();
  const upstreams = new Map<string, Upstream>();
  let lastListed = '';
  const changed = (): void => {
    const now = JSON.stringify(visible().map((e) => e.name));
    if (now !== lastListed) {
      lastListed = now;
      for (const server of sessions) void server.sendToolListChanged().catch(() => undefined);
    }
  };
  try {
    for (const [name, up] of Object.entries(config.upstreams)) upstreams.set(name, await Upstream.connect(name, up, changed));
  } catch (error) {
    await Promise.all([...upstreams.values()].map((u) => u.close().catch(() => undefined)));
    throw error;
  }
  const entry = (name: string): Exposed | undefined => {
    const e = exposed.get(name);
    const upstream = e === undefined ? undefined : upstreams.get(e.upstreamName);
    return e === undefined || upstream === undefined ? undefined : { ...e, upstream };
  };
  /** Declared, granted, and offered with its pinned schema: what the downstream sees. */
  function visible(): (Exposed & { readonly offered: Tool })[] {
    const out: (Exposed & { readonly offered: Tool })[] = [];
    for (const name of exposed.keys()) {
      const e = entry(name);
      if (e === undefined || !compiled.tools.has(name)) continue;
      const state = e.upstream.state(e.tool);
      if (state.kind === 'live') out.push({ ...e, offered: state.tool });
    }
    return out;
  }

  const log = new CallLog();
  const tools: Record<string, ToolDeclaration> = {};
  for (const name of exposed.keys()) {
    const e = entry(name);
    if (e === undefined) continue;
    const handler = async (args: unknown, context: ToolContext): Promise<unknown> => {
      const state = e.upstream.state(e.tool);
      if (state.kind === 'absent') throw new AirlockError('TOOL_FAILED', `the upstream "${e.upstream.name}" does not offer "${e.tool}" now`);
      if (state.kind === 'schema-changed') throw new AirlockError('TOOL_FAILED', `"${name}" is hidden: its upstream changed its input schema since the gateway started; restart the gateway once its config is reviewed`);
      return upstreamValue(name, await e.upstream.call(e.tool, args, context.signal));
    };
    tools[name] = {
      handler: log.wrap(name, handler),
      operation: e.declaration.operation,
      ...(e.declaration.resources === undefined ? {} : { resources: e.declaration.resources }),
      ...(e.declaration.labels === undefined ? {} : { labels: e.declaration.labels }),
    };
  }
  const airlock = createAirlock({ ...options.airlock, tools });
  const scope: McpScope = { airlock, policy, compiled, tenant };
  const signatures = (): ToolSignature[] =>
    visible().map((v) => ({ name: v.name, description: v.offered.description, inputSchema: v.offered.inputSchema, ...(v.offered.outputSchema === undefined ? {} : { outputSchema: v.offered.outputSchema }) }));
  const mode: CodeMode | null = config.codeMode === true ? codeMode(scope, signatures, log) : null;
  lastListed = JSON.stringify(visible().map((e) => e.name));

  const list = () => {
    if (mode !== null) return { tools: [listed(mode.execute), listed(mode.typescriptApi)] };
    return {
      tools: visible().map((v) => ({
        name: v.name,
        ...(v.offered.description === undefined ? {} : { description: v.offered.description }),
        inputSchema: v.offered.inputSchema,
        ...(v.offered.outputSchema === undefined ? {} : { outputSchema: v.offered.outputSchema }),
        annotations: annotationsOf(v.declaration),
      })),
    };
  };

  /** One direct call: a run whose one tool call the bridge authorizes and audits. */
  // `args` is the JSON the client sent (an object, by the protocol's schema); the run's input schema checks it again.
  async function direct(name: string, args: unknown, warrant: string | undefined): Promise<CallToolResult> {
    // Anything that is not a tool name can't be granted: refused without a run.
    if (!TOOL_NAME.test(name)) throw new AirlockError('TOOL_NOT_GRANTED', `no tool ${JSON.stringify(name.slice(0, 100))} here: list the tools (tools/list) and call one of those`);
    const e = entry(name);
    if (e !== undefined && compiled.tools.has(name) && e.upstream.state(e.tool).kind !== 'live') {
      throw new AirlockError('TOOL_NOT_GRANTED', `"${name}" is not offered now: its upstream no longer offers it, or changed its input schema (restart the gateway once its config is reviewed)`);
    }
    // Undeclared or ungranted names still go to the bridge, which refuses them and records it.
    const r = await airlock.run({ tier: 'isolate', tenant, policy, code: `export default (input) => tools.${name}(input);`, input: (args ?? {}) as RunRequest['input'], ...(warrant === undefined ? {} : { warrant }) });
    log.take(r.id);
    if (r.status !== 'ok') return runAnswer(r);
    const value = r.result;
    const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    const structured = e !== undefined && e.upstream.state(e.tool).kind === 'live' && typeof value === 'object' && value !== null && !Array.isArray(value);
    return { content: [{ type: 'text', text }], ...(structured ? { structuredContent: value } : {}) };
  }

  const call = async (request: CallToolRequest): Promise<CallToolResult> => {
    try {
      const warrant = warrantFromMeta(request.params._meta);
      const { name } = request.params;
      if (mode === null) return await direct(name, request.params.arguments, warrant);
      if (name === mode.execute.name) return await mode.runExecute(mode.execute.inputSchema.parse(request.params.arguments ?? {}) as Parameters<CodeMode['runExecute']>[0], warrant);
      if (name === mode.typescriptApi.name) return mode.runTypescriptApi();
      throw new AirlockError('TOOL_NOT_GRANTED', `in code mode this gateway offers execute and typescript_api only: call ${JSON.stringify(name.slice(0, 100))} from an execute program as tools.${name}(args)`);
    } catch (error) {
      return errorResult(error instanceof z.ZodError ? new AirlockError('INVALID_REQUEST', `the arguments are invalid: ${error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`) : error);
    }
  };

  return {
    session() {
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- see Gateway.session
      const server = new Server({ name: 'airlock-gateway', version: '0.1.0' }, { capabilities: { tools: { listChanged: true } } });
      server.setRequestHandler('tools/list', list);
      server.setRequestHandler('tools/call', call);
      sessions.add(server);
      server.onclose = () => sessions.delete(server);
      return server;
    },
    airlock,
    async close() {
      await Promise.all([...sessions].map((server) => server.close().catch(() => undefined)));
      await Promise.all([...upstreams.values()].map((u) => u.close().catch(() => undefined)));
      await airlock.close();
    },
  };
}
