/**
 * One MCP server instance of `airlock mcp` for one MCP session: airlock's own tools (run_code and
 * the container session), and, in code mode, `execute` and `typescript_api`. The session's
 * sandboxes are destroyed when its connection closes (src/mcp/session-sandboxes.ts).
 *
 * @example
 *   const { server, session } = airlockMcpServer(scope, { sandboxesPerSession: 4 });
 *   await server.connect(new StdioServerTransport());
 */
import { McpServer } from '@modelcontextprotocol/server';
import { registerAirlockTools, type McpScope } from './airlock-tools.ts';
import type { CodeMode } from './code-mode.ts';
import { SessionSandboxes } from './session-sandboxes.ts';
import { errorResult } from './tool-result.ts';
import { warrantFromMeta } from './warrant-meta.ts';

export interface McpServerSettings {
  readonly sandboxesPerSession: number;
  /** Code mode's `execute` and `typescript_api`, if on. */
  readonly codeMode?: CodeMode;
}

export const SERVER_INFO = { name: 'airlock', version: '0.1.0' } as const;

export function airlockMcpServer(scope: McpScope, settings: McpServerSettings): { readonly server: McpServer; readonly session: SessionSandboxes } {
  const server = new McpServer(SERVER_INFO, {
    instructions: 'airlock runs code nobody trusts under a fixed policy: run_code for one isolate run; sandbox_create, then sandbox_exec / sandbox_write_file / sandbox_read_file, then sandbox_destroy for a container workbench. Errors start with a code and say what to change.',
  });
  const session = new SessionSandboxes(settings.sandboxesPerSession);
  registerAirlockTools(server, scope, session);
  const mode = settings.codeMode;
  if (mode !== undefined) {
    const { execute, typescriptApi } = mode;
    server.registerTool(execute.name, { title: execute.title, description: execute.description, inputSchema: execute.inputSchema, annotations: execute.annotations }, async (args, ctx) => {
      try {
        return await mode.runExecute(args as Parameters<CodeMode['runExecute']>[0], warrantFromMeta(ctx.mcpReq._meta));
      } catch (error) {
        return errorResult(error);
      }
    },
    );
    server.registerTool(typescriptApi.name, { title: typescriptApi.title, description: typescriptApi.description, inputSchema: typescriptApi.inputSchema, annotations: typescriptApi.annotations }, () =>
      mode.runTypescriptApi(),
    );
  }
  // The session is over when its transport closes: what it made goes with it.
  server.server.onclose = () => void session.destroyAll();
  return { server, session };
}
