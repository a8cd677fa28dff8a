/**
 * Code mode: instead of one tool call per turn, the model writes a short TypeScript program against
 * a typed API of its tools (`tools.mail.read({ threadId })`), and one MCP tool, `execute`, runs it in
 * a fresh isolate under the policy: every call is decided and audited by the host's tool bridge
 * like any other. `execute` answers the program's result, its console output and the calls it made:
 * those that reached a handler (the call log) and those the bridge refused (the run's violations,
 * each with its code). `typescript_api` answers the generated `.d.ts` (src/mcp/dts.ts).
 *
 * @example
 *   const mode = codeMode({ scope, signatures, log });
 *   server.registerTool(EXECUTE.name, EXECUTE.config, (args) => mode.execute(args));
 */
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { McpScope } from './airlock-tools.ts';
import { runAnswer } from './airlock-tools.ts';
import type { CallLog } from './call-log.ts';
import { toolsDts, type ToolSignature } from './dts.ts';
import { dataResult, errorResult } from './tool-result.ts';

export const executeInput = z.strictObject({
  code: z.string().max(1024 * 1024).describe('a TypeScript module: `export default async () => { ... }` calling `tools.<name>(args)` as typescript_api declares; its return value is the answer'),
  input: z.json().optional().describe('JSON handed to the exported default function'),
});

export interface CodeModeTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: z.ZodType;
  readonly annotations: ToolAnnotations;
}

export interface CodeMode {
  readonly execute: CodeModeTool;
  readonly typescriptApi: CodeModeTool;
  /** The `.d.ts` of the tools as they are now (a gateway's upstreams can change). */
  dts(): string;
  /** `warrant`: the call's, from its `_meta` (warrant-meta.ts). */
  runExecute(args: z.infer<typeof executeInput>, warrant?: string): Promise<CallToolResult>;
  runTypescriptApi(): CallToolResult;
}

export function codeMode(scope: McpScope, signatures: () => readonly ToolSignature[], log: CallLog): CodeMode {
  // Host tools (a gateway's upstreams) can reach anything: only a policy with neither stays closed.
  const openWorld = scope.compiled.routes.length > 0 || scope.compiled.tools.size > 0;
  const writes = [...scope.compiled.tools.values()].some((t) => t.operation !== 'read');
  return {
    dts: () => toolsDts(signatures()),
    execute: {
      name: 'execute',
      title: 'Run a TypeScript program against the typed tool API',
      description: 'Runs a TypeScript module in a fresh isolate; it calls the tools as `tools.<name>(args)` (read their types with typescript_api), and every call is checked against the policy. Answers the result, console output and the calls made (allowed, or denied with a code).',
      inputSchema: executeInput,
      annotations: { readOnlyHint: false, destructiveHint: writes, idempotentHint: false, openWorldHint: openWorld },
    },
    typescriptApi: {
      name: 'typescript_api',
      title: 'The TypeScript declarations of the tools execute can call',
      description: 'Answers the .d.ts of `tools`, generated from the tools\' JSON Schemas: write your execute program against it.',
      inputSchema: z.strictObject({}),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async runExecute({ code, input }, warrant) {
      try {
        const r = await scope.airlock.run({ tier: 'isolate', tenant: scope.tenant, policy: scope.policy, code, language: 'ts', ...(input === undefined ? {} : { input }), ...(warrant === undefined ? {} : { warrant }) });
        const reached = log.take(r.id).map((c) => ({ name: c.name, allowed: true, ok: c.ok }));
        const refused = r.violations.map((v) => ({ allowed: false, door: v.door, code: v.code, detail: v.detail }));
        return runAnswer(r, { calls: [...reached, ...refused] });
      } catch (error) {
        return errorResult(error);
      }
    },
    runTypescriptApi() {
      return dataResult({ dts: toolsDts(signatures()) });
    },
  };
}
