/**
 * airlock's own MCP tools: `run_code` (one isolate run) and a container session (`sandbox_create`,
 * `sandbox_exec`, `sandbox_write_file`, `sandbox_read_file`, `sandbox_destroy`), all under the one
 * policy and tenant the server was started with. Their annotations say what they do: nothing here
 * is read-only except reading a file; exec and destroy can destroy (the workspace's files, the
 * sandbox); a tool reaches the open world only when the policy grants network routes.
 *
 * @example
 *   registerAirlockTools(server, { airlock, policy, tenant: 'default' }, new SessionSandboxes(4));
 */
import type { CallToolResult, McpServer, ToolAnnotations } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { AirlockError } from '../core/errors.ts';
import type { RunResult } from '../core/result.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { PolicyDocument } from '../policy/schema.ts';
import type { Airlock } from '../runtime/airlock.ts';
import type { SessionSandboxes } from './session-sandboxes.ts';
import { dataResult, errorResult } from './tool-result.ts';
import { warrantFromMeta } from './warrant-meta.ts';

export interface McpScope {
  readonly airlock: Airlock;
  /** The policy document every run and sandbox gets, and its compiled form (for the annotations). */
  readonly policy: PolicyDocument;
  readonly compiled: CompiledPolicy;
  readonly tenant: string;
}

/** What a run answers a model: the result, the output, and every door it was refused at. */
export function runSummary(r: RunResult): Record<string, unknown> {
  return { id: r.id, status: r.status, result: r.result ?? null, stdout: r.stdout, stderr: r.stderr, error: r.error, violations: r.violations, usage: r.usage };
}

export function runAnswer(r: RunResult, extra: Readonly<Record<string, unknown>> = {}): CallToolResult {
  const summary = { ...runSummary(r), ...extra };
  if (r.status === 'ok') return dataResult(summary);
  return errorResult(new AirlockError(r.error?.code ?? 'INTERNAL', r.error?.message ?? `the run ended ${r.status}`), summary);
}

/** Runs `work`, answering a thrown error as a coded tool error. */
async function answering(work: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await work();
  } catch (error) {
    return errorResult(error);
  }
}

const SANDBOX_ID = z.string().min(1).max(100).describe('the id sandbox_create answered');
const WORKSPACE_PATH = z.string().min(1).max(4096).describe('a path inside the workspace, relative to it (no "..", no absolute paths)');

export function registerAirlockTools(server: McpServer, scope: McpScope, session: SessionSandboxes): void {
  const { airlock, policy, tenant, compiled } = scope;
  const openWorld = compiled.routes.length > 0;
  const toolsWrite = [...compiled.tools.values()].some((t) => t.operation !== 'read');
  const annotations = (a: ToolAnnotations): ToolAnnotations => a;

  server.registerTool(
    'run_code',
    {
      title: 'Run JavaScript or TypeScript in a fresh isolate',
      description: "Runs a module in a fresh V8 isolate under the server's policy: no files, no processes, network and host tools only as granted. `export default` a value or a function (it gets `input`). Answers the result, console output and every refused door (violations).",
      inputSchema: z.strictObject({
        code: z.string().max(16 * 1024 * 1024).describe('the module source'),
        language: z.enum(['js', 'ts']).optional().describe('default js'),
        input: z.json().optional().describe('JSON handed to an exported default function'),
      }),
      annotations: annotations({ readOnlyHint: false, destructiveHint: toolsWrite, idempotentHint: false, openWorldHint: openWorld }),
    },
    ({ code, language, input }, ctx) =>
      answering(async () => {
        const warrant = warrantFromMeta(ctx.mcpReq._meta);
        return runAnswer(await airlock.run({ tier: 'isolate', tenant, policy, code, language: language ?? 'js', ...(input === undefined ? {} : { input }), ...(warrant === undefined ? {} : { warrant }) }));
      }),
  );

  server.registerTool(
    'sandbox_create',
    {
      title: 'Create a container sandbox (a workbench: files, processes, python3, node, sh)',
      description: "Makes a Linux container sandbox with a private workspace under the server's policy. It lives until sandbox_destroy, its idle timeout or lifetime, or the end of this MCP session.",
      inputSchema: z.strictObject({}),
      annotations: annotations({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: openWorld }),
    },
    (_args, ctx) =>
      answering(async () => {
        const warrant = warrantFromMeta(ctx.mcpReq._meta);
        session.admit();
        const box = await airlock.sandbox({ tier: 'container', tenant, policy, ...(warrant === undefined ? {} : { warrant }) });
        await session.add(box);
        return dataResult({ sandbox: box.id });
      }),
  );

  server.registerTool(
    'sandbox_exec',
    {
      title: 'Run a command in a container sandbox',
      description: 'Runs argv (no shell unless you name one: ["sh", "-c", "..."]) in the workspace and answers its exit code and output.',
      inputSchema: z.strictObject({
        sandbox: SANDBOX_ID,
        argv: z.array(z.string().max(64 * 1024)).min(1).max(1024),
        stdin: z.string().max(16 * 1024 * 1024).optional(),
        timeoutMs: z.number().int().min(1).max(600_000).optional(),
      }),
      // Commands can delete and overwrite the workspace's files; the network only as granted.
      annotations: annotations({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: openWorld }),
    },
    ({ sandbox, argv, stdin, timeoutMs }) =>
      answering(async () => {
        const r = await session.get(sandbox).exec(argv, { ...(stdin === undefined ? {} : { stdin }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
        const summary = { runId: r.runId, status: r.status, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, error: r.error, usage: r.usage };
        // A command that ran and exited non-zero is an answer, not an error; a refused or stopped one is.
        if (r.error === null || r.status === 'error') return dataResult(summary);
        return errorResult(new AirlockError(r.error.code, r.error.message), summary);
      }),
  );

  server.registerTool(
    'sandbox_write_file',
    {
      title: "Write a file in a container sandbox's workspace",
      description: 'Creates or replaces the file at path (inside the workspace) with content.',
      inputSchema: z.strictObject({
        sandbox: SANDBOX_ID,
        path: WORKSPACE_PATH,
        content: z.string().max(64 * 1024 * 1024),
        encoding: z.enum(['utf8', 'base64']).optional().describe('how content is written; default utf8'),
      }),
      annotations: annotations({ readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false }),
    },
    ({ sandbox, path, content, encoding }) =>
      answering(async () => {
        const data = encoding === 'base64' ? Buffer.from(content, 'base64') : content;
        await session.get(sandbox).writeFile(path, data);
        return dataResult({ sandbox, path, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength });
      }),
  );

  server.registerTool(
    'sandbox_read_file',
    {
      title: "Read a file from a container sandbox's workspace",
      description: 'Answers the file at path (inside the workspace): as text when it is UTF-8, else as base64.',
      inputSchema: z.strictObject({ sandbox: SANDBOX_ID, path: WORKSPACE_PATH }),
      annotations: annotations({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }),
    },
    ({ sandbox, path }) =>
      answering(async () => {
        const bytes = await session.get(sandbox).readFile(path);
        let text: string | null = null;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          text = null;
        }
        return dataResult(text === null ? { sandbox, path, encoding: 'base64', content: bytes.toString('base64') } : { sandbox, path, encoding: 'utf8', content: text });
      }),
  );

  server.registerTool(
    'sandbox_destroy',
    {
      title: 'Destroy a container sandbox',
      description: 'Stops everything the sandbox runs and removes it and its workspace for good.',
      inputSchema: z.strictObject({ sandbox: SANDBOX_ID }),
      annotations: annotations({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false }),
    },
    ({ sandbox }) =>
      answering(async () => {
        await session.destroy(sandbox);
        return dataResult({ sandbox, destroyed: true });
      }),
  );
}
